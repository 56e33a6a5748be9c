package yamlcheck

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type inner struct {
	Port int `yaml:"port"`
}

type custom struct{ seen string }

func (c *custom) UnmarshalYAML(n *yaml.Node) error { c.seen = n.Value; return nil }

type outer struct {
	Name    string                `yaml:"name"`
	Inner   inner                 `yaml:"inner"`
	List    []inner               `yaml:"list"`
	ByName  map[string]inner      `yaml:"by_name"`
	Raw     yaml.Node             `yaml:"raw"`
	Custom  custom                `yaml:"custom"`
	Skipped string                `yaml:"-"`
	Inline  struct{ Zone string } `yaml:",inline"`
}

func check(t *testing.T, src string, notMapping bool) error {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	o := Options{Unknown: func(k *yaml.Node, path string, valid []string) error {
		return fmt.Errorf("%d:%s:%s", k.Line, path, Closest(k.Value, valid, 3))
	}}
	if notMapping {
		o.NotMapping = func(n *yaml.Node, path string) error { return fmt.Errorf("%d:%s:not a mapping", n.Line, path) }
	}
	return KnownFields(&n, reflect.TypeOf(outer{}), "", o)
}

func TestKnownFields(t *testing.T) {
	tests := []struct {
		name, src  string
		notMapping bool
		want       string // "" = no error
	}{
		{"valid", "name: a\ninner: {port: 1}\nlist: [{port: 2}]\nby_name: {x: {port: 3}}\nzone: z\n", false, ""},
		{"misspelt top level", "nmae: a\n", false, "1:nmae:name"},
		{"nested", "inner:\n  prot: 1\n", false, "2:inner.prot:port"},
		{"in a list", "list:\n- port: 1\n- pot: 2\n", false, "3:list[1].pot:port"},
		{"in a map value", "by_name:\n  x: {porty: 1}\n", false, "2:by_name.x.porty:port"},
		{"inline field known", "zone: a\n", false, ""},
		{"no close name", "qqqqqqqq: 1\n", false, "1:qqqqqqqq:"},
		{"yaml.Node not descended", "raw: {anything: 1}\n", false, ""},
		{"Unmarshaler not descended", "custom: {anything: 1}\n", false, ""},
		{"dash-tagged field is unknown", "skipped: x\n", false, "1:skipped:"},
		{"non-mapping left to Decode", "inner: 5\n", false, ""},
		{"non-mapping reported", "inner: 5\n", true, "1:inner:not a mapping"},
		{"alias followed", "raw: &x {bad: 1}\ninner: *x\n", false, "1:inner.bad:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := check(t, tt.src, tt.notMapping)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	names := []string{"protocol", "port", "pool"}
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"protocl", 3, "protocol"},
		{"PORT", 3, "port"},
		{"poll", 1, "pool"},
		{"xxxxxxxx", 3, ""},
		{strings.Repeat("a", 100), 3, ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.in, names, tt.max); got != tt.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"kitten", "sitting", 3}, {"über", "uber", 1}, {"", "abc", 3},
	}
	for _, tt := range tests {
		if got := EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestFieldErrorWording(t *testing.T) {
	tests := []struct {
		err  *FieldError
		want string
	}{
		{&FieldError{File: "s.yaml", Line: 3, Field: "traffic.defaults.rtae", Msg: Unknown("field", "rtae", []string{"rate", "pool"})},
			`s.yaml:3: traffic.defaults.rtae: unknown field "rtae" (did you mean "rate"?)`},
		{&FieldError{File: "s.yaml", Line: 7, Field: "modes[0]", Msg: Unknown("mode", "zzz", []string{"ambient", "sidecar"})},
			`s.yaml:7: modes[0]: unknown mode "zzz" (valid: ambient, sidecar)`},
		{&FieldError{File: "s.yaml", Msg: "empty sweep section"}, `s.yaml: empty sweep section`},
		{&FieldError{File: "s.yaml", Field: "topology", Msg: "give exactly one"}, `s.yaml: topology: give exactly one`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestCheckKnown(t *testing.T) {
	type replicas struct {
		Replicas int `yaml:"replicas"`
	}
	type doc struct {
		Service replicas `yaml:"service"`
	}
	for _, tt := range []struct{ in, want string }{
		{"service: {replcas: 2}\n", `f.yaml:1: service.replcas: unknown field "replcas" (did you mean "replicas"?)`},
		{"service: [1]\n", `f.yaml:1: service: want a mapping`},
		{"service: {replicas: 2}\n", ``},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tt.in), &n); err != nil {
			t.Fatal(err)
		}
		err := CheckKnown("f.yaml", &n, reflect.TypeOf(doc{}), "")
		if got := fmt.Sprint(err); (err == nil && tt.want != "") || (err != nil && got != tt.want) {
			t.Errorf("%q: got %v, want %q", tt.in, err, tt.want)
		}
	}
}
