package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/validation/calibrate"
	"github.com/ambientsim/ambientsim/validation/crosscheck"
)

func TestCalibrateValidateUsageErrors(t *testing.T) {
	// Paths of this test's own: a fixed /tmp path is locked by whichever
	// run (another package's, another engineer's) reaches it first.
	tmp := t.TempDir()
	v, x, js, rec := filepath.Join(tmp, "v"), filepath.Join(tmp, "x.yaml"), filepath.Join(tmp, "x.json"), filepath.Join(tmp, "r.calibration.json")
	tests := []struct {
		name string
		args []string
	}{
		{"calibrate without --out", []string{"calibrate"}},
		{"calibrate --out not yaml", []string{"calibrate", "--out", js}},
		{"calibrate bad backend", []string{"calibrate", "--out", x, "--backend", "docker"}},
		{"calibrate extra argument", []string{"calibrate", "extra", "--out", x}},
		{"validate without --out", []string{"validate"}},
		{"validate bad backend", []string{"validate", "--out", v, "--backend", "docker"}},
		{"validate unknown flag", []string{"validate", "--out", v, "--no-such-flag"}},
		{"calibrate --refit with --quick", []string{"calibrate", "--refit", rec, "--quick", "--out", x}},
		{"validate --repeat 0", []string{"validate", "--out", v, "--profile", "istio-1.24-published", "--repeat", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runCLI(t, tt.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2 (output %q)", code, out)
			}
		})
	}
}

func TestCalibrateValidateKindBackendExplains(t *testing.T) {
	for _, args := range [][]string{
		{"calibrate", "--backend", "kind", "--out", filepath.Join(t.TempDir(), "p.yaml")},
		{"validate", "--backend", "kind", "--out", t.TempDir(), "--profile", "istio-1.24-published"},
	} {
		root := newRootCmd()
		root.SetArgs(args)
		root.SetOut(new(strings.Builder))
		err := root.Execute()
		if exitCode(err) != 1 || err == nil || !strings.Contains(err.Error(), "--backend local") {
			t.Errorf("%v: error %v (exit %d), want exit 1 naming --backend local", args, err, exitCode(err))
		}
	}
}

func TestCalibrateValidateNeedRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: the no-root error cannot happen")
	}
	for _, args := range [][]string{
		{"calibrate", "--out", filepath.Join(t.TempDir(), "p.yaml")},
		{"validate", "--out", t.TempDir(), "--profile", "istio-1.24-published"},
	} {
		root := newRootCmd()
		root.SetArgs(args)
		root.SetOut(new(strings.Builder))
		err := root.Execute()
		if exitCode(err) != 1 || err == nil || !strings.Contains(err.Error(), "needs root") {
			t.Errorf("%v: error %v (exit %d), want exit 1 saying it needs root", args, err, exitCode(err))
		}
	}
}

