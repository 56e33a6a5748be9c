package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileSchema compiles a schema printed by `ambientsim schema NAME`.
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	out, code := runCLI(t, "schema", name)
	if code != 0 {
		t.Fatalf("schema %s: exit %d: %s", name, code, out)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatalf("schema %s is not JSON: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name+".schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(name + ".schema.json")
	if err != nil {
		t.Fatalf("schema %s does not compile: %v", name, err)
	}
	return s
}

func validateFile(t *testing.T, s *jsonschema.Schema, path string) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(readFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not validate against its schema: %v", path, err)
	}
}

// TestOutputSchemasValidateRealOutputs: the summary.json of built-in runs
// (failures and what-ifs included) and a sweep.json validate against the
// schemas `ambientsim schema summary|sweep` prints, and a broken file does
// not.
func TestOutputSchemasValidateRealOutputs(t *testing.T) {
	summary := compileSchema(t, "summary")
	dir := t.TempDir()
	for _, sc := range []string{"modes-compare", "node-vs-sidecar-blast-radius"} {
		out := filepath.Join(dir, sc)
		if got, code := runCLI(t, "run", sc, "--out", out, "--duration", "3s"); code != 0 {
			t.Fatalf("run %s: exit %d: %s", sc, code, got)
		}
		validateFile(t, summary, filepath.Join(out, "summary.json"))
	}
	var doc map[string]any
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "modes-compare", "summary.json")), &doc); err != nil {
		t.Fatal(err)
	}
	doc["seed"] = "one"
	delete(doc, "modes")
	if err := summary.Validate(doc); err == nil {
		t.Error("a summary with a string seed and no modes validates")
	}

	sweepSchema := compileSchema(t, "sweep")
	study := writeStudy(t, tinyStudy)
	out := filepath.Join(dir, "sweep")
	if got, code := runCLI(t, "sweep", study, "--out", out); code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, got)
	}
	validateFile(t, sweepSchema, filepath.Join(out, "sweep.json"))

	if _, code := runCLI(t, "schema", "nope"); code != 2 {
		t.Errorf("schema nope: exit %d, want 2", code)
	}
	if out, _ := runCLI(t, "schema", "summary"); !strings.Contains(out, `"description"`) {
		t.Error("the summary schema carries no descriptions from the Go doc comments")
	}
}
