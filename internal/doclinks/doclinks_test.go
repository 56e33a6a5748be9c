package doclinks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"The scenario library", "the-scenario-library"},
		{"Results: summary.json `failures` and `what_if`", "results-summaryjson-failures-and-what_if"},
		{"modes-compare — what does each dataplane mode give and cost?", "modes-compare--what-does-each-dataplane-mode-give-and-cost"},
		{"cost-at-scale-100 / -1000 / -10000 — sidecar vs ambient at scale", "cost-at-scale-100---1000---10000--sidecar-vs-ambient-at-scale"},
		{"`slo:` in a scenario", "slo-in-a-scenario"},
		{"See [the kernel](kernel.md) first", "see-the-kernel-first"},
		{"Wake-ups at 200 µs × 2", "wake-ups-at-200-µs--2"},
	} {
		if got := Slug(tc.heading); got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.heading, got, tc.want)
		}
	}
}

// TestCheckFindsBrokenLinks runs Check on a small tree whose broken links
// are known, so the repository test below cannot pass by finding nothing.
func TestCheckFindsBrokenLinks(t *testing.T) {
	problems, err := Check(filepath.Join("testdata", "tree"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		`README.md:6: docs/nope.md: no such file or directory docs/nope.md`,
		`README.md:6: docs/run.md#flags: no heading "flags" in docs/run.md`,
		`README.md:7: ../outside.md: points outside the repository`,
		`README.md:15: docs/gone.md: no such file or directory docs/gone.md`,
		`docs/run.md:9: ../img/a.png#x: fragment #x on img/a.png, which is not a checked Markdown file`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	return root
}

// TestRepositoryLinks checks every relative link in README.md, docs/ and
// the other Markdown files of the repository.
func TestRepositoryLinks(t *testing.T) {
	problems, err := Check(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s (fix the link, or the heading it points to)", p)
	}
}

// TestReadmeIsAFrontDoor keeps README.md short: reference material belongs
// in docs/ (issue 15: "README under 500 lines").
func TestReadmeIsAFrontDoor(t *testing.T) {
	const maxLines = 500
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n > maxLines {
		t.Errorf("README.md has %d lines, more than %d: move reference sections to docs/*.md and link them from docs/README.md", n, maxLines)
	}
}
