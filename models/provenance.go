package models

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Provenance: one source per number. A profile with a `sources:` list
// declares where its numbers may come from, each with the Istio version and
// the test setup behind its figures, and `excluded_sources:` lists what was
// deliberately left out (third-party benchmark posts: vendors, bloggers,
// consultancies — the independent check, never the fit). Every parameter's
// `source` then starts with exactly one of:
//
//	[id] …        a declared source (its derivation says how)
//	assumed: …    no source; the reason follows
//	neutral …     an optional mechanism switched off
//	calibrated: … fitted by `ambientsim calibrate` on this project's data plane
//
// and never names an excluded source. A profile without `sources:` (older
// files) is checked as before: every number needs a source and a date.

// SourceKinds are the kinds a declared source may have: the Istio
// project's own documentation, blog and benchmark setups, its source code
// and charts (defaults and constants, not measurements), and this project's
// own data-plane measurements.
var SourceKinds = []string{"istio-docs", "istio-blog", "istio-benchmark-setup", "istio-source", "own-measurement"}

// ExcludedKinds classify third-party material kept out of the fit.
var ExcludedKinds = []string{"vendor", "blogger", "consultancy", "academic", "other"}

// Source is one place a profile's numbers come from.
type Source struct {
	ID           string `yaml:"id"`
	Kind         string `yaml:"kind"` // one of SourceKinds
	URL          string `yaml:"url"`
	File         string `yaml:"file,omitempty"` // repository, revision and path read
	IstioVersion string `yaml:"istio_version,omitempty"`
	// Setup is the test behind the figures (required for istio-docs,
	// istio-blog and own-measurement sources).
	Setup   *TestSetup `yaml:"setup,omitempty"`
	Figures string     `yaml:"figures,omitempty"` // the numbers used, as published
}

// TestSetup says how published figures were measured. Machine matters for
// CPU: per-vCPU figures are per core of that machine (node.reference_speed
// scales them to other machines).
type TestSetup struct {
	Machine     string `yaml:"machine"`
	Load        string `yaml:"load,omitempty"` // rate, payload, protocol
	Connections string `yaml:"connections,omitempty"`
	Mesh        string `yaml:"mesh,omitempty"` // what was in the cluster
	Notes       string `yaml:"notes,omitempty"`
}

// ExcludedSource is third-party material deliberately not used.
type ExcludedSource struct {
	URL  string `yaml:"url"`
	By   string `yaml:"by"` // one of ExcludedKinds
	What string `yaml:"what"`
	Why  string `yaml:"why"`
}

var sourceRef = regexp.MustCompile(`^\[([a-z0-9][a-z0-9.-]*)\] `)

// Basis classifies a parameter's source: the declared source id, or
// "assumed", "neutral", "calibrated"; "" when it follows no convention.
func Basis(source string) string {
	if m := sourceRef.FindStringSubmatch(source); m != nil {
		return m[1]
	}
	for _, b := range []string{"assumed", "neutral", "calibrated"} {
		if strings.HasPrefix(source, b) {
			return b
		}
	}
	if strings.HasPrefix(source, "not in the profile") {
		return "neutral"
	}
	return ""
}

