package plots

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/internal/golden"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

// The reports of the built-in scenarios answer the scenario's question in
// their first section. testdata/library holds the real results of every
// scenario in scenarios/library (gzipped; regenerate.sh writes them), so
// these tests see what users see, without running a simulation (plots
// reads results only).

// libraryCase is one built-in scenario's results, unpacked.
type libraryCase struct {
	name  string
	dir   string // unpacked results directory
	s     *results.Summary
	sweep *results.Sweep
}

// libraryCases unpacks the fixture of every scenario in
// ../scenarios/library; a scenario without one fails the test, so a new
// built-in scenario cannot go without an answer check.
func libraryCases(t *testing.T) []libraryCase {
	t.Helper()
	yamls, err := filepath.Glob("../scenarios/library/*.yaml")
	if err != nil || len(yamls) == 0 {
		t.Fatalf("no built-in scenarios found under ../scenarios/library: %v", err)
	}
	tmp := t.TempDir()
	var out []libraryCase
	for _, y := range yamls {
		name := strings.TrimSuffix(filepath.Base(y), ".yaml")
		src := filepath.Join("testdata", "library", name)
		dst := filepath.Join(tmp, name)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range []string{SummaryFile, SweepFile} {
			if gunzipFile(t, filepath.Join(src, f+".gz"), filepath.Join(dst, f)) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("built-in scenario %s has no fixture in %s: run bash plots/testdata/library/regenerate.sh", name, src)
			continue
		}
		s, sw, err := LoadDir(dst)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, libraryCase{name: name, dir: dst, s: s, sweep: sw})
	}
	return out
}

