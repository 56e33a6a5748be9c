package models

import (
	"math"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

// ambientCall runs one ambient call client → server at rate on nodes
// nodes (keep-alive, 4 connections, 1 KiB each way, 10 s after 1 s of
// warm-up) and returns the ztunnels' CPU cores and the calls per second.
func ambientCall(t *testing.T, p *Profile, nodes int, rate float64, seed uint64) (ztCores, callsPerSec float64) {
	t.Helper()
	top := mustTopology(t, `
nodes: {count: `+sprintf("%d", nodes)+`, zones: [z]}
namespaces:
  - name: a
    mode: ambient
    workloads: [{name: client}]
    services: [{name: server}]
calls:
  - {from: a/client, to: a/server, rate: `+sprintf("%g", rate)+`}
`)
	cfg := Config{Topology: top, Profile: p, Mode: "ambient", Seed: seed, Duration: 10 * sim.Second, Warmup: sim.Second,
		Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4, ReqSize: kib1, RespSize: kib1})}
	_, res := runMesh(t, cfg)
	for _, c := range res.Measured.Components {
		if strings.HasPrefix(c.Instance, "ztunnel/") {
			ztCores += c.CPUCores
		}
	}
	return ztCores, float64(res.Measured.Requests.Succeeded) / 10
}

// activityProfile is the published profile with a wake-up model on every
// proxy: up to 100 µs of wake-up CPU with a 2 ms sleep time constant, half
// the per-message CPU on the path.
func activityProfile(t *testing.T) *Profile {
	p := mustProfile(t)
	for _, a := range []*ActivityCosts{&p.Ztunnel.Activity, &p.Waypoint.Activity, &p.Sidecar.Activity} {
		a.CriticalPathFraction.Value = 0.5
		a.WakeupCPU.Value = 100
		a.WakeupLatency.Value = 20
		a.SleepTimeConstant.Value = 2000
	}
	return p
}

// TestActivityCPUPerRequestFallsWithRate: with wake-ups on, a ztunnel's CPU
// per request falls as the rate rises (wake-ups amortise), and without
// them it is flat (within Poisson noise).
func TestActivityCPUPerRequestFallsWithRate(t *testing.T) {
	perReq := func(p *Profile, rate float64) float64 {
		cores, calls := ambientCall(t, p, 2, rate, 5)
		return cores / calls * 1e6 // µs per request, both ztunnels
	}
	on, off := activityProfile(t), mustProfile(t)
	lo, hi := perReq(on, 100), perReq(on, 1000)
	flo, fhi := perReq(off, 100), perReq(off, 1000)
	t.Logf("µs/request at 100 and 1000 rps: activity on %.1f, %.1f; off %.1f, %.1f", lo, hi, flo, fhi)
	if d := flo/fhi - 1; d > 0.03 || d < -0.03 {
		t.Errorf("activity off: %.1f vs %.1f µs/request, want flat within 3%%", flo, fhi)
	}
	if !(lo/flo > 1.3*hi/fhi) {
		t.Errorf("with wake-ups, CPU per request at 100 rps (%.1f µs) should rise well above 1000 rps (%.1f µs) relative to the model without (%.1f, %.1f)", lo, hi, flo, fhi)
	}
}

// TestActivitySameNodeCheaper: one ztunnel serving both ends of a call
// wakes once per message pair (the second finds it awake), so the same-node
// path costs less CPU than two ztunnels on two nodes; without the model
// they cost the same.
func TestActivitySameNodeCheaper(t *testing.T) {
	cpu := func(p *Profile, nodes int) float64 {
		cores, _ := ambientCall(t, p, nodes, 200, 9)
		return cores
	}
	on := activityProfile(t)
	same, cross := cpu(on, 1), cpu(on, 2)
	t.Logf("activity on: same node %.4f cores, cross node %.4f cores", same, cross)
	if !(same < 0.85*cross) {
		t.Errorf("same-node ztunnel CPU %.4f should be well below cross-node %.4f", same, cross)
	}
	off := mustProfile(t)
	if s, c := cpu(off, 1), cpu(off, 2); s/c > 1.02 || s/c < 0.98 {
		t.Errorf("activity off: same node %.4f vs cross node %.4f, want equal", s, c)
	}
}

