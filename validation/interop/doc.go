// Package interop proves that the validation data plane's HBONE speaks the
// same protocol as Istio's own Go implementation (istio.io/istio/pkg/hbone):
// Istio's dialer tunnels through our server, and our pooled client tunnels
// through Istio's server (given the mTLS that Istio's server leaves to its
// caller). It is a separate Go module so the main module does not carry
// Istio's dependency tree; run it with
//
//	cd validation/interop && go test ./...
package interop