// gunzipFile unpacks src to dst; false when src does not exist.
func gunzipFile(t *testing.T, src, dst string) bool {
	t.Helper()
	f, err := os.Open(src)
	if os.IsNotExist(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return true
}

// wantFromContent is what any report's answer must say, derived from what
// the result contains (the same rules hold for a user's own scenario):
// failed requests per mode when failures were injected, the caller that
// got around a waypoint, the requests refused by policy, the sweep's load
// answer.
func wantFromContent(s *results.Summary, sw *results.Sweep) (lead, anywhere []string) {
	switch {
	case sw != nil && len(sw.Searches) > 0:
		lead = append(lead, "Largest load within")
	case len(s.Failures) > 0:
		perMode := map[string]int64{}
		var modes []string
		for _, f := range s.Failures {
			if _, ok := perMode[f.Mode]; !ok {
				modes = append(modes, f.Mode)
			}
			perMode[f.Mode] += f.FailedRequests
		}
		if len(modes) > 1 {
			for _, m := range modes {
				lead = append(lead, count(perMode[m])+" in "+m)
			}
		}
		for _, f := range s.Failures {
			anywhere = append(anywhere, f.Name)
		}
	}
	if len(s.Failures) == 0 && sw == nil {
		for _, m := range s.Modes {
			for _, e := range m.Edges {
				if e.Bypassed > 0 {
					lead = append(lead, e.Source, count(e.Bypassed)+" of its "+count(e.Calls)+" calls")
				}
			}
		}
	}
	for _, m := range s.Modes {
		if sp := splitFailures(m); sp.denied > 0 {
			anywhere = append(anywhere, count(sp.denied)+" requests", "refused by policy")
		}
	}
	for _, w := range s.WhatIf {
		anywhere = append(anywhere, w.Design)
	}
	return lead, anywhere
}

// wantByScenario is what each built-in scenario's answer must say, on top
// of wantFromContent: the words that answer its question.
var wantByScenario = map[string]struct{ lead, anywhere, not []string }{
	"waypoint-bypass": {
		lead:     []string{"caller gets around a waypoint", "payments/debug", "enforced only by waypoint/payments/waypoint"},
		anywhere: []string{"the intended outcome of the policies in force", "payments/reporting → payments/payment-api", "Fix"},
		not:      []string{"costs least"},
	},
	"waypoint-bypass-fixed": {
		lead:     []string{"No request gets around a waypoint", "payments/debug → payments/payment-api"},
		anywhere: []string{"Callers with no refused or failed call", "payments/checkout"},
	},
	"node-vs-sidecar-blast-radius": {lead: []string{"Requests failed by the injected failures", " vs "}, anywhere: []string{"hits nothing"}},
	"ztunnel-node-failure":         {lead: []string{"Requests failed by the injected failures"}, anywhere: []string{"sidecar does best", "contains the failures"}},
	"zone-partition":               {anywhere: []string{"waypoint per zone + PreferClose does best"}},
	"istiod-outage-cert-expiry":    {lead: []string{"in ambient", "in sidecar"}},
	"cni-bypass":                   {lead: []string{"crossed without mTLS", "never visible"}, anywhere: []string{"sidecar does best"}},
	"waypoint-chokepoint":          {lead: []string{"search-surge", "failed requests", "loadgen/shoppers"}, anywhere: []string{"does best"}},
	"waypoint-scope":               {lead: []string{"Failed requests per injected failure", "namespace-waypoint-crash", "dedicated-waypoint-crash 0"}},
	"modes-compare":                {lead: []string{"costs least", "vs out-of-mesh"}, anywhere: []string{"mesh total", "Break-even waypoint share"}},
	"cost-at-scale-100":            {lead: []string{"costs least"}, anywhere: []string{"Break-even waypoint share"}},
	"cost-at-scale-1000":           {lead: []string{"costs least"}, anywhere: []string{"Break-even waypoint share"}},
	"cost-at-scale-10000":          {lead: []string{"costs least"}, anywhere: []string{"Break-even waypoint share"}},
	"canary-virtualservice":        {lead: []string{"SIDECAR_ONLY_RESOURCE"}, anywhere: []string{"shop/reviews-v2", "Fix"}},
	"canary-httproute":             {lead: []string{"shop/reviews-v1", "shop/reviews-v2"}, anywhere: []string{"istio_requests_total reported by waypoint"}},
	"pooling":                      {lead: []string{"Callers of the same service compared", "mTLS handshake"}},
	"bookinfo-import":              {lead: []string{"p99"}, anywhere: []string{"request paths", "bookinfo/reviews"}},
	"large-cluster":                {lead: []string{"p99", "data plane"}},
	"capacity":                     {lead: []string{"Largest load within p99"}, anywhere: []string{"Sizing:", "Provisioned mesh cost at 100,000 pods"}},
	"node-saturation":              {lead: []string{"Largest load within p99", "instanceType=m5.large", "ambient up to", "sidecar up to"}},
}

// neverInAnswer are the old report's non-answers.
var neverInAnswer = []string{"no simulated modes", "first violating 0", "NaN"}

var digit = regexp.MustCompile(`[0-9]`)

// checkAnswerText applies the content rules and the scenario's own words to
// an answer's lead and its whole text.
func checkAnswerText(t *testing.T, c libraryCase, lead, all string) {
	t.Helper()
	if lead == "" {
		t.Fatalf("%s: the answer has no lead", c.name)
	}
	if !digit.MatchString(lead) {
		t.Errorf("%s: the lead states no number: %q", c.name, lead)
	}
	wl, wa := wantFromContent(c.s, c.sweep)
	want := wantByScenario[c.name]
	for _, w := range append(wl, want.lead...) {
		if !strings.Contains(lead, w) {
			t.Errorf("%s: the lead does not say %q:\n%s", c.name, w, lead)
		}
	}
	for _, w := range append(wa, want.anywhere...) {
		if !strings.Contains(all, w) {
			t.Errorf("%s: the answer does not say %q:\n%s", c.name, w, all)
		}
	}
	for _, w := range append(append([]string(nil), neverInAnswer...), want.not...) {
		if strings.Contains(lead, w) || (strings.Contains(all, w) && contains(neverInAnswer, w)) {
			t.Errorf("%s: the answer says %q:\n%s", c.name, w, all)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestLibraryAnswers checks the model: section 1 opens with the question
// and then the answer, for every built-in scenario.
func TestLibraryAnswers(t *testing.T) {
	for _, c := range libraryCases(t) {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := wantByScenario[c.name]; !ok {
				t.Errorf("no expectations for built-in scenario %s in wantByScenario: say what its answer must contain", c.name)
			}
			r, err := Build(c.s, Options{Sweep: c.sweep})
			if err != nil {
				t.Fatal(err)
			}
			sec := r.Sections[0]
			if sec.ID != "summary" || len(sec.Blocks) < 4 || sec.Blocks[0].Heading != "Question" || sec.Blocks[2].Heading != "Answer" || sec.Blocks[3].Answer == nil {
				t.Fatalf("section 1 does not open with the question and the answer: %+v", sec.Blocks[:min(4, len(sec.Blocks))])
			}
			if c.s.Question != "" && sec.Blocks[1].Text != c.s.Question {
				t.Errorf("question %q, want the scenario's %q", sec.Blocks[1].Text, c.s.Question)
			}
			a := sec.Blocks[3].Answer
			checkAnswerText(t, c, a.Lead, answerText(a))
			// Same results, same bytes: build and render again.
			r2, err := Build(c.s, Options{Sweep: c.sweep})
			if err != nil {
				t.Fatal(err)
			}
			var h1, h2 bytes.Buffer
			if err := renderPage(&h1, r, "/* echarts */"); err != nil {
				t.Fatal(err)
			}
			if err := renderPage(&h2, r2, "/* echarts */"); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(h1.Bytes(), h2.Bytes()) {
				t.Errorf("two renders differ: %s", golden.FirstDiff(h1.String(), h2.String()))
			}
			if testing.Verbose() {
				t.Logf("%s\n%s", c.name, answerText(a))
			}
		})
	}
}

// TestLibraryReportsAnswerFirst opens every built-in scenario's report in
// headless Chromium and reads the answer from the rendered page: the first
// section is the summary, the answer box comes before any table or chart,
// its lead is on the first screen, and its text (as the reader sees it)
// says what the scenario asks. The page must also load without errors or
// network requests, with every chart drawn. ARTIFACT_DIR keeps one
// screenshot per report and section.
func TestLibraryReportsAnswerFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; the full suite (go test ./...) runs it")
	}
	cases := libraryCases(t)
	browser := startBrowser(t, findChromium(t))
	shots := artifactDir(t)
	const firstScreenPx = 900 // the browser window's height
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := Options{Command: "ambientsim report " + c.name, Sweep: c.sweep}
			r, err := Build(c.s, opts)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(c.dir, "report.html")
			if err := WriteReport(c.s, path, opts); err != nil {
				t.Fatal(err)
			}
			var ids []string
			charts := 0
			for _, sec := range r.Sections {
				ids = append(ids, sec.ID)
				for _, b := range sec.Blocks {
					if b.Chart != nil {
						charts++
					}
				}
			}
			got, problems := loadInBrowser(t, browser, path, filepath.Join(shots, "library-"+c.name+".png"), ids, 20*time.Second)
			for _, p := range problems {
				t.Errorf("page problem: %s", p)
			}
			if got.Charts != charts || got.Rendered != charts {
				t.Errorf("charts in page %d, rendered %d; the model has %d", got.Charts, got.Rendered, charts)
			}
			a := got.Answer
			if a.Section != "summary" {
				t.Fatalf("the first section is %q, want the summary", a.Section)
			}
			if a.Index < 0 {
				t.Fatal("no answer box in the first section")
			}
			if a.FirstBox >= 0 && a.FirstBox < a.Index {
				t.Errorf("a table or chart (child %d) comes before the answer (child %d)", a.FirstBox, a.Index)
			}
			if a.LeadTop < 0 || a.LeadTop > firstScreenPx {
				t.Errorf("the answer's lead starts %.0f px down the page, below the first screen (%d px)", a.LeadTop, firstScreenPx)
			}
			if c.s.Question != "" && a.Question != c.s.Question {
				t.Errorf("question on the page %q, want %q", a.Question, c.s.Question)
			}
			checkAnswerText(t, c, a.Lead, a.Text)
		})
	}
}

