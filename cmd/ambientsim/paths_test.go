package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"
)

// The inputs and goldens live with the topology package's testdata.
const topoTestdata = "../../topology/testdata"

func runPaths(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(append([]string{"paths"}, args...))
	err := root.Execute()
	if err != nil {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), exitCode(err)
}

func TestPathsCLIGolden(t *testing.T) {
	before := filepath.Join(topoTestdata, "payments", "before.yaml")
	for _, format := range []string{"table", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			out, _, code := runPaths(t, before, "--format", format)
			if code != 0 {
				t.Fatalf("exit %d, want 0 (findings alone do not fail)", code)
			}
			ext := map[string]string{"table": "txt", "json": "json", "markdown": "md"}[format]
			golden.Check(t, filepath.Join(topoTestdata, "cli", "payments-before."+ext), []byte(out))
		})
	}
}

func TestPathsCLIExitCodes(t *testing.T) {
	before := filepath.Join(topoTestdata, "payments", "before.yaml")
	fix := filepath.Join(topoTestdata, "payments", "fix.yaml")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"fail-on found", []string{before, "--fail-on", "WAYPOINT_BYPASS"}, 3, "found WAYPOINT_BYPASS"},
		{"fail-on fixed", []string{before, fix, "--fail-on", "waypoint_bypass,PLAINTEXT_ACCEPTED"}, 0, ""},
		{"unknown code", []string{before, "--fail-on", "NOPE"}, 2, `unknown finding code "NOPE"`},
		{"bad format", []string{before, "--format", "yaml"}, 2, `--format: unknown value "yaml"`},
		{"no args", nil, 2, "requires at least 1 arg"},
		{"missing file", []string{"does-not-exist.yaml"}, 1, "does-not-exist.yaml"},
		{"spec detected", []string{filepath.Join(topoTestdata, "spec", "example.yaml"), "--format", "json"}, 0, ""},
		{"namespace default", []string{filepath.Join(topoTestdata, "loader", "no-namespace.yaml"), "-n", "team-a"}, 0, `spec.replica: unknown field "replica"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runPaths(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr: %s)", code, tc.code, stderr)
			}
			if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.stderr)
			}
		})
	}
}

func TestPathsCLINamespace(t *testing.T) {
	out, _, code := runPaths(t, filepath.Join(topoTestdata, "loader", "no-namespace.yaml"), "--namespace", "team-a", "--format", "json")
	if code != 0 || !strings.Contains(out, `"source": "team-a/api"`) {
		t.Errorf("objects without a namespace should land in team-a (exit %d):\n%s", code, out)
	}
}
