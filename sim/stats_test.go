package sim

import (
	"math"
	"strings"
	"testing"
)

func TestStreams(t *testing.T) {
	draw := func(s *Streams, name string) [5]uint64 {
		var out [5]uint64
		r := s.Rand(name)
		for i := range out {
			out[i] = r.Uint64()
		}
		return out
	}
	a := NewStreams(42)
	b := NewStreams(42)
	b.Source("created-first") // creation order must not matter
	if draw(a, "client/arrivals") != draw(b, "client/arrivals") {
		t.Fatal("same seed and name gave different streams")
	}
	if draw(a, "x") == draw(a, "y") {
		t.Fatal("different names gave the same stream")
	}
	if draw(NewStreams(1), "x") == draw(NewStreams(2), "x") {
		t.Fatal("different seeds gave the same stream")
	}
	// One stream per name: a second Rand continues the same sequence.
	c, d := NewStreams(9), NewStreams(9)
	first := c.Rand("n").Uint64()
	second := c.Rand("n").Uint64()
	ref := d.Rand("n")
	if ref.Uint64() != first || ref.Uint64() != second || c.Seed() != 9 {
		t.Fatal("repeated Rand(name) does not share one stream")
	}
}

func TestDistSpecMeans(t *testing.T) {
	cases := []struct {
		spec DistSpec
		mean float64
		cv   float64 // expected coefficient of variation, 0 = skip
		tol  float64 // relative tolerance on the sample mean
	}{
		{DistSpec{Kind: "exponential", Mean: 5e5}, 5e5, 1, 0.02},
		{DistSpec{Kind: "lognormal", Mean: 2e5, CV: 0.5}, 2e5, 0.5, 0.02},
		{DistSpec{Kind: "pareto", Mean: 1e6, Alpha: 3}, 1e6, 1 / math.Sqrt(3), 0.02},
		{DistSpec{Kind: "constant", Mean: 1234}, 1234, 0, 0},
		{DistSpec{Kind: "Deterministic", Mean: 7}, 7, 0, 0},
		{DistSpec{Kind: "uniform", Min: 10, Max: 30}, 20, (20 / math.Sqrt(12)) / 20, 0.02},
		{DistSpec{Kind: "empirical", Samples: []float64{1, 2, 3, 10}}, 4, 0, 0.03},
	}
	for _, tc := range cases {
		t.Run(tc.spec.Kind, func(t *testing.T) {
			d, err := tc.spec.New(NewStreams(3).Source("d"))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(d.Mean()-tc.mean) > 1e-9*tc.mean {
				t.Fatalf("Mean() = %v, want %v", d.Mean(), tc.mean)
			}
			const n = 40000
			var s, s2 float64
			for i := 0; i < n; i++ {
				x := d.Rand()
				s += x
				s2 += x * x
			}
			m := s / n
			if math.Abs(m-tc.mean) > tc.tol*tc.mean {
				t.Errorf("sample mean %v, want %v ± %.0f%%", m, tc.mean, 100*tc.tol)
			}
			if tc.cv > 0 {
				cv := math.Sqrt(s2/n-m*m) / m
				if math.Abs(cv-tc.cv) > 0.1*tc.cv {
					t.Errorf("sample cv %v, want %v", cv, tc.cv)
				}
			}
		})
	}
}

func TestDistSpecValidate(t *testing.T) {
	cases := []struct {
		spec  DistSpec
		field string
	}{
		{DistSpec{}, "field dist: missing"},
		{DistSpec{Kind: "gamma", Mean: 1}, `unknown distribution "gamma"`},
		{DistSpec{Kind: "exponential"}, "field mean"},
		{DistSpec{Kind: "exponential", Mean: math.Inf(1)}, "field mean"},
		{DistSpec{Kind: "lognormal", Mean: 1}, "field cv"},
		{DistSpec{Kind: "pareto", Mean: 1, Alpha: 1}, "field alpha"},
		{DistSpec{Kind: "uniform", Min: 5, Max: 5}, "fields min/max"},
		{DistSpec{Kind: "uniform", Min: 0, Max: 10, Mean: 3}, "field mean"},
		{DistSpec{Kind: "empirical"}, "field samples"},
		{DistSpec{Kind: "empirical", Samples: []float64{1, -1}}, "field samples[1]"},
		{DistSpec{Kind: "constant", Mean: -1}, "field mean"},
	}
	for _, tc := range cases {
		err := tc.spec.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: error %v, want one mentioning %q", tc.spec, err, tc.field)
		}
		if _, err := tc.spec.New(NewStreams(1).Source("x")); err == nil {
			t.Errorf("%+v: New accepted an invalid spec", tc.spec)
		}
	}
	if _, err := (DistSpec{Kind: "exponential", Mean: 1}).New(nil); err == nil {
		t.Error("New accepted a nil source")
	}
}

func TestGaugeCounterMeanCI(t *testing.T) {
	var g Gauge
	g.Set(0, 2)
	g.Add(10, 3) // 5 from t=10
	g.Set(30, 1)
	if got, want := g.Mean(40), (2*10+5*20+1*10)/40.0; math.Abs(got-want) > 1e-12 {
		t.Fatalf("gauge mean %v, want %v", got, want)
	}
	if g.Max() != 5 || g.Value() != 1 || g.Integral(40) != 130 {
		t.Fatalf("max %v value %v integral %v", g.Max(), g.Value(), g.Integral(40))
	}
	g.Reset(40)
	if g.Mean(40) != 1 || g.Mean(50) != 1 || g.Max() != 1 {
		t.Fatal("gauge reset")
	}
	var c Counter
	c.Add(5)
	c.Inc()
	if c.Value() != 6 {
		t.Fatal("counter")
	}
	c.Reset()
	if c.Value() != 0 {
		t.Fatal("counter reset")
	}

	m, hw := MeanCI([]float64{1, 2, 3, 4, 5}, 0.95)
	// t(0.975, 4) = 2.776445; s = sqrt(2.5)
	if m != 3 || math.Abs(hw-2.776445*math.Sqrt(2.5)/math.Sqrt(5)) > 1e-5 {
		t.Fatalf("MeanCI = %v ± %v", m, hw)
	}
	if m, hw := MeanCI([]float64{7}, 0.95); m != 7 || !math.IsNaN(hw) {
		t.Fatal("MeanCI with one sample")
	}
	if m, hw := MeanCI(nil, 0.95); !math.IsNaN(m) || !math.IsNaN(hw) {
		t.Fatal("MeanCI with no samples")
	}
}

func TestTime(t *testing.T) {
	if FromSeconds(1.5) != 1500*Millisecond || (1500*Millisecond).Seconds() != 1.5 {
		t.Fatal("seconds")
	}
	if (2500*Microsecond).Milliseconds() != 2.5 || FromMilliseconds(2.5) != 2500*Microsecond {
		t.Fatal("milliseconds")
	}
	if (1500*Millisecond).String() != "1.5s" || FromDuration(3e9) != 3*Second || (3*Second).Duration() != 3e9 {
		t.Fatal("string/duration")
	}
	if FromSeconds(1e300) != MaxTime || FromSeconds(-1e300) != -MaxTime || FromSeconds(math.NaN()) != 0 {
		t.Fatal("saturation")
	}
	if FromNanoseconds(2.5) != 3 || (1500*Nanosecond).Microseconds() != 1.5 {
		t.Fatal("rounding")
	}
}
