package scenarios

import (
	"testing"
	"time"
)

// BenchmarkLargeCluster runs the built-in large-cluster scenario (500 nodes,
// 10,000 pods, 100k calls/s for 60 simulated seconds, ambient with a
// waypoint per namespace) and reports simulation events per wall second and
// simulated calls per wall second. Run it alone:
//
//	go test -run '^$' -bench BenchmarkLargeCluster -benchtime 1x ./scenarios/
func BenchmarkLargeCluster(b *testing.B) {
	sc, err := Load("large-cluster")
	if err != nil {
		b.Fatal(err)
	}
	var events uint64
	var calls int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		run, err := Execute(sc, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range run.Modes {
			events += m.Events
			calls += m.Calls
		}
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(float64(events)/wall, "events/s")
	b.ReportMetric(float64(calls)/wall, "calls/s")
	b.ReportMetric(wall/float64(b.N), "wall-s/run")
}
