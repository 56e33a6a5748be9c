package crosscheck

import (
	"math"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// TestCompareRuns: repeated measurements are compared by their median,
// keep each run and their spread, flag a row whose measurement varies more
// than its target, and fail a set that differs between runs.
func TestCompareRuns(t *testing.T) {
	sc := Scenario{Name: "s", Blast: true, Experiment: &harness.Experiment{Name: "s"}}
	pred := &Prediction{CPUSeconds: map[string]float64{"nodeproxy/node-a": 1.0, "sidecar/sc": 2.0}, Affected: []string{"client-b"}}
	meas := func(zt, sc float64, affected ...string) *Prediction {
		return &Prediction{CPUSeconds: map[string]float64{"nodeproxy/node-a": zt, "sidecar/sc": sc}, Affected: affected}
	}
	rows := CompareRuns(sc, pred, []*Prediction{
		meas(0.95, 1.0, "client-b"), meas(1.30, 2.1, "client-b"), meas(1.05, 3.2, "client-b"),
	})
	byMetric := map[string]Row{}
	for _, r := range rows {
		byMetric[r.Metric] = r
	}
	zt := byMetric["cpu_s nodeproxy/node-a"]
	if zt.Measured != 1.05 || len(zt.MeasuredRuns) != 3 || zt.Pass == nil || !*zt.Pass {
		t.Errorf("node proxy row: %+v, want the median 1.05 and a pass (5%% off)", zt)
	}
	// cv of {0.95, 1.30, 1.05} = 0.18 / 1.1 ≈ 0.164, above the 15 % target.
	if zt.MeasuredCV == nil || math.Abs(*zt.MeasuredCV-0.1643) > 0.001 || !strings.Contains(zt.Note, "varies by 16%") {
		t.Errorf("node proxy row: cv %v note %q, want ≈16%% and a note", zt.MeasuredCV, zt.Note)
	}
	if s := byMetric["cpu_s sidecar/sc"]; s.Measured != 2.1 || s.Pass == nil || !*s.Pass {
		t.Errorf("sidecar row: %+v, want the median 2.1, passing", s)
	}
	if a := byMetric["affected_pods"]; a.Pass == nil || !*a.Pass {
		t.Errorf("affected pods the same in every run: %+v", a)
	}
	rows = CompareRuns(sc, pred, []*Prediction{meas(1, 2, "client-b"), meas(1, 2, "client-b", "client-c")})
	for _, r := range rows {
		if r.Metric == "affected_pods" && (r.Pass == nil || *r.Pass || !strings.Contains(r.Note, "differs between runs")) {
			t.Errorf("affected pods differing between runs must fail: %+v", r)
		}
	}
	// One run is exactly Compare.
	one := CompareRuns(sc, pred, []*Prediction{meas(0.95, 1.0, "client-b")})
	if one[0].MeasuredRuns != nil || one[0].MeasuredCV != nil {
		t.Errorf("a single run records no spread: %+v", one[0])
	}
}

func TestMedianAndCV(t *testing.T) {
	if m := median([]float64{3, 1, 2, math.NaN()}); m != 2 {
		t.Errorf("median = %v, want 2 (NaN ignored)", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median = %v, want 2.5", m)
	}
	if !math.IsNaN(median([]float64{math.NaN()})) {
		t.Error("median of NaNs should be NaN")
	}
	if _, ok := coefVar([]float64{1}); ok {
		t.Error("cv of one value is undefined")
	}
	if cv, ok := coefVar([]float64{2, 4}); !ok || math.Abs(cv-math.Sqrt2/3) > 1e-12 {
		t.Errorf("cv(2,4) = %v, want √2/3", cv)
	}
}
