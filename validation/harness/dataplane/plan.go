package dataplane

import (
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// TwoNodeAmbient is the basic validation plan: two nodes in two zones, the
// control plane on node-a, a node proxy on each node, an ambient echo pod
// "server-a" behind service "echo" on node-a, and ambient load-generator
// pods "client-a" (same node as the server) and "client-b" (the other
// node). Pod-addressed (8080) and service (80) traffic is captured.
func TwoNodeAmbient() *harness.Plan {
	return &harness.Plan{
		Nodes:        []harness.Node{{Name: "node-a", Zone: "zone-1"}, {Name: "node-b", Zone: "zone-2"}},
		ControlPlane: "node-a",
		NodeProxies:  []harness.NodeProxy{{Node: "node-a"}, {Node: "node-b"}},
		Pods: []harness.Pod{
			{Name: "server-a", Node: "node-a", ServiceAccount: "echo", Service: "echo", Roles: []harness.Role{harness.RoleEcho}, Mode: harness.ModeAmbient},
			{Name: "client-a", Node: "node-a", ServiceAccount: "client", Roles: []harness.Role{harness.RoleLoadGen}, Mode: harness.ModeAmbient},
			{Name: "client-b", Node: "node-b", ServiceAccount: "client", Roles: []harness.Role{harness.RoleLoadGen}, Mode: harness.ModeAmbient},
		},
		CapturePorts: []int{ServicePort, EchoHTTP},
	}
}

// CrossNodeL4 is the ambient L4 experiment across two nodes: client-b
// sends rate requests per second to server-a (pod-addressed) for d over
// conns kept-alive connections.
func CrossNodeL4(rate float64, d time.Duration, conns int) *harness.Experiment {
	return &harness.Experiment{
		Name: "ambient-l4-cross-node",
		Loads: []harness.Load{{From: "client-b", Target: "server-a", Protocol: "http", RatePerSec: rate,
			Duration: d, Connections: conns, Mode: harness.ConnPersistent}},
		Settle: 200 * time.Millisecond,
	}
}

// TwoNodeWaypoint is TwoNodeAmbient with a waypoint pod on node-b in front
// of service "echo": service-addressed traffic goes client → node proxy →
// waypoint → node proxy → server (two HBONE legs).
func TwoNodeWaypoint() *harness.Plan {
	p := TwoNodeAmbient()
	p.Waypoints = []harness.Waypoint{{Name: "waypoint", Node: "node-b", Services: []string{"echo"}}}
	return p
}

// TwoNodeSidecar adds a sidecar pair to TwoNodeAmbient: "sc-server" (echo
// + sidecar, behind service "sc-echo") on node-a and "sc-client" (load
// generator + sidecar) on node-b; their traffic goes sidecar to sidecar
// over mutual TLS, bypassing the node proxies.
func TwoNodeSidecar() *harness.Plan {
	p := TwoNodeAmbient()
	p.Pods = append(p.Pods,
		harness.Pod{Name: "sc-server", Node: "node-a", ServiceAccount: "sc-server", Service: "sc-echo",
			Roles: []harness.Role{harness.RoleEcho, harness.RoleSidecar}, Mode: harness.ModeSidecar},
		harness.Pod{Name: "sc-client", Node: "node-b", ServiceAccount: "sc-client",
			Roles: []harness.Role{harness.RoleLoadGen, harness.RoleSidecar}, Mode: harness.ModeSidecar},
	)
	return p
}
