package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// migrateInputs is the sidecar-mode Bookinfo of the topology goldens
// (topology/testdata/migrate/bookinfo-sidecar.*).
func migrateInputs() []string {
	u := filepath.Join(topoTestdata, "upstream")
	return []string{
		filepath.Join(u, "istio", "bookinfo.yaml"),
		filepath.Join(u, "istio", "networking-bookinfo-gateway.yaml"),
		filepath.Join(u, "istio", "destination-rule-all.yaml"),
		filepath.Join(u, "istio", "virtual-service-reviews-test-v2.yaml"),
		filepath.Join(u, "istio", "virtual-service-ratings-test-delay.yaml"),
		filepath.Join(u, "istio", "curl.yaml"),
		filepath.Join(u, "overlays", "sidecar"),
		filepath.Join(u, "overlays", "sidecar-policies"),
	}
}

func runMigrate(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(append([]string{"migrate"}, args...))
	err := root.Execute()
	if err != nil {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), exitCode(err)
}

// TestMigrateCLIPlan: the printed plan is the topology golden, in both
// formats.
func TestMigrateCLIPlan(t *testing.T) {
	for format, ext := range map[string]string{"table": "txt", "markdown": "md"} {
		out, stderr, code := runMigrate(t, append(migrateInputs(), "--format", format)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		want, err := os.ReadFile(filepath.Join(topoTestdata, "migrate", "bookinfo-sidecar.plan."+ext))
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("%s: the printed plan differs from topology/testdata/migrate/bookinfo-sidecar.plan.%s", format, ext)
		}
	}
}

// TestMigrateCLIOutThenPaths: --out writes the plan, the manifests and the
// after/ set, and `paths` on after/ finds no bypass and no HTTP rule at
// ztunnel (exit 0 with --fail-on).
func TestMigrateCLIOutThenPaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mig")
	out, stderr, code := runMigrate(t, append(migrateInputs(), "--out", dir)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "wrote "+dir) {
		t.Errorf("stdout %q does not say where it wrote", out)
	}
	for _, f := range []string{"plan.txt", "plan.md", "migration.yaml", "migration-lock.yaml", "rollback.yaml", "after/zz-migration.yaml", "restored/00-bookinfo.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	_, stderr, code = runPaths(t, filepath.Join(dir, "after"), "--fail-on", "WAYPOINT_BYPASS,L7_RULES_AT_ZTUNNEL,SERVICE_ALIAS_BYPASS,POLICY_UNENFORCED,JWT_WITHOUT_WAYPOINT,ROUTE_WITHOUT_WAYPOINT")
	if code != 0 {
		t.Errorf("paths on after/: exit %d: %s", code, stderr)
	}
	// A second run replaces the directory (it is ours).
	if _, stderr, code := runMigrate(t, append(migrateInputs(), "--out", dir)...); code != 0 {
		t.Errorf("second run: exit %d: %s", code, stderr)
	}
}

func TestMigrateCLIErrors(t *testing.T) {
	tmp := t.TempDir()
	bad := filepath.Join(tmp, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: notanumber}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	afile := filepath.Join(tmp, "file")
	if err := os.WriteFile(afile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := migrateInputs()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"bad --to", append(in, "--to", "mesh"), 2, `--to: unknown value "mesh"`},
		{"bad --format", append(in, "--format", "json"), 2, `--format: unknown value "json"`},
		{"no args", nil, 2, "requires at least 1 arg"},
		{"bad field", []string{bad, "--out", filepath.Join(tmp, "never")}, 1, "bad.yaml:5"},
		{"out is a file", append(in, "--out", afile), 1, afile},
		{"spec cannot be rewritten", []string{filepath.Join(topoTestdata, "spec", "example.yaml"), "--out", filepath.Join(tmp, "spec-out")}, 1, "compact topology spec"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runMigrate(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d stderr %q, want exit %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
	// Failed runs leave no output directory behind.
	for _, d := range []string{"never", "spec-out"} {
		if _, err := os.Stat(filepath.Join(tmp, d)); !os.IsNotExist(err) {
			t.Errorf("%s exists after a failed run (%v)", d, err)
		}
	}
}
