package sweep

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/scenarios/results"

	"gopkg.in/yaml.v3"
)

// Spec is the `sweep:` section of a scenario: which parameters vary, how many
// replications each point gets, and which questions (SLO search, sizing,
// cost table) the sweep answers. Decode it with DecodeSpec.
//
//	sweep:
//	  replications: 5
//	  parameters:
//	    load: {from: 0.5, to: 2, step: 0.5}
//	    mode: [sidecar, ambient]
//	  slo: {metric: p99, threshold: 25, search: {from: 0.25, to: 8}}
//	  sizing: {load: 2, parameters: [waypointReplicas]}
//	  cost: {headroom: 1.3}
type Spec struct {
	// Replications per point, each with its own seed; at least 2 so every
	// figure has a confidence interval. Default 5.
	Replications int `yaml:"replications" range:"[2,1000]" unit:"replications per point" why:"every figure needs a confidence interval"`
	// Seed is the base seed every replication seed derives from. Default:
	// the scenario's seed.
	Seed *uint64 `yaml:"seed" range:"any"`
	// Design is "cartesian" (default; every combination of Parameters) or
	// "list" (exactly the Points).
	Design string `yaml:"design"`
	// Parameters maps a parameter to a list of values, one value, or a
	// range {from, to, step} / {from, to, count, scale: linear|log}.
	Parameters Axes `yaml:"parameters"`
	// Points is the listed design: each item sets some parameters.
	Points []PointSpec `yaml:"points"`
	// Confidence level of every interval. Default 0.95.
	Confidence float64 `yaml:"confidence" range:"(0,1)" unit:"confidence level"`
	// Warmup is the warm-up rule: "mser5" (default: the scenario's own
	// warm-up is discarded, and MSER-5 on each run's batch series checks it
	// was long enough) or "scenario" (the scenario's warm-up, unchecked).
	Warmup string      `yaml:"warmup"`
	SLO    *SLOSpec    `yaml:"slo"`
	Sizing *SizingSpec `yaml:"sizing"`
	Cost   *CostSpec   `yaml:"cost"`

	file string
}

// SLOSpec is a service-level objective on one figure of the "all" (or the
// named) latency category.
type SLOSpec struct {
	// Metric is p50, p90, p99 (default) or p999 latency in ms, or
	// error_rate as a fraction of completed requests.
	Metric string `yaml:"metric" json:"metric,omitempty"`
	// Category is the latency row the SLO applies to. Default "all".
	Category  string  `yaml:"category" json:"category,omitempty"`
	Threshold float64 `yaml:"threshold" json:"threshold,omitempty" range:"(0,1e9]" unit:"ms, or a fraction for error_rate"` // ms for latency metrics, fraction for error_rate
	// Search finds, per mode, the largest load multiplier at which the SLO
	// holds, by bisection between From and To.
	Search *SearchSpec `yaml:"search" json:"search,omitempty"`
}

// SearchSpec bounds the SLO bisection over the load multiplier.
type SearchSpec struct {
	From      float64 `yaml:"from" json:"from,omitempty" range:"(0,1e6]" unit:"load multiplier"`                                                 // lowest load multiplier tried; default 0.1
	To        float64 `yaml:"to" json:"to,omitempty" range:"(0,1e6]" unit:"load multiplier"`                                                     // highest load multiplier tried; default 10
	Tolerance float64 `yaml:"tolerance" json:"tolerance,omitempty" range:"(0,1]" unit:"relative width"`                                          // stop when (hi-lo)/lo <= tolerance; default 0.02
	MaxSteps  int     `yaml:"maxSteps" json:"maxSteps,omitempty" range:"[1,100]" unit:"bisection steps" why:"each step is a set of simulations"` // bisection steps after the two ends; default 12
	// At fixes the other parameters the search runs at; default: one
	// search per distinct setting of them in the design.
	At *PointSpec `yaml:"at" json:"at,omitempty"`
}

