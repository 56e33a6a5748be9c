package calibrate

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRefit: a calibration record written by Report.WriteFiles is fitted
// again without measuring; the profile keeps the record's provenance.
func TestRefit(t *testing.T) {
	if testing.Short() {
		t.Skip("fits a profile to many simulated runs; the full suite (go test ./...) runs it")
	}
	if raceEnabled {
		t.Skip("a long fit: .ci/run runs it without -race (go test -count=1 ./validation/calibrate)")
	}
	d, obs := exactObservations(t)
	rec := &Report{Fit: &FitResult{Design: d, Observations: obs},
		Provenance: Provenance{ToolVersion: "0.0.1", Revision: "abc", Backend: "local",
			Date: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Machine: Machine{NProc: 2, CPUModel: "Test CPU", Kernel: "6.0"}},
		NotEmulated: []string{}}
	js, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.calibration.json")
	if err := os.WriteFile(path, js, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Refit(path, Options{Name: "again", ToolVersion: "9.9", SleepGrid: []float64{truth["app.sleep_time_constant"]}})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := rep.Fit.CPU["ztunnel"].Param("ztunnel.per_message_cpu")
	if math.Abs(e.Value-truth["ztunnel.per_message_cpu"]) > 0.01*truth["ztunnel.per_message_cpu"] {
		t.Errorf("refit per_message_cpu = %v, want %v", e.Value, truth["ztunnel.per_message_cpu"])
	}
	if rep.Provenance.Revision != "abc" || rep.Provenance.ToolVersion != "9.9" || rep.Profile.Name != "again" ||
		!rep.Provenance.Date.Equal(rec.Provenance.Date) {
		t.Errorf("provenance %+v, profile %q: want the record's revision and date, this tool's version", rep.Provenance, rep.Profile.Name)
	}
	if !strings.Contains(string(rep.YAML), "calibration:") {
		t.Error("the refitted profile has no calibration section")
	}
}

func TestRefitRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ name, body, want string }{
		{"garbage.json", "{not json", "not a calibration record"},
		{"empty.json", `{"fit": {"design": {"steps": []}}}`, "fit.design.steps: no steps"},
		{"short.json", `{"fit": {"design": {"duration_ns": 1000000000, "steps": [{"path": "l4", "rate_rps": 100, "payload_bytes": 1024, "connections": 4}]}, "observations": []}}`, "fit.observations: 0 observations for 1 design steps"},
		{"nodur.json", `{"fit": {"design": {"steps": [{"path": "l4", "rate_rps": 100, "payload_bytes": 1024, "connections": 4}]}, "observations": [{"step": {"path": "l4", "rate_rps": 100, "payload_bytes": 1024, "connections": 4}}]}}`, "fit.design.duration_ns"},
		{"mismatch.json", `{"fit": {"design": {"duration_ns": 1000000000, "steps": [{"path": "l4", "rate_rps": 100, "payload_bytes": 1024, "connections": 4}]}, "observations": [{"name": "x", "step": {"path": "l4", "rate_rps": 200, "payload_bytes": 1024, "connections": 4}}]}}`, "fit.observations[0].step"},
	} {
		_, err := Refit(write(tc.name, tc.body), Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: error %v, want the file and %q", tc.name, err, tc.want)
		}
	}
	if _, err := Refit(filepath.Join(dir, "missing.json"), Options{}); err == nil {
		t.Error("a missing record: no error")
	}
}
