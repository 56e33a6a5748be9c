// Package ztunnel is a ztunnel-like node proxy: it captures the outbound TCP
// connections of the ambient pods on its node, tunnels each one as an HBONE
// stream (pooled per source identity, destination identity and next hop) to
// the destination pod's node proxy or to a waypoint, terminates inbound HBONE
// for its pods (one listener on podIP:15008 per pod, as in-pod mode does, or
// one transparent listener), enforces L4 authorization there (DENY before
// ALLOW), and reports Istio's istio_tcp_* metrics with reporter "source" and
// "destination".
//
// On the wire it matches ztunnel: the destination answers 200 only after
// policy passed and the pod was dialled, 401 on a deny, 503 when the pod
// cannot be reached, 400 for a bad request; the source application then sees
// a TCP reset.
//
// In-pod mode (tested end to end with real iptables rules in
// e2e.TestTransparentCaptureEndToEnd): call Start on a thread inside the
// pod's network namespace so the listeners (15001 capture with mode
// redirect, 15008) live there, and set Config.Dial to a socket factory that
// creates the proxy's own sockets in that namespace with SO_MARK 0x539, which
// the pod's nat OUTPUT REDIRECT rule skips.
//
// Usage story:
//
//	ix, _ := mesh.Compile(m)
//	p, _ := ztunnel.New(ztunnel.Config{Node: "node-a", Mesh: ix, Issuer: ca.ForNode("node-a"),
//		Outbound: []ztunnel.OutboundListener{{Listen: "127.0.10.2:15001", Source: "default/client", Destination: "127.0.30.1:80"}}})
//	_ = p.Start(ctx)
//	defer p.Shutdown(ctx)
package ztunnel