// SizingSpec asks for the fewest replicas or threads that meet the SLO.
type SizingSpec struct {
	Load float64 `yaml:"load" json:"load,omitempty" range:"(0,1e6]" unit:"load multiplier"` // the load multiplier to size for
	// Parameters to size, each independently: waypointReplicas and/or
	// workerThreads (ztunnel; the CPU request in cores). Default both.
	Parameters []string `yaml:"parameters" json:"parameters,omitempty"`
	Max        int      `yaml:"max" json:"max,omitempty" range:"[1,1000]" unit:"replicas or threads"` // largest value tried; default 16
	// At fixes the other parameters; default: one search per distinct
	// setting of them in the design.
	At *PointSpec `yaml:"at" json:"at,omitempty"`
}

// CostSpec configures the cluster cost table (sidecar vs ambient, 100 to
// 100,000 pods).
type CostSpec struct {
	Headroom float64 `yaml:"headroom" json:"headroom,omitempty" range:"[1,100]" unit:"provisioned / used"` // provisioned = max(request, used × headroom); default 1.3
	Pods     []int   `yaml:"pods" json:"pods,omitempty" range:"[1,10000000]" unit:"pods"`                  // default [100, 1000, 10000, 100000]
	// PodsPerNode sets how many nodes (ztunnels) a pod count needs.
	// Default: the reference run's pods per node.
	PodsPerNode float64 `yaml:"podsPerNode" json:"podsPerNode,omitempty" range:"(0,10000]" unit:"pods per node"`
	// Load is the load multiplier of the reference run when there is no
	// sizing section; default the first point's.
	Load float64 `yaml:"load" json:"load,omitempty" range:"(0,1e6]" unit:"load multiplier"`
	// At fixes the other parameters of the reference run; default: the
	// first point's.
	At *PointSpec `yaml:"at" json:"at,omitempty"`
	// Requests per proxy kind (ztunnel, waypoint, sidecar). Defaults are the
	// Istio chart's: ztunnel 200m/512Mi, waypoint and sidecar 100m/128Mi.
	Requests map[string]ResourceRequest `yaml:"requests" json:"requests,omitempty"`
}

// ResourceRequest is a Kubernetes resource request.
type ResourceRequest struct {
	CPUCores  float64 `yaml:"cpuCores" json:"cpuCores,omitempty" range:"[0,10000]" unit:"cores"`
	MemoryGiB float64 `yaml:"memoryGiB" json:"memoryGiB,omitempty" range:"[0,100000]" unit:"GiB"`
}

// Axes are the swept parameters in the order written.
type Axes []Axis

// Axis is one swept parameter and its values (canonical text, in order).
type Axis struct {
	Name   string
	Values []string
	Line   int
}

// Range is the mapping form of an axis.
type Range struct {
	From  float64 `yaml:"from" range:"any"`
	To    float64 `yaml:"to" range:"any"`
	Step  float64 `yaml:"step" range:"any"`
	Count int     `yaml:"count" range:"[1,10000]" unit:"values"`
	Scale string  `yaml:"scale"` // linear (default) | log; with count
}

// PointSpec is one point of a listed design: parameter name → value (mode
// may be a list).
type PointSpec struct {
	Point Point `json:"point"`
	Line  int   `json:"-"`
}

// UnmarshalYAML reads the parameters mapping strictly, keeping its order.
func (a *Axes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &FieldError{Line: n.Line, Field: "parameters", Msg: "must be a mapping of parameter name to values"}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := "parameters." + k.Value
		def, ok := lookupParam(k.Value)
		if !ok {
			return &FieldError{Line: k.Line, Field: field, Msg: yamlcheck.Unknown("parameter", k.Value, paramNames())}
		}
		if seen[k.Value] {
			return &FieldError{Line: k.Line, Field: field, Msg: "listed twice"}
		}
		seen[k.Value] = true
		vals, err := axisValues(def, v, field)
		if err != nil {
			return err
		}
		*a = append(*a, Axis{Name: k.Value, Values: vals, Line: k.Line})
	}
	return nil
}

