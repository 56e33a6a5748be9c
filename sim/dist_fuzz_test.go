package sim

import (
	"math"
	"testing"
)

// FuzzDistSpec feeds arbitrary user-supplied parameters through Validate and
// New: neither may panic, and a spec that validates must yield finite,
// non-negative draws and mean.
func FuzzDistSpec(f *testing.F) {
	f.Add("exponential", 1e6, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Add("lognormal", 2e5, 1.5, 0.0, 0.0, 0.0, 0.0)
	f.Add("pareto", 4096.0, 0.0, 1.5, 0.0, 0.0, 0.0)
	f.Add("uniform", 0.0, 0.0, 0.0, 10.0, 20.0, 0.0)
	f.Add("empirical", 0.0, 0.0, 0.0, 0.0, 0.0, 3.5)
	f.Add("constant", -1.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, kind string, mean, cv, alpha, lo, hi, sample float64) {
		spec := DistSpec{Kind: kind, Mean: mean, CV: cv, Alpha: alpha, Min: lo, Max: hi, Samples: []float64{sample, 1}}
		d, err := spec.New(NewStreams(1).Source("fuzz"))
		if err != nil {
			if spec.Validate() == nil {
				t.Fatalf("New failed but Validate passed: %v", err)
			}
			return
		}
		if m := d.Mean(); !(m >= 0) || math.IsInf(m, 0) {
			t.Fatalf("%+v: mean %v", spec, m)
		}
		for i := 0; i < 16; i++ {
			if x := d.Rand(); math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				t.Fatalf("%+v: draw %v", spec, x)
			}
		}
	})
}
