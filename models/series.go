package models

import (
	"sort"

	"github.com/ambientsim/ambientsim/sim"
)

// Series: every measured call's outcome and latency in 1-second buckets
// per edge, for blast-radius time series (rate, error rate, p99 per
// service), detection and recovery. Recorded only when Config.Series is
// set (the scenarios package sets it when a scenario schedules failures).

// seriesRec collects the buckets during a run.
type seriesRec struct {
	edges [][]bucketRec // per edge, per second since the measured window began
}

type bucketRec struct {
	calls, failed int64
	lat           []float64 // ms, every call
}

func newSeriesRec(edges int, d sim.Time) *seriesRec {
	r := &seriesRec{edges: make([][]bucketRec, edges)}
	n := int(d/sim.Second) + 1
	for i := range r.edges {
		r.edges[i] = make([]bucketRec, n)
	}
	return r
}

// add records one call finished at t (since the window began).
func (r *seriesRec) add(ei int32, t sim.Time, failed bool, lat sim.Time) {
	b := int(t / sim.Second)
	bs := r.edges[ei]
	if b < 0 || b >= len(bs) {
		return
	}
	x := &bs[b]
	x.calls++
	if failed {
		x.failed++
	}
	x.lat = append(x.lat, lat.Milliseconds())
}

// Series is a run's per-edge 1-second buckets.
type Series struct {
	Edges []EdgeSeries // in edge order
}

// EdgeSeries is one call-graph edge's buckets.
type EdgeSeries struct {
	From    string // ns/workload
	To      string // ns/service
	Buckets []Bucket
}

// Bucket is one second of one edge: calls finished, failed, and their
// latencies in milliseconds, sorted.
type Bucket struct {
	Calls, Failed int64
	LatMs         []float64
}

func (m *Mesh) seriesResult() *Series {
	if m.series == nil {
		return nil
	}
	out := &Series{Edges: make([]EdgeSeries, len(m.edges))}
	for i := range m.edges {
		c := m.edges[i].cfg.Call
		es := EdgeSeries{From: c.From.ID(), To: c.To.ID(), Buckets: make([]Bucket, len(m.series.edges[i]))}
		for b, x := range m.series.edges[i] {
			lat := append([]float64(nil), x.lat...)
			sort.Float64s(lat)
			es.Buckets[b] = Bucket{Calls: x.calls, Failed: x.failed, LatMs: lat}
		}
		out.Edges[i] = es
	}
	return out
}