func axisValues(def paramDef, v *yaml.Node, field string) ([]string, error) {
	var raw []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		raw = []*yaml.Node{v}
	case yaml.SequenceNode:
		raw = v.Content
	case yaml.MappingNode:
		if def.kind == kindString {
			return nil, &FieldError{Line: v.Line, Field: field, Msg: "a range needs a numeric parameter; list the values instead"}
		}
		return rangeValues(def, v, field)
	default:
		return nil, &FieldError{Line: v.Line, Field: field, Msg: "must be a value, a list or a range {from, to, step}"}
	}
	if len(raw) == 0 {
		return nil, &FieldError{Line: v.Line, Field: field, Msg: "needs at least one value"}
	}
	var out []string
	seen := map[string]bool{}
	for j, s := range raw {
		if s.Kind != yaml.ScalarNode {
			return nil, &FieldError{Line: s.Line, Field: fmt.Sprintf("%s[%d]", field, j), Msg: "must be a single value"}
		}
		c, err := def.parseValue(s.Value)
		if err != nil {
			return nil, &FieldError{Line: s.Line, Field: fmt.Sprintf("%s[%d]", field, j), Msg: err.Error()}
		}
		if seen[c] {
			return nil, &FieldError{Line: s.Line, Field: fmt.Sprintf("%s[%d]", field, j), Msg: fmt.Sprintf("value %s listed twice", c)}
		}
		seen[c] = true
		out = append(out, c)
	}
	return out, nil
}

// maxAxisValues bounds a range so a typo cannot expand to millions of points.
const maxAxisValues = 10000

func rangeValues(def paramDef, v *yaml.Node, field string) ([]string, error) {
	if err := checkKnownFields(v, reflect.TypeOf(Range{}), field); err != nil {
		return nil, err
	}
	if err := yamlcheck.CheckNumbers("", v, reflect.TypeOf(Range{}), field); err != nil {
		return nil, err
	}
	var r Range
	if err := v.Decode(&r); err != nil {
		return nil, &FieldError{Line: v.Line, Field: field, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	ferr := func(msg string, a ...any) error {
		return &FieldError{Line: v.Line, Field: field, Msg: fmt.Sprintf(msg, a...)}
	}
	if r.To < r.From {
		return nil, ferr("to (%g) is below from (%g)", r.To, r.From)
	}
	var xs []float64
	switch {
	case r.Step != 0 && r.Count != 0:
		return nil, ferr("give step or count, not both")
	case r.Step < 0:
		return nil, ferr("step must be positive")
	case r.Step > 0:
		if r.Scale != "" {
			return nil, ferr("scale goes with count, not step")
		}
		n := math.Floor((r.To-r.From)/r.Step+1e-9) + 1
		if n > maxAxisValues {
			return nil, ferr("range has %g values, more than %d", n, maxAxisValues)
		}
		for i := 0; i < int(n); i++ {
			xs = append(xs, r.From+float64(i)*r.Step)
		}
	case r.Count > 0:
		if r.Count > maxAxisValues {
			return nil, ferr("count %d is more than %d", r.Count, maxAxisValues)
		}
		switch r.Scale {
		case "", "linear":
			for i := 0; i < r.Count; i++ {
				xs = append(xs, lerp(r.From, r.To, i, r.Count))
			}
		case "log":
			if r.From <= 0 {
				return nil, ferr("a log range needs from > 0")
			}
			lf, lt := math.Log(r.From), math.Log(r.To)
			for i := 0; i < r.Count; i++ {
				xs = append(xs, math.Exp(lerp(lf, lt, i, r.Count)))
			}
		default:
			return nil, ferr("%s", yamlcheck.Unknown("scale", r.Scale, []string{"linear", "log"}))
		}
	default:
		return nil, ferr("a range needs a positive step or count, e.g. {from: %g, to: %g, step: 1}", r.From, r.To)
	}
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if def.kind == kindInt {
			x = math.Round(x)
		}
		c, err := def.parseValue(results.FormatNumber(x))
		if err != nil {
			return nil, ferr("%v", err)
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

func lerp(a, b float64, i, n int) float64 {
	if n == 1 {
		return a
	}
	return a + (b-a)*float64(i)/float64(n-1)
}

// UnmarshalYAML reads one listed point strictly.
func (ps *PointSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &FieldError{Line: n.Line, Msg: "a point must be a mapping of parameter name to value"}
	}
	ps.Line = n.Line
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		def, ok := lookupParam(k.Value)
		if !ok {
			return &FieldError{Line: k.Line, Field: k.Value, Msg: yamlcheck.Unknown("parameter", k.Value, paramNames())}
		}
		if ps.Point.Get(k.Value) != "" {
			return &FieldError{Line: k.Line, Field: k.Value, Msg: "set twice"}
		}
		vals, err := axisValues(def, v, k.Value)
		if err != nil {
			return err
		}
		if len(vals) > 1 && def.name != "mode" {
			return &FieldError{Line: k.Line, Field: k.Value, Msg: "a listed point takes one value (only mode may list several)"}
		}
		for _, s := range vals {
			setParam(&ps.Point, k.Value, s)
		}
	}
	return nil
}

// DecodeSpec decodes the sweep section from a YAML node (a document, or the
// value of a scenario's `sweep:` key) strictly: unknown fields and bad values
// are *FieldError naming file, line, field and the closest valid name.
// Defaults are filled in and the whole section validated.
func DecodeSpec(filename string, n *yaml.Node) (*Spec, error) {
	if n == nil || (n.Kind == yaml.DocumentNode && len(n.Content) == 0) {
		return nil, &FieldError{File: filename, Msg: "empty sweep section"}
	}
	if err := yamlcheck.CheckAliases(filename, n); err != nil {
		return nil, err
	}
	if err := checkKnownFields(n, reflect.TypeOf(Spec{}), ""); err != nil {
		return nil, withFile(filename, err)
	}
	if err := yamlcheck.CheckNumbers(filename, n, reflect.TypeOf(Spec{}), ""); err != nil {
		return nil, withFile(filename, err)
	}
	var s Spec
	if err := n.Decode(&s); err != nil {
		return nil, withFile(filename, err)
	}
	s.file = filename
	line := n.Line
	if n.Kind == yaml.DocumentNode {
		line = n.Content[0].Line
	}
	if err := s.validate(fieldLines(n)); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) && fe.Line == 0 {
			fe.Line = line
		}
		return nil, withFile(filename, err)
	}
	return &s, nil
}

