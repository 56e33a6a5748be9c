package dataplane

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// BenchmarkAmbientL4 measures the ambient L4 path across two nodes at 500
// requests per second for 3 s over 4 kept-alive connections: latency
// percentiles and the node proxies' CPU per 1000 requests. One iteration
// is one whole Session; run with -benchtime 1x -count N.
func BenchmarkAmbientL4(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	ctx := context.Background()
	dir := b.TempDir()
	moduleDir, _ := filepath.Abs("../../..")
	bin, err := Build(ctx, moduleDir, dir)
	if err != nil {
		b.Fatal(err)
	}
	var p50, p99, proxyCPU, echoCPU, reqs float64
	for b.Loop() {
		l, err := harness.NewLocal(harness.LocalOptions{Commander: NewCommander(Options{Binary: bin, Dir: dir})})
		if err != nil {
			b.Fatal(err)
		}
		m, err := harness.Session(ctx, l, TwoNodeAmbient(), CrossNodeL4(500, 3*time.Second, 4), time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		h := m.Loads[0].Result.DurationHistogram
		v50, _ := h.Percentile(50)
		v99, _ := h.Percentile(99)
		p50 += v50
		p99 += v99
		reqs += float64(h.Count)
		for _, pu := range m.Processes {
			switch pu.Kind {
			case harness.KindNodeProxy:
				proxyCPU += pu.CPUSeconds
			case harness.KindEcho:
				echoCPU += pu.CPUSeconds
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(p50/n*1e3, "p50-ms")
	b.ReportMetric(p99/n*1e3, "p99-ms")
	b.ReportMetric(proxyCPU/reqs*1e6, "nodeproxies-cpu-ms/1000req")
	b.ReportMetric(echoCPU/reqs*1e6, "echo-cpu-ms/1000req")
}
