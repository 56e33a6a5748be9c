package yamlcheck

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Numeric fields carry their valid range in struct tags, beside the field,
// so a field added tomorrow says its limits where it is declared:
//
//	Pool int `yaml:"pool" range:"[1,10000]" unit:"connections per client pod" why:"the model keeps a slot per connection"`
//
// range is an interval: "[lo,hi]", "(lo,hi]", "[lo,hi)" or "(lo,hi)", the
// bounds plain numbers, Go durations ("1ms", "8760h", for duration fields)
// or byte sizes ("1GiB"), or "any" for a field where every value of its
// type is valid (a seed). unit names what the number counts, why says
// where the upper bound comes from; both appear in the error. CheckNumbers
// applies the tags to a YAML document; TestEveryNumberHasARange-style tests
// (NumericFields) keep every numeric field tagged.

// NodeChecker is implemented by types that decode themselves
// (UnmarshalYAML) and hold numbers: CheckNumbers calls CheckNode with
// the node written for the field and reports the error it returns, its
// Field relative to that node ("cv", "samples[2]"; "" for the node
// itself) and its Line set, with the file and the full path.
type NodeChecker interface {
	CheckNode(n *yaml.Node) *FieldError
}

var nodeCheckerType = reflect.TypeOf((*NodeChecker)(nil)).Elem()

// Range is a parsed range tag.
type Range struct {
	Lo, Hi         float64
	LoOpen, HiOpen bool
	Any            bool
	Text           string // the tag as written, for messages
	Unit, Why      string
}

// Contains reports whether v is in r (NaN never is).
func (r Range) Contains(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	if r.Any {
		return true
	}
	if v < r.Lo || (r.LoOpen && v == r.Lo) {
		return false
	}
	return !(v > r.Hi || (r.HiOpen && v == r.Hi))
}

// ParseRange parses a range tag ("[1,10000]", "(0,1]", "[1ms,24h]",
// "any").
func ParseRange(tag string) (Range, error) {
	r := Range{Text: tag}
	if tag == "any" {
		r.Any = true
		return r, nil
	}
	if len(tag) < 5 || !strings.ContainsRune("[(", rune(tag[0])) || !strings.ContainsRune("])", rune(tag[len(tag)-1])) {
		return r, fmt.Errorf("range %q: want [lo,hi], (lo,hi], [lo,hi) or (lo,hi)", tag)
	}
	lo, hi, ok := strings.Cut(tag[1:len(tag)-1], ",")
	if !ok {
		return r, fmt.Errorf("range %q: want two bounds separated by a comma", tag)
	}
	var err error
	if r.Lo, err = parseBound(strings.TrimSpace(lo)); err != nil {
		return r, fmt.Errorf("range %q: %w", tag, err)
	}
	if r.Hi, err = parseBound(strings.TrimSpace(hi)); err != nil {
		return r, fmt.Errorf("range %q: %w", tag, err)
	}
	r.LoOpen, r.HiOpen = tag[0] == '(', tag[len(tag)-1] == ')'
	if !(r.Lo <= r.Hi) {
		return r, fmt.Errorf("range %q: lower bound above upper bound", tag)
	}
	return r, nil
}

var boundUnits = []struct {
	suffix string
	mult   float64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}}

// parseBound reads a bound: a number, a Go duration (in ns) or a size.
func parseBound(s string) (float64, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(v) {
		return v, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return float64(d), nil
	}
	for _, u := range boundUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			if v, err := strconv.ParseFloat(n, 64); err == nil {
				return v * u.mult, nil
			}
		}
	}
	return 0, fmt.Errorf("bound %q is not a number, duration or size", s)
}

var rangeCache sync.Map // reflect.StructTag -> Range or error

