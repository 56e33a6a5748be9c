package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/topology"
)

// numberRoots are the Go types a scenario file's numbers decode into, and
// where in the file each is written: the scenario itself, its inline
// topology spec and its sweep section (both yaml.Node fields decoded by
// their own packages).
var numberRoots = []struct {
	prefix string
	typ    reflect.Type
}{
	{"", reflect.TypeOf(Scenario{})},
	{"topology.spec", reflect.TypeOf(topology.Spec{})},
	{"sweep", reflect.TypeOf(sweep.Spec{})},
}

// TestEveryNumberHasARange walks the scenario, spec and sweep types by
// reflection: every numeric field a user can write must carry a range tag
// (yamlcheck), and NaN, ±Inf, a value just outside each bound and an
// absurdly large one written into a valid scenario must each fail with
// "file:line: field.path: …" at that field. A field added without a
// range fails here, with how to add one.
func TestEveryNumberHasARange(t *testing.T) {
	n := 0
	for _, root := range numberRoots {
		for _, f := range yamlcheck.NumericFields(root.typ) {
			path := yamlcheck.JoinPath(root.prefix, f.Path)
			r, ok := yamlcheck.FieldRange(f.Field)
			if !ok {
				t.Errorf("%s (%s.%s): a number without a range tag; add e.g. `range:\"[0,1000]\" unit:\"...\"` (docs/limits.md)", path, root.typ.Name(), f.Field.Name)
				continue
			}
			n++
			for _, bad := range badValues(f.Type, r) {
				t.Run(path+"="+bad, func(t *testing.T) {
					doc, line := withValue(t, path, bad)
					_, err := Parse("x.yaml", doc)
					want := fmt.Sprintf("x.yaml:%d: %s: ", line, concrete(path))
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Fatalf("%s: %s accepted or misreported:\n got  %v\n want %s…", path, bad, err, want)
					}
				})
			}
			for _, good := range goodValues(f.Type, r) {
				doc, _ := withValue(t, path, good)
				_, err := Parse("x.yaml", doc)
				if err != nil && strings.Contains(err.Error(), concrete(path)+": "+good+" ") {
					t.Errorf("%s: the bound %s is refused: %v", path, good, err)
				}
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d numeric fields found; the walk lost its way", n)
	}
}

// badValues are the values outside r written as YAML for type t.
func badValues(t reflect.Type, r yamlcheck.Range) []string {
	out := []string{".nan", ".inf", "-.inf"}
	if r.Any {
		return out
	}
	below := r.Lo
	if !r.LoOpen {
		below = math.Nextafter(r.Lo, math.Inf(-1))
	}
	above := r.Hi
	if !r.HiOpen {
		above = math.Nextafter(r.Hi, math.Inf(1))
	}
	isInt := t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64
	if isInt {
		below, above = math.Ceil(below-1), math.Floor(above+1)
		if r.LoOpen {
			below = r.Lo
		}
		if r.HiOpen {
			above = r.Hi
		}
	}
	for _, v := range []float64{below, above, r.Hi * 1e6, -1e18} {
		if r.Contains(v) {
			continue
		}
		if s, ok := formatValue(t, v); ok {
			out = append(out, s)
		}
	}
	return out
}

// goodValues are r's closed bounds written as YAML for type t.
func goodValues(t reflect.Type, r yamlcheck.Range) []string {
	var out []string
	if r.Any {
		return nil
	}
	for _, v := range []float64{r.Lo, r.Hi} {
		if r.Contains(v) {
			if s, ok := formatValue(t, v); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// formatValue writes v as the scenario file would for a field of type t:
// a duration string for durations, an integer for integer kinds.
func formatValue(t reflect.Type, v float64) (string, bool) {
	switch {
	case t == reflect.TypeOf(Duration(0)):
		if v < 0 || v > math.MaxInt64 {
			return "", false // not expressible (the parser refuses negatives itself)
		}
		return time.Duration(v).String(), true
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		if v < 0 {
			return strconv.FormatFloat(v, 'f', 0, 64), true
		}
		return strconv.FormatFloat(v, 'f', 0, 64), true
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return strconv.FormatFloat(v, 'f', 0, 64), true
	}
	return strconv.FormatFloat(v, 'g', -1, 64), true
}

// concrete is a field path with its list and map wildcards filled in the
// way withValue fills them ("failures[].loss" → "failures[0].loss").
func concrete(path string) string {
	return strings.ReplaceAll(strings.ReplaceAll(path, "[]", "[0]"), ".*", ".k")
}

// numbersBase is a valid scenario holding every section a numeric field
// lives in, so that setting one field leaves the rest valid.
const numbersBase = `name: n
modes: [ambient]
topology:
  spec:
    nodes: {count: 2}
    namespaces:
      - name: a
        services: [{name: s}]
        workloads: [{name: c}]
    calls: [{from: a/c, to: a/s, rate: 10}]
sweep:
  parameters: {load: [1]}
`

// withValue writes value at path (wildcards as in concrete) into
// numbersBase, creating what is missing, and returns the document and
// the value's line.
func withValue(t *testing.T, path, value string) ([]byte, int) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(numbersBase), &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0]
	parts := strings.Split(strings.ReplaceAll(strings.ReplaceAll(path, "[]", ".[]"), ".*", ".k"), ".")
	for i, p := range parts {
		last := i == len(parts)-1
		if p == "[]" {
			if n.Kind != yaml.SequenceNode {
				t.Fatalf("%s: not a list at %q", path, p)
			}
			if last {
				n.Content = []*yaml.Node{{Kind: yaml.ScalarNode, Value: value}}
				break
			}
			if len(n.Content) == 0 {
				n.Content = []*yaml.Node{{Kind: yaml.MappingNode}}
			}
			n = n.Content[0]
			continue
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == p {
				next = n.Content[j+1]
			}
		}
		if next == nil {
			next = &yaml.Node{Kind: yaml.MappingNode}
			if i+1 < len(parts) && parts[i+1] == "[]" {
				next.Kind = yaml.SequenceNode
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: p}, next)
		}
		if last {
			*next = yaml.Node{Kind: yaml.ScalarNode, Value: value}
		}
		n = next
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	var again yaml.Node
	if err := yaml.Unmarshal(out, &again); err != nil {
		t.Fatal(err)
	}
	return out, lineAt(&again, concrete(path))
}

// lineAt is the line of the value at a concrete path.
func lineAt(doc *yaml.Node, path string) int {
	n := doc.Content[0]
	for _, p := range strings.Split(strings.ReplaceAll(path, "[0]", ".[0]"), ".") {
		if p == "[0]" {
			n = n.Content[0]
			continue
		}
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == p {
				n = n.Content[j+1]
				break
			}
		}
	}
	return n.Line
}
