package scenarios

import (
	"os"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

// withSections returns testdata/small.yaml with extra top-level YAML and
// extra topology keys.
func withSections(t *testing.T, topo, top string) []byte {
	t.Helper()
	base, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(base), "topology:\n  spec:\n", "topology:\n"+topo+"  spec:\n", 1)
	return []byte(s + top)
}

// TestMachineFieldErrors: every new field is checked where it is written.
func TestMachineFieldErrors(t *testing.T) {
	for _, tc := range []struct {
		name, topo, top, want string
	}{
		{"unknown type", "  machines: [{instance_type: m5.3xlarge}]\n", "", `small.yaml:8: topology.machines[0].instance_type: instance type "m5.3xlarge": m5 has no 12-vCPU size`},
		{"unknown family", "  machines: [{instance_type: z9.large}]\n", "", "known families: "},
		{"neither", "  machines: [{nodes: [node-1]}]\n", "", "topology.machines[0]: give instance_type"},
		{"negative speed", "  machines: [{cores: 4, speed: -1}]\n", "", "topology.machines[0].speed"},
		{"smt", "  machines: [{cores: 4, smt: 3}]\n", "", "topology.machines[0].smt: 3 is out of range; want an integer in [0,2]"},
		{"yield", "  machines: [{cores: 4, smt: 2, smt_yield: 2.5}]\n", "", "topology.machines[0].smt_yield"},
		{"misspelt", "  machines: [{instance_typ: m5.large}]\n", "", `did you mean "instance_type"`},
		{"host type", "  hosts: [{name: vm, instance_type: m5.huge, nodes: [node-1]}]\n", "", "topology.hosts[0].instance_type"},
		{"cpu quantity", "", "mesh: {sidecar: {resources: {limits: {cpu: two}}}}\n", `"two" is not a CPU quantity`},
		{"request above limit", "", "mesh: {waypoint: {resources: {requests: {cpu: 3}, limits: {cpu: 2}}}}\n", "mesh.waypoint.resources.requests.cpu: request 3000m is above the limit 2000m"},
		{"zero limit", "", "mesh: {sidecar: {resources: {limits: {cpu: 0}}}}\n", "mesh.sidecar.resources.limits.cpu: a CPU limit of 0"},
		{"ztunnel concurrency", "", "mesh: {ztunnel: {concurrency: 4}}\n", "mesh.ztunnel.concurrency: ztunnel's threads are worker_threads"},
		{"envoy worker_threads", "", "mesh: {sidecar: {worker_threads: 4}}\n", "mesh.sidecar.worker_threads"},
		{"cpu_fraction", "", "", ""},
		{"load tool", "", "", ""},
	} {
		if tc.want == "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("small.yaml", withSections(t, tc.topo, tc.top))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	base, _ := os.ReadFile("testdata/small.yaml")
	edit := func(from, to string) []byte { return []byte(strings.Replace(string(base), from, to, 1)) }
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"cpu_fraction", edit("concurrency: 4}", "concurrency: 4, cpu_fraction: 1.5}"), "apps[0].cpu_fraction: 1.5 is out of range; want a value in [0,1]"},
		{"tool", edit("connections: keep-alive, pool: 2}", "connections: keep-alive, pool: 2, load: {tool: wrk}}"), `traffic.defaults.load.tool: unknown tool "wrk"`},
		{"iperf with qps", edit("connections: keep-alive, pool: 2}", "connections: keep-alive, pool: 2, load: {tool: iperf, qps: 10}}"), "traffic.defaults.load.connections: iperf runs streams"},
		{"fortio with streams", edit("connections: keep-alive, pool: 2}", "connections: keep-alive, pool: 2, load: {streams: 2}}"), "streams and window are iperf's"},
		{"rtt without external", edit("connections: keep-alive, pool: 2}", "connections: keep-alive, pool: 2, load: {rtt: 20ms}}"), "load.rtt: rtt is the round trip of an external client"},
		{"negative qps", edit("connections: keep-alive, pool: 2}", "connections: keep-alive, pool: 2, load: {qps: -1}}"), "load.qps: -1 is out of range; want a value in [0,1000000]"},
		{"capacity quantile", append(append([]byte{}, base...), "capacity: {from: web/client, to: web/front, quantile: p95, latency: 5ms}\n"...), `capacity.quantile: unknown quantile "p95"`},
		{"capacity bound", append(append([]byte{}, base...), "capacity: {from: web/client, to: web/front}\n"...), "capacity.latency: give the latency bound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("small.yaml", tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// A load generator on an edge that also has an open-loop rate.
	sc, err := Parse("small.yaml", edit("connections: keep-alive, pool: 2}", "connections: keep-alive, pool: 2, load: {connections: 4}}"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Execute(sc, Options{}); err == nil || !strings.Contains(err.Error(), "has an open-loop rate of 200/s") {
		t.Errorf("rate and load: %v", err)
	}
	// A machines entry matching no node.
	sc, err = Parse("small.yaml", withSections(t, "  machines: [{nodes: [worker-*], cores: 4}]\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Execute(sc, Options{}); err == nil || !strings.Contains(err.Error(), "small.yaml:8: topology.machines[0].nodes: matches no node") {
		t.Errorf("no node matched: %v", err)
	}
}

// TestMachinesAndResources: the new sections reach the model: machine
// rows in the results, slower machines give slower proxies, a tight CPU
// limit throttles the app container.
func TestMachinesAndResources(t *testing.T) {
	run := func(topo, top string) *Run {
		t.Helper()
		sc, err := Parse("small.yaml", withSections(t, topo, top))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Execute(sc, Options{Duration: 5 * sim.Second})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	fast := run("  machines: [{instance_type: c6i.2xlarge}]\n", "")
	slow := run("  machines: [{instance_type: m5.2xlarge}, {nodes: [node-2], cores: 2, speed: 0.5}]\n", "")
	m := fast.Summary.Modes[0].Machines
	if len(m) != 2 || m[0].Type != "c6i.2xlarge" || m[0].Cores != 8 || m[0].Speed < 1.3 {
		t.Fatalf("machines %+v", m)
	}
	if m := slow.Summary.Modes[0].Machines; m[1].Name != "node-2" || m[1].Cores != 2 || m[1].Speed != 0.5 || m[0].Type != "m5.2xlarge" {
		t.Fatalf("overrides: %+v", m)
	}
	for i := range fast.Summary.Modes {
		f, s := fast.Summary.Modes[i].Latency[0], slow.Summary.Modes[i].Latency[0]
		if !(s.MeanMs > f.MeanMs) {
			t.Errorf("%s: mean %.3f ms on the slow machines, %.3f on the fast: want slower", fast.Summary.Modes[i].Mode, s.MeanMs, f.MeanMs)
		}
	}
	// A limit of 0.05 cores on the app (0.5 ms per request at ~200/s needs
	// about 0.1 core): throttled.
	base, _ := os.ReadFile("testdata/small.yaml")
	sc, err := Parse("small.yaml", []byte(strings.Replace(string(base), "concurrency: 4}", "concurrency: 4}\n  - {workload: web/front, resources: {requests: {cpu: 50m}, limits: {cpu: 50m}}}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	tight, err := Execute(sc, Options{Duration: 5 * sim.Second})
	if err != nil {
		t.Fatal(err)
	}
	throttled := 0.0
	for _, c := range tight.Summary.Modes[0].Components {
		if strings.HasPrefix(c.Instance, "app/web/front") {
			throttled += c.ThrottledS
			if c.CPUCores > 0.0501 {
				t.Errorf("%s used %.4f cores above its 50m limit", c.Instance, c.CPUCores)
			}
		}
	}
	if throttled <= 0 {
		t.Errorf("a 50m limit on a 0.1-core load never throttled")
	}
}

// TestLoadAndCapacity: a fortio load runs at its qps, and the capacity
// search finds a rate that meets the bound, below one that does not.
func TestLoadAndCapacity(t *testing.T) {
	sc, err := Load("testdata/capacity.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range run.Summary.Modes {
		if r := m.Edges[0].RateRPS; r < 390 || r > 410 {
			t.Errorf("%s: fortio -c 8 -qps 400 sent %.1f/s", m.Mode, r)
		}
	}
	if len(run.Summary.Capacity) != 2 {
		t.Fatalf("capacity %+v", run.Summary.Capacity)
	}
	for _, c := range run.Summary.Capacity {
		if c.Runs != capacityRuns || !(c.MaxQPS > 400 && c.MaxQPS < 20000) || c.LatencyMs > 5 || c.ThroughputRPS < 0.98*c.MaxQPS {
			t.Errorf("%+v: want a max within (400, 20000) whose p99 is within 5 ms, from %d runs", c, capacityRuns)
		}
	}
	if a, s := run.Summary.Capacity[0], run.Summary.Capacity[1]; !(a.MaxQPS > s.MaxQPS) {
		t.Errorf("ambient sustains %.0f/s, sidecar %.0f/s: the sidecar's per-request CPU should cost it capacity", a.MaxQPS, s.MaxQPS)
	}
}

// TestIperfRuns: an iperf load (TCP writes, bare acknowledgements) runs end
// to end in every mode and moves bytes, more of them with more streams.
func TestIperfRuns(t *testing.T) {
	doc := `name: bulk
modes: [out-of-mesh, ambient]
duration: 2s
warmup: 200ms
topology:
  spec:
    nodes: {count: 2, zones: [z]}
    namespaces:
      - name: b
        workloads: [{name: iperf, nodeName: node-1}]
        services: [{name: sink, nodeName: node-2}]
    calls: [{from: b/iperf, to: b/sink, rate: 0}]
traffic:
  edges: [{from: b/iperf, to: b/sink, load: {tool: iperf, streams: STREAMS}}]
apps: [{workload: b/sink, service_time: 10us, concurrency: 64}]
`
	mbps := func(streams string) []float64 {
		sc, err := Parse("bulk.yaml", []byte(strings.Replace(doc, "STREAMS", streams, 1)))
		if err != nil {
			t.Fatal(err)
		}
		run, err := Execute(sc, Options{})
		if err != nil {
			t.Fatalf("iperf -P %s: %v", streams, err)
		}
		var out []float64
		for _, m := range run.Summary.Modes {
			out = append(out, m.Edges[0].ThroughputMbps)
		}
		return out
	}
	one, four := mbps("1"), mbps("4")
	t.Logf("Mbit/s out-of-mesh, ambient: -P 1 %v, -P 4 %v", one, four)
	// The sending node's 10 Gbit/s NIC caps every mode; one ambient stream
	// is pinned to one ztunnel worker, whose per-byte CPU caps it well
	// below the NIC, and four streams spread over the workers.
	for i := range one {
		if !(one[i] > 100 && four[i] >= one[i] && four[i] <= 10000.5) {
			t.Errorf("mode %d: -P 1 %.0f Mbit/s, -P 4 %.0f: want bytes moving, more streams moving no less, within the 10 Gbit/s NIC", i, one[i], four[i])
		}
	}
	if !(one[1] < 0.5*one[0] && four[1] > 1.5*one[1]) {
		t.Errorf("ambient -P 1 %.0f Mbit/s vs out of mesh %.0f, -P 4 %.0f: want one stream capped by its ztunnel worker, more streams more", one[1], one[0], four[1])
	}
}