// TestPathsOnlyAnswer: a result with paths and findings but no simulated
// mode (e.g. a topology audited before any traffic was modelled) still
// answers first, from the paths.
func TestPathsOnlyAnswer(t *testing.T) {
	var wb *libraryCase
	cases := libraryCases(t)
	for i := range cases {
		if cases[i].name == "waypoint-bypass" {
			wb = &cases[i]
		}
	}
	if wb == nil {
		t.Fatal("no waypoint-bypass fixture")
	}
	s := *wb.s
	s.Modes, s.Comparison, s.Failures, s.WhatIf = nil, nil, nil, nil
	r, err := Build(&s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := r.Sections[0].Blocks[3].Answer
	for _, w := range []string{"1 path skips the waypoint", "payments/debug → payments/payment-api:80", "enforced only by waypoint/payments/waypoint"} {
		if !strings.Contains(a.Lead, w) {
			t.Errorf("paths-only lead does not say %q: %s", w, a.Lead)
		}
	}
	if strings.Contains(answerText(a), "cores") {
		t.Errorf("paths-only answer talks about cost it does not have: %s", answerText(a))
	}
}

// TestOldSummaryAnswers: summary.json files written before edges, policy
// placements, Gateway status and the data plane / control plane totals
// existed still get an answer, from what they have.
func TestOldSummaryAnswers(t *testing.T) {
	want := map[string]string{
		"waypoint-bypass":              "1 path skips the waypoint that serves the destination",
		"node-vs-sidecar-blast-radius": "Requests failed by the injected failures",
		"modes-compare":                "costs least",
		"capacity":                     "Largest load within",
	}
	for _, c := range libraryCases(t) {
		w, ok := want[c.name]
		if !ok {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			s := *c.s
			s.Paths.Placements, s.Paths.Status, s.Observed = nil, nil, nil
			s.Modes = append([]results.ModeResult(nil), s.Modes...)
			for i := range s.Modes {
				s.Modes[i].Edges = nil
				s.Modes[i].Totals.DataPlane, s.Modes[i].Totals.ControlPlane = results.Cost{}, results.Cost{}
			}
			r, err := Build(&s, Options{Sweep: c.sweep})
			if err != nil {
				t.Fatal(err)
			}
			a := r.Sections[0].Blocks[3].Answer
			if a == nil || !strings.Contains(a.Lead, w) {
				t.Fatalf("lead %q, want it to contain %q", a.Lead, w)
			}
			if strings.Contains(answerText(a), "NaN") {
				t.Errorf("answer prints NaN: %s", answerText(a))
			}
		})
	}
}

