package models

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

// TestLatRecMatchesHistogram: buffering latencies and recording them in
// batches leaves the histogram every direct Record would, at any count
// (below, at and past a batch) and read at any point.
func TestLatRecMatchesHistogram(t *testing.T) {
	for _, n := range []int{0, 1, latBatch - 1, latBatch, latBatch + 1, 5*latBatch + 7} {
		r := rand.New(rand.NewPCG(1, uint64(n)))
		direct := sim.NewHistogram()
		lr := newLatRec()
		for i := 0; i < n; i++ {
			v := sim.Time(r.ExpFloat64() * 5e6)
			direct.Record(v)
			lr.record(v)
			if i == n/2 && !reflect.DeepEqual(lr.hist(), direct) {
				t.Fatalf("n=%d: read mid-way, batched histogram differs from direct", n)
			}
		}
		if !reflect.DeepEqual(lr.hist(), direct) {
			t.Errorf("n=%d: batched histogram differs from direct", n)
		}
	}
}
