package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
