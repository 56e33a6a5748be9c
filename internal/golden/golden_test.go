package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed []string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Errorf(format string, a ...any) { r.failed = append(r.failed, format) }
func (r *recorder) Fatalf(format string, a ...any) { r.failed = append(r.failed, format) }
func (r *recorder) Fatal(a ...any)                 { r.failed = append(r.failed, "fatal") }

func TestCheck(t *testing.T) {
	if Update() {
		t.Skip("-update rewrites instead of comparing")
	}
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	Check(r, path, []byte("a\nb\n"))
	if len(r.failed) != 0 {
		t.Errorf("equal content failed: %v", r.failed)
	}
	Check(r, path, []byte("a\nc\n"))
	if len(r.failed) != 1 {
		t.Errorf("different content: %d failures, want 1", len(r.failed))
	}
	Check(r, filepath.Join(t.TempDir(), "missing"), nil)
	if len(r.failed) != 2 {
		t.Errorf("missing golden file: %d failures, want 2", len(r.failed))
	}
}

func TestFirstDiff(t *testing.T) {
	for _, tt := range []struct{ want, got, has string }{
		{"a\nb\n", "a\nc\n", "line 2:\n  golden: b\n  got:    c"},
		{"a\n", "a\nextra\n", "line 2:\n  golden: \n  got:    extra"},
		{"same", "same", "(equal)"},
	} {
		if d := FirstDiff(tt.want, tt.got); !strings.Contains(d, tt.has) {
			t.Errorf("FirstDiff(%q, %q) = %q, want %q", tt.want, tt.got, d, tt.has)
		}
	}
}