// TestActivityProfileFields: an absent activity section takes neutral
// values and says so; a fraction above 1 is refused with its line.
func TestActivityProfileFields(t *testing.T) {
	good, err := profileFS.ReadFile("profiles/" + DefaultProfile + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Drop the ztunnel activity section: everything in it becomes neutral.
	s := string(good)
	start := strings.Index(s, "  activity:\n")
	end := start + strings.Index(s[start:], "\n\n")
	p, err := ParseProfile("x.yaml", []byte(s[:start]+s[end+1:]))
	if err != nil {
		t.Fatal(err)
	}
	a := p.Ztunnel.Activity
	if a.CriticalPathFraction.Value != 1 || a.SleepTimeConstant.Value != 0 || !strings.Contains(a.WakeupCPU.Source, "neutral") || a.WakeupCPU.Unit != "us" {
		t.Errorf("absent activity: %+v", a)
	}
	bad := strings.Replace(s, "    critical_path_fraction:\n      value: 1\n", "    critical_path_fraction:\n      value: 1.5\n", 1)
	_, err = ParseProfile("x.yaml", []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "ztunnel.activity.critical_path_fraction") || !strings.Contains(err.Error(), "above its maximum") ||
		!strings.Contains(err.Error(), sprintf("x.yaml:%d:", 1+strings.Count(s[:strings.Index(s, "    critical_path_fraction:")], "\n"))) {
		t.Errorf("fraction 1.5: %v", err)
	}
}

// TestHostSharedWakeups: on a shared host, a second load on other nodes
// keeps the cores awake, so the first load's ztunnels pay shallower
// wake-ups; with every node a machine of its own, the second load changes
// nothing for the first.
func TestHostSharedWakeups(t *testing.T) {
	spec := func(second bool) string {
		s := `
nodes: {count: 4, zones: [z]}
namespaces:
  - name: a
    mode: ambient
    workloads: [{name: client}]
    services: [{name: server}]
`
		if second {
			s += `  - name: b
    mode: ambient
    workloads: [{name: client}]
    services: [{name: server}]
`
		}
		s += "calls:\n  - {from: a/client, to: a/server, rate: 300}\n"
		if second {
			s += "  - {from: b/client, to: b/server, rate: 900}\n"
		}
		return s
	}
	firstCPU := func(second bool, hosts []MachineConfig) float64 {
		top := mustTopology(t, spec(second))
		cfg := Config{Topology: top, Profile: activityProfile(t), Mode: "ambient", Seed: 11, Duration: 10 * sim.Second, Warmup: sim.Second,
			Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4, ReqSize: kib1, RespSize: kib1}), Machines: hosts}
		// Load A's pods' nodes (the spec places pods round-robin).
		nodes := map[string]bool{}
		for _, p := range top.Pods {
			if p.Namespace == "a" {
				nodes["ztunnel/"+p.Node] = true
			}
			if second && p.Namespace == "b" && nodes["ztunnel/"+p.Node] {
				t.Fatalf("load B's pod %s shares node %s with load A: the test needs them apart", p.Name, p.Node)
			}
		}
		if len(nodes) != 2 {
			t.Fatalf("load A's pods on %v, want two nodes", nodes)
		}
		_, res := runMesh(t, cfg)
		var cores float64
		for _, c := range res.Measured.Components {
			if nodes[c.Instance] {
				cores += c.CPUCores
			}
		}
		return cores
	}
	var names []string
	for _, n := range mustTopology(t, spec(true)).Nodes {
		names = append(names, n.Name)
	}
	all := []MachineConfig{{Name: "vm", Machine: Machine{Cores: 2, Speed: 1, SMT: 1}, Nodes: names}}
	alone, busy := firstCPU(false, all), firstCPU(true, all)
	t.Logf("shared 2-core host: load A's ztunnels %.4f cores alone, %.4f next to load B", alone, busy)
	if !(busy < 0.9*alone) {
		t.Errorf("on a shared host load B should make load A's wake-ups shallower: %.4f alone vs %.4f", alone, busy)
	}
	if a, b := firstCPU(false, nil), firstCPU(true, nil); math.Abs(a-b) > 0.02*a {
		t.Errorf("separate machines: load A's ztunnels %.4f alone vs %.4f next to load B, want equal", a, b)
	}
}

