package models

import (
	"context"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/sim"
)

// BenchmarkMesh simulates 10 s of a 3-tier app at 2000 rps in each mode and
// reports simulation events and simulated calls per wall second, and the
// allocations per simulated call (the hot path should not allocate).
func BenchmarkMesh(b *testing.B) {
	for _, mode := range []struct{ name, ns string }{
		{"ambient", "mode: ambient"},
		{"ambient+waypoint", "mode: ambient\n    waypoint: {scope: namespace, replicas: 2}"},
		{"sidecar", "mode: sidecar"},
	} {
		b.Run(mode.name, func(b *testing.B) {
			top := mustTopology(b, `
nodes: {count: 6, zones: [a, b]}
namespaces:
  - name: shop
    `+mode.ns+`
    workloads: [{name: client, replicas: 4}]
    services:
      - {name: front, replicas: 4}
      - {name: mid, replicas: 4}
      - {name: back, replicas: 4}
calls:
  - {from: shop/client, to: shop/front, rate: 2000}
  - {from: shop/front, to: shop/mid}
  - {from: shop/mid, to: shop/back}
`)
			prof := mustProfile(b)
			var events uint64
			var calls int64
			b.ReportAllocs()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				m, err := NewMesh(Config{Topology: top, Profile: prof, Mode: mode.name, Seed: uint64(i + 1),
					Duration: 10 * sim.Second, Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4})})
				if err != nil {
					b.Fatal(err)
				}
				res, err := m.Run(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				events += res.Events
				calls += res.Calls
			}
			wall := time.Since(start).Seconds()
			b.ReportMetric(float64(events)/wall, "events/s")
			b.ReportMetric(float64(calls)/wall, "calls/s")
		})
	}
}
