package scenarios

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/sim"
)

// TestCalibratedProfileIsMetadata: a profile with a calibration section
// simulates exactly like the same costs without one; the summary records
// the section's key facts in its profile block and assumptions, and
// nothing else changes but the inputs hash.
func TestCalibratedProfileIsMetadata(t *testing.T) {
	prof, err := models.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	r2a, r2b := 0.998, 0.9712
	prof.Name = "cal-test"
	prof.Calibration = &models.Calibration{Tool: "ambientsim calibrate", Date: "2026-11-25",
		Machine:   models.CalibrationMachine{Cores: 2, CPUModel: "Test CPU", Kernel: "6.1"},
		DataPlane: models.CalibrationDataPlane{Revision: "abc123"}, Design: models.CalibrationDesign{Name: "quick", Steps: 1, StepDuration: "1s"},
		Fits: []models.CalibrationFit{{Name: "ztunnel_cpu", Observations: 1, R2: &r2a, Unit: "CPU-s"},
			{Name: "latency_p50", Observations: 1, R2: &r2b, Unit: "ms"}}}
	data, err := yaml.Marshal(prof)
	if err != nil {
		t.Fatal(err)
	}
	calPath := filepath.Join(t.TempDir(), "cal-test.yaml")
	if err := os.WriteFile(calPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := Load("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run := func(profile string) map[string]any {
		r, err := Execute(sc, Options{Profile: profile, Duration: 2 * sim.Second})
		if err != nil {
			t.Fatal(err)
		}
		js, err := SummaryJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(js, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	plain, cal := run(""), run(calPath)
	pb := cal["profile"].(map[string]any)
	c, ok := pb["calibration"].(map[string]any)
	if !ok {
		t.Fatalf("summary profile block %v has no calibration", pb)
	}
	if c["machine"] != "2 × Test CPU, Linux 6.1" || c["date"] != "2026-11-25" || c["revision"] != "abc123" ||
		c["worst_fit"] != "latency_p50" || c["worst_r2"] != 0.9712 {
		t.Errorf("calibration facts %v", c)
	}
	if _, ok := plain["profile"].(map[string]any)["calibration"]; ok {
		t.Error("the published profile's summary has a calibration block")
	}
	var found bool
	for _, a := range cal["assumptions"].([]any) {
		found = found || strings.Contains(a.(string), "was calibrated 2026-11-25 on 2 × Test CPU")
	}
	if !found {
		t.Errorf("assumptions lack the calibration: %v", cal["assumptions"])
	}
	for _, k := range []string{"profile", "inputs_hash", "assumptions"} {
		delete(plain, k)
		delete(cal, k)
	}
	a, _ := json.Marshal(plain)
	b, _ := json.Marshal(cal)
	if string(a) != string(b) {
		t.Error("the calibration section changed the simulation results")
	}
}
