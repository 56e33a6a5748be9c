// Package capture is the listener side of transparent traffic capture for
// the node proxy. Inside a network namespace where the harness installs
// iptables rules, a proxy either receives REDIRECTed connections (the
// original destination is read with getsockopt SO_ORIGINAL_DST) or TPROXYed
// ones (the listener has IP_TRANSPARENT and the connection's local address is
// the original destination). Without capture, an explicit listener per
// destination plays the same role (Explicit).
//
// Usage story:
//
//	ln, _ := capture.Listen(ctx, capture.ModeTPROXY, "0.0.0.0:15001") // needs CAP_NET_ADMIN
//	c, _ := ln.Accept()
//	dst, _ := capture.OriginalDst(capture.ModeTPROXY, c) // where the app meant to go
package capture