// TestValidateEndToEnd calibrates with the tiny design and validates with
// 1-second scenarios on the real data plane (root; CI runs as root), then
// checks the profile loads into the simulator and validation.json is well
// formed. About a minute. Under -race it validates the built-in profile
// instead of calibrating first: the fit runs the simulator hundreds of
// times in this process, ~14× slower under the race detector, and alone
// took 7–8 of the package's 10 minutes on CI's 2 busy cores. The fit is
// validation/calibrate's tests' business; calibrate → validate end to end
// runs without -race: go test -run TestValidateEndToEnd ./cmd/ambientsim.
func TestValidateEndToEnd(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "" {
			t.Skip("needs root (network namespaces); CI runs it as root")
		}
		t.Fatal("CI is set but the test is not running as root")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	d, err := calibrate.NewDesign(calibrate.SizeTiny)
	if err != nil {
		t.Fatal(err)
	}
	// The fit's search over sleep time constants is validation/calibrate's
	// to test; here two candidates keep the selection step and cut the
	// simulations (minutes under -race on 2 busy cores) by two thirds.
	validateDesign, validateDuration, validateSleepGrid = &d, time.Second, []float64{500, 2000}
	t.Cleanup(func() { validateDesign, validateDuration, validateSleepGrid = nil, 0, nil })
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	out := t.TempDir()
	start := time.Now()
	root := newRootCmd()
	var buf strings.Builder
	root.SetOut(&buf)
	root.SetErr(&buf)
	args := []string{"validate", "--out", out}
	if raceEnabled {
		args = append(args, "--profile", "istio-1.24-published")
	}
	root.SetArgs(args)
	err = root.Execute()
	t.Logf("validate took %v\n%s", time.Since(start), buf.String())
	if err != nil {
		t.Fatalf("validate: %v (exit %d)", err, exitCode(err))
	}
	prof := filepath.Join(out, "calibrated.yaml")
	if raceEnabled {
		prof = "istio-1.24-published"
	} else {
		p, err := models.LoadProfile(prof)
		if err != nil {
			t.Fatalf("calibrated profile does not load: %v", err)
		}
		if !strings.HasPrefix(p.Provenance, "calibrated on ") || p.Ztunnel.PerMessageCPU.Value <= 0 {
			t.Errorf("profile provenance %q, ztunnel per-message CPU %v: want calibrated values", p.Provenance, p.Ztunnel.PerMessageCPU.Value)
		}
	}
	if _, code := runCLI(t, "run", "modes-compare", "--profile", prof, "--out", t.TempDir(), "--duration", "2s"); code != 0 {
		t.Fatalf("ambientsim run --profile %s: exit %d", prof, code)
	}
	var rep struct {
		NotEmulated []string         `json:"not_emulated"`
		Rows        []crosscheck.Row `json:"rows"`
		Summary     crosscheck.Summary
	}
	data, err := os.ReadFile(filepath.Join(out, "validation.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("validation.json: %v", err)
	}
	if rep.NotEmulated == nil {
		t.Error("validation.json: not_emulated missing (want a list, possibly empty)")
	}
	var affected *crosscheck.Row
	for i, r := range rep.Rows {
		if r.Scenario == "" || r.Metric == "" || r.Target == "" {
			t.Errorf("row %d incomplete: %+v", i, r)
		}
		if r.Metric == "affected_pods" {
			affected = &rep.Rows[i]
		}
	}
	if affected == nil || affected.Pass == nil || !*affected.Pass || strings.Join(affected.MeasuredSet, ",") != "client-b" {
		t.Errorf("affected_pods row %+v: want the measured and predicted set {client-b}", affected)
	}
	if _, err := os.Stat(filepath.Join(out, "validation.html")); err != nil {
		t.Error(err)
	}

	// --strict: exit 1 exactly when a row misses its target.
	out2 := t.TempDir()
	_, code := runCLI(t, "validate", "--profile", prof, "--strict", "--out", out2)
	data, err = os.ReadFile(filepath.Join(out2, "validation.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep.Summary = crosscheck.Summary{}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	want := 0
	if rep.Summary.Missed > 0 {
		want = 1
	}
	if code != want {
		t.Errorf("validate --strict with %d misses: exit %d, want %d", rep.Summary.Missed, code, want)
	}
}

func TestCalibrateRefitMissingRecord(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.yaml")
	root := newRootCmd()
	root.SetArgs([]string{"calibrate", "--refit", filepath.Join(t.TempDir(), "none.calibration.json"), "--out", out})
	root.SetOut(new(strings.Builder))
	err := root.Execute()
	if exitCode(err) != 1 || err == nil || !strings.Contains(err.Error(), "none.calibration.json") {
		t.Errorf("error %v (exit %d): want exit 1 naming the record", err, exitCode(err))
	}
	if _, statErr := os.Stat(out); statErr == nil {
		t.Error("a failed refit left a profile behind")
	}
}