// FieldRange returns the range a struct field's tags declare (ok false
// without a range tag). A malformed tag is a programming error and
// panics, so a test that walks the types finds it.
func FieldRange(f reflect.StructField) (Range, bool) {
	tag, ok := f.Tag.Lookup("range")
	if !ok {
		return Range{}, false
	}
	if v, ok := rangeCache.Load(f.Tag); ok {
		return v.(Range), true
	}
	r, err := ParseRange(tag)
	if err != nil {
		panic(fmt.Sprintf("yamlcheck: field %s: %v", f.Name, err))
	}
	r.Unit, r.Why = f.Tag.Get("unit"), f.Tag.Get("why")
	rangeCache.Store(f.Tag, r)
	return r, true
}

// IsNumeric reports whether values of t (after pointers, slices and map
// values) are numbers: an integer or float kind, including named types
// such as durations and sizes.
func IsNumeric(t reflect.Type) bool {
	t = leafType(t)
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// leafType strips pointers, and the slices and maps whose elements a
// field's range applies to.
func leafType(t reflect.Type) reflect.Type {
	for {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			t = t.Elem()
		case reflect.Map:
			t = t.Elem()
		default:
			return t
		}
	}
}

// CheckNumbers walks n against the yaml-tagged type t, as KnownFields does,
// and checks every number written for a numeric field: it must decode as
// the field's type, be finite, and lie in the field's range tag. The
// first problem is a FieldError naming file, line and field path, and the
// range with its unit and reason. Fields without a range tag are only
// checked to be finite. Alias cycles must have been rejected first
// (CheckAliases; Document and Documents do).
func CheckNumbers(file string, n *yaml.Node, t reflect.Type, path string) error {
	c := numChecker{file: file}
	return c.walk(n, t, path, nil)
}

type numChecker struct{ file string }

func (c *numChecker) walk(n *yaml.Node, t reflect.Type, path string, r *Range) error {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return c.walk(n.Content[0], t, path, r)
	case yaml.AliasNode:
		return c.walk(n.Alias, t, path, r)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if IsNumeric(t) && t.Kind() != reflect.Slice && t.Kind() != reflect.Array && t.Kind() != reflect.Map {
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return nil // Decode reports the type mismatch
		}
		return c.number(n, t, path, r)
	}
	if reflect.PointerTo(t).Implements(nodeCheckerType) {
		if fe := reflect.New(t).Interface().(NodeChecker).CheckNode(n); fe != nil {
			fe.File = c.file
			if fe.Field != "" {
				fe.Field = JoinPath(path, fe.Field)
			} else {
				fe.Field = path
			}
			if fe.Line == 0 {
				fe.Line = n.Line
			}
			return fe
		}
		return nil
	}
	if t == nodeType || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		fields := structFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				continue // KnownFields reports it
			}
			var fr *Range
			if rr, ok := FieldRange(f); ok {
				fr = &rr
			}
			if err := c.walk(v, f.Type, JoinPath(path, k.Value), fr); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return nil // Decode reports a scalar where a list is expected
		}
		for i, item := range n.Content {
			if err := c.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), r); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := c.walk(n.Content[i+1], t.Elem(), JoinPath(path, n.Content[i].Value), r); err != nil {
				return err
			}
		}
	}
	return nil
}

