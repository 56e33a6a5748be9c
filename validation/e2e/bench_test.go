package e2e_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/hbone"
	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/meshtest"
)

// pacedRoundTrips sends b.N 1 KiB echo round trips on c, one per
// millisecond (1,000 rps), and returns their latencies.
func pacedRoundTrips(b *testing.B, c net.Conn) []time.Duration {
	msg := make([]byte, 1024)
	buf := make([]byte, 1024)
	lat := make([]time.Duration, 0, b.N)
	next := time.Now()
	b.ResetTimer()
	for range b.N {
		next = next.Add(time.Millisecond)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		t0 := time.Now()
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	return lat
}

func pct(l []time.Duration, p float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p/100)]
}

// BenchmarkZtunnelHopLatency measures 1 KiB round trips at 1,000 rps
// directly to the echo pod and through the ambient L4 path (two ztunnel
// hops: source and destination) on one kept-alive connection, and reports
// the latency each hop adds (p50, p99; round trip, both directions).
func BenchmarkZtunnelHopLatency(b *testing.B) {
	env := meshtest.Start(b, meshtest.Options{})
	var p50 [2]time.Duration
	var p99 [2]time.Duration
	for i, name := range []string{"direct", "ambient"} {
		b.Run(name, func(b *testing.B) {
			var c net.Conn
			var err error
			if name == "direct" {
				c, err = net.Dial("tcp", env.PodTCP)
			} else {
				c, err = env.Dial("client", env.PodTCP)
			}
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			lat := pacedRoundTrips(b, c)
			p50[i], p99[i] = pct(lat, 50), pct(lat, 99)
			b.ReportMetric(float64(p50[i].Microseconds()), "p50-µs")
			b.ReportMetric(float64(p99[i].Microseconds()), "p99-µs")
			if name == "ambient" {
				b.ReportMetric(float64((p50[1]-p50[0]).Microseconds())/2, "added-p50-µs/hop")
				b.ReportMetric(float64((p99[1]-p99[0]).Microseconds())/2, "added-p99-µs/hop")
			}
		})
	}
}

// BenchmarkHTTPPathLatency reports p50/p99 of 1 KiB HTTP requests at 1,000
// rps through the waypoint path and the sidecar path.
func BenchmarkHTTPPathLatency(b *testing.B) {
	env := meshtest.Start(b, meshtest.Options{ResponseSize: 1024})
	for _, tc := range []struct{ name, src, dst string }{
		{"direct", "", ""},
		{"ambient-l4", "client", env.ServerHTTP},
		{"waypoint", "client", env.WaypointHTTP},
		{"sidecar", "sc-client", env.SidecarHTTP},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var c *http.Client
			url := "http://" + env.IP(11) + ":8080/"
			if tc.src == "" {
				c = &http.Client{}
			} else {
				c = env.HTTPClient(b, tc.src)
				url = "http://" + tc.dst + "/"
			}
			lat := make([]time.Duration, 0, b.N)
			next := time.Now()
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				next = next.Add(time.Millisecond)
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				t0 := time.Now()
				resp, err := c.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			// CPU of the whole process (client, proxies and app) per request;
			// subtract the direct path's figure for the mesh's cost.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
			b.ReportMetric(float64(pct(lat, 50).Microseconds()), "p50-µs")
			b.ReportMetric(float64(pct(lat, 99).Microseconds()), "p99-µs")
		})
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHBONEConnect opens a new mTLS+HTTP/2 connection and one CONNECT
// stream per operation (a cold pool): the handshake cost models charge per
// new connection. cpu-µs/op covers both ends.
func BenchmarkHBONEConnect(b *testing.B) {
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	mgr := identity.NewManager(ca.Unrestricted(), time.Hour)
	srvID := identity.MustParse("spiffe://cluster.local/ns/default/sa/server")
	cliID := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	srv := hbone.NewServer(hbone.ServerConfig{TLS: identity.ServerTLS(mgr, srvID),
		Handler: hbone.HandlerFunc(func(r *hbone.Request, s *hbone.ServerStream) { _ = s.Accept() })})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}()
	tgt := hbone.Target{Source: cliID, Expected: []identity.ID{srvID}, NextHop: ln.Addr().String(), Authority: "127.0.0.1:9"}
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		cli := hbone.NewClient(hbone.ClientConfig{Manager: mgr})
		s, err := cli.Dial(context.Background(), tgt)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		cli.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkHBONEThroughput pushes 1 MiB writes through one HBONE stream on
