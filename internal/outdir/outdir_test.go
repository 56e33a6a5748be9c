package outdir

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// listing is "name=content" for every entry of dir (hidden ones too).
func listing(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	var out []string
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if e.Name() == Marker {
			data = []byte("M")
		}
		out = append(out, e.Name()+"="+string(data))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestBeginCommit(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "a", "out")
	d, err := Begin(out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(d.Path(), "summary.json"), "1")
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("output visible before Commit: %v", err)
	}
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := listing(t, out); got != ".ambientsim-output=M summary.json=1" {
		t.Fatalf("first run: %s", got)
	}
	// A second run replaces it as a whole: a file the first run wrote and
	// the second does not is gone, not left beside the new ones.
	write(t, filepath.Join(out, "report.html"), "old report")
	d, err = Begin(out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(d.Path(), "summary.json"), "2")
	write(t, filepath.Join(d.Path(), "metrics.prom"), "2")
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := listing(t, out); got != ".ambientsim-output=M metrics.prom=2 summary.json=2" {
		t.Fatalf("second run: %s", got)
	}
	// Nothing is left beside it but the (released) lock's absence.
	if got := listing(t, filepath.Dir(out)); got != "out=" {
		t.Fatalf("beside the output: %s", got)
	}
}

// TestAbortKeepsPrevious: a failed run (a full disk, Ctrl-C) leaves the
// previous outputs exactly as they were and no staging directory.
func TestAbortKeepsPrevious(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	write(t, filepath.Join(out, "summary.json"), "old")
	write(t, filepath.Join(out, "metrics.om"), "old")
	before := listing(t, out)
	d, err := Begin(out, Options{Known: []string{"summary.json", "metrics.om"}})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(d.Path(), "summary.json"), "new")
	d.Abort()
	d.Abort() // idempotent
	if got := listing(t, out); got != before {
		t.Fatalf("after Abort: %s, want %s", got, before)
	}
	if got := listing(t, filepath.Dir(out)); got != "out=" {
		t.Fatalf("beside the output: %s", got)
	}
}

// TestCommitFailureKeepsPrevious injects a failing rename (the one step
// of Commit that can fail after the files are written) on both commit
// paths: atomic exchange unavailable, then the fallback's second rename.
func TestCommitFailureKeepsPrevious(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	d, err := Begin(out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(d.Path(), "summary.json"), "old")
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	before := listing(t, out)
	for _, failOn := range []int{1, 2} {
		d, err := Begin(out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(d.Path(), "summary.json"), "new")
		n := 0
		rename = func(a, b string) error {
			n++
			if n == failOn {
				return &os.LinkError{Op: "rename", Old: a, New: b, Err: errors.New("injected failure")}
			}
			return os.Rename(a, b)
		}
		err = d.commitWith(func(a, b string) error { return errNoExchange })
		rename = os.Rename
		if err == nil || !strings.Contains(err.Error(), "injected failure") {
			t.Fatalf("rename %d failing: Commit returned %v", failOn, err)
		}
		if got := listing(t, out); got != before {
			t.Fatalf("rename %d failing: output now %s, want %s", failOn, got, before)
		}
	}
}

func TestLock(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	d, err := Begin(out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Begin(out, Options{})
	if err == nil || !strings.Contains(err.Error(), "is writing it") || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("second writer: %v", err)
	}
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	d2, err := Begin(out, Options{})
	if err != nil {
		t.Fatalf("after the first committed: %v", err)
	}
	d2.Abort()
}

func TestBeginRefuses(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	write(t, file, "x")
	foreign := filepath.Join(root, "home")
	write(t, filepath.Join(foreign, "thesis.tex"), "years of work")
	write(t, filepath.Join(foreign, "summary.json"), "x")
	wd, _ := os.Getwd()
	tests := []struct{ dir, want string }{
		{file, "is a file, not a directory"},
		{filepath.Join(file, "sub"), "is a file, not a directory"},
		{foreign, "holds files that are not this command's outputs (thesis.tex)"},
		{wd, "holds the working directory"},
		{filepath.Dir(wd), "holds the working directory"},
		{"/", "the root cannot be an output directory"},
		{"", "no output directory"},
	}
	for _, tt := range tests {
		_, err := Begin(tt.dir, Options{Known: []string{"summary.json"}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Begin(%q): %v, want %q", tt.dir, err, tt.want)
		}
	}
	if got := listing(t, foreign); got != "summary.json=x thesis.tex=years of work" {
		t.Errorf("a refused directory changed: %s", got)
	}
}

// TestStaleStagingRemoved: a run killed before Commit leaves its staging
// directory; the next Begin (holding the lock) removes it.
func TestStaleStagingRemoved(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	d, err := Begin(out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(d.Path(), "summary.json"), "half")
	d.lock.Unlock() // as if the process died: the kernel drops the flock
	d2, err := Begin(out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Abort()
	if _, err := os.Stat(d.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale staging directory still there: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "report.html")
	if err := WriteFile(p, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	rename = func(a, b string) error { return errors.New("injected failure") }
	err := WriteFile(p, []byte("b"), 0o644)
	rename = os.Rename
	if err == nil {
		t.Fatal("injected failure not reported")
	}
	if got := listing(t, filepath.Dir(p)); got != "report.html=a" {
		t.Fatalf("after a failed write: %s", got)
	}
}

func TestCheckWritable(t *testing.T) {
	root := t.TempDir()
	if err := CheckWritable(filepath.Join(root, "a", "b")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "f"), "x")
	if err := CheckWritable(filepath.Join(root, "f")); err == nil {
		t.Fatal("a file passed")
	}
}
