package crosscheck

import (
	"fmt"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// Scenario is one validation case: an experiment on Plan() that is
// measured for real and simulated with the profile under test.
type Scenario struct {
	Name        string
	Description string
	Experiment  *harness.Experiment
	// Latency compares each load's percentiles (off for the failure case,
	// whose failed requests dominate them).
	Latency bool
	// Blast compares the failure's error count and affected-pod set.
	Blast bool
}

// Plan is the validation cluster. It differs from the calibration
// cluster on purpose: three nodes (one zone), the waypoint on node-c, the
// sidecar client on node-c, and an ambient client on every node.
//
//	node-a: server-a (ambient echo, service "echo"), client-a, sc-server (sidecar echo, "sc-echo")
//	node-b: client-b
//	node-c: client-c, sc-client, waypoint (in front of "echo")
func Plan() *harness.Plan {
	lg := []harness.Role{harness.RoleLoadGen}
	return &harness.Plan{
		Nodes:        []harness.Node{{Name: "node-a", Zone: "zone-1"}, {Name: "node-b", Zone: "zone-1"}, {Name: "node-c", Zone: "zone-1"}},
		ControlPlane: "node-a",
		NodeProxies:  []harness.NodeProxy{{Node: "node-a"}, {Node: "node-b"}, {Node: "node-c"}},
		Pods: []harness.Pod{
			{Name: "server-a", Node: "node-a", ServiceAccount: "echo", Service: "echo", Roles: []harness.Role{harness.RoleEcho}, Mode: harness.ModeAmbient},
			{Name: "client-a", Node: "node-a", ServiceAccount: "client", Roles: lg, Mode: harness.ModeAmbient},
			{Name: "client-b", Node: "node-b", ServiceAccount: "client", Roles: lg, Mode: harness.ModeAmbient},
			{Name: "client-c", Node: "node-c", ServiceAccount: "client", Roles: lg, Mode: harness.ModeAmbient},
			{Name: "sc-server", Node: "node-a", ServiceAccount: "sc-server", Service: "sc-echo",
				Roles: []harness.Role{harness.RoleEcho, harness.RoleSidecar}, Mode: harness.ModeSidecar},
			{Name: "sc-client", Node: "node-c", ServiceAccount: "sc-client",
				Roles: []harness.Role{harness.RoleLoadGen, harness.RoleSidecar}, Mode: harness.ModeSidecar},
		},
		Waypoints:    []harness.Waypoint{{Name: "waypoint", Node: "node-c", Services: []string{"echo"}}},
		CapturePorts: []int{80, 8080},
	}
}

// Scenarios returns the validation cases, each load running for d. None
// of their (path, rate, payload, connections) combinations is in a
// calibration design, and the failure case is last: it kills node-b's
// proxy for good.
func Scenarios(d time.Duration) []Scenario {
	ld := func(from, to string, rate float64, payload, conns int) harness.Load {
		return harness.Load{From: from, Target: to, Protocol: "http", RatePerSec: rate, Duration: d,
			PayloadBytes: payload, Connections: conns, Mode: harness.ConnPersistent}
	}
	settle := 200 * time.Millisecond
	return []Scenario{
		{Name: "same-node-l4", Description: "ambient L4 inside one node (one node proxy plays both sides): client-a → server-a, 400 rps, 4 KiB",
			Latency: true, Experiment: &harness.Experiment{Name: "same-node-l4", Settle: settle,
				Loads: []harness.Load{ld("client-a", "server-a", 400, 4096, 4)}}},
		{Name: "cross-node-l4-8k", Description: "ambient L4 across nodes, 8 connections: client-c → server-a, 600 rps, 8 KiB",
			Latency: true, Experiment: &harness.Experiment{Name: "cross-node-l4-8k", Settle: settle,
				Loads: []harness.Load{ld("client-c", "server-a", 600, 8192, 8)}}},
		{Name: "mixed-modes", Description: "three paths at once: client-b → echo through the waypoint on node-c, sc-client → sc-echo (sidecars), client-c → server-a (L4); 300 rps each, 2 KiB",
			Latency: true, Experiment: &harness.Experiment{Name: "mixed-modes", Settle: settle,
				Loads: []harness.Load{ld("client-b", "echo", 300, 2048, 4), ld("sc-client", "sc-echo", 300, 2048, 4), ld("client-c", "server-a", 300, 2048, 4)}}},
		{Name: "blast-node-proxy", Description: "node-b's proxy is killed half way (not restarted) while client-b and client-c call server-a and sc-client calls sc-echo",
			Blast: true, Experiment: &harness.Experiment{Name: "blast-node-proxy", Settle: settle,
				Loads:    []harness.Load{ld("client-b", "server-a", 300, 1024, 4), ld("client-c", "server-a", 300, 1024, 4), ld("sc-client", "sc-echo", 200, 1024, 4)},
				Failures: []harness.FailureAction{{At: d / 2, Action: harness.FailKill, Target: harness.ProcessName(harness.KindNodeProxy, "node-b")}}}},
	}
}

// label names a load in rows: "from→target".
func label(l harness.Load) string { return fmt.Sprintf("%s→%s", l.From, l.Target) }