func TestMachineConfigErrors(t *testing.T) {
	top := mustTopology(t, "nodes: {count: 2, zones: [z]}\nnamespaces:\n  - {name: a, mode: ambient, workloads: [{name: c}], services: [{name: s}]}\ncalls:\n  - {from: a/c, to: a/s, rate: 10}\n")
	two := Machine{Cores: 2, Speed: 1, SMT: 1}
	for _, tc := range []struct {
		hosts []MachineConfig
		want  string
	}{
		{[]MachineConfig{{Name: "vm", Machine: Machine{Cores: 0, Speed: 1}, Nodes: []string{"node-1"}}}, "0 cores"},
		{[]MachineConfig{{Name: "vm", Machine: Machine{Cores: 2, Speed: 0}, Nodes: []string{"node-1"}}}, "speed 0"},
		{[]MachineConfig{{Name: "vm", Machine: Machine{Cores: 2, Speed: 1, SMT: 2, SMTYield: 3}, Nodes: []string{"node-1"}}}, "SMT yield 3"},
		{[]MachineConfig{{Name: "vm", Machine: two, Nodes: []string{"node-9"}}}, `node "node-9" is not in the topology`},
		{[]MachineConfig{{Name: "a", Machine: two, Nodes: []string{"node-1"}}, {Name: "b", Machine: two, Nodes: []string{"node-1"}}}, "on two machines"},
	} {
		_, err := NewMesh(Config{Topology: top, Profile: activityProfile(t), Mode: "ambient", Duration: sim.Second,
			Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 1}), Machines: tc.hosts})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("hosts %+v: error %v, want %q", tc.hosts, err, tc.want)
		}
	}
}

// TestCrossNodeMessageCPU: the extra per-message CPU of a cross-node leg
// is paid by both ztunnels of a cross-node call (request and response: 4
// messages per call) and not at all by the one ztunnel of a same-node call.
func TestCrossNodeMessageCPU(t *testing.T) {
	cores := func(nodes int, extra float64) (float64, float64) {
		p := mustProfile(t)
		p.Ztunnel.CrossNodeMessageCPU.Value = extra
		return ambientCall(t, p, nodes, 200, 9)
	}
	for _, nodes := range []int{1, 2} {
		base, rate := cores(nodes, 0)
		with, _ := cores(nodes, 50)
		want := 0.0
		if nodes == 2 {
			want = 4 * 50e-6 * rate // 4 cross-node messages per call, 50 µs each
		}
		if got := with - base; math.Abs(got-want) > 0.02*want+1e-6 {
			t.Errorf("%d node(s): cross-node message CPU added %.5f cores, want %.5f", nodes, got, want)
		}
	}
}

// TestSidecarInboundRequestCPU: the inbound-role extra is paid by the
// server's sidecar only, per request (half on the request, half on the
// response).
func TestSidecarInboundRequestCPU(t *testing.T) {
	cores := func(extra float64) (client, server, rate float64) {
		top := mustTopology(t, `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    mode: sidecar
    workloads: [{name: client}]
    services: [{name: server}]
calls:
  - {from: a/client, to: a/server, rate: 300}
`)
		p := mustProfile(t)
		p.Sidecar.InboundRequestCPU.Value = extra
		cfg := Config{Topology: top, Profile: p, Mode: "sidecar", Seed: 4, Duration: 10 * sim.Second, Warmup: sim.Second,
			Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4, ReqSize: kib1, RespSize: kib1})}
		_, res := runMesh(t, cfg)
		for _, c := range res.Measured.Components {
			switch {
			case strings.HasPrefix(c.Instance, "sidecar/a/client"):
				client += c.CPUCores
			case strings.HasPrefix(c.Instance, "sidecar/a/server"):
				server += c.CPUCores
			}
		}
		return client, server, float64(res.Measured.Requests.Succeeded) / 10
	}
	c0, s0, rate := cores(0)
	c1, s1, _ := cores(100)
	// (Timing moves a few requests across the window's edges: ±0.5%.)
	if math.Abs(c1-c0) > 0.005*c0 {
		t.Errorf("client sidecar %.5f → %.5f cores: the inbound extra must not touch it", c0, c1)
	}
	if want := 100e-6 * rate; math.Abs(s1-s0-want) > 0.02*want {
		t.Errorf("server sidecar grew %.5f cores, want %.5f (100 µs × %.0f requests/s)", s1-s0, want, rate)
	}
}
