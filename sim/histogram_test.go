package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// exactQuantile is the nearest-rank quantile of sorted values, the definition
// Histogram.Quantile estimates.
func exactQuantile(sorted []Time, q float64) Time {
	r := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(r, 1), len(sorted))-1]
}

func TestHistogramRelativeError(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := []struct {
		name string
		draw func() float64 // ns
	}{
		{"exponential-1ms", func() float64 { return r.ExpFloat64() * 1e6 }},
		{"lognormal-200us-cv3", func() float64 { return math.Exp(math.Log(200e3) - 1.15 + 1.517*r.NormFloat64()) }},
		{"pareto-a1.2", func() float64 { return 1e3 * math.Exp(r.ExpFloat64()/1.2) }},
		{"loguniform-1us-100s", func() float64 { return math.Exp(math.Log(1e3) + r.Float64()*math.Log(1e8)) }},
		{"bimodal", func() float64 {
			if r.IntN(100) == 0 {
				return 5e9 + r.Float64()*1e9
			}
			return 50e3 + r.Float64()*10e3
		}},
		{"constant-1.5ms", func() float64 { return 1.5e6 }},
		{"uniform-1us-2us", func() float64 { return 1e3 + r.Float64()*1e3 }},
	}
	qs := []float64{0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHistogram()
			vals := make([]Time, 50_000)
			var sum float64
			for i := range vals {
				v := FromNanoseconds(math.Min(tc.draw(), 100e9))
				vals[i] = v
				sum += float64(v)
				h.Record(v)
			}
			slices.Sort(vals)
			for _, q := range qs {
				want := exactQuantile(vals, q)
				got := h.Quantile(q)
				if want < Microsecond {
					continue // the bound is stated for 1µs..100s
				}
				if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.01 {
					t.Errorf("q=%v: got %v, exact %v, relative error %.3f%% > 1%%", q, got, want, 100*rel)
				}
			}
			if h.Count() != int64(len(vals)) || h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
				t.Errorf("count/min/max = %d/%v/%v, want %d/%v/%v", h.Count(), h.Min(), h.Max(), len(vals), vals[0], vals[len(vals)-1])
			}
			if m := sum / float64(len(vals)); math.Abs(h.Mean()-m) > 1e-9*m {
				t.Errorf("mean %v, want exact %v", h.Mean(), m)
			}
		})
	}
}

func TestHistogramEveryBucketBound(t *testing.T) {
	// Every representable bucket: its midpoint is within 1/128 of any value
	// in it, and indexing round-trips.
	for i := 0; i < histChunks*histSub; i++ {
		lo, w := histBucket(i)
		for _, v := range []Time{lo, lo + w/2, lo + w - 1} {
			if got := histIndex(v); got != i {
				t.Fatalf("histIndex(%d) = %d, want %d", v, got, i)
			}
			mid := lo + w/2
			if w > 1 && math.Abs(float64(mid-v))/float64(v) > 1.0/128 {
				t.Fatalf("bucket %d [%d,+%d): midpoint error for %d too large", i, lo, w, v)
			}
		}
	}
	if lo, w := histBucket(histChunks*histSub - 1); lo+w-1 != histMaxValue {
		t.Fatalf("last bucket ends at %d, want %d", lo+w-1, histMaxValue)
	}
}

func TestHistogramMergeResetCDF(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	all, a, b := NewHistogram(), NewHistogram(), NewHistogram()
	for i := 0; i < 20000; i++ {
		v := Time(r.ExpFloat64() * 1e7)
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(b)
	a.Merge(nil)
	a.Merge(NewHistogram())
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Fatal("merged summary differs")
	}
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Fatalf("merged q%v = %v, want %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
	cdf := a.CDF(100)
	if len(cdf) != 100 || cdf[99].Fraction != 1 || cdf[99].Value != a.Max() {
		t.Fatalf("CDF end = %+v", cdf[len(cdf)-1])
	}
	for i := 1; i < len(cdf); i++ {
		if cdf[i].Value < cdf[i-1].Value || cdf[i].Fraction <= cdf[i-1].Fraction {
			t.Fatalf("CDF not monotone at %d", i)
		}
	}
	a.Reset()
	if a.Count() != 0 || a.Quantile(0.5) != 0 || !math.IsNaN(a.Mean()) || a.CDF(10) != nil {
		t.Fatal("Reset did not empty the histogram")
	}
	a.Record(42)
	if a.Quantile(0.5) != 42 || a.Min() != 42 {
		t.Fatal("histogram unusable after Reset")
	}
}

func TestHistogramEdges(t *testing.T) {
	h := NewHistogram()
	h.Record(-5) // negative counts as 0
	h.RecordN(3*Hour, 2)
	h.RecordN(7, 0) // ignored
	if h.Count() != 3 || h.Min() != 0 || h.Max() != 3*Hour {
		t.Fatalf("count %d min %v max %v", h.Count(), h.Min(), h.Max())
	}
	if h.Quantile(0.9) != 3*Hour || h.Quantile(0.1) != 0 {
		t.Fatalf("overflow quantiles: %v %v", h.Quantile(0.1), h.Quantile(0.9))
	}
	if got, want := h.Sum(), float64(6*Hour); got != want {
		t.Fatalf("sum %v, want %v", got, want)
	}
	// The 128-bit sum does not overflow where int64 would.
	var big Histogram
	big.RecordN(MaxTime, 4)
	if big.Mean() != float64(MaxTime) {
		t.Fatalf("mean of huge values %v", big.Mean())
	}
}
