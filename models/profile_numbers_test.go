package models

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
)

// quantityField is one Quantity of the Profile type: its dotted YAML path
// and struct field.
type quantityField struct {
	path  string
	field reflect.StructField
}

func quantityFields(t reflect.Type, prefix string) []quantityField {
	var out []quantityField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, ok := yamlPath(f, prefix)
		if !ok {
			continue
		}
		switch {
		case f.Type == reflect.TypeOf(Quantity{}):
			out = append(out, quantityField{name, f})
		case f.Type.Kind() == reflect.Struct:
			out = append(out, quantityFields(f.Type, name)...)
		}
	}
	return out
}

// TestEveryProfileQuantityHasARange: every cost parameter has a range
// (its own range tag or its unit's in unitRanges), and NaN, ±Inf, a
// negative value and one far above the range written into the published
// profile each fail with "file:line: path: …". A parameter added in a new
// unit without a range fails here.
func TestEveryProfileQuantityHasARange(t *testing.T) {
	pub, err := profileFS.ReadFile("profiles/" + DefaultProfile + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	fields := quantityFields(reflect.TypeOf(Profile{}), "")
	if len(fields) < 40 {
		t.Fatalf("only %d quantities found", len(fields))
	}
	for _, q := range fields {
		unit := q.field.Tag.Get("unit")
		r, tagged := yamlcheck.FieldRange(q.field)
		if !tagged {
			tag, ok := unitRanges[unit]
			if !ok {
				t.Errorf("%s: unit %q has no range; add it to unitRanges in profile.go or give the field a range tag (docs/limits.md)", q.path, unit)
				continue
			}
			r, _ = yamlcheck.ParseRange(tag)
		}
		bad := []string{".nan", strconv.FormatFloat(r.Hi*10+1, 'g', -1, 64)}
		if !testing.Short() {
			bad = append(bad, ".inf", "-.inf", "-1")
		}
		if r.Lo > 0 || r.LoOpen {
			bad = append(bad, "0")
		}
		with := profileEditor(t, pub, q.path, unit)
		for _, v := range bad {
			doc, line := with(v)
			_, err := ParseProfile("p.yaml", doc)
			want := fmt.Sprintf("p.yaml:%d: %s: ", line, q.path)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s = %s: got %v, want %s…", q.path, v, err, want)
			}
		}
		doc, _ := with(strconv.FormatFloat(math.Max(r.Lo, math.Min(r.Hi, 1)), 'g', -1, 64))
		if _, err := ParseProfile("p.yaml", doc); err != nil && strings.Contains(err.Error(), q.path+": value") {
			t.Errorf("%s: a value in range refused: %v", q.path, err)
		}
	}
}

// profileEditor parses the profile text once and returns a function that
// writes it back with the Quantity at path set to value (adding the
// Quantity when the profile leaves it out), with the line of the
// Quantity's key: one parse for every value tried on a field.
func profileEditor(t *testing.T, text []byte, path, unit string) func(value string) ([]byte, int) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0]
	for _, key := range strings.Split(path, ".") {
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			next = &yaml.Node{Kind: yaml.MappingNode}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, next)
		}
		n = next
	}
	line := -1
	return func(value string) ([]byte, int) {
		t.Helper()
		var q yaml.Node
		if err := yaml.Unmarshal([]byte(fmt.Sprintf("{value: %s, unit: %q, source: test, date: 2025-01-01}", value, unit)), &q); err != nil {
			t.Fatal(err)
		}
		*n = *q.Content[0]
		out, err := yaml.Marshal(&doc)
		if err != nil {
			t.Fatal(err)
		}
		if line < 0 { // the same for every value: only the scalar changes
			line, _ = nodeLine(mustNode(t, out), path)
		}
		return out, line
	}
}

func mustNode(t *testing.T, text []byte) *yaml.Node {
	var n yaml.Node
	if err := yaml.Unmarshal(text, &n); err != nil {
		t.Fatal(err)
	}
	return &n
}
