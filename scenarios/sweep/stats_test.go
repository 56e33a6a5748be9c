package sweep

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMeanCI(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		conf float64
		mean float64
		hw   float64
	}{
		// s = sqrt(2.5), t(0.975, 4) = 2.7764451051977987
		{"five values", []float64{1, 2, 3, 4, 5}, 0.95, 3, 2.7764451051977987 * math.Sqrt(2.5) / math.Sqrt(5)},
		// t(0.95, 1) = 6.313751514675043; s = sqrt(2)
		{"two values at 90%", []float64{1, 3}, 0.90, 2, 6.313751514675043 * math.Sqrt(2) / math.Sqrt(2)},
		{"constant", []float64{7, 7, 7}, 0.95, 7, 0},
		{"one value has no interval", []float64{4}, 0.95, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MeanCI(tt.xs, tt.conf)
			if math.Abs(e.Mean-tt.mean) > 1e-12 || math.Abs(e.HalfWidth-tt.hw) > 1e-9 || e.N != len(tt.xs) {
				t.Errorf("MeanCI = %+v, want mean %g half-width %g", e, tt.mean, tt.hw)
			}
		})
	}
}

// TestMeanCICoverage checks that about 95% of intervals from normal samples
// contain the true mean.
func TestMeanCICoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const trials = 4000
	hit := 0
	for i := 0; i < trials; i++ {
		xs := make([]float64, 5)
		for j := range xs {
			xs[j] = 10 + 3*rng.NormFloat64()
		}
		if e := MeanCI(xs, 0.95); e.Lo() <= 10 && 10 <= e.Hi() {
			hit++
		}
	}
	if cov := float64(hit) / trials; cov < 0.935 || cov > 0.965 {
		t.Errorf("coverage %.3f, want 0.95 ± 0.015", cov)
	}
}

func TestMSER5FindsKnownTransient(t *testing.T) {
	// 200 observations of a steady N(50, 1) process; the first 60 carry an
	// initial bias that decays linearly from +40 to 0.
	rng := rand.New(rand.NewPCG(7, 7))
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = 50 + rng.NormFloat64()
		if i < 60 {
			xs[i] += 40 * float64(60-i) / 60
		}
	}
	d, ok := MSER5(xs)
	if !ok {
		t.Fatalf("MSER5 says the run is too short")
	}
	if d%5 != 0 || d < 40 || d > 100 {
		t.Errorf("MSER5 truncates %d observations, want a multiple of 5 near the 60-observation transient", d)
	}
	// Truncating there brings the mean within 0.3 of the steady state;
	// not truncating leaves the bias.
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	if m := mean(xs[d:]); math.Abs(m-50) > 0.3 {
		t.Errorf("mean after truncation %.3f, want 50 ± 0.3", m)
	}
	if m := mean(xs); m-50 < 1 {
		t.Errorf("untruncated mean %.3f should show the bias", m)
	}
}

func TestMSER(t *testing.T) {
	tests := []struct {
		name    string
		xs      []float64
		batch   int
		discard int
		ok      bool
	}{
		{"steady series keeps everything", []float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, 1, 0, true},
		{"step at the start", []float64{9, 9, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 2, true},
		{"batches of five", append([]float64{20, 20, 20, 20, 20}, make([]float64, 30)...), 5, 5, true},
		// A series still trending at its end: the minimum sits at the
		// half-way limit, so the run is too short.
		{"trend to the end", []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 1, 5, false},
		{"too short to judge", []float64{1, 2, 3}, 5, 0, false},
		{"empty", nil, 5, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := MSER(tt.xs, tt.batch)
			if d != tt.discard || ok != tt.ok {
				t.Errorf("MSER = (%d, %v), want (%d, %v)", d, ok, tt.discard, tt.ok)
			}
		})
	}
}

func TestSeedFor(t *testing.T) {
	a := SeedFor(1, "load=1", 0)
	if a != SeedFor(1, "load=1", 0) {
		t.Fatal("SeedFor is not deterministic")
	}
	seen := map[uint64]string{}
	for _, base := range []uint64{0, 1, 2} {
		for _, key := range []string{"", "load=1", "load=2", "load=1,nodes=3"} {
			for rep := 0; rep < 50; rep++ {
				s := SeedFor(base, key, rep)
				if prev, ok := seen[s]; ok {
					t.Fatalf("seed collision: %d for (%d,%q,%d) and %s", s, base, key, rep, prev)
				}
				seen[s] = key
			}
		}
	}
}

// TestSeedForPinned holds SeedFor to the values it has always given, so that
// recorded sweeps (sweep.json, shards of one study run at different times)
// keep their seeds when the hash or mixer moves.
func TestSeedForPinned(t *testing.T) {
	tests := []struct {
		base uint64
		key  string
		rep  int
		want uint64
	}{
		{1, "load=1", 0, 0x16972d145948895f},
		{42, "replicas=3,rps=500", 4, 0x549bd49a2a84afe0},
		{0, "", 0, 0x7261e9031e12a9d7},
	}
	for _, tt := range tests {
		if got := SeedFor(tt.base, tt.key, tt.rep); got != tt.want {
			t.Errorf("SeedFor(%d, %q, %d) = %#x, want %#x", tt.base, tt.key, tt.rep, got, tt.want)
		}
	}
}
