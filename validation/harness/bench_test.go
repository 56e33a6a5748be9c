package harness

import (
	"context"
	"os"
	"testing"
	"time"
)

// BenchmarkLocalSetupTeardown measures how long building and removing the
// 2-node × 4-pod test plan takes (namespaces, links, shaping, cgroups and
// the 4 long-running test processes).
func BenchmarkLocalSetupTeardown(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	var setup, teardown time.Duration
	for b.Loop() {
		l, err := NewLocal(LocalOptions{Commander: testCommander(b), StopGrace: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := l.Setup(context.Background(), testPlan()); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := l.Teardown(context.Background()); err != nil {
			b.Fatal(err)
		}
		setup += t1.Sub(t0)
		teardown += time.Since(t1)
	}
	b.ReportMetric(float64(setup.Milliseconds())/float64(b.N), "setup-ms/op")
	b.ReportMetric(float64(teardown.Milliseconds())/float64(b.N), "teardown-ms/op")
}