// withFile puts the file name on a FieldError, or prefixes a yaml error.
func withFile(filename string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		fe.File = filename
		if fe.Field != "" && !strings.HasPrefix(fe.Field, "sweep.") {
			fe.Field = "sweep." + fe.Field
		}
		return fe
	}
	return yamlcheck.WithFile(filename, err)
}

// fieldLines maps dotted field paths of the section to their lines, so that
// validation errors found after decoding still point at the right line.
func fieldLines(n *yaml.Node) map[string]int {
	out := map[string]int{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := joinPath(path, n.Content[i].Value)
				out[p] = n.Content[i].Line
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				out[p] = c.Line
				walk(c, p)
			}
		}
	}
	walk(n, "")
	return out
}

// lineOf is the line of field, or of its nearest written parent when the
// field itself is missing (a required value left out).
func lineOf(lines map[string]int, field string) int {
	for field != "" {
		if l, ok := lines[field]; ok {
			return l
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return 0
}

// File is the file the section came from.
func (s *Spec) File() string { return s.file }

func (s *Spec) validate(lines map[string]int) error {
	ferr := func(field, format string, a ...any) error {
		return &FieldError{Line: lineOf(lines, field), Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	if err := s.checkFinite(ferr); err != nil {
		return err
	}
	if err := s.validateDesign(ferr); err != nil {
		return err
	}
	if err := s.validateStatistics(ferr); err != nil {
		return err
	}
	if s.SLO != nil {
		if err := s.SLO.validate(ferr); err != nil {
			return err
		}
	}
	if s.Sizing != nil {
		if s.SLO == nil {
			return ferr("sizing", "sizing needs an slo section: the sizes found are the smallest meeting it")
		}
		if err := s.Sizing.validate(ferr); err != nil {
			return err
		}
	}
	if s.Cost != nil {
		if err := s.Cost.validate(ferr); err != nil {
			return err
		}
	}
	return nil
}

// validateDesign checks (and defaults) the replications and the design:
// cartesian over parameters or a list of points, within maxPoints.
func (s *Spec) validateDesign(ferr func(field, format string, a ...any) error) error {
	if s.Replications == 0 {
		s.Replications = 5
	}
	if s.Replications < 2 {
		return ferr("replications", "must be at least 2 so every figure has a confidence interval, got %d", s.Replications)
	}
	if s.Replications > 1000 {
		return ferr("replications", "must be at most 1000, got %d", s.Replications)
	}
	switch s.Design {
	case "":
		s.Design = "cartesian"
		if len(s.Points) > 0 && len(s.Parameters) == 0 {
			s.Design = "list"
		}
	case "cartesian", "list":
	default:
		return ferr("design", "%s", yamlcheck.Unknown("design", s.Design, []string{"cartesian", "list"}))
	}
	if s.Design == "cartesian" && len(s.Points) > 0 {
		return ferr("points", "points are for design: list; use parameters for a cartesian design")
	}
	if s.Design == "list" && len(s.Parameters) > 0 {
		return ferr("parameters", "a listed design takes points, not parameters")
	}
	if s.Design == "list" && len(s.Points) == 0 {
		return ferr("points", "design: list needs at least one point")
	}
	if n := s.designSize(); n > maxPoints {
		return ferr("parameters", "the design has %d points, more than %d; narrow the ranges or use design: list", n, maxPoints)
	}
	return nil
}

// validateStatistics checks (and defaults) the confidence level and the
// warm-up rule.
func (s *Spec) validateStatistics(ferr func(field, format string, a ...any) error) error {
	if s.Confidence == 0 {
		s.Confidence = 0.95
	}
	if s.Confidence <= 0 || s.Confidence >= 1 {
		return ferr("confidence", "must be between 0 and 1 (e.g. 0.95), got %g", s.Confidence)
	}
	switch s.Warmup {
	case "":
		s.Warmup = "mser5"
	case "mser5", "scenario":
	default:
		return ferr("warmup", "%s", yamlcheck.Unknown("warm-up rule", s.Warmup, []string{"mser5", "scenario"}))
	}
	return nil
}

// validate checks (and defaults) the sizing section: a positive load, the
// sized parameters (waypoint replicas and worker threads by default), the
// largest size, and an "at" that fixes only the other parameters.
func (z *SizingSpec) validate(ferr func(field, format string, a ...any) error) error {
	if z.Load <= 0 {
		return ferr("sizing.load", "must be a load multiplier > 0, got %g", z.Load)
	}
	if len(z.Parameters) == 0 {
		z.Parameters = []string{"waypointReplicas", "workerThreads"}
	}
	for i, p := range z.Parameters {
		if p != "waypointReplicas" && p != "workerThreads" {
			return ferr(fmt.Sprintf("sizing.parameters[%d]", i), "%s", yamlcheck.Unknown("sizing parameter", p, []string{"waypointReplicas", "workerThreads"}))
		}
	}
	if z.Max == 0 {
		z.Max = 16
	}
	if z.Max < 1 || z.Max > 1024 {
		return ferr("sizing.max", "must be between 1 and 1024, got %d", z.Max)
	}
	if z.At != nil && (z.At.Point.Load != 0 || len(z.At.Point.Modes) > 0 || z.At.Point.WaypointReplicas != 0 || z.At.Point.WorkerThreads != 0) {
		return ferr("sizing.at", "sizing sets load and the sized parameters and runs every mode; fix only the others")
	}
	return nil
}

func (o *SLOSpec) validate(ferr func(field, format string, a ...any) error) error {
	switch o.Metric {
	case "":
		o.Metric = "p99"
	case "p50", "p90", "p99", "p999", "error_rate":
	default:
		return ferr("slo.metric", "%s", yamlcheck.Unknown("metric", o.Metric, []string{"p50", "p90", "p99", "p999", "error_rate"}))
	}
	if o.Category == "" {
		o.Category = "all"
	}
	if o.Threshold <= 0 {
		return ferr("slo.threshold", "must be > 0 (ms for latency, a fraction for error_rate), got %g", o.Threshold)
	}
	if o.Metric == "error_rate" && o.Threshold >= 1 {
		return ferr("slo.threshold", "error_rate is a fraction: use e.g. 0.001 for 0.1%%, got %g", o.Threshold)
	}
	if q := o.Search; q != nil {
		if q.From == 0 {
			q.From = 0.1
		}
		if q.To == 0 {
			q.To = 10
		}
		if q.Tolerance == 0 {
			q.Tolerance = 0.02
		}
		if q.MaxSteps == 0 {
			q.MaxSteps = 12
		}
		if q.From <= 0 || q.To <= q.From {
			return ferr("slo.search", "needs 0 < from < to, got from %g to %g", q.From, q.To)
		}
		if q.Tolerance <= 0 || q.Tolerance >= 1 {
			return ferr("slo.search.tolerance", "must be between 0 and 1, got %g", q.Tolerance)
		}
		if q.MaxSteps < 1 || q.MaxSteps > 64 {
			return ferr("slo.search.maxSteps", "must be between 1 and 64, got %d", q.MaxSteps)
		}
		if q.At != nil && (q.At.Point.Load != 0 || len(q.At.Point.Modes) > 0) {
			return ferr("slo.search.at", "the search varies load and runs every mode; fix only the other parameters")
		}
	}
	return nil
}

// DefaultRequests are the Istio chart resource requests per proxy kind.
var DefaultRequests = map[string]ResourceRequest{
	"ztunnel":  {CPUCores: 0.2, MemoryGiB: 0.5},
	"waypoint": {CPUCores: 0.1, MemoryGiB: 0.125},
	"sidecar":  {CPUCores: 0.1, MemoryGiB: 0.125},
}

func (c *CostSpec) validate(ferr func(field, format string, a ...any) error) error {
	if c.Headroom == 0 {
		c.Headroom = 1.3
	}
	if c.Headroom < 1 {
		return ferr("cost.headroom", "must be >= 1 (1.3 = 30%% headroom), got %g", c.Headroom)
	}
	if len(c.Pods) == 0 {
		c.Pods = []int{100, 1000, 10000, 100000}
	}
	for i, p := range c.Pods {
		if p < 1 || p > 10_000_000 {
			return ferr(fmt.Sprintf("cost.pods[%d]", i), "must be between 1 and 10000000, got %d", p)
		}
	}
	if c.PodsPerNode < 0 {
		return ferr("cost.podsPerNode", "must be > 0, got %g", c.PodsPerNode)
	}
	if c.Load < 0 {
		return ferr("cost.load", "must be > 0, got %g", c.Load)
	}
	if c.At != nil && (c.At.Point.Load != 0 || len(c.At.Point.Modes) > 0) {
		return ferr("cost.at", "set the reference load with cost.load; the table covers every mode")
	}
	req := map[string]ResourceRequest{}
	for k, v := range DefaultRequests {
		req[k] = v
	}
	for k, v := range c.Requests {
		if _, ok := DefaultRequests[k]; !ok {
			return ferr("cost.requests."+k, "%s", yamlcheck.Unknown("proxy kind", k, []string{"sidecar", "waypoint", "ztunnel"}))
		}
		if v.CPUCores < 0 || v.MemoryGiB < 0 {
			return ferr("cost.requests."+k, "requests must not be negative")
		}
		req[k] = v
	}
	c.Requests = req
	return nil
}

// checkFinite rejects .nan and .inf wherever the section takes a number.
func (s *Spec) checkFinite(ferr func(field, format string, a ...any) error) error {
	nums := map[string]float64{"confidence": s.Confidence}
	if o := s.SLO; o != nil {
		nums["slo.threshold"] = o.Threshold
		if q := o.Search; q != nil {
			nums["slo.search.from"], nums["slo.search.to"], nums["slo.search.tolerance"] = q.From, q.To, q.Tolerance
		}
	}
	if s.Sizing != nil {
		nums["sizing.load"] = s.Sizing.Load
	}
	if c := s.Cost; c != nil {
		nums["cost.headroom"], nums["cost.podsPerNode"], nums["cost.load"] = c.Headroom, c.PodsPerNode, c.Load
		for k, r := range c.Requests {
			nums["cost.requests."+k+".cpuCores"], nums["cost.requests."+k+".memoryGiB"] = r.CPUCores, r.MemoryGiB
		}
	}
	fields := make([]string, 0, len(nums))
	for f := range nums {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		if v := nums[f]; math.IsNaN(v) || math.IsInf(v, 0) {
			return ferr(f, "must be a finite number, got %g", v)
		}
	}
	return nil
}
