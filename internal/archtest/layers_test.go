package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/ambientsim/ambientsim"

// rule forbids packages matching from to import packages matching to
// (directly or through other packages of ours).
type rule struct {
	from   string   // package path relative to the module; "x/..." matches x and below
	forbid []string // same syntax
	allow  []string // exceptions to forbid
	why    string
}

var rules = []rule{
	{from: "sim/...", forbid: []string{"..."}, allow: []string{"sim/..."}, why: "sim is the kernel: it imports nothing of ours"},
	{from: "topology/...", forbid: []string{"sim/...", "models/...", "scenarios/...", "plots/...", "cmd/...", "validation/..."}, why: "topology is data and pure functions: no simulation, no scenarios"},
	{from: "models/...", forbid: []string{"scenarios/...", "plots/...", "cmd/...", "validation/..."}, why: "models return their own types; scenarios maps them into results"},
	{from: "scenarios/results/...", forbid: []string{"..."}, allow: []string{"scenarios/results/..."}, why: "the output contract is a leaf"},
	{from: "scenarios/sweep/...", forbid: []string{"scenarios", "models/...", "topology/...", "plots/...", "cmd/...", "validation/..."}, why: "the study engine knows no scenario and no mesh (it may use sim's statistics)"},
	{from: "scenarios", forbid: []string{"plots/...", "cmd/...", "validation/..."}, why: "scenarios sits below cmd, plots and validation"},
	{from: "plots/...", forbid: []string{"sim/...", "models/...", "topology/...", "scenarios", "scenarios/sweep/...", "cmd/...", "validation/..."}, why: "plots reads results only; it never runs a simulation"},
	{from: "validation/...", forbid: []string{"cmd/...", "plots/..."}, why: "validation sits below cmd"},
	{from: "internal/...", forbid: []string{"..."}, allow: []string{"internal/..."}, why: "internal helpers import nothing above them"},
	{from: "...", forbid: []string{"cmd/..."}, allow: []string{"cmd/..."}, why: "nothing imports a command"},
}

// match reports whether the relative package path p matches pattern.
func match(pattern, p string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pattern
}

func matchAny(patterns []string, p string) bool {
	for _, q := range patterns {
		if match(q, p) {
			return true
		}
	}
	return false
}

// graph lists every package of the module (tests excluded) with the
// module's packages it imports directly, paths relative to the module.
func graph(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	g := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		pkg := rel(f[0])
		g[pkg] = nil
		for _, imp := range f[1:] {
			if r := rel(imp); r != "" {
				g[pkg] = append(g[pkg], r)
			}
		}
	}
	if len(g) < 10 {
		t.Fatalf("go list found %d packages; is the test run inside the module?", len(g))
	}
	return g
}

// rel is the module-relative path of an import of ours, else "".
func rel(p string) string {
	if p == module {
		return "."
	}
	r, ok := strings.CutPrefix(p, module+"/")
	if !ok {
		return ""
	}
	return r
}

// reach returns every package of ours p imports, directly or not, with
// the package it was first reached through.
func reach(g map[string][]string, p string) map[string]string {
	via := map[string]string{}
	var walk func(q, first string)
	walk = func(q, first string) {
		for _, imp := range g[q] {
			if _, seen := via[imp]; seen {
				continue
			}
			f := first
			if f == "" {
				f = imp
			}
			via[imp] = f
			walk(imp, f)
		}
	}
	walk(p, "")
	return via
}

// layerViolations lists every import the rules forbid, sorted.
func layerViolations(g map[string][]string) []string {
	var out []string
	for p := range g {
		deps := reach(g, p)
		for _, r := range rules {
			if !match(r.from, p) {
				continue
			}
			for d, via := range deps {
				if matchAny(r.forbid, d) && !matchAny(r.allow, d) {
					out = append(out, p+" imports "+d+" (through "+via+"): "+r.why)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// ancestorViolations lists every package that imports a package of an
// ancestor directory which imports it, or a package between the two, back
// (the old scenarios/sweep/scenariorun imported scenarios, which imported
// scenarios/sweep): a cycle in all but name.
func ancestorViolations(g map[string][]string) []string {
	var out []string
	for p := range g {
		for a := range reach(g, p) {
			if !strings.HasPrefix(p, a+"/") {
				continue // not an ancestor
			}
			back := reach(g, a)
			for q := p; strings.HasPrefix(q, a+"/"); q = q[:strings.LastIndex(q, "/")] {
				if via, ok := back[q]; ok {
					out = append(out, p+" imports its ancestor "+a+", which imports "+q+" back (through "+via+")")
					break
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestLayers(t *testing.T) {
	for _, v := range layerViolations(graph(t)) {
		t.Error(v)
	}
}

func TestNoAncestorImportsBack(t *testing.T) {
	for _, v := range ancestorViolations(graph(t)) {
		t.Error(v)
	}
}

// TestCheckersFindViolations: the checkers flag the shapes they exist
// for, on made-up import graphs.
func TestCheckersFindViolations(t *testing.T) {
	tests := []struct {
		name     string
		g        map[string][]string
		layer    string // a substring of the one layer violation, "" for none
		ancestor string // likewise for ancestors
	}{
		{"clean", map[string][]string{"cmd/x": {"scenarios"}, "scenarios": {"models", "scenarios/sweep", "scenarios/results"}, "models": {"sim", "topology"}, "sim": nil, "topology": nil, "scenarios/sweep": {"scenarios/results"}, "scenarios/results": nil}, "", ""},
		{"models imports results", map[string][]string{"models": {"scenarios/results"}, "scenarios/results": nil}, "models imports scenarios/results", ""},
		{"sim imports topology through a helper", map[string][]string{"sim": {"internal/h"}, "internal/h": {"topology"}, "topology": nil}, "sim imports topology (through internal/h)", ""},
		{"plots runs a simulation", map[string][]string{"plots": {"scenarios"}, "scenarios": nil}, "plots imports scenarios", ""},
		{"child imports grandparent that imports its parent", map[string][]string{"scenarios/sweep/run": {"scenarios"}, "scenarios": {"scenarios/sweep"}, "scenarios/sweep": nil},
			"scenarios/sweep/run imports scenarios", "scenarios/sweep/run imports its ancestor scenarios, which imports scenarios/sweep back"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(kind string, got []string, want string) {
				found := false
				for _, v := range got {
					found = found || strings.Contains(v, want)
				}
				if want == "" && len(got) > 0 || want != "" && !found {
					t.Errorf("%s violations %q, want one containing %q", kind, got, want)
				}
			}
			check("layer", layerViolations(tt.g), tt.layer)
			check("ancestor", ancestorViolations(tt.g), tt.ancestor)
		})
	}
}

// TestRulesMatchPackages keeps the rules honest: every rule's from names a
// package that exists.
func TestRulesMatchPackages(t *testing.T) {
	g := graph(t)
	for _, r := range rules {
		found := false
		for p := range g {
			found = found || match(r.from, p)
		}
		if !found {
			t.Errorf("rule for %s matches no package", r.from)
		}
	}
}
