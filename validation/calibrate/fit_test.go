package calibrate

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestSolveRecoversExactParameters(t *testing.T) {
	// y = 3 + 2·a + 0.5·b, no noise.
	p := Problem{Names: []string{"c", "a", "b"}}
	for i := 0; i < 8; i++ {
		a, b := float64(i), float64((i*5)%7)
		p.X = append(p.X, []float64{1, a, b})
		p.Y = append(p.Y, 3+2*a+0.5*b)
	}
	f, err := Solve(p)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{3, 2, 0.5} {
		if got := f.Params[i].Value; math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", f.Params[i].Name, got, want)
		}
		if se := f.Params[i].SE; se > 1e-9 {
			t.Errorf("%s: SE %v on exact data, want ≈0", f.Params[i].Name, se)
		}
	}
	if f.R2 < 1-1e-12 || f.RMS > 1e-9 || f.DOF != 5 {
		t.Errorf("R² %v RMS %v dof %d, want 1, 0, 5", f.R2, f.RMS, f.DOF)
	}
}

func TestSolveStandardErrorMatchesTheTextbook(t *testing.T) {
	// Simple regression y = α + βx: SE(β) = σ̂ / sqrt(Σ(x − x̄)²).
	xs := []float64{1, 2, 3, 4, 5, 6}
	noise := []float64{0.1, -0.2, 0.15, 0.05, -0.1, 0.0}
	p := Problem{Names: []string{"alpha", "beta"}}
	var sxx, mean float64
	for _, x := range xs {
		mean += x / float64(len(xs))
	}
	for i, x := range xs {
		p.X = append(p.X, []float64{1, x})
		p.Y = append(p.Y, 1+2*x+noise[i])
		sxx += (x - mean) * (x - mean)
	}
	f, err := Solve(p)
	if err != nil {
		t.Fatal(err)
	}
	var ss float64
	for _, r := range f.Residuals {
		ss += r * r
	}
	sigma := math.Sqrt(ss / 4)
	want := sigma / math.Sqrt(sxx)
	if got := f.Params[1].SE; math.Abs(got-want) > 1e-12 {
		t.Errorf("SE(beta) = %v, want %v", got, want)
	}
	if math.Abs(f.Sigma-sigma) > 1e-12 {
		t.Errorf("sigma %v, want %v", f.Sigma, sigma)
	}
}

func TestSolveNonNegativeHoldsAtZero(t *testing.T) {
	// The unconstrained fit of y = 1·a − 0.3·b wants b < 0.
	p := Problem{Names: []string{"a", "b"}, NonNegative: []bool{true, true}}
	for i := 1; i <= 6; i++ {
		a, b := float64(i), float64(7-i)
		p.X = append(p.X, []float64{a, b})
		p.Y = append(p.Y, a-0.3*b)
	}
	f, err := Solve(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := f.Param("b")
	a, _ := f.Param("a")
	if !b.AtBound || b.Value != 0 || b.SE != 0 {
		t.Errorf("b = %+v, want held at 0", b)
	}
	if a.AtBound || a.Value <= 0 {
		t.Errorf("a = %+v, want free and positive", a)
	}
	// Without the constraint the same data gives b ≈ −0.3.
	p.NonNegative = nil
	f, _ = Solve(p)
	if b, _ := f.Param("b"); math.Abs(b.Value+0.3) > 1e-9 {
		t.Errorf("unconstrained b = %v, want -0.3", b.Value)
	}
}

func TestSolveWeights(t *testing.T) {
	// Two inconsistent observations of one constant: the weighted mean.
	p := Problem{Names: []string{"c"}, X: [][]float64{{1}, {1}}, Y: []float64{1, 3}, Weights: []float64{1, 3}}
	f, err := Solve(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Params[0].Value, (1*1+9*3)/10.0; math.Abs(got-want) > 1e-12 {
		t.Errorf("weighted fit %v, want %v", got, want)
	}
}

func TestSolveRejects(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"no parameters", Problem{Y: []float64{1}}, "no parameters"},
		{"too few observations", Problem{Names: []string{"a", "b"}, X: [][]float64{{1, 2}}, Y: []float64{1}}, "at least as many runs"},
		{"ragged", Problem{Names: []string{"a", "b"}, X: [][]float64{{1, 2}, {1}}, Y: []float64{1, 2}}, "columns"},
		{"NaN", Problem{Names: []string{"a"}, X: [][]float64{{1}, {math.NaN()}}, Y: []float64{1, 2}}, "NaN"},
		{"zero column", Problem{Names: []string{"a", "b"}, X: [][]float64{{1, 0}, {2, 0}, {3, 0}}, Y: []float64{1, 2, 3}}, "no run exercises it"},
		{"collinear", Problem{Names: []string{"a", "b"}, X: [][]float64{{1, 2}, {2, 4}, {3, 6}}, Y: []float64{1, 2, 3}}, "rank deficient"},
		{"bad weight", Problem{Names: []string{"a"}, X: [][]float64{{1}, {2}}, Y: []float64{1, 2}, Weights: []float64{1, 0}}, "weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Solve(tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestFitJSONWritesNaNAsNull(t *testing.T) {
	f, err := Solve(Problem{Names: []string{"a"}, X: [][]float64{{1}}, Y: []float64{2}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"se":null`) || !strings.Contains(s, `"sigma":null`) {
		t.Errorf("JSON %s: want se and sigma null without degrees of freedom", s)
	}
}

func BenchmarkSolve(b *testing.B) {
	p := Problem{Names: []string{"a", "b", "c", "d"}, NonNegative: []bool{true, true, true, true}}
	for i := 0; i < 40; i++ {
		x := float64(i)
		p.X = append(p.X, []float64{1, x, x * x / 40, float64(i % 3)})
		p.Y = append(p.Y, 2+0.5*x+0.1*x*x/40+float64(i%3))
	}
	for b.Loop() {
		if _, err := Solve(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p.Y)), "observations")
}
