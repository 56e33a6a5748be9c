// Package sidecar is a sidecar-like per-pod proxy, the other side of every
// ambient comparison. Outbound, it receives the pod's plaintext HTTP on an
// explicit listener per destination, routes it (HTTPRoute rules, timeouts,
// retries) and sends it over mutual TLS 1.3 (HTTP/2, the client pinning the
// destination pod's SPIFFE identity) to the destination pod's sidecar.
// Inbound, it terminates mTLS on podIP:15006, enforces the L7
// AuthorizationPolicies bound to the pod's services, and forwards to the
// local app. It reports istio_requests_total and
// istio_request_duration_milliseconds with reporter "source" and
// "destination", as Istio sidecars do.
//
// Usage story:
//
//	sc, _ := sidecar.New(sidecar.Config{Pod: "default/sc-client", Mesh: ix, Issuer: ca.Unrestricted(),
//		Outbound: []sidecar.OutboundListener{{Listen: "127.0.10.21:15001", Destination: "127.0.10.103:80"}}})
//	_ = sc.Start(ctx)
//	defer sc.Shutdown(ctx)
package sidecar
