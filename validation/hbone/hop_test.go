package hbone_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/hbone"
	"github.com/ambientsim/ambientsim/validation/identity"
)

// The data-path budgets of issue 17, checked by TestHopAllocBudget and
// reported (and flagged) by BenchmarkHop.
const (
	// allocBudgetPerMiB is the most heap allocations one MiB may cost on any
	// path of BenchmarkHop, both ends of the hop counted (the whole process).
	// Go's crypto/tls alone costs about 32: one small allocation per socket
	// read of its record reader (readFromUntil), which no caller can avoid.
	allocBudgetPerMiB = 40
	// allocBudgetOverTLS is what HBONE may add per MiB to plain TLS 1.3 on
	// the same path: its framing, flow control and buffers allocate nothing
	// in steady state.
	allocBudgetOverTLS = 1
	// cpuGoalVsTLS is the goal for an HBONE path's CPU per byte relative to
	// the same path over plain TLS 1.3 (reported, not enforced: CPU time on a
	// shared machine is not a pass/fail quantity).
	cpuGoalVsTLS = 1.2
)

const mib = 1 << 20

// hopPath says which way the bytes cross a hop.
type hopPath string

const (
	// pathUp: the client writes into the tunnel, the server's handler reads
	// (ztunnel's inbound receiving a request body).
	pathUp hopPath = "up"
	// pathDown: the server's handler writes into the tunnel, the client
	// reads (a download coming back through ztunnel's inbound).
	pathDown hopPath = "down"
	// pathProxy: a whole proxy hop as a node proxy pair runs it: app TCP →
	// Splice → tunnel → Splice → app TCP, with every copy the proxies make.
	pathProxy hopPath = "proxy"
)

// hopKind is the tunnel under test.
type hopKind string

const (
	kindTLS   hopKind = "tls"   // one plain TLS 1.3 connection, same certificates
	kindHBONE hopKind = "hbone" // one HBONE stream on one pooled connection
)

// hop is one running data path: bytes written to src arrive at the sink.
type hop struct {
	src  io.Writer
	sink *sink
	stop func()
}

// sink discards what arrives and tells a waiter when a target is reached.
type sink struct {
	got    atomic.Int64
	mu     sync.Mutex
	target int64
	done   chan struct{}
}

func newSink() *sink { return &sink{done: make(chan struct{}, 1)} }

func (s *sink) Write(p []byte) (int, error) {
	n := s.got.Add(int64(len(p)))
	s.mu.Lock()
	if s.target > 0 && n >= s.target {
		s.target = 0
		s.done <- struct{}{}
	}
	s.mu.Unlock()
	return len(p), nil
}

// expect arms the sink to signal once n more bytes than now have arrived.
func (s *sink) expect(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.target = s.got.Load() + n
}

// push writes n MiB into h and waits until the sink received all of it, so
// that bytes still in flight are never counted as moved.
func (h *hop) push(tb testing.TB, chunk []byte, n int) {
	h.sink.expect(int64(n) * int64(len(chunk)))
	for range n {
		if _, err := h.src.Write(chunk); err != nil {
			tb.Fatalf("write into hop: %v", err)
		}
	}
	select {
	case <-h.sink.done:
	case <-time.After(30 * time.Second):
		tb.Fatalf("hop: sink received %d bytes, stalled", h.sink.got.Load())
	}
}

var (
	hopServerID = identity.MustParse("spiffe://cluster.local/ns/default/sa/server")
	hopClientID = identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
)

