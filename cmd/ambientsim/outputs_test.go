package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/outdir"
)

const smallScenario = `name: small
modes: [ambient]
duration: 2s
warmup: 0s
topology:
  spec:
    nodes: {count: 2}
    namespaces:
      - name: app
        services: [{name: web, replicas: 2}]
        workloads: [{name: client}]
    calls:
      - {from: app/client, to: app/web, rate: 100}
`

func writeScenario(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOutputsBeforeSimulating: --out is checked and locked before the
// simulation: a file, or a directory another run holds, fails at once
// (exit 1) and changes nothing.
func TestOutputsBeforeSimulating(t *testing.T) {
	dir := t.TempDir()
	sc := writeScenario(t, dir, "s.yaml", smallScenario)
	file := writeScenario(t, dir, "file", "x")
	if out, code := runCLI(t, "run", sc, "--out", file); code != 1 || !strings.Contains(out, "is a file, not a directory") || strings.Contains(out, "rps") {
		t.Errorf("--out a file: exit %d, %q", code, out)
	}
	busy := filepath.Join(dir, "busy")
	lock, err := outdir.TryLock(busy)
	if err != nil {
		t.Fatal(err)
	}
	out, code := runCLI(t, "run", sc, "--out", busy)
	lock.Unlock()
	if code != 1 || !strings.Contains(out, "is writing it") || strings.Contains(out, "rps") {
		t.Errorf("--out locked by another run: exit %d, %q", code, out)
	}
	if _, err := os.Stat(busy); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused run created its output directory: %v", err)
	}
	foreign := filepath.Join(dir, "home")
	os.MkdirAll(foreign, 0o755)
	writeScenario(t, foreign, "notes.txt", "")
	if out, code := runCLI(t, "run", sc, "--out", foreign); code != 1 || !strings.Contains(out, "not this command's outputs (notes.txt)") {
		t.Errorf("--out with foreign files: exit %d, %q", code, out)
	}
}

// TestOutputsReplacedWhole: a second run replaces the first's directory
// as a whole (a report written by the first is not left beside the
// second's results), and a cancelled run leaves it untouched.
func TestOutputsReplacedWhole(t *testing.T) {
	dir := t.TempDir()
	sc := writeScenario(t, dir, "s.yaml", smallScenario)
	out := filepath.Join(dir, "out")
	if o, code := runCLI(t, "run", sc, "--out", out, "--report", filepath.Join(out, "report.html")); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, o)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Fatalf("report inside --out: %v", err)
	}
	first, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root := newRootCmd()
	root.SetArgs([]string{"run", sc, "--out", out, "--seed", "9"})
	root.SetOut(new(strings.Builder))
	if err := execute(ctx, root); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	if now, _ := os.ReadFile(filepath.Join(out, "summary.json")); string(now) != string(first) {
		t.Fatal("a cancelled run changed the previous summary.json")
	}
	if o, code := runCLI(t, "run", sc, "--out", out, "--seed", "9"); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, o)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the first run's report survived beside the second run's results: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".out.") {
			t.Errorf("left beside the output: %s", e.Name())
		}
	}
}

// TestOutputsFullDisk runs the CLI against an output directory on a
// 600 KiB tmpfs (in a private mount namespace: needs root and unshare):
// the second run's metrics.om does not fit, and the first run's files
// must be left exactly as they were, with no staging directory beside.
func TestOutputsFullDisk(t *testing.T) {
	if mnt := os.Getenv("AMBIENTSIM_TEST_TMPFS"); mnt != "" {
		fullDiskChild(t, mnt)
		return
	}
	unshare, err := exec.LookPath("unshare")
	if os.Geteuid() != 0 || err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the full-disk test needs root and unshare in CI")
		}
		t.Skip("needs root and unshare(1) to mount a small tmpfs")
	}
	mnt := t.TempDir()
	script := `mount -t tmpfs -o size=600k tmpfs "$AMBIENTSIM_TEST_TMPFS" && exec "$0" -test.run '^TestOutputsFullDisk$' -test.v`
	cmd := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-c", script, os.Args[0])
	cmd.Env = append(os.Environ(), "AMBIENTSIM_TEST_TMPFS="+mnt)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestOutputsFullDisk") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func fullDiskChild(t *testing.T, mnt string) {
	dir := t.TempDir() // scenarios live off the small file system
	small := writeScenario(t, dir, "s.yaml", smallScenario)
	big := writeScenario(t, dir, "big.yaml", strings.Replace(smallScenario, "duration: 2s", "duration: 3600s", 1))
	out := filepath.Join(mnt, "out")
	if o, code := runCLI(t, "run", small, "--out", out); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, o)
	}
	before := map[string]string{}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(out, e.Name()))
		before[e.Name()] = string(b)
	}
	o, code := runCLI(t, "run", big, "--out", out)
	if code != 1 || !strings.Contains(o, "no space left on device") || !strings.Contains(o, "left as it was") {
		t.Fatalf("run onto a full disk: exit %d: %s", code, o)
	}
	entries, _ = os.ReadDir(out)
	if len(entries) != len(before) {
		t.Errorf("output directory now has %d entries, had %d", len(entries), len(before))
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(out, e.Name()))
		if string(b) != before[e.Name()] {
			t.Errorf("%s changed on a failed run", e.Name())
		}
	}
	if all, _ := os.ReadDir(mnt); len(all) != 1 {
		var names []string
		for _, e := range all {
			names = append(names, e.Name())
		}
		t.Errorf("beside the output: %v", names)
	}
}

// TestSweepOutputsBeforeSimulating: sweep, sweep merge and validate
// check --out before any work, as run does.
func TestSweepOutputsBeforeSimulating(t *testing.T) {
	dir := t.TempDir()
	file := writeScenario(t, dir, "file", "x")
	for _, args := range [][]string{
		{"sweep", "capacity", "--out", file},
		{"sweep", "capacity", "--out", filepath.Join(file, "sub"), "--shard", "0/2"},
		{"sweep", "merge", dir, "--out", file},
		{"validate", "--replay", file, "--profile", "istio-1.24-published", "--out", file},
	} {
		out, code := runCLI(t, args...)
		if code != 1 || !strings.Contains(out, "not a directory") {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}
