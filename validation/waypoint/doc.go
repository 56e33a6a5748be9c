// Package waypoint is a waypoint-like L7 proxy: it terminates HBONE from node
// proxies (as its own SPIFFE identity, at most 100 streams per connection as
// Istio's waypoint listener), parses the tunnelled HTTP/1.1 or cleartext
// HTTP/2, authorizes and routes each request with package l7 (HTTPRoute
// rules, AuthorizationPolicies bound to the services it fronts, timeouts and
// retries), and sends it on through HBONE to the chosen pod's node proxy. It
// reports istio_requests_total and istio_request_duration_milliseconds with
// reporter="waypoint". Service ports declared tcp are proxied as TCP
// (Envoy's tcp_proxy): no HTTP parsing or L7 policy, istio_tcp_* metrics.
//
// Usage story:
//
//	wp, _ := waypoint.New(waypoint.Config{Name: "default/waypoint", Mesh: ix, Issuer: ca.Unrestricted()})
//	_ = wp.Start(ctx)      // listens on <waypoint IP>:15008
//	defer wp.Shutdown(ctx)
package waypoint
