package models

import (
	"math"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

func TestNetworkLatency(t *testing.T) {
	top := mustTopology(t, `
nodes: {list: [{name: a1, zone: a}, {name: a2, zone: a}, {name: b1, zone: b}]}
namespaces:
  - name: n
    workloads: [{name: c}]
    services: [{name: s}]
calls:
  - {from: n/c, to: n/s, rate: 1}
`)
	m, err := NewMesh(Config{Topology: top, Profile: mustProfile(t), Seed: 1, Duration: sim.Second, Edges: edgesOf(top, EdgeConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	node := map[string]int32{}
	for i := range m.nodes {
		node[m.nodes[i].name] = int32(i)
	}
	p := mustProfile(t).Network
	same := m.net(node["a1"], node["a1"], 1500, 0)
	cross := m.net(node["a1"], node["a2"], 1500, 0)
	zone := m.net(node["b1"], node["a1"], 1500, 0)
	ser := sim.Time(1500 * 8 / p.NICBandwidth.Value) // ns at Gbit/s
	if same != p.SameNode.Micros() || cross != p.CrossNode.Micros()+ser || zone != p.CrossZone.Micros()+ser {
		t.Errorf("same %v cross %v zone %v (serialisation %v)", same, cross, zone, ser)
	}
	if !(same < cross && cross < zone) {
		t.Error("latency must grow with distance")
	}
	// The NIC is a FIFO queue per node: a second message sent at the same
	// instant waits for the first's serialisation; one sent later, after
	// the queue drained, does not.
	if again := m.net(node["a1"], node["b1"], 1500, 0); again != p.CrossZone.Micros()+2*ser {
		t.Errorf("second message at once: %v, want %v", again, p.CrossZone.Micros()+2*ser)
	}
	if later := m.net(node["a1"], node["a2"], 1500, sim.Millisecond); later != p.CrossNode.Micros()+ser {
		t.Errorf("message after the queue drained: %v, want %v", later, p.CrossNode.Micros()+ser)
	}
}

// TestLoadBalancing: L7 proxies spread requests by policy; an L4 path with
// keep-alive connections pins each connection to one pod.
func TestLoadBalancing(t *testing.T) {
	spec := `
nodes: {count: 2}
namespaces:
  - name: a
    mode: %s
    workloads: [{name: client}]
    services: [{name: server, replicas: 4}]
calls:
  - {from: a/client, to: a/server, rate: 2000}
`
	share := func(mode, lb string, pool int) []float64 {
		top := mustTopology(t, sprintf(spec, mode))
		m, _ := runMesh(t, Config{Topology: top, Profile: mustProfile(t), Mode: mode, Seed: 8, Duration: 5 * sim.Second,
			Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: pool, Protocol: HTTP2, LB: lb})})
		var out []float64
		var total float64
		for i := range m.pods {
			if m.pods[i].p.Workload.Name == "server" {
				out = append(out, float64(m.podHot[i].appReqs))
				total += float64(m.podHot[i].appReqs)
			}
		}
		for i := range out {
			out[i] /= total
		}
		return out
	}
	for _, lb := range []string{LBRoundRobin, LBLeastRequest, LBRandom} {
		for _, f := range share("sidecar", lb, 1) {
			if math.Abs(f-0.25) > 0.03 {
				t.Errorf("sidecar %s: share %.3f, want 0.25", lb, f)
			}
		}
	}
	// Ambient L4 with a single keep-alive connection: every request goes to
	// the one pod the connection was opened to.
	used := 0
	for _, f := range share("ambient", LBRoundRobin, 1) {
		if f > 0 {
			used++
		}
	}
	if used != 1 {
		t.Errorf("a kept-alive L4 connection reached %d pods, want 1", used)
	}
}

// TestArrivalProcesses: every process delivers its mean rate; on-off
// arrivals come only in on periods.
func TestArrivalProcesses(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    EdgeConfig
		dur  sim.Time
	}{
		{"poisson", EdgeConfig{}, 400 * sim.Second},
		{"constant", EdgeConfig{Arrival: ArrivalConstant}, 400 * sim.Second},
		// ~1000 on/off cycles: the on fraction is within ~3% of 1/4.
		{"on-off", EdgeConfig{Arrival: ArrivalOnOff, On: sim.Second, Off: 3 * sim.Second}, 4000 * sim.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := mustTopology(t, poolTopo) // 200 rps
			_, res := runMesh(t, Config{Topology: top, Profile: mustProfile(t), Seed: 3, Duration: tc.dur,
				Edges: edgesOf(top, tc.e)})
			if got := float64(res.Measured.Requests.Offered) / tc.dur.Seconds(); math.Abs(got-200)/200 > 0.06 {
				t.Errorf("offered %.1f rps, want 200", got)
			}
		})
	}
}