// TestObservedAnswer: a run compared with a cluster's Prometheus says how
// far prediction and observation are apart, in the answer and in a table.
func TestObservedAnswer(t *testing.T) {
	var mc *libraryCase
	cases := libraryCases(t)
	for i := range cases {
		if cases[i].name == "modes-compare" {
			mc = &cases[i]
		}
	}
	if mc == nil {
		t.Fatal("no modes-compare fixture")
	}
	f := func(v float64) *float64 { return &v }
	s := *mc.s
	s.Observed = &results.Observed{Source: "prometheus http://prom:9090", Edges: []results.EdgeComparison{
		{Mode: "ambient", Source: "loadgen/client", Destination: "shop/frontend", Reporter: "destination", Protocol: "http",
			ObservedRPS: 500, PredictedRPS: 503.6, RateError: 0.0072, ObservedP99Ms: f(20), PredictedP99Ms: f(17.4)},
		{Mode: "ambient", Source: "shop/frontend", Destination: "shop/catalog", Reporter: "destination", Protocol: "http",
			ObservedRPS: 480, PredictedRPS: 503.6, RateError: 0.049, ObservedP99Ms: f(8), PredictedP99Ms: f(8.4)},
	}}
	r, err := Build(&s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := answerText(r.Sections[0].Blocks[3].Answer)
	for _, w := range []string{"Predicted against observed (prometheus http://prom:9090) on 2 edges", "rates within 4.9%",
		"p99 on 2 edges within 13.0% (worst loadgen/client → shop/frontend in ambient: predicted 17.4 ms, observed 20.0 ms)"} {
		if !strings.Contains(all, w) {
			t.Errorf("answer does not say %q:\n%s", w, all)
		}
	}
	var found bool
	for _, b := range section(t, r, "latency").Blocks {
		if b.Table != nil && strings.HasPrefix(b.Table.Caption, "Predicted against observed") {
			found = len(b.Table.Rows) == 2 && b.Table.Rows[0].Cells[1] == "loadgen/client → shop/frontend"
		}
	}
	if !found {
		t.Error("no predicted-against-observed table in section Latency")
	}
}
