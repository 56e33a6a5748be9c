package yamlcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// laughs is a "billion laughs" document: each level lists the previous
// one ten times, so levels+1 anchors stand for 10^levels scalars.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	return b.String()
}

func TestCheckAliases(t *testing.T) {
	tests := []struct {
		name, src, want string // want "" = no error
	}{
		{"no aliases", "a: [1, 2, 3]\nb: {c: d}\n", ""},
		{"a few aliases", "base: &b {port: 80, protocol: http}\nx: *b\ny: *b\n", ""},
		{"merge key", "base: &b {port: 80}\nx: {<<: *b, name: x}\n", ""},
		{"three levels of laughs fit", laughs(3), ""},
		{"nine levels of laughs", laughs(9), "f.yaml:5: YAML aliases expand this document by more than 100000 nodes (at alias *l3)"},
		{"self-containing sequence", "a: &x [1, *x]\n", "f.yaml:1: alias *x is an alias cycle"},
		{"self-containing mapping", "a: &x\n  b:\n    c: *x\n", "f.yaml:3: alias *x is an alias cycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Document("f.yaml", []byte(tt.src))
			got := fmt.Sprint(err)
			if err == nil {
				got = ""
			}
			if tt.want == "" && err != nil || tt.want != "" && !strings.HasPrefix(got, tt.want) {
				t.Fatalf("got %q, want prefix %q", got, tt.want)
			}
			var fe *FieldError
			if tt.want != "" && !errors.As(err, &fe) {
				t.Fatalf("want a *FieldError, got %T", err)
			}
		})
	}
}

// TestCheckAliasesIsLinear runs the check on a document whose expansion is
// 10^30 nodes: it must answer from the document as written.
func TestCheckAliasesIsLinear(t *testing.T) {
	src := laughs(30)
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	if err := CheckAliases("f.yaml", &doc); err == nil {
		t.Fatal("a 10^30-node expansion passed")
	}
}

func TestDocuments(t *testing.T) {
	var names []string
	err := Documents("m.yaml", []byte("a: 1\n---\nb: 2\n---\n"+laughs(9)), func(doc *yaml.Node) error {
		names = append(names, doc.Content[0].Content[0].Value)
		return nil
	})
	if len(names) != 2 || err == nil || !strings.HasPrefix(err.Error(), "m.yaml:") {
		t.Fatalf("documents %v, err %v; want a, b then an alias error", names, err)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(small, 5); err != nil || string(data) != "a: 1\n" {
		t.Fatalf("at the limit: %q, %v", data, err)
	}
	_, err := ReadFile(small, 4)
	var le *LimitError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "small.yaml: larger than the 4 bytes input limit") {
		t.Fatalf("over the limit: %v", err)
	}
	// A device without end: read up to the limit, then stop.
	if _, err := os.Stat("/dev/zero"); err == nil {
		_, err := ReadFile("/dev/zero", 1<<20)
		if !errors.As(err, &le) || !strings.Contains(err.Error(), "/dev/zero: larger than the 1 MiB input limit") {
			t.Fatalf("/dev/zero: %v", err)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestBudget(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := 0; i < 3; i++ {
		f := filepath.Join(dir, fmt.Sprintf("f%d.yaml", i))
		if err := os.WriteFile(f, []byte(strings.Repeat("x", 400)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	b := NewBudget(1000, 500)
	for i, f := range files {
		_, err := b.ReadFile(f)
		if i < 2 && err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
		if i == 2 && (err == nil || !strings.Contains(err.Error(), "total input limit")) {
			t.Fatalf("third file: want the total limit, got %v", err)
		}
	}
	if _, err := NewBudget(0, 100).ReadFile(files[0]); err == nil || !strings.Contains(err.Error(), "input limit for one file") {
		t.Fatalf("per-file limit: %v", err)
	}
}
