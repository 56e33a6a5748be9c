// Package e2e holds the end-to-end tests of the validation data plane on
// loopback: the ambient L4 path (app → ztunnel → HBONE → ztunnel → app), the
// waypoint path (ztunnel → waypoint → ztunnel), the sidecar path, policy
// denials at L4 (reset) and L7 (403), identity failures, large checksummed
// transfers through every path, and clean shutdown without leaked
// goroutines. It has no non-test code.
package e2e
