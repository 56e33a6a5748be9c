package yamlcheck

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type dur time.Duration

func (d *dur) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration", n.Line, n.Value)
	}
	*d = dur(v)
	return nil
}

type numEdge struct {
	Rate   *float64 `yaml:"rate" range:"[0,1e6]" unit:"requests/s"`
	Pool   int      `yaml:"pool" range:"[1,10000]" unit:"connections" why:"the model keeps a slot per connection"`
	Loss   float64  `yaml:"loss" range:"[0,1]"`
	Free   float64  `yaml:"free"`
	Period dur      `yaml:"period" range:"(0s,24h]"`
	Seed   uint64   `yaml:"seed" range:"any"`
	Idx    []int    `yaml:"idx" range:"[0,9]"`
	Name   string   `yaml:"name"`
}

type numDoc struct {
	Edges   []numEdge          `yaml:"edges"`
	ByName  map[string]numEdge `yaml:"by_name"`
	Weights map[string]float64 `yaml:"weights" range:"(0,1]"`
	Raw     yaml.Node          `yaml:"raw"`
}

func TestCheckNumbers(t *testing.T) {
	tests := []struct{ src, want string }{
		{"edges: [{rate: 10, pool: 4, loss: 0.5, free: -3, period: 1s, seed: 18446744073709551615, idx: [0, 9]}]", ""},
		{"edges: [{rate: .nan}]", `f.yaml:1: edges[0].rate: .nan is not a finite number; want a value in [0,1e6] (requests/s)`},
		{"edges:\n- {pool: 1}\n- {rate: -.inf}", `f.yaml:3: edges[1].rate: -.inf is not a finite number`},
		{"edges: [{rate: 1e7}]", `f.yaml:1: edges[0].rate: 1e7 is out of range; want a value in [0,1e6] (requests/s)`},
		{"edges: [{pool: 0}]", `f.yaml:1: edges[0].pool: 0 is out of range; want an integer in [1,10000] (connections; the model keeps a slot per connection)`},
		{"edges: [{pool: 1000000000}]", `edges[0].pool: 1000000000 is out of range`},
		{"edges: [{pool: .nan}]", `f.yaml:1: edges[0].pool: .nan is not a finite number; want an integer in [1,10000]`},
		{"edges: [{pool: 2.5}]", `f.yaml:1: edges[0].pool: 2.5 is not a whole number`},
		{"edges: [{pool: 4.0}]", ``},
		{"edges: [{seed: -.inf}]", `edges[0].seed: -.inf is not a finite number; want a whole number from 0`},
		{"edges: [{seed: -1.0}]", `edges[0].seed: -1.0 is negative`},
		{"edges: [{seed: -1}]", `edges[0].seed: cannot unmarshal !!int`},
		{"edges: [{pool: many}]", `edges[0].pool: cannot unmarshal !!str`},
		{"edges: [{pool: 4611686018427387904}]", `edges[0].pool: 4611686018427387904 is out of range`},
		{"edges: [{free: .inf}]", `f.yaml:1: edges[0].free: .inf is not a finite number`},
		{"edges: [{period: 0s}]", `edges[0].period: 0s is out of range; want a value in (0s,24h]`},
		{"edges: [{period: 25h}]", `edges[0].period: 25h is out of range`},
		{"edges: [{period: soon}]", `f.yaml:1: edges[0].period: "soon" is not a duration; want a value in (0s,24h]`},
		{"edges: [{idx: [1, 10]}]", `edges[0].idx[1]: 10 is out of range`},
		{"by_name: {a: {loss: 2}}", `f.yaml:1: by_name.a.loss: 2 is out of range; want a value in [0,1]`},
		{"weights: {a: 0.5, b: 0}", `weights.b: 0 is out of range; want a value in (0,1]`},
		{"base: &b {rate: .nan}\nedges: [*b]", `f.yaml:1: edges[0].rate: .nan is not a finite number`},
		{"raw: {rate: .nan}", ""},
		{"edges: [{name: .nan, pool: ~}]", ""},
	}
	for _, tt := range tests {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tt.src), &n); err != nil {
			t.Fatal(err)
		}
		err := CheckNumbers("f.yaml", &n, reflect.TypeOf(numDoc{}), "")
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%q:\n got  %s\n want %s", tt.src, got, tt.want)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		tag     string
		in, out []float64
	}{
		{"[1,10]", []float64{1, 10, 5.5}, []float64{0.999, 10.001}},
		{"(0,1]", []float64{1e-300, 1}, []float64{0, -1, 1.1}},
		{"[0,1)", []float64{0}, []float64{1}},
		{"[1ms,1h]", []float64{1e6, 3.6e12}, []float64{999_999}},
		{"[0,1GiB]", []float64{1 << 30}, []float64{1<<30 + 1}},
		{"any", []float64{-1e300, 1e300}, nil},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.tag)
		if err != nil {
			t.Fatalf("%s: %v", tt.tag, err)
		}
		for _, v := range tt.in {
			if !r.Contains(v) {
				t.Errorf("%s should contain %v", tt.tag, v)
			}
		}
		for _, v := range tt.out {
			if r.Contains(v) {
				t.Errorf("%s should not contain %v", tt.tag, v)
			}
		}
	}
	for _, bad := range []string{"", "1,2", "[1;2]", "[x,2]", "[2,1]", "[1,2"} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) accepted", bad)
		}
	}
}

func TestNumericFields(t *testing.T) {
	var got []string
	for _, f := range NumericFields(reflect.TypeOf(numDoc{})) {
		_, ok := FieldRange(f.Field)
		got = append(got, fmt.Sprintf("%s:%v", f.Path, ok))
	}
	want := "edges[].rate:true edges[].pool:true edges[].loss:true edges[].free:false edges[].period:true edges[].seed:true edges[].idx[]:true " +
		"by_name.*.rate:true by_name.*.pool:true by_name.*.loss:true by_name.*.free:false by_name.*.period:true by_name.*.seed:true by_name.*.idx[]:true weights.*:true"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
}
