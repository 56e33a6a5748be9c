package plots

import (
	"errors"
	"fmt"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// Options control what Build puts in the report.
type Options struct {
	// Command is the exact command line that regenerates this report; it is
	// printed in the reproducibility section.
	Command string
	// SLO is the service-level objective the executive summary judges each
	// mode against. A zero field falls back to the scenario's own objective
	// (summary.json "slo"); with neither, the summary shows the numbers and
	// says no verdict was asked for.
	SLO SLO
	// Sweep, when set, adds section 7 (load vs p99 with confidence bands,
	// SLO search, sizing and cost tables): the content of sweep.json.
	Sweep *results.Sweep
	// TopN caps per-item tables (components, services, path pairs) so a
	// 10,000-pod topology stays readable; 0 means DefaultTopN.
	TopN int
	// MaxGraphNodes caps the services drawn in graph charts; the busiest
	// services are kept. 0 means DefaultMaxGraphNodes.
	MaxGraphNodes int
}

// SLO is a latency and error objective for end-to-end requests.
type SLO struct {
	P99Ms         float64 `json:"p99_ms"`          // p99 latency bound; 0 = not checked
	MaxErrorRatio float64 `json:"max_error_ratio"` // failed/offered bound; 0 = not checked
}

// Set reports whether an objective was given.
func (s SLO) Set() bool { return s.P99Ms > 0 || s.MaxErrorRatio > 0 }

// Defaults for Options.
const (
	DefaultTopN          = 50
	DefaultMaxGraphNodes = 120
)

// Build turns a run's summary into the report's data model. It never
// modifies s. It returns an error only for a summary it cannot describe
// (nil, or from a newer schema).
func Build(s *results.Summary, opts Options) (*Report, error) {
	if s == nil {
		return nil, errors.New("plots: nil summary")
	}
	if s.SchemaVersion > results.SchemaVersion {
		return nil, fmt.Errorf("plots: summary schema_version %d is newer than this tool understands (%d): upgrade ambientsim",
			s.SchemaVersion, results.SchemaVersion)
	}
	if opts.TopN <= 0 {
		opts.TopN = DefaultTopN
	}
	if opts.MaxGraphNodes <= 0 {
		opts.MaxGraphNodes = DefaultMaxGraphNodes
	}
	b := &builder{s: s, opts: opts}
	// The scenario's own objective applies where the report flags set none.
	if s.SLO != nil {
		if opts.SLO.P99Ms <= 0 && s.SLO.P99Ms > 0 {
			b.opts.SLO.P99Ms, b.p99FromScenario = s.SLO.P99Ms, true
		}
		if opts.SLO.MaxErrorRatio <= 0 && s.SLO.MaxErrorRatio > 0 {
			b.opts.SLO.MaxErrorRatio, b.errFromScenario = s.SLO.MaxErrorRatio, true
		}
	}
	r := &Report{
		Title:    "ambientsim report: " + orDash(s.Scenario),
		Subtitle: s.Description,
	}
	add := func(id, title string, blocks []Block) {
		if blocks == nil {
			return
		}
		r.Sections = append(r.Sections, Section{ID: id, Number: len(r.Sections) + 1, Title: title, Blocks: blocks})
	}
	add("summary", "Executive summary", b.summary())
	add("topology", "Topology", b.topology())
	add("paths", "Request paths and policy findings", b.paths())
	add("latency", "Latency", b.latency())
	add("cost", "Cost", b.cost())
	add("failures", "Failures", b.failures())
	add("sweeps", "Sweeps", b.sweeps())
	add("readiness", "Rollout readiness", b.readiness())
	add("reproducibility", "Assumptions and reproducibility", b.reproducibility())
	return r, nil
}

// builder carries the inputs and hands out fixed chart IDs.
type builder struct {
	s    *results.Summary
	opts Options
	// p99FromScenario and errFromScenario: the SLO field came from the
	// scenario (summary.json "slo"), not from Options.
	p99FromScenario, errFromScenario bool
	// said holds the findings the answer has stated (findingKey), so a
	// later part of it does not repeat them.
	said map[string]bool
}

// chartID is the fixed element id of a chart: section plus a name chosen by
// the code (never by a manifest), plus an index where a section repeats
// charts.
func chartID(section, name string, index ...int) string {
	id := "chart-" + section + "-" + name
	for _, i := range index {
		id += fmt.Sprintf("-%d", i)
	}
	return id
}

func heading(s string) Block  { return Block{Heading: s} }
func text(s string) Block     { return Block{Text: s} }
func note(s string) Block     { return Block{Note: s} }
func items(s ...string) Block { return Block{Items: s} }
func code(s string) Block     { return Block{Code: s} }
func table(t *Table) Block    { return Block{Table: t} }
func chart(c *Chart) Block    { return Block{Chart: c} }
func cols(names ...string) []Column {
	c := make([]Column, len(names))
	for i, n := range names {
		c[i] = Column{Name: n}
	}
	return c
}

// numeric marks the named columns as numbers (right-aligned).
func numeric(c []Column, idx ...int) []Column {
	for _, i := range idx {
		c[i].Numeric = true
	}
	return c
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