// checkProvenance applies the one-source-per-number rules to a profile
// that declares its sources.
func checkProvenance(filename string, p *Profile, root *yaml.Node) error {
	if len(p.Sources) == 0 {
		if len(p.Excluded) > 0 {
			line, _ := nodeLine(root, "excluded_sources")
			return fmt.Errorf("%s:%d: excluded_sources: given without sources; declare the sources the numbers come from", filename, line)
		}
		return nil
	}
	var errs []error
	at := func(path string) int { l, _ := nodeLine(root, path); return l }
	ids := map[string]bool{}
	for i, s := range p.Sources {
		f := fmt.Sprintf("sources[%d]", i)
		line := at("sources")
		switch {
		case s.ID == "" || !sourceRef.MatchString("["+s.ID+"] "):
			errs = append(errs, fmt.Errorf("%s:%d: %s.id: %q; want lower-case letters, digits, dots and dashes", filename, line, f, s.ID))
		case ids[s.ID]:
			errs = append(errs, fmt.Errorf("%s:%d: %s.id: %q declared twice", filename, line, f, s.ID))
		}
		ids[s.ID] = true
		if !slices.Contains(SourceKinds, s.Kind) {
			errs = append(errs, fmt.Errorf("%s:%d: %s.kind: %q; want one of %s (third-party posts go under excluded_sources)", filename, line, f, s.Kind, strings.Join(SourceKinds, ", ")))
		}
		if s.URL == "" {
			errs = append(errs, fmt.Errorf("%s:%d: %s.url: missing", filename, line, f))
		}
		if (s.Kind == "istio-docs" || s.Kind == "istio-blog" || s.Kind == "own-measurement") && (s.Setup == nil || s.Setup.Machine == "") {
			errs = append(errs, fmt.Errorf("%s:%d: %s.setup.machine: missing; say what the figures were measured on (\"not stated\" if the page does not say)", filename, line, f))
		}
	}
	for i, e := range p.Excluded {
		f := fmt.Sprintf("excluded_sources[%d]", i)
		line := at("excluded_sources")
		if e.URL == "" || e.Why == "" {
			errs = append(errs, fmt.Errorf("%s:%d: %s: needs url and why", filename, line, f))
		}
		if !slices.Contains(ExcludedKinds, e.By) {
			errs = append(errs, fmt.Errorf("%s:%d: %s.by: %q; want one of %s", filename, line, f, e.By, strings.Join(ExcludedKinds, ", ")))
		}
	}
	walkQuantities(reflect.ValueOf(p).Elem(), "", func(path string, q *Quantity, present bool) {
		if !present {
			return
		}
		line := at(path)
		b := Basis(q.Source)
		switch {
		case b == "":
			errs = append(errs, fmt.Errorf("%s:%d: %s.source: %q; start it with [source-id] (one of the declared sources), \"assumed: <reason>\", \"neutral\" or \"calibrated\"", filename, line, path, q.Source))
		case b == "assumed" && len(strings.TrimLeft(strings.TrimPrefix(q.Source, "assumed"), " :(")) < 8:
			errs = append(errs, fmt.Errorf("%s:%d: %s.source: an assumption needs its reason (\"assumed: …\")", filename, line, path))
		case b != "assumed" && b != "neutral" && b != "calibrated" && !ids[b]:
			errs = append(errs, fmt.Errorf("%s:%d: %s.source: [%s] is not a declared source (have %s)", filename, line, path, b, strings.Join(sortedIDs(ids), ", ")))
		case countRefs(q.Source, ids)+countRefs(q.Derivation, ids) > 1:
			errs = append(errs, fmt.Errorf("%s:%d: %s.source: one source per number; split the derivation or name one source", filename, line, path))
		}
		for _, e := range p.Excluded {
			if e.URL != "" && (strings.Contains(q.Source, e.URL) || strings.Contains(q.Derivation, e.URL)) {
				errs = append(errs, fmt.Errorf("%s:%d: %s: uses excluded source %s (%s); excluded sources are the independent check, not the fit", filename, line, path, e.URL, e.By))
			}
		}
	})
	return errors.Join(errs...)
}

var anyRef = regexp.MustCompile(`\[([a-z0-9][a-z0-9.-]*)\]`)

// countRefs counts the declared source ids s names in brackets.
func countRefs(s string, ids map[string]bool) int {
	n := 0
	for _, m := range anyRef.FindAllStringSubmatch(s, -1) {
		if ids[m[1]] {
			n++
		}
	}
	return n
}

func sortedIDs(ids map[string]bool) []string {
	out := make([]string, 0, len(ids))
	for id := range ids {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// walkQuantities calls fn for every Quantity field with its dotted YAML
// path and whether the file gave it (optional fields it omits are filled
// with their neutral value by ParseProfile).
func walkQuantities(v reflect.Value, prefix string, fn func(path string, q *Quantity, present bool)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, ok := yamlPath(f, prefix)
		if !ok {
			continue
		}
		fv := v.Field(i)
		switch {
		case fv.Type() == reflect.TypeOf(Quantity{}):
			q := fv.Addr().Interface().(*Quantity)
			fn(name, q, q.Date != "-")
		case fv.Kind() == reflect.Struct:
			walkQuantities(fv, name, fn)
		}
	}
}

// ProvenanceRow is one parameter's provenance, for tables.
type ProvenanceRow struct {
	Path   string // dotted YAML path, e.g. ztunnel.memory_per_workload
	Value  float64
	Unit   string
	Basis  string // source id, assumed, neutral or calibrated
	Source string
}

// ProvenanceTable lists every parameter of the profile with its basis, in
// the file's order.
func (p *Profile) ProvenanceTable() []ProvenanceRow {
	var out []ProvenanceRow
	walkQuantities(reflect.ValueOf(p).Elem(), "", func(path string, q *Quantity, present bool) {
		out = append(out, ProvenanceRow{Path: path, Value: q.Value, Unit: q.Unit, Basis: Basis(q.Source), Source: q.Source})
	})
	return out
}
