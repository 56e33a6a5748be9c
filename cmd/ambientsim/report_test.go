package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportCommand(t *testing.T) {
	fixture := filepath.Join("..", "..", "plots", "testdata", "fixture")
	dir := t.TempDir()
	out := filepath.Join(dir, "report.html")

	stdout, code := runCLI(t, "report", fixture, "-o", out, "--slo-p99-ms", "8", "--slo-error-ratio", "0.001")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stdout)
	}
	if !strings.Contains(stdout, "wrote "+out) {
		t.Errorf("output %q does not name the report", stdout)
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The report records the command that regenerates it, flags included.
	want := "ambientsim report " + fixture + " -o " + out + " --slo-p99-ms 8 --slo-error-ratio 0.001"
	if !strings.Contains(string(html), want) {
		t.Errorf("report does not record the regenerating command %q", want)
	}
	// The same results give the same bytes.
	out2 := filepath.Join(dir, "again.html")
	if _, code := runCLI(t, "report", fixture, "-o", out2, "--slo-p99-ms", "8", "--slo-error-ratio", "0.001"); code != 0 {
		t.Fatalf("second run exit %d", code)
	}
	again, _ := os.ReadFile(out2)
	if strings.ReplaceAll(string(again), out2, out) != string(html) {
		t.Error("two runs on the same results differ beyond the output path")
	}
}

func TestReportCommandErrors(t *testing.T) {
	fixture := filepath.Join("..", "..", "plots", "testdata", "fixture")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no results dir", []string{"report"}, 2},
		{"two dirs", []string{"report", "a", "b"}, 2},
		{"negative slo", []string{"report", fixture, "-o", os.DevNull, "--slo-p99-ms", "-1"}, 2},
		{"error ratio above 1", []string{"report", fixture, "-o", os.DevNull, "--slo-error-ratio", "2"}, 2},
		{"zero top-n", []string{"report", fixture, "--top-n", "0"}, 2},
		{"missing results", []string{"report", filepath.Join(t.TempDir(), "none"), "-o", filepath.Join(t.TempDir(), "r.html")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out, got := runCLI(t, tt.args...); got != tt.want {
				t.Errorf("exit %d, want %d (%s)", got, tt.want, out)
			}
		})
	}
}

func TestReportDefaultOutput(t *testing.T) {
	src := filepath.Join("..", "..", "plots", "testdata", "minimal", "summary.json")
	dir := t.TempDir()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := runCLI(t, "report", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Errorf("default output RESULTS_DIR/report.html not written: %v", err)
	}
}

// A sweep's output directory holds sweep.json alone; report still works.
func TestReportSweepOnly(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "plots", "testdata", "fixture", "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sweep.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := runCLI(t, "report", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(html), "Sweeps") {
		t.Errorf("sweep report missing or without a Sweeps section: %v", err)
	}
}
