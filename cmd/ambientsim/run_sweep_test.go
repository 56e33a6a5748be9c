package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunAcceptsSweepStudy: `ambientsim run` runs a sweep study file as a
// plain scenario (the sweep: section is validated, then ignored), and
// `ambientsim schema` describes the sweep section.
func TestRunAcceptsSweepStudy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "library", "capacity.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	study := filepath.Join(dir, "capacity.yaml")
	if err := os.WriteFile(study, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := runCLI(t, "run", study, "--out", filepath.Join(dir, "out"), "--duration", "1s"); code != 0 {
		t.Fatalf("run on a sweep study: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "summary.json")); err != nil {
		t.Error(err)
	}
	// A typo inside sweep: is still an error for run.
	bad := strings.Replace(string(data), "replications:", "replicatons:", 1)
	if err := os.WriteFile(study, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, code := runCLI(t, "run", study, "--out", filepath.Join(dir, "bad")); code != 1 {
		t.Errorf("misspelt sweep field: exit %d, want 1", code)
	}
	out, code := runCLI(t, "schema")
	if code != 0 {
		t.Fatalf("schema: exit %d", code)
	}
	var schema struct {
		Properties map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"properties"`
	}
	if err := json.Unmarshal([]byte(out), &schema); err != nil {
		t.Fatal(err)
	}
	sw := schema.Properties["sweep"].Properties
	for _, k := range []string{"replications", "parameters", "slo", "sizing", "cost", "warmup"} {
		if _, ok := sw[k]; !ok {
			t.Errorf("schema sweep has no %q", k)
		}
	}
}
