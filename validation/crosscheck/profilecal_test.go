package crosscheck

import (
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/models"
)

// TestHTMLShowsCalibration: the report header carries a calibrated
// profile's machine, date, revision and worst R², and nothing for a
// published one.
func TestHTMLShowsCalibration(t *testing.T) {
	r2 := 0.9712
	prof := &models.Profile{Name: "m", Calibration: &models.Calibration{Date: "2026-11-25",
		Machine:   models.CalibrationMachine{Cores: 2, CPUModel: "Test CPU", Kernel: "6.1"},
		DataPlane: models.CalibrationDataPlane{Revision: "abc123"},
		Fits:      []models.CalibrationFit{{Name: "latency_p50", R2: &r2}}}}
	facts := calibrationFacts(prof)
	want := "calibrated 2026-11-25 on 2 × Test CPU, Linux 6.1, data plane abc123, worst fit R² 0.9712 (latency_p50)"
	if facts != want {
		t.Fatalf("facts %q, want %q", facts, want)
	}
	rep := &Report{Profile: ProfileInfo{Name: "m", Provenance: "calibrated on X", Calibration: facts}, Backend: "local"}
	b, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "Profile calibrated 2026-11-25 on 2 × Test CPU") || !strings.Contains(string(b), "R² 0.9712") {
		t.Errorf("HTML header lacks the calibration facts:\n%s", b)
	}
	if calibrationFacts(&models.Profile{Name: "p"}) != "" {
		t.Error("facts for a profile without a section")
	}
	rep.Profile.Calibration = ""
	b, _ = rep.HTML()
	if strings.Contains(string(b), "worst fit") {
		t.Error("published profile header shows calibration facts")
	}
}
