package topology

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"
)

// writeExport generates genExport(n) into a file under dir.
func writeExport(tb testing.TB, dir string, n int) string {
	tb.Helper()
	path := filepath.Join(dir, fmt.Sprintf("cluster-%d.yaml", n))
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := genExport(f, n); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// pathsReport does what `ambientsim paths FILE` does after loading: the
// class view of the matrix, the grouped findings, placements, status and
// readiness, written as text.
func pathsReport(tb testing.TB, top *Topology, out io.Writer) *Report {
	tb.Helper()
	r := &Report{Matrix: top.Matrix(), Groups: top.FindingGroups(), Placements: top.Placements(),
		Status: append(top.GatewayStatuses(), top.RouteStatuses()...)}
	r.Readiness = ReadinessOf(top, r.Groups, ReadinessInputs{})
	if err := r.WriteTable(out, top, false, false); err != nil {
		tb.Fatal(err)
	}
	return r
}

// heapSampler records the largest live-heap reading (heap objects, bytes)
// while it runs, sampling every 5 ms.
type heapSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > h.peak {
			h.peak = v
		}
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			read()
			select {
			case <-h.stop:
				read()
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) done() uint64 { close(h.stop); h.wg.Wait(); return h.peak }

// BenchmarkPathsExport is `ambientsim paths` on a generated `kubectl get
// -A -o yaml` export (genExport: Deployments+Services, policies,
// waypoints, ingress, egress, istio-system) of 1,000 and 10,000 services:
// load, classes, findings, readiness and the text report. It reports the
// seconds per run, the peak live heap (sampled) and the process's peak RSS.
// The target for 10,000 services is <= 2 GiB and <= 60 s (reported as
// goal-max-… metrics, see cmd/benchtable):
//
//	go test ./topology -run '^$' -bench 'PathsExport/services=10000' -benchtime 1x
func BenchmarkPathsExport(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			path := writeExport(b, b.TempDir(), n)
			runtime.GC()
			h := startHeapSampler()
			start := time.Now()
			var rows int64
			for i := 0; i < b.N; i++ {
				top, _, err := LoadManifests([]string{path}, LoadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				rows = pathsReport(b, top, io.Discard).Matrix.Rows
			}
			secs := time.Since(start).Seconds() / float64(b.N)
			peak := h.done()
			b.ReportMetric(secs, "seconds/op")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB") // Linux: KiB
			}
			b.ReportMetric(float64(rows), "rows")
			if n == 10000 {
				b.ReportMetric(60, "goal-max-seconds/op")
				b.ReportMetric(2048, "goal-max-maxrss-MiB")
			}
		})
	}
}

// TestPathsMemoryBounded: memory follows the classes, not the rows. With 4x
// the services the matrix has 16x the rows; the bytes allocated for the
// report and the heap it keeps must grow about linearly (measured with the
// runtime's allocation counters, not time).
func TestPathsMemoryBounded(t *testing.T) {
	dir := t.TempDir()
	measure := func(n int) (allocated, retained uint64, rows int64) {
		top, _, err := LoadManifests([]string{writeExport(t, dir, n)}, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		top.index()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := pathsReport(t, top, io.Discard)
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(r)
		retained = 0
		if after.HeapAlloc > before.HeapAlloc {
			retained = after.HeapAlloc - before.HeapAlloc
		}
		return after.TotalAlloc - before.TotalAlloc, retained, r.Matrix.Rows
	}
	a1, k1, r1 := measure(500)
	a2, k2, r2 := measure(2000)
	t.Logf("500 services: %d rows, %.1f MiB allocated, %.1f MiB kept; 2000: %d rows, %.1f MiB allocated, %.1f MiB kept",
		r1, float64(a1)/(1<<20), float64(k1)/(1<<20), r2, float64(a2)/(1<<20), float64(k2)/(1<<20))
	if r2 < 12*r1 {
		t.Fatalf("rows grew only %dx; the test needs the quadratic growth of the pairwise matrix", r2/r1)
	}
	// The pairwise matrix allocated and kept more than 100 bytes a row
	// (a PathPair with its hops); the classes cost a few bytes a row,
	// growing with the classes (here the namespaces with their own
	// policies), less than the rows.
	if growth, rows := float64(a2)/float64(a1), float64(r2)/float64(r1); growth > 0.9*rows {
		t.Errorf("allocations grew %.1fx while the rows grew %.1fx: memory follows the rows, not the classes", growth, rows)
	}
	if perRow := float64(a2) / float64(r2); perRow > 8 {
		t.Errorf("%.1f bytes allocated a row; the classes should need a few", perRow)
	}
	if perRow := float64(k2) / float64(r2); perRow > 2 {
		t.Errorf("the report keeps %.1f bytes a row (%d bytes for %d rows)", perRow, k2, r2)
	}
}

// TestEachPairStreams: expanding every row keeps no row (memory bounded by
// the classes), and each row costs a bounded number of allocations.
func TestEachPairStreams(t *testing.T) {
	var b bytes.Buffer
	if err := genExport(&b, 300); err != nil {
		t.Fatal(err)
	}
	top, _, err := ParseManifests("gen.yaml", b.Bytes(), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := top.Matrix()
	var n int64
	allocs := testing.AllocsPerRun(1, func() {
		n = 0
		m.EachPair(func(PathPair) bool { n++; return true })
	})
	if n != m.Rows {
		t.Fatalf("EachPair gave %d rows, the matrix has %d", n, m.Rows)
	}
	if perRow := allocs / float64(n); perRow > 8 {
		t.Errorf("%.1f allocations a row; want a few (the hops)", perRow)
	}
}