// startHop builds a hop of kind k along path p on loopback; everything it
// starts is stopped by tb's cleanup.
func startHop(tb testing.TB, k hopKind, p hopPath) *hop {
	tb.Helper()
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	mgr := identity.NewManager(ca.Unrestricted(), time.Hour)
	snk := newSink()
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	tb.Cleanup(stop)

	// The app the far proxy delivers to, for the proxy path.
	var appAddr string
	if p == pathProxy {
		appAddr = serveTCP(tb, &stops, func(c net.Conn) { _, _ = hbone.CopyCounted(snk, c, nil) })
	}
	// The far end's service: what it does with the tunnel.
	far := func(rw io.ReadWriteCloser) {
		switch p {
		case pathUp:
			_, _ = hbone.CopyCounted(snk, rw, nil)
		case pathDown:
			// The near end pushes into srcW; the far end copies it down the tunnel.
		case pathProxy:
			up, err := net.Dial("tcp", appAddr)
			if err != nil {
				return
			}
			hbone.Splice(rw, up, nil, nil)
		}
	}
	// For pathDown the source is a pipe read by the far end.
	var downR *io.PipeReader
	var downW *io.PipeWriter
	if p == pathDown {
		downR, downW = io.Pipe() // closed first of all, see below
		inner := far
		far = func(rw io.ReadWriteCloser) {
			inner(rw)
			_, _ = hbone.CopyCounted(rw, downR, nil)
			_ = rw.Close()
		}
	}

	// The near end: a tunnel to the far end.
	var near io.ReadWriteCloser
	switch k {
	case kindTLS:
		ln, err := tls.Listen("tcp", "127.0.0.1:0", identity.ServerTLS(mgr, hopServerID))
		if err != nil {
			tb.Fatal(err)
		}
		var wg sync.WaitGroup
		stops = append(stops, func() { _ = ln.Close(); wg.Wait() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			// Handshake now: on the down path the far end only writes, and
			// only once the source has bytes.
			if c.(*tls.Conn).Handshake() != nil {
				return
			}
			far(c)
		}()
		c, err := tls.Dial("tcp", ln.Addr().String(), identity.ClientTLS(mgr, hopClientID, hopServerID))
		if err != nil {
			tb.Fatal(err)
		}
		stops = append(stops, func() { _ = c.Close() })
		near = c
	case kindHBONE:
		srv := hbone.NewServer(hbone.ServerConfig{TLS: identity.ServerTLS(mgr, hopServerID),
			Handler: hbone.HandlerFunc(func(r *hbone.Request, s *hbone.ServerStream) {
				if s.Accept() != nil {
					return
				}
				far(s)
			})})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.Serve(ln) }()
		stops = append(stops, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Close()
			_ = srv.Shutdown(ctx)
			<-done
		})
		cli := hbone.NewClient(hbone.ClientConfig{Manager: mgr})
		stops = append(stops, func() { _ = cli.Close() })
		s, err := cli.Dial(context.Background(), hbone.Target{Source: hopClientID,
			Expected: []identity.ID{hopServerID}, NextHop: ln.Addr().String(), Authority: "127.0.0.1:9"})
		if err != nil {
			tb.Fatal(err)
		}
		stops = append(stops, func() { _ = s.Close() })
		near = s
	}

	switch p {
	case pathUp:
		return &hop{src: near, sink: snk, stop: stop}
	case pathDown:
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = hbone.CopyCounted(snk, near, nil) }()
		stops = append(stops, func() { _ = near.Close(); wg.Wait() })
		// Runs first: the far end may be blocked reading the source.
		stops = append(stops, func() { _ = downW.Close() })
		return &hop{src: downW, sink: snk, stop: stop}
	default: // pathProxy: the near proxy accepts the app's connection and splices it in.
		proxyAddr := serveTCP(tb, &stops, func(c net.Conn) { hbone.Splice(c, near, nil, nil) })
		app, err := net.Dial("tcp", proxyAddr)
		if err != nil {
			tb.Fatal(err)
		}
		stops = append(stops, func() { _ = app.Close() })
		return &hop{src: app, sink: snk, stop: stop}
	}
}

