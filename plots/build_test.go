package plots

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// goldenCase is one report built from a results directory under testdata.
type goldenCase struct {
	name string
	dir  string
	opts Options
}

func goldenCases() []goldenCase {
	return []goldenCase{
		// Real output of `ambientsim run modes-compare --out results/modes-compare`
		// (regenerate: see testdata/modes-compare/README).
		{"modes-compare", "testdata/modes-compare", Options{Command: "ambientsim report results/modes-compare -o report.html --slo-p99-ms 25", SLO: SLO{P99Ms: 25}}},
		// Hand-made: findings, a failure with series, what-ifs, readiness, a sweep.
		{"fixture", "testdata/fixture", Options{Command: "ambientsim report testdata/fixture -o report.html --slo-p99-ms 8 --slo-error-ratio 0.0001", SLO: SLO{P99Ms: 8, MaxErrorRatio: 0.0001}}},
		{"fixture-no-slo", "testdata/fixture", Options{Command: "ambientsim report testdata/fixture", TopN: 5, MaxGraphNodes: 4}},
		{"xss", "testdata/xss", Options{Command: "ambientsim report testdata/xss"}},
		{"minimal", "testdata/minimal", Options{Command: "ambientsim report testdata/minimal"}},
	}
}

// caseNamed returns the golden case with the given name.
func caseNamed(t testing.TB, name string) goldenCase {
	t.Helper()
	for _, c := range goldenCases() {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no golden case %q", name)
	return goldenCase{}
}

func loadCase(t testing.TB, c goldenCase) (*results.Summary, Options) {
	t.Helper()
	s, err := LoadResults(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := LoadSweep(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	c.opts.Sweep = sw
	return s, c.opts
}

// TestBuildGolden compares the report's data model (sections, tables, chart
// series) with testdata/golden/<case>.json. Regenerate with
// `go test ./plots -run TestBuildGolden -update` and review the diff.
func TestBuildGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			s, opts := loadCase(t, c)
			r, err := Build(s, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := goldenJSON(r)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", c.name+".json")
			golden.Check(t, path, got)
		})
	}
}

// scalarArray matches a JSON array of scalars spread over several lines.
var scalarArray = regexp.MustCompile(`\[\s*(?:"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null)(?:,\s*(?:"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null))*\s*\]`)

var spaceAfterComma = regexp.MustCompile(`,\s+`)

// goldenJSON is indented JSON with arrays of scalars (table cells, chart
// points) kept on one line, so a golden diff shows one row per line.
func goldenJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	b = scalarArray.ReplaceAllFunc(b, func(m []byte) []byte {
		inner := bytes.TrimSpace(m[1 : len(m)-1])
		return append(append([]byte("["), spaceAfterComma.ReplaceAll(inner, []byte(", "))...), ']')
	})
	return append(b, '\n'), nil
}

// TestBuildSections checks which sections appear for which data: failures
// and sweeps only when present, and the nine in order when all are.
func TestBuildSections(t *testing.T) {
	full, _ := loadCase(t, caseNamed(t, "fixture"))
	sweep, err := LoadSweep("testdata/fixture")
	if err != nil || sweep == nil {
		t.Fatalf("fixture sweep: %v", err)
	}
	noFail := *full
	noFail.Failures, noFail.WhatIf = nil, nil
	tests := []struct {
		name string
		s    *results.Summary
		opts Options
		want string
	}{
		{"everything", full, Options{Sweep: sweep}, "summary topology paths latency cost failures sweeps readiness reproducibility"},
		{"no sweep", full, Options{}, "summary topology paths latency cost failures readiness reproducibility"},
		{"no failures", &noFail, Options{}, "summary topology paths latency cost readiness reproducibility"},
		{"no modes", &results.Summary{SchemaVersion: 1}, Options{}, "summary reproducibility"},
		{"topology only", &results.Summary{SchemaVersion: 1, Topology: full.Topology, Paths: full.Paths}, Options{}, "summary topology paths readiness reproducibility"},
		{"sweep only", &results.Summary{SchemaVersion: 1}, Options{Sweep: sweep}, "summary sweeps reproducibility"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Build(tt.s, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for i, s := range r.Sections {
				ids = append(ids, s.ID)
				if s.Number != i+1 {
					t.Errorf("section %s numbered %d, want %d", s.ID, s.Number, i+1)
				}
			}
			if got := strings.Join(ids, " "); got != tt.want {
				t.Errorf("sections %q, want %q", got, tt.want)
			}
		})
	}
}

// TestChartsHaveCaptionsAndUniqueIDs: every chart says what to look for, and
// ids are unique and fixed (derived from code, never from names).
func TestChartsHaveCaptionsAndUniqueIDs(t *testing.T) {
	for _, c := range goldenCases() {
		s, opts := loadCase(t, c)
		r, err := Build(s, opts)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, sec := range r.Sections {
			for _, b := range sec.Blocks {
				ch := b.Chart
				if ch == nil {
					continue
				}
				if ch.Caption == "" || ch.Title == "" {
					t.Errorf("%s: chart %s has no title or caption", c.name, ch.ID)
				}
				if seen[ch.ID] {
					t.Errorf("%s: duplicate chart id %s", c.name, ch.ID)
				}
				seen[ch.ID] = true
				if strings.ContainsAny(ch.ID, "<>&\"' /") {
					t.Errorf("%s: chart id %q is not a plain token", c.name, ch.ID)
				}
			}
		}
	}
}

func TestSLOVerdicts(t *testing.T) {
	m := results.ModeResult{
		Mode:     "ambient",
		Requests: results.RequestCounts{Offered: 1000, Succeeded: 990, Failed: 10},
		Latency:  []results.LatencyRow{{Category: "all", P99Ms: 9}},
	}
	tests := []struct {
		slo      SLO
		want     string
		wantTone string
	}{
		{SLO{}, "no SLO set", ""},
		{SLO{P99Ms: 10}, "meets SLO", "pass"},
		{SLO{P99Ms: 8}, "misses SLO: p99 9.00 ms > 8.00 ms", "fail"},
		{SLO{MaxErrorRatio: 0.02}, "meets SLO", "pass"},
		{SLO{P99Ms: 8, MaxErrorRatio: 0.005}, "misses SLO: p99 9.00 ms > 8.00 ms, errors 1.0% > 0.5%", "fail"},
	}
	for _, tt := range tests {
		b := &builder{s: &results.Summary{}, opts: Options{SLO: tt.slo}}
		got, tone := b.verdict(m)
		if got != tt.want || tone != tt.wantTone {
			t.Errorf("SLO %+v: verdict %q (%s), want %q (%s)", tt.slo, got, tone, tt.want, tt.wantTone)
		}
	}
}

func TestBuildRejects(t *testing.T) {
	if _, err := Build(nil, Options{}); err == nil {
		t.Error("Build(nil) succeeded")
	}
	if _, err := Build(&results.Summary{SchemaVersion: results.SchemaVersion + 1}, Options{}); err == nil || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("newer schema: err = %v, want an upgrade hint", err)
	}
}
