// Package trafficimport builds a scenario's traffic from a cluster's own
// Prometheus: the Istio standard metrics over a time range become the
// `traffic:` edges (rates, fan-out, protocol, sizes) and the `observed:`
// section (mean and peak rates, p50/p99 latency, error ratio, sizes per
// edge) that `ambientsim run` compares its predictions with.
//
// An import runs a fixed set of instant queries (Queries) at the end of
// the range, against a live server (Prometheus, through client_golang's
// api/prometheus/v1) or saved API responses (ReadResponses, for
// air-gapped reviews; a Recorder saves them from a live server):
//
//	src, _ := trafficimport.Prometheus("http://prometheus.istio-system:9090")
//	res, err := trafficimport.Import(ctx, src, trafficimport.Options{Range: time.Hour})
//	yaml, err := res.Scenario("cluster.yaml", "imported.yaml") // or res.Fragment()
//
// Each edge (source workload → destination service) takes its figures from
// one reporter, so nothing is counted twice: for HTTP the destination
// proxy, else the waypoint, else the source sidecar; for edges with only
// TCP metrics (ambient without a waypoint: ztunnel reports no requests)
// ztunnel's source reporter, else the destination's. A TCP-only edge
// becomes a tcp edge with one call per connection. A workload that serves
// requests makes its calls as fan-out (calls per served request); the
// others are open-loop clients at their mean rate.
//
// The package imports scenarios (its types and parser check the output);
// scenarios does not import it.
package trafficimport