// serveTCP serves one loopback listener with handle, one goroutine per
// connection, and registers its shutdown in stops.
func serveTCP(tb testing.TB, stops *[]func(), handle func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); handle(c) }()
		}
	}()
	*stops = append(*stops, func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// processCPU is the process's user+system CPU time so far.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHop moves 1 MiB per op across one hop, over plain TLS 1.3 and
// over HBONE, along each path, and reports for each:
//
//	MB/s        bytes delivered per wall second (all bytes arrived at the sink)
//	cpu-ns/B    process CPU (both ends, user+system) per byte
//	allocs/MiB  heap allocations per MiB, both ends (flagged above the budget)
//	cpu-x-tls   (HBONE only) cpu-ns/B over plain TLS's, measured interleaved
//	goal-…      (HBONE only) issue 17's goals for the two comparisons, and
//	            with GOMAXPROCS=1 the one-core throughput goal (benchgoal)
//
// The HBONE case runs a plain TLS hop of the same path next to its own and
// alternates between them every few MiB (hopSlice), TLS first in one round
// and HBONE first in the next; cpu-x-tls compares the two sums,
// allocs-over-tls/MiB the fewest allocations per MiB of any slice of each
// (a sum also holds what else the process allocated meanwhile, and under
// load more, smaller socket reads allocate more on either side). Both tunnels thus see the same machine load, including under
// -count, where the separate TLS case ran count times before the HBONE case
// and a ratio to it would compare against one of those runs only. For the
// idle-core figure run with GOMAXPROCS=1.
func BenchmarkHop(b *testing.B) {
	for _, p := range []hopPath{pathUp, pathDown, pathProxy} {
		for _, k := range []hopKind{kindTLS, kindHBONE} {
			b.Run(fmt.Sprintf("%s/%s", p, k), func(b *testing.B) {
				h := startHop(b, k, p)
				var base *hop // the interleaved plain TLS hop of an HBONE case
				if k == kindHBONE {
					base = startHop(b, kindTLS, p)
				}
				chunk := make([]byte, mib)
				h.push(b, chunk, 32) // warm flow-control windows, copy buffers and pools
				if base != nil {
					base.push(b, chunk, 32)
				}
				var m, mb hopMeter
				b.ResetTimer()
				for done, round := 0, 0; done < b.N; round++ {
					n := min(hopSlice, b.N-done)
					if base != nil && round%2 == 0 {
						b.StopTimer()
						mb.measure(b, base, chunk, n)
						b.StartTimer()
					}
					m.measure(b, h, chunk, n)
					if base != nil && round%2 == 1 {
						b.StopTimer()
						mb.measure(b, base, chunk, n)
						b.StartTimer()
					}
					done += n
				}
				b.StopTimer()
				b.ReportMetric(m.bytes/m.wall.Seconds()/1e6, "MB/s")
				b.ReportMetric(m.cpuPerByte(), "cpu-ns/B")
				b.ReportMetric(m.allocsPerMiB(), "allocs/MiB")
				if base != nil {
					ratio := m.cpuPerByte() / mb.cpuPerByte()
					b.ReportMetric(ratio, "cpu-x-tls")
					b.ReportMetric(m.fewest-mb.fewest, "allocs-over-tls/MiB")
					b.ReportMetric(cpuGoalVsTLS, "goal-max-cpu-x-tls")
					b.ReportMetric(allocBudgetOverTLS, "goal-max-allocs-over-tls/MiB")
					if runtime.GOMAXPROCS(0) == 1 && p != pathProxy {
						// Issue 17's "≥ 1 GB/s on an idle core" for a hop:
						// both of its ends share the one core here. The
						// proxy path is two hops (and three parties) on
						// that core, so it has no such goal.
						b.ReportMetric(1000, "goal-min-MB/s")
					}
					if ratio > cpuGoalVsTLS && b.N >= 16 {
						b.Logf("CPU per byte %.2f× plain TLS, goal ≤ %.1f× (load-sensitive; compare medians)", ratio, cpuGoalVsTLS)
					}
				}
				if b.N >= 16 && m.allocsPerMiB() > allocBudgetPerMiB {
					// Flagged, not failed: under load plain TLS alone passes the
					// budget (more, smaller socket reads, one allocation each), and
					// a failed benchmark prints no figures. TestHopAllocBudget
					// enforces the budgets.
					b.Logf("%.1f allocations per MiB, over the budget of %d (TestHopAllocBudget enforces it)", m.allocsPerMiB(), allocBudgetPerMiB)
				}
			})
		}
	}
}

// hopSlice is how many MiB an HBONE case pushes through one tunnel before
// switching to the other: small enough that both see the same load, large
// enough that switching costs nothing measurable.
const hopSlice = 8

// hopMeter sums what pushes through one hop cost.
type hopMeter struct {
	bytes  float64
	wall   time.Duration
	cpu    time.Duration
	allocs uint64
	// fewest is the fewest allocations per MiB of any one measure call:
	// what the data path itself allocates, without what else the process
	// allocated meanwhile (TestHopAllocBudget compares the same way).
	fewest float64
}

// measure pushes n MiB through h and adds their wall time, process CPU and
// heap allocations.
func (m *hopMeter) measure(tb testing.TB, h *hop, chunk []byte, n int) {
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0, t0 := processCPU(tb), time.Now()
	h.push(tb, chunk, n)
	wall, cpu := time.Since(t0), processCPU(tb)-cpu0
	runtime.ReadMemStats(&ms1)
	m.bytes += float64(n) * mib
	m.wall += wall
	m.cpu += cpu
	m.allocs += ms1.Mallocs - ms0.Mallocs
	perMiB := float64(ms1.Mallocs-ms0.Mallocs) / float64(n)
	if m.fewest == 0 || perMiB < m.fewest {
		m.fewest = perMiB
	}
}

func (m *hopMeter) cpuPerByte() float64   { return float64(m.cpu.Nanoseconds()) / m.bytes }
func (m *hopMeter) allocsPerMiB() float64 { return float64(m.allocs) / (m.bytes / mib) }

// TestHopAllocBudget enforces the allocation budgets on every path: at most
// allocBudgetPerMiB per MiB in all, and HBONE at most allocBudgetOverTLS per
// MiB above plain TLS on the same path. It counts heap allocations (both ends
// of the hop, the whole process) while 16 MiB cross it after a warm-up, in
// allocRounds rounds that alternate TLS and HBONE, and keeps each kind's
// fewest: what the data path itself allocates. A single count also holds
// whatever else the process allocated meanwhile (crypto/tls's reads vary by
// about 2 per MiB with how bytes arrive), which made a one-shot comparison
// fail about once in eight runs. Allocation counts do not depend on machine
// speed, so this is a plain test, not a benchmark.
func TestHopAllocBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random and allocates on its own (.ci/run runs it without -race: go test -count=1 ./validation/hbone)")
	}
	if testing.Short() {
		t.Skip("moves 100 MiB per path")
	}
	const (
		allocRounds = 3
		perRun      = 16
	)
	chunk := make([]byte, mib)
	for _, p := range []hopPath{pathUp, pathDown, pathProxy} {
		t.Run(string(p), func(t *testing.T) {
			kinds := []hopKind{kindTLS, kindHBONE}
			hops := make([]*hop, len(kinds))
			fewest := make([]float64, len(kinds))
			for i, k := range kinds {
				hops[i] = startHop(t, k, p)
				hops[i].push(t, chunk, 32)
				fewest[i] = math.Inf(1)
			}
			for range allocRounds {
				for i, h := range hops {
					allocs := testing.AllocsPerRun(1, func() { h.push(t, chunk, perRun) }) / perRun
					fewest[i] = min(fewest[i], allocs)
				}
			}
			tls, hb := fewest[0], fewest[1]
			t.Logf("fewest of %d rounds: TLS %.2f, HBONE %.2f allocations per MiB", allocRounds, tls, hb)
			for i, k := range kinds {
				if fewest[i] > allocBudgetPerMiB {
					t.Errorf("%s: %.2f allocations per MiB, budget %d", k, fewest[i], allocBudgetPerMiB)
				}
			}
			if over := hb - tls; over > allocBudgetOverTLS {
				t.Errorf("HBONE allocates %.2f per MiB more than plain TLS (%.2f vs %.2f), budget %d",
					over, hb, tls, allocBudgetOverTLS)
			}
		})
	}
}
