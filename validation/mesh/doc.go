// Package mesh is the configuration every validation proxy reads: the
// workloads with their IPs, nodes and identities, the services with their
// VIPs, ports and waypoints, the waypoints, the HTTP routes and the
// authorization policies. It plays the role of an xDS snapshot: one Mesh
// value (loaded from YAML, or built from a topology by package meshconfig)
// drives ztunnels, waypoints and sidecars alike, so their decisions agree.
//
// Usage story:
//
//	m, err := mesh.Load("mesh.yaml") // or build a *mesh.Mesh in code
//	ix, err := mesh.Compile(m)       // validates and indexes it
//	w, ok := ix.WorkloadByIP(netip.MustParseAddr("127.0.10.2"))
//	r, err := ix.ResolveOutbound(w, netip.MustParseAddrPort("127.0.30.1:80"))
//	// r says: HBONE to r.NextHop with :authority r.Authority, expecting r.Expected.
package mesh
