// Package l7 is the HTTP layer shared by the waypoint and the sidecar: it
// authorizes requests against AuthorizationPolicies with HTTP fields
// (methods, paths, principals, namespaces, ports; DENY before ALLOW), routes
// them with HTTPRoute rules (path prefix or exact, method, exact headers,
// weighted backends), forwards them with per-route timeouts and retries, and
// records istio_requests_total and istio_request_duration_milliseconds.
//
// A Proxy is an http.Handler. The caller says who the downstream peer is
// (WithDownstream on the connection context) and how to reach an endpoint
// (Config.Transport, e.g. HBONE to the pod's node proxy for a waypoint, or
// mTLS to the pod's sidecar).
//
// Usage story:
//
//	p := l7.New(l7.Config{Mesh: ix, Reporter: "waypoint", Self: wp.Peer(), Transport: tr, Metrics: m})
//	srv := &http.Server{Handler: p, ConnContext: func(ctx context.Context, c net.Conn) context.Context {
//		return l7.WithDownstream(ctx, l7.Downstream{ID: peerID, Addr: ap, Authority: target})
//	}}
package l7
