package plots

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// TestCalibratedProfileShown: a calibrated profile's machine, date,
// revision and worst R² appear in the summary's model profile and in the
// reproducibility table; a published profile adds nothing.
func TestCalibratedProfileShown(t *testing.T) {
	r2 := 0.97123
	cal := &results.ProfileCalibration{Machine: "2 × Test CPU, Linux 6.1", Date: "2026-11-25T12:30:00Z", Revision: "abc123",
		Design: "quick", WorstFit: "latency_p50", WorstR2: &r2}
	want := "2026-11-25T12:30:00Z on 2 × Test CPU, Linux 6.1; data plane abc123; design quick; worst fit R² 0.9712 (latency_p50)"
	r := buildCase(t, "fixture-no-slo", func(s *results.Summary, _ *Options) { s.Profile.Calibration = cal })
	for _, id := range []string{"summary", "reproducibility"} {
		b, err := json.Marshal(section(t, r, id))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("section %s lacks %q", id, want)
		}
	}
	plain := buildCase(t, "fixture-no-slo", nil)
	b, _ := json.Marshal(plain)
	if strings.Contains(string(b), "Profile calibration") || strings.Contains(string(b), "worst fit") {
		t.Error("a profile without calibration section shows calibration facts")
	}
	// Without an R² the line still names machine, date and revision.
	cal.WorstR2, cal.WorstFit = nil, ""
	if got := calibrationText(results.Profile{Calibration: cal}); got != "2026-11-25T12:30:00Z on 2 × Test CPU, Linux 6.1; data plane abc123; design quick" {
		t.Errorf("calibrationText = %q", got)
	}
}