// one pooled mTLS connection to a server that discards them: the throughput
// of a single connection through one HBONE hop. allocs/op is per MiB.
func BenchmarkHBONEThroughput(b *testing.B) {
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	mgr := identity.NewManager(ca.Unrestricted(), time.Hour)
	srvID := identity.MustParse("spiffe://cluster.local/ns/default/sa/server")
	cliID := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	srv := hbone.NewServer(hbone.ServerConfig{TLS: identity.ServerTLS(mgr, srvID),
		Handler: hbone.HandlerFunc(func(r *hbone.Request, s *hbone.ServerStream) {
			if s.Accept() != nil {
				return
			}
			_, _ = hbone.CopyCounted(io.Discard, s, nil)
		})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	cli := hbone.NewClient(hbone.ClientConfig{Manager: mgr})
	defer func() {
		cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}()
	s, err := cli.Dial(context.Background(), hbone.Target{Source: cliID, Expected: []identity.ID{srvID},
		NextHop: ln.Addr().String(), Authority: "127.0.0.1:9"})
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	// Warm up flow-control windows and buffer pools.
	for range 32 {
		if _, err := s.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := s.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s.Close()
}

// BenchmarkHBONEDownload is BenchmarkHBONEThroughput in the other direction:
// the server copies 1 MiB per op into the stream with CopyCounted (as Splice
// does, from a source that always has data) and the client discards it, so
// it measures the server's DATA framing.
func BenchmarkHBONEDownload(b *testing.B) {
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	mgr := identity.NewManager(ca.Unrestricted(), time.Hour)
	srvID := identity.MustParse("spiffe://cluster.local/ns/default/sa/server")
	cliID := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	ops := make(chan int, 1)
	srv := hbone.NewServer(hbone.ServerConfig{TLS: identity.ServerTLS(mgr, srvID),
		Handler: hbone.HandlerFunc(func(r *hbone.Request, s *hbone.ServerStream) {
			if s.Accept() != nil {
				return
			}
			for n := range ops {
				if _, err := hbone.CopyCounted(s, io.LimitReader(bulkSource{}, int64(n)<<20), nil); err != nil {
					return
				}
			}
			_ = s.CloseWrite()
		})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	cli := hbone.NewClient(hbone.ClientConfig{Manager: mgr})
	defer func() {
		cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}()
	s, err := cli.Dial(context.Background(), hbone.Target{Source: cliID, Expected: []identity.ID{srvID},
		NextHop: ln.Addr().String(), Authority: "127.0.0.1:9"})
	if err != nil {
		close(ops)
		b.Fatal(err)
	}
	defer s.Close()
	read := func(n int64) {
		if got, err := hbone.CopyCounted(io.Discard, io.LimitReader(s, n), nil); err != nil || got != n {
			b.Fatalf("read %d of %d bytes: %v", got, n, err)
		}
	}
	ops <- 32 // warm up flow-control windows and buffer pools
	read(32 << 20)
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	b.ResetTimer()
	ops <- b.N
	read(int64(b.N) << 20)
	b.StopTimer()
	close(ops)
}

// BenchmarkTLSBaseline is the ceiling for BenchmarkHBONEThroughput on the
// same machine: 1 MiB writes over one plain TLS 1.3 connection on loopback
// (same certificates and cipher negotiation, no HTTP/2).
func BenchmarkTLSBaseline(b *testing.B) {
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	mgr := identity.NewManager(ca.Unrestricted(), time.Hour)
	srvID := identity.MustParse("spiffe://cluster.local/ns/default/sa/server")
	cliID := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", identity.ServerTLS(mgr, srvID))
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = hbone.CopyCounted(io.Discard, c, nil)
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), identity.ClientTLS(mgr, cliID, srvID))
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	c.Close()
	<-done
}

// bulkSource always has data: every read fills the caller's buffer.
type bulkSource struct{}

func (bulkSource) Read(p []byte) (int, error) { return len(p), nil }