// number checks one scalar written for a numeric type t.
func (c *numChecker) number(n *yaml.Node, t reflect.Type, path string, r *Range) error {
	ferr := func(format string, a ...any) error {
		return &FieldError{File: c.file, Line: n.Line, Field: path, Msg: fmt.Sprintf(format, a...)}
	}
	isInt := t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64 && t.PkgPath() == ""
	if isInt && n.Tag == "!!float" {
		// yaml.v3 truncates a float into an integer field (1.5 → 1, and
		// -.inf into a uint64 becomes a huge seed): refuse what is not a
		// whole number instead.
		var f float64
		if err := n.Decode(&f); err == nil {
			what := ""
			switch {
			case math.IsNaN(f) || math.IsInf(f, 0):
				what = "is not a finite number"
			case f != math.Trunc(f):
				what = "is not a whole number"
			case t.Kind() >= reflect.Uint && f < 0:
				what = "is negative"
			}
			if what != "" && r != nil {
				return ferr("%s %s; want %s", n.Value, what, r.describe(t))
			}
			if what != "" {
				return ferr("%s %s", n.Value, what)
			}
		}
	}
	pv := reflect.New(t)
	if err := n.Decode(pv.Interface()); err != nil {
		msg := decodeMsg(err)
		if r != nil {
			return ferr("%s; want %s", msg, r.describe(t))
		}
		return ferr("%s", msg)
	}
	var v float64
	x := pv.Elem()
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v = float64(x.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v = float64(x.Uint())
	default:
		v = x.Float()
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		if r != nil {
			return ferr("%s is not a finite number; want %s", n.Value, r.describe(t))
		}
		return ferr("%s is not a finite number", n.Value)
	}
	if r != nil && !r.Contains(v) {
		return ferr("%s is out of range; want %s", n.Value, r.describe(t))
	}
	return nil
}

// decodeMsg is a decoding error without yaml.v3's "line N:" prefixes.
func decodeMsg(err error) string {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for i, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if _, tail, ok := strings.Cut(rest, ": "); ok {
				m = tail
			}
		}
		msgs[i] = m
	}
	return strings.Join(msgs, "; ")
}

// describe words the range for an error: "a value in [1, 10000]
// (connections per client pod; the model keeps a slot per connection)".
func (r Range) describe(t reflect.Type) string {
	if r.Any {
		switch {
		case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
			return "a whole number from 0"
		case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
			return "a whole number"
		}
		return "a number"
	}
	s := "a value in " + r.Text
	if t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64 && t.PkgPath() == "" {
		s = "an integer in " + r.Text
	}
	var extra []string
	if r.Unit != "" {
		extra = append(extra, r.Unit)
	}
	if r.Why != "" {
		extra = append(extra, r.Why)
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, "; ") + ")"
	}
	return s
}

// structFields maps each yaml key of struct t to its field, following
// inline structs, as Fields does for types.
func structFields(t reflect.Type) map[string]reflect.StructField {
	out := make(map[string]reflect.StructField)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range structFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f
	}
	return out
}

// NumericField is one numeric field reachable from a root type: its YAML
// path ("traffic.edges[].rate"), its Go type and struct field.
type NumericField struct {
	Path  string
	Type  reflect.Type
	Field reflect.StructField
}

// NumericFields lists every numeric field reachable from t through
// yaml-tagged struct fields, slices and maps (map keys as "*"), not
// descending into yaml.Node fields or types with their own UnmarshalYAML
// (unless the type itself is numeric, like a duration). Tests use it to
// prove every number a user can write has a range.
func NumericFields(t reflect.Type) []NumericField {
	var out []NumericField
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string)
	custom := func(t reflect.Type) bool {
		return t == nodeType || reflect.PointerTo(t).Implements(unmarshalerType)
	}
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if custom(t) || t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" {
				continue
			}
			if strings.Contains(opts, "inline") {
				walk(f.Type, path)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			p := JoinPath(path, name)
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if IsNumeric(ft) {
				lp := p
				for k := ft; k.Kind() == reflect.Slice || k.Kind() == reflect.Map || k.Kind() == reflect.Pointer; k = k.Elem() {
					switch k.Kind() {
					case reflect.Slice:
						lp += "[]"
					case reflect.Map:
						lp += ".*"
					}
				}
				out = append(out, NumericField{Path: lp, Type: leafType(ft), Field: f})
				continue
			}
			for (ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map || ft.Kind() == reflect.Pointer) && !custom(ft) {
				switch ft.Kind() {
				case reflect.Slice:
					p += "[]"
				case reflect.Map:
					p += ".*"
				}
				ft = ft.Elem()
			}
			walk(ft, p)
		}
	}
	walk(t, "")
	return out
}
