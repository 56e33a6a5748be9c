// Package echo is the test application behind every proxy path: a TCP echo
// server and an HTTP server (HTTP/1.1 and cleartext HTTP/2) with a
// configurable service time and response size, plus a checksum endpoint for
// integrity checks of large transfers.
//
// HTTP endpoints:
//
//	GET/POST /            → ResponseSize bytes after ServiceTime (query: size=, delay=)
//	POST     /echo        → the request body
//	POST     /sha256      → hex SHA-256 of the request body and its length
//	GET      /bytes?size= → size deterministic bytes (pattern) for download checks
//
// Every response carries "x-echo-pod: <Name>" so tests see which pod answered.
//
// Usage story:
//
//	srv := &echo.Server{Name: "server-0", ServiceTime: time.Millisecond, ResponseSize: 1024}
//	_ = srv.ListenHTTP(ctx, "127.0.10.3:8080")
//	_ = srv.ListenTCP(ctx, "127.0.10.3:9000")
//	defer srv.Shutdown(ctx)
package echo
