package topology

import (
	"bytes"
	"strings"
	"testing"
)

// TestMarkdownEscapesEveryCell feeds hostile text into every field the
// Markdown report prints and checks that no cell can end early (an
// unescaped |) and that no raw HTML passes through.
func TestMarkdownEscapesEveryCell(t *testing.T) {
	const evil = `a|b<script>alert(1)</script>&amp;\|` + "\nnext"
	wl := &Workload{Namespace: evil, Name: evil}
	svc := &Service{Namespace: evil, Name: evil}
	r := PathReport{
		Pairs: []PathPair{{Source: wl, Destination: svc, Port: 80, Path: Path{Category: Category(evil),
			Hops: []Hop{{Kind: HopZtunnel, Instance: evil}}, Denied: evil, DeniedBy: evil}}},
		Findings: []Finding{{Code: CodeWaypointBypass, Severity: evil, Policy: evil, Source: evil, Destination: evil,
			Message: evil, Proof: evil, Fix: evil}},
		Status: []ObjectStatus{{Kind: evil, Object: evil, Parent: evil, Note: evil}},
	}
	var b bytes.Buffer
	if err := r.WriteMarkdown(&b, []Placement{{Kind: evil, Policy: evil, By: []string{evil}, Note: evil}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "<>") {
		t.Errorf("raw < or > in the Markdown output:\n%s", out)
	}
	if strings.Contains(out, "&amp;\\") && !strings.Contains(out, "&amp;amp;") {
		t.Errorf("& not escaped:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		if got, want := unescapedPipes(line), unescapedPipes(headerFor(out, line)); got != want {
			t.Errorf("row has %d cell separators, its header %d:\n%s", got, want, line)
		}
	}
}

// unescapedPipes counts the | that end a cell (not preceded by an odd
// number of backslashes).
func unescapedPipes(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		if line[i] != '|' {
			continue
		}
		bs := 0
		for j := i - 1; j >= 0 && line[j] == '\\'; j-- {
			bs++
		}
		if bs%2 == 0 {
			n++
		}
	}
	return n
}

// headerFor returns the header line of the table that holds row.
func headerFor(doc, row string) string {
	lines := strings.Split(doc, "\n")
	header := ""
	for i, l := range lines {
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "|---") {
			header = l
		}
		if l == row {
			return header
		}
	}
	return ""
}
