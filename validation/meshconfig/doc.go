// Package meshconfig builds the validation data plane's configuration
// (mesh.Mesh) from a *topology.Topology, so that one description drives both
// the simulator and the real proxies: the same pods on the same nodes with
// the same identities and modes, the same services and waypoints, the same
// HTTPRoutes, and the AuthorizationPolicies split the way Istio enforces
// them — selector policies become L4 rules at the destination ztunnel (L7
// fields dropped from ALLOW rules, stripped from DENY rules) and L7 rules at
// sidecars; targetRefs policies become L7 rules at the waypoint.
//
// Addresses: by default every pod, service VIP and waypoint gets a loopback
// address from Options.Base (127.20.0.0/16), so a topology runs on one
// machine; Options.KeepPodIPs keeps the topology's pod IPs for runs in
// network namespaces where they are routable.
//
// Usage story:
//
//	t, _ := topology.LoadSpec("cluster.yaml")
//	m, rep, err := meshconfig.Build(t, meshconfig.Options{})
//	for _, w := range rep.Warnings { log.Print(w) } // what the data plane cannot express
//	env := meshtest.StartMesh(tb, m, meshtest.Options{})  // or write m as YAML for `meshnode`
package meshconfig
