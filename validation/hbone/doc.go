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
// connection is handed out only after the server's SETTINGS arrived, so even
// its first stream sends large DATA frames (TestFirstStreamUsesLargeFrames).
//
// Both ends run on this package's own HTTP/2 connection (conn.go): exactly
// the subset HBONE uses (CONNECT streams, DATA, flow control, SETTINGS, PING
// keepalive, RST_STREAM, GOAWAY; HPACK from golang.org/x/net), built so that
// the data path copies no byte a plain TLS 1.3 proxy would not copy: Write
// frames the caller's bytes in place (no pipe, no framer buffer), the frame
// reader decrypts DATA straight into a blocked Read's buffer (waiting up to
// 500 µs for a reader busy with its last bytes) or else into pooled chunks,
// and windows are ztunnel's (4 MiB stream, 16 MiB connection, 1 MiB
// frames) refreshed per quarter window. In steady state it allocates
// nothing per byte; what remains (about 32 allocations per MiB) is Go's
// crypto/tls record reader. BenchmarkHop measures throughput, CPU per byte
// and allocations per MiB against plain TLS on the same paths, and
// TestHopAllocBudget enforces the allocation budget. It interoperates with
// Go's HTTP/2 (Istio's pkg/hbone client and server: validation/interop).
// Stream half-close is real on both sides (END_STREAM), and deadlines work
// on both kinds of stream like a socket's.
//
// Copies (CopyCounted, Splice) size their pooled buffers as ztunnel does:
// 1 KiB, 16 KiB after 128 KiB copied, 256 KiB after 10 MiB.
//
// Usage story:
//
//	srv := hbone.NewServer(hbone.ServerConfig{TLS: identity.ServerTLS(mgr, nodeID), Handler: h})
//	go srv.Serve(ln)                       // ln listens on :15008
//	cli := hbone.NewClient(hbone.ClientConfig{Manager: mgr})
//	s, err := cli.Dial(ctx, hbone.Target{Source: me, Expected: []identity.ID{peer},
//		NextHop: "10.0.0.7:15008", Authority: "10.0.0.7:8080"})
//	// s is a net.Conn: write the app's bytes, read the reply, s.CloseWrite() to half-close.
//	hbone.Splice(appConn, s, nil, nil)      // copy both ways with pooled adaptive buffers
package hbone
