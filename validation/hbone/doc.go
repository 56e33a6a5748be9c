// Package hbone implements HBONE, Istio ambient's tunnel: one HTTP/2 CONNECT
// stream per application TCP connection, multiplexed over mutual TLS 1.3
// connections (ALPN h2) between mesh proxies on port 15008.
//
// The Server terminates HBONE: it accepts TLS, serves HTTP/2, checks each
// request (CONNECT only, `:authority` an ip:port, else 400) and hands it to a
// Handler together with the peer's SPIFFE identity. The Handler answers 200
// only once policy passed and its upstream dial succeeded (Accept), or
// rejects with 401/503/400 (Reject), as ztunnel's inbound does.
//
// The Client originates HBONE through a connection pool keyed by (source
// identity, expected destination identities, next hop), capping each
// connection at min(MaxStreamsPerConn, peer SETTINGS_MAX_CONCURRENT_STREAMS)
// streams; a connection that reaches its cap leaves the pool for good and a
// fresh one is dialled, only one dial per key at a time, and connections
// unused for IdleTimeout are released (ztunnel's pool.rs semantics). A new
// connection is handed out only after the server's SETTINGS arrived (one
// PING round trip), so even its first stream sends large DATA frames (see
// TestFirstStreamUsesLargeFrames; this is worth ~45 % single-stream
// throughput).
//
// Usage story:
//
//	srv := hbone.NewServer(hbone.ServerConfig{TLS: identity.ServerTLS(mgr, nodeID), Handler: h})
//	go srv.Serve(ln)                       // ln listens on :15008
//	cli := hbone.NewClient(hbone.ClientConfig{Manager: mgr})
//	s, err := cli.Dial(ctx, hbone.Target{Source: me, Expected: []identity.ID{peer},
//		NextHop: "10.0.0.7:15008", Authority: "10.0.0.7:8080"})
//	// s is a net.Conn: write the app's bytes, read the reply, s.CloseWrite() to half-close.
//	hbone.Splice(appConn, s, nil)           // copy both ways with pooled buffers
package hbone
