package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyStudy is a scenario small enough that a sweep of it runs in about a
// second under -race.
const tinyStudy = `name: tiny
modes: [sidecar, ambient]
duration: 1s
warmup: 200ms
seed: 3
topology:
  spec:
    nodes: {count: 2}
    namespaces:
      - name: app
        workloads: [{name: client}]
        services: [{name: web, replicas: 2}]
    calls:
      - {from: app/client, to: app/web, rate: 50}
sweep:
  replications: 2
  parameters:
    load: [1, 2]
    workerThreads: [1, 2]
  cost: {pods: [100, 1000]}
`

func writeStudy(t *testing.T, doc string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSweepShardsMergeToTheLocalResult is the CLI-level equivalence: one
// process, two workers, and three shards (one of them addressed the way a
// Kubernetes Indexed Job does) merged all give the same sweep.json.
func TestSweepShardsMergeToTheLocalResult(t *testing.T) {
	study := writeStudy(t, tinyStudy)
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one"), filepath.Join(dir, "two")
	if out, code := runCLI(t, "sweep", study, "--out", one, "--workers", "1"); code != 0 {
		t.Fatalf("sweep exit %d: %s", code, out)
	}
	out, code := runCLI(t, "sweep", study, "--out", two, "--workers", "2")
	if code != 0 {
		t.Fatalf("sweep exit %d: %s", code, out)
	}
	if !strings.Contains(out, "tiny: 4 points × 2 replications") || !strings.Contains(out, "sidecar") {
		t.Errorf("sweep output:\n%s", out)
	}
	want := readFile(t, filepath.Join(one, "sweep.json"))
	if !bytes.Equal(readFile(t, filepath.Join(two, "sweep.json")), want) {
		t.Error("--workers 2 gives a different sweep.json than --workers 1")
	}
	if csv := readFile(t, filepath.Join(one, "sweep.csv")); !bytes.HasPrefix(csv, []byte("point,load,workerThreads,mode,")) {
		t.Errorf("sweep.csv starts %q", csv[:min(len(csv), 60)])
	}

	shards := filepath.Join(dir, "shards")
	for _, s := range []string{"0/3", "2/3"} {
		if out, code := runCLI(t, "sweep", study, "--out", shards, "--shard", s); code != 0 {
			t.Fatalf("shard %s exit %d: %s", s, code, out)
		}
	}
	// A shard run with another --duration is another sweep: merge refuses.
	mixed := filepath.Join(dir, "mixed")
	if _, code := runCLI(t, "sweep", study, "--out", mixed, "--shard", "0/2"); code != 0 {
		t.Fatal("shard 0/2 failed")
	}
	if _, code := runCLI(t, "sweep", study, "--out", mixed, "--shard", "1/2", "--duration", "500ms"); code != 0 {
		t.Fatal("shard 1/2 failed")
	}
	if out, code := runCLI(t, "sweep", "merge", mixed, "--out", filepath.Join(dir, "m2")); code != 1 {
		t.Errorf("merging shards of different durations: exit %d, output %s", code, out)
	}

	t.Setenv("JOB_COMPLETION_INDEX", "1")
	t.Setenv("AMBIENTSIM_SHARD_COUNT", "3")
	if out, code := runCLI(t, "sweep", study, "--out", filepath.Join(dir, "pod1")); code != 0 || !strings.Contains(out, "shard 1 of 3") {
		t.Fatalf("indexed-job shard exit %d: %s", code, out)
	}
	merged := filepath.Join(dir, "merged")
	if out, code := runCLI(t, "sweep", "merge", shards, filepath.Join(dir, "pod1"), "--out", merged); code != 0 {
		t.Fatalf("merge exit %d: %s", code, out)
	}
	if !bytes.Equal(readFile(t, filepath.Join(merged, "sweep.json")), want) {
		t.Error("merged shards differ from the single-process sweep.json")
	}
	if !bytes.Equal(readFile(t, filepath.Join(merged, "sweep.csv")), readFile(t, filepath.Join(one, "sweep.csv"))) {
		t.Error("merged sweep.csv differs")
	}

}

func TestSweepPlanWritesIndexedJob(t *testing.T) {
	study := writeStudy(t, tinyStudy)
	out, code := runCLI(t, "sweep", "plan", study, "--shards", "3", "--image", "example/ambientsim:dev", "--pvc", "results")
	if code != 0 {
		t.Fatalf("plan exit %d: %s", code, out)
	}
	for _, want := range []string{"kind: ConfigMap", "kind: Job", "completionMode: Indexed", "completions: 3", "claimName: results", "name: ambientsim-sweep-tiny", "AMBIENTSIM_SHARD_COUNT", "sweep:\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}
	file := filepath.Join(t.TempDir(), "job.yaml")
	if out, code := runCLI(t, "sweep", "plan", study, "--shards", "2", "--image", "x", "--pvc", "r", "--out", file); code != 0 || !strings.Contains(out, "wrote "+file) {
		t.Fatalf("plan --out exit %d: %s", code, out)
	}
}

func TestSweepErrors(t *testing.T) {
	study := writeStudy(t, tinyStudy)
	noSweep := writeStudy(t, strings.Split(tinyStudy, "sweep:")[0])
	typo := writeStudy(t, strings.Replace(tinyStudy, "replications: 2", "replicatons: 2", 1))
	out := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		msg  string
	}{
		{"no --out", nil, []string{"sweep", study}, 2, "--out"},
		{"bad shard", nil, []string{"sweep", study, "--out", out, "--shard", "3/3"}, 2, "0 <= I < N"},
		{"bad shard from env", map[string]string{"AMBIENTSIM_SHARD": "5/3"}, []string{"sweep", study, "--out", out}, 2, "0 <= I < N"},
		{"count without index", map[string]string{"AMBIENTSIM_SHARD_COUNT": "4"}, []string{"sweep", study, "--out", out}, 2, "JOB_COMPLETION_INDEX"},
		{"shard disagrees with count", map[string]string{"AMBIENTSIM_SHARD_COUNT": "4"}, []string{"sweep", study, "--out", out, "--shard", "1/2"}, 2, "disagrees"},
		{"one replication", nil, []string{"sweep", study, "--out", out, "--replications", "1"}, 2, "between 2"},
		{"no sweep section", nil, []string{"sweep", noSweep, "--out", out}, 1, "no sweep: section"},
		{"typo in sweep", nil, []string{"sweep", typo, "--out", out}, 1, `tiny.yaml:16: sweep.replicatons: unknown field "replicatons" (did you mean "replications"?)`},
		{"plan without shards", nil, []string{"sweep", "plan", study, "--image", "x", "--pvc", "r"}, 2, "--shards"},
		{"plan without image", nil, []string{"sweep", "plan", study, "--shards", "2", "--pvc", "r"}, 2, "--image"},
		{"plan with too many shards", nil, []string{"sweep", "plan", study, "--shards", "99", "--image", "x", "--pvc", "r"}, 2, "work units"},
		{"merge nothing", nil, []string{"sweep", "merge", t.TempDir(), "--out", out}, 1, "no shard-"},
		{"merge without dirs", nil, []string{"sweep", "merge", "--out", out}, 2, "arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			root := newRootCmd()
			var buf bytes.Buffer
			root.SetOut(&buf)
			root.SetErr(&buf)
			root.SetArgs(tt.args)
			err := root.Execute()
			if code := exitCode(err); code != tt.code {
				t.Errorf("exit %d, want %d (error %v)", code, tt.code, err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want one containing %q", err, tt.msg)
			}
		})
	}
}
