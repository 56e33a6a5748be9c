package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

func TestRunCommand(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, out := range []string{a, b} {
		if _, code := runCLI(t, "run", "modes-compare", "--out", out, "--duration", "2s", "--seed", "3"); code != 0 {
			t.Fatalf("exit %d", code)
		}
	}
	sa, err := os.ReadFile(filepath.Join(a, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := os.ReadFile(filepath.Join(b, "summary.json"))
	if !bytes.Equal(sa, sb) {
		t.Error("same scenario and seed gave different summary.json in two output directories")
	}
	if !strings.Contains(string(sa), `"command": "ambientsim run modes-compare --out \u003cdir\u003e --duration 2s --seed 3"`) {
		t.Errorf("summary does not record the regenerating command")
	}
	for _, f := range []string{"metrics.prom", "metrics.om"} {
		if _, err := os.Stat(filepath.Join(a, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestRunCostLineMatchesSummary: the totals the CLI prints are the ones in
// summary.json, under the same names (data plane, control plane, mesh
// total), and the mesh total is their sum.
func TestRunCostLineMatchesSummary(t *testing.T) {
	out := t.TempDir()
	text, code := runCLI(t, "run", "modes-compare", "--out", out, "--duration", "2s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, text)
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s results.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Modes {
		tot := m.Totals
		want := fmt.Sprintf("data plane %.3f cores %.3f GiB · control plane %.3f cores %.3f GiB · mesh total %.3f cores %.3f GiB",
			tot.DataPlane.CPUCores, tot.DataPlane.MemoryGiB, tot.ControlPlane.CPUCores, tot.ControlPlane.MemoryGiB, tot.CPUCores, tot.MemoryGiB)
		line := ""
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, m.Mode+" ") {
				line = l
			}
		}
		if !strings.Contains(line, want) {
			t.Errorf("mode %s: CLI line %q does not state the summary's totals %q", m.Mode, line, want)
		}
		if math.Abs(tot.CPUCores-(tot.DataPlane.CPUCores+tot.ControlPlane.CPUCores)) > 1e-6 ||
			math.Abs(tot.MemoryGiB-(tot.DataPlane.MemoryGiB+tot.ControlPlane.MemoryGiB)) > 1e-6 {
			t.Errorf("mode %s: mesh total %+v is not data plane + control plane", m.Mode, tot)
		}
		if m.Mode != "out-of-mesh" && (tot.ControlPlane.CPUCores <= 0 || tot.ControlPlane.MemoryGiB <= 0) {
			t.Errorf("mode %s: control plane %+v; istiod serves proxies, so it uses CPU and memory", m.Mode, tot.ControlPlane)
		}
	}
}

// TestRunCPUProfile: --cpuprofile writes a pprof profile; an unwritable
// path is an error before anything runs.
func TestRunCPUProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.prof")
	if _, code := runCLI(t, "run", "modes-compare", "--out", filepath.Join(dir, "o"), "--duration", "1s", "--cpuprofile", prof); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if fi, err := os.Stat(prof); err != nil || fi.Size() == 0 {
		t.Errorf("cpu profile: %v", err)
	}
	if _, code := runCLI(t, "run", "modes-compare", "--out", filepath.Join(dir, "p"), "--cpuprofile", filepath.Join(dir, "no", "such", "dir", "x.prof")); code != 1 {
		t.Errorf("unwritable profile: exit %d, want 1", code)
	}
}

func TestRunUsageErrors(t *testing.T) {
	if _, code := runCLI(t, "run", "modes-compare"); code != 2 {
		t.Errorf("missing --out: exit %d, want 2", code)
	}
	if _, code := runCLI(t, "run", "modes-compare", "--out", t.TempDir(), "--duration", "soon"); code != 2 {
		t.Errorf("bad --duration: exit %d, want 2", code)
	}
	if _, code := runCLI(t, "run", "no-such-scenario", "--out", t.TempDir()); code != 2 {
		t.Errorf("unknown scenario: exit %d, want 2", code)
	}
	if out, code := runCLI(t, "run", "modes-compar", "--out", t.TempDir()); code != 2 || !strings.Contains(out, `did you mean "modes-compare"?`) {
		t.Errorf("misspelled scenario: exit %d, output %q; want 2 and a suggestion", code, out)
	}
	if out, code := runCLI(t, "sweep", "capacit", "--out", t.TempDir()); code != 2 || !strings.Contains(out, `did you mean "capacity"?`) {
		t.Errorf("misspelled study: exit %d, output %q; want 2 and a suggestion", code, out)
	}
	if out, code := runCLI(t, "scenarios", "show", "poolin"); code != 2 || !strings.Contains(out, `did you mean "pooling"?`) {
		t.Errorf("scenarios show poolin: exit %d, output %q", code, out)
	}
}

func TestSchemaAndScenariosCommands(t *testing.T) {
	if out, code := runCLI(t, "schema"); code != 0 || !strings.Contains(out, `"$schema"`) {
		t.Errorf("schema: exit %d, output %.80q", code, out)
	}
	if out, code := runCLI(t, "scenarios", "list"); code != 0 || !strings.Contains(out, "modes-compare") || !strings.Contains(out, "pooling") {
		t.Errorf("scenarios list: exit %d, output %q", code, out)
	}
	if _, code := runCLI(t, "scenarios", "show", "pooling"); code != 0 {
		t.Errorf("scenarios show: exit %d", code)
	}
	if _, code := runCLI(t, "scenarios", "show", "nope"); code != 2 {
		t.Errorf("scenarios show nope: exit %d, want 2", code)
	}
}
