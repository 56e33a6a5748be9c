// Package meshtest builds a small mesh on loopback for tests and benchmarks,
// in the spirit of net/http/httptest: a CA, two nodes each with a node proxy,
// echo pods on their own 127.x.y.z addresses, services with VIPs, a waypoint
// and two sidecar pods, all in one process. Every address is drawn from a
// random 127.a.b.0/24 so parallel test binaries do not collide.
//
// Usage story:
//
//	env := meshtest.Start(t, meshtest.Options{})
//	c, _ := net.Dial("tcp", env.Outbound("client", env.ServerTCP)) // app → ztunnel → HBONE → ztunnel → app
//	resp, _ := env.HTTPClient("client").Get("http://" + env.WaypointHTTP + "/")
package meshtest
