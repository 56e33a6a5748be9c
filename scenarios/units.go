package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/sim"
)

// Duration is a simulated duration written as a Go duration string
// ("60s", "500ms", "1m30s").
type Duration sim.Time

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration like \"60s\" or \"500ms\"", n.Line)
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration; write e.g. \"60s\", \"500ms\", \"2m\"", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// T returns the duration as sim.Time.
func (d Duration) T() sim.Time { return sim.Time(d) }

// Size is a byte count written as an integer or with a unit: "512", "1KiB",
// "1.5MiB", "1KB" (1000), "2MB".
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   float64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}

// ParseSize parses a size string.
func ParseSize(s string) (Size, error) {
	s = strings.TrimSpace(s)
	written := s
	mult := 1.0
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a size; write an integer number of bytes or e.g. \"1KiB\", \"64KB\", \"2MiB\"", written)
	}
	if v*mult > 1<<40 {
		return 0, fmt.Errorf("%q is too large (the limit is 1TiB)", written)
	}
	return Size(v*mult + 0.5), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (z *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a size like 1024 or \"1KiB\"", n.Line)
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*z = v
	return nil
}

// distFields are the keys a distribution mapping may have.
var distFields = []string{"dist", "mean", "cv", "alpha", "min", "max", "samples"}

// TimeDist is a distribution of durations. A scalar ("2ms") is a constant;
// a mapping names the distribution: {dist: exponential, mean: 2ms},
// {dist: lognormal, mean: 2ms, cv: 0.5}, {dist: pareto, mean: 2ms, alpha:
// 2.5}, {dist: uniform, min: 1ms, max: 3ms}, {dist: empirical, samples:
// [1ms, 2ms]}.
type TimeDist struct{ Spec sim.DistSpec } // values in ns

// SizeDist is a distribution of byte sizes, written like TimeDist with sizes
// ("1KiB") in place of durations.
type SizeDist struct{ Spec sim.DistSpec } // values in bytes

func parseDurNs(s string) (float64, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. \"2ms\")", s)
	}
	return float64(d), nil
}

func parseSizeB(s string) (float64, error) {
	z, err := ParseSize(s)
	return float64(z), err
}

// decodeDist reads a distribution; errors are FieldErrors with the field
// relative to n ("cv", "samples[1]"; "" for n itself) and the line.
func decodeDist(n *yaml.Node, val func(string) (float64, error)) (sim.DistSpec, *FieldError) {
	var d sim.DistSpec
	ferr := func(at *yaml.Node, field, format string, a ...any) *FieldError {
		return &FieldError{Line: at.Line, Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode {
		v, err := val(n.Value)
		if err != nil {
			return d, ferr(n, "", "%v", err)
		}
		return sim.DistSpec{Kind: sim.DistConstant, Mean: v}, nil
	}
	if n.Kind != yaml.MappingNode {
		return d, ferr(n, "", "want a value or a mapping {dist: ..., mean: ...}")
	}
	number := func(v *yaml.Node) (float64, error) {
		var x float64
		if err := v.Decode(&x); err != nil {
			return 0, fmt.Errorf("%q is not a number", v.Value)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("%s is not a finite number", v.Value)
		}
		return x, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		var err error
		switch k.Value {
		case "dist":
			d.Kind = v.Value
		case "mean":
			d.Mean, err = val(v.Value)
		case "min":
			d.Min, err = val(v.Value)
		case "max":
			d.Max, err = val(v.Value)
		case "cv":
			d.CV, err = number(v)
		case "alpha":
			d.Alpha, err = number(v)
		case "samples":
			if len(v.Content) > maxSamples {
				return d, ferr(v, "samples", "%d samples, more than %d", len(v.Content), maxSamples)
			}
			for j, s := range v.Content {
				x, e := val(s.Value)
				if e != nil {
					return d, ferr(s, fmt.Sprintf("samples[%d]", j), "%v", e)
				}
				d.Samples = append(d.Samples, x)
			}
		default:
			return d, ferr(k, k.Value, "%s", yamlcheck.Unknown("field", k.Value, distFields))
		}
		if err != nil {
			return d, ferr(v, k.Value, "%v", err)
		}
	}
	if err := d.Validate(); err != nil {
		return d, ferr(n, "", "%v", err)
	}
	return d, nil
}

// maxSamples bounds an empirical distribution's samples.
const maxSamples = 1_000_000

// distErr words a distribution error for UnmarshalYAML (yaml.v3 adds
// nothing: the scenario's decoder reports it with the file).
func distErr(fe *FieldError) error {
	if fe == nil {
		return nil
	}
	if fe.Field != "" {
		return fmt.Errorf("line %d: %s: %s", fe.Line, fe.Field, fe.Msg)
	}
	return fmt.Errorf("line %d: %s", fe.Line, fe.Msg)
}

// CheckNode implements yamlcheck.NodeChecker: a distribution of
// durations checked where the scenario's numbers are.
func (t *TimeDist) CheckNode(n *yaml.Node) *FieldError {
	_, fe := decodeDist(n, parseDurNs)
	return fe
}

// CheckNode implements yamlcheck.NodeChecker for sizes.
func (s *SizeDist) CheckNode(n *yaml.Node) *FieldError {
	_, fe := decodeDist(n, parseSizeB)
	return fe
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *TimeDist) UnmarshalYAML(n *yaml.Node) error {
	d, fe := decodeDist(n, parseDurNs)
	t.Spec = d
	return distErr(fe)
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *SizeDist) UnmarshalYAML(n *yaml.Node) error {
	d, fe := decodeDist(n, parseSizeB)
	s.Spec = d
	return distErr(fe)
}
