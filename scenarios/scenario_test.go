package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/sim"
)

var histogramRE = regexp.MustCompile(`^(\w+?)(?:_bucket|_sum|_count)?(\{.*?)(?:,?le="[^"]*")?\}$`)

const base = `name: t
modes: [ambient]
topology:
  spec:
    nodes: {count: 1}
    namespaces:
      - name: a
        workloads: [{name: c}]
        services: [{name: s}]
    calls: [{from: a/c, to: a/s, rate: 10}]
`

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"top-level typo", base + "duraton: 60s\n", []string{"x.yaml:11", "duraton", `did you mean "duration"`}},
		{"nested typo", base + "traffic:\n  defaults:\n    protocl: http\n", []string{"x.yaml:13", "traffic.defaults.protocl", `"protocol"`}},
		{"edge typo", base + "traffic:\n  edges:\n    - {from: a/c, fanuot: 2}\n", []string{"x.yaml:13", "traffic.edges[0].fanuot", `"fanout"`}},
		{"dist typo", base + "apps:\n  - {workload: a/s, service_time: {dist: exponential, maen: 1ms}}\n", []string{"x.yaml:12", `"maen"`, `"mean"`}},
		{"bad duration", base + "duration: 60 seconds\n", []string{"x.yaml:11", "not a duration"}},
		{"bad size", base + "traffic:\n  defaults:\n    request_size: 1 KiBs\n", []string{"x.yaml:13", "not a size"}},
		{"bad mode", strings.Replace(base, "[ambient]", "[ambiant]", 1), []string{"x.yaml:2", "modes[0]", `did you mean "ambient"`}},
		{"bad protocol", base + "traffic:\n  defaults:\n    protocol: http3\n", []string{"traffic.defaults.protocol", "http3"}},
		{"topology typo", strings.Replace(base, "replicas", "replicas", 1) + "", nil},
		{"spec typo", strings.Replace(base, "services: [{name: s}]", "services: [{name: s, replica: 2}]", 1), []string{"x.yaml", "replica", "replicas"}},
		{"bad profile", base + "profile: istio-1.24-publish\n", []string{"x.yaml:11", "profile", `did you mean "istio-1.24-published"`}},
		{"no topology", "name: t\nmodes: [ambient]\n", []string{"x.yaml", "topology"}},
		{"manifests with modes", "name: t\nmodes: [sidecar]\ntopology: {manifests: [a.yaml]}\n", []string{"modes[0]", "as-manifests"}},
		{"bad dist", base + "apps:\n  - {workload: a/s, service_time: {dist: pareto, mean: 1ms, alpha: 0.5}}\n", []string{"x.yaml:12", "alpha"}},
		{"churn typo", base + "traffic:\n  churn: {pods_per_secnd: 2}\n", []string{"x.yaml:12", "traffic.churn.pods_per_secnd", `"pods_per_second"`}},
		{"negative churn", base + "traffic:\n  churn:\n    pods_per_second: -1\n", []string{"x.yaml:13", "traffic.churn.pods_per_second", "out of range", "pods/s"}},
		{"negative rollouts", base + "traffic:\n  churn:\n    rollouts_per_hour: -2\n", []string{"x.yaml:13", "traffic.churn.rollouts_per_hour", "out of range"}},
		{"empty churn", base + "traffic:\n  churn: {workloads: [\"a/*\"]}\n", []string{"x.yaml:12", "traffic.churn", "no churn"}},
		{"bad churn glob", base + "traffic:\n  churn:\n    pods_per_second: 1\n    workloads: [\"c\"]\n", []string{"x.yaml:14", "traffic.churn.workloads[0]", "namespace/name glob"}},
		{"negative config changes", base + "mesh: {config_changes_per_minute: -3}\n", []string{"x.yaml:11", "mesh.config_changes_per_minute", "out of range"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.yaml))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestChurnCompiles: traffic.churn reaches the model with its workload
// globs resolved, and a glob matching no workload is an error naming the
// file, line and field.
func TestChurnCompiles(t *testing.T) {
	sc, err := Parse("x.yaml", []byte(base+"traffic:\n  churn:\n    pods_per_second: 2.5\n    rollouts_per_hour: 6\n    workloads: [\"a/s*\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	top, err := sc.BuildTopology(ModeAmbient)
	if err != nil {
		t.Fatal(err)
	}
	prof, _ := models.LoadProfile("")
	cfg, err := sc.compile(top, prof, ModeAmbient, 1, sim.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Churn; c.PodsPerSecond != 2.5 || c.RolloutsPerHour != 6 || len(c.Workloads) != 1 || c.Workloads[0].ID() != "a/s" {
		t.Errorf("churn %+v, want 2.5 pods/s, 6 rollouts/h on a/s", c)
	}
	sc, err = Parse("x.yaml", []byte(base+"traffic:\n  churn:\n    pods_per_second: 1\n    workloads: [\"a/c\", \"b/*\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	top, _ = sc.BuildTopology(ModeAmbient)
	_, err = sc.compile(top, prof, ModeAmbient, 1, sim.Second, 0)
	if err == nil || !strings.Contains(err.Error(), "x.yaml:14") || !strings.Contains(err.Error(), `traffic.churn.workloads[1]: "b/*" matches no workload`) {
		t.Errorf("unmatched churn glob: %v", err)
	}
}

func TestParseValues(t *testing.T) {
	sc, err := Parse("x.yaml", []byte(base+`duration: 1m30s
warmup: 0s
traffic:
  defaults:
    request_size: 1.5KiB
    response_size: {dist: lognormal, mean: 4KB, cv: 0.5}
apps:
  - {workload: a/s, service_time: 2ms}
`))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Duration.T() != 90*sim.Second || sc.Warmup != 0 {
		t.Errorf("duration %v warmup %v", sc.Duration.T(), sc.Warmup.T())
	}
	if got := sc.Traffic.Defaults.RequestSize.Spec; got.Kind != sim.DistConstant || got.Mean != 1536 {
		t.Errorf("request size %+v", got)
	}
	if got := sc.Traffic.Defaults.ResponseSize.Spec; got.Kind != "lognormal" || got.Mean != 4000 || got.CV != 0.5 {
		t.Errorf("response size %+v", got)
	}
	if got := sc.Apps[0].ServiceTime.Spec; got.Mean != 2e6 {
		t.Errorf("service time %+v", got)
	}
}

func TestLibrary(t *testing.T) {
	lib := Library()
	if len(lib) < 3 {
		t.Fatalf("library has %d scenarios", len(lib))
	}
	for _, e := range lib {
		if e.Description == "" {
			t.Errorf("%s: no description (or it does not parse)", e.Name)
		}
		sc, err := Load(e.Name)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		if e.Name == "large-cluster" {
			continue // built in the benchmark
		}
		for _, m := range sc.Modes {
			if _, err := sc.BuildTopology(m); err != nil {
				t.Errorf("%s mode %s: %v", e.Name, m, err)
			}
		}
	}
	if _, err := Load("no-such-scenario"); err == nil || !strings.Contains(err.Error(), "scenarios list") {
		t.Errorf("unknown scenario error: %v", err)
	}
}

func runSmall(t *testing.T, dur sim.Time) *Run {
	t.Helper()
	sc, err := Load("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(sc, Options{Command: "ambientsim run testdata/small.yaml --out OUT", Duration: dur})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestGoldenSummary pins the summary.json of a small scenario. Regenerate
// with: go test ./scenarios/ -run TestGoldenSummary -update
func TestGoldenSummary(t *testing.T) {
	js, err := SummaryJSON(runSmall(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "small.summary.json"), js)
}

// TestDeterministic: same inputs and seed give a byte-identical summary.json;
// another seed gives a different one.
func TestDeterministic(t *testing.T) {
	sc, err := Load("modes-compare")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, seed := range []uint64{1, 1, 2} {
		s := seed
		run, err := Execute(sc, Options{Seed: &s, Duration: 3 * sim.Second})
		if err != nil {
			t.Fatal(err)
		}
		js, err := SummaryJSON(run)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, js)
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Error("two runs with the same seed differ")
	}
	if bytes.Equal(out[0], out[2]) {
		t.Error("a different seed gave the same summary")
	}
}

// TestCommonRandomNumbers: every mode sees the same external arrivals.
func TestCommonRandomNumbers(t *testing.T) {
	run := runSmall(t, 0)
	s := run.Summary
	for _, m := range s.Modes[1:] {
		if m.Requests.Offered != s.Modes[0].Requests.Offered {
			t.Errorf("mode %s offered %d, mode %s offered %d", m.Mode, m.Requests.Offered, s.Modes[0].Mode, s.Modes[0].Requests.Offered)
		}
	}
	if len(s.Comparison) == 0 || len(s.Comparison[0].Values) != len(s.Modes) {
		t.Errorf("comparison table %+v", s.Comparison)
	}
}

func TestWrite(t *testing.T) {
	run := runSmall(t, 0)
	dir := t.TempDir()
	files, err := run.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("wrote %v", files)
	}
	var sum map[string]any
	data, _ := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	prom, _ := os.ReadFile(filepath.Join(dir, MetricsFile))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(prom))
	if err != nil {
		t.Fatalf("metrics.prom does not parse: %v", err)
	}
	for _, name := range []string{"istio_requests_total", "istio_request_duration_milliseconds", "istio_tcp_connections_opened_total", "istio_tcp_sent_bytes_total"} {
		if fams[name] == nil {
			t.Errorf("metrics.prom has no %s", name)
		}
	}
	om, _ := os.ReadFile(filepath.Join(dir, OpenMetricsFile))
	checkOpenMetrics(t, om)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("leftover temp files: %v", entries)
	}
}

// checkOpenMetrics checks the structure promtool's backfill needs: # EOF at
// the end, every sample timestamped, each series' timestamps increasing and
// its samples contiguous.
func checkOpenMetrics(t *testing.T, om []byte) {
	t.Helper()
	text := string(om)
	if !strings.HasSuffix(text, "# EOF\n") {
		t.Fatal("metrics.om does not end with # EOF")
	}
	last := map[string]float64{}
	done := map[string]bool{}
	prev := ""
	for _, line := range strings.Split(strings.TrimSuffix(text, "# EOF\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		sample := line[:strings.LastIndexByte(line[:i], ' ')]
		var ts float64
		if _, err := fmtSscan(line[i+1:], &ts); err != nil || ts < 1.7e9 {
			t.Fatalf("sample without a timestamp: %q", line)
		}
		// A histogram's metric point is its _bucket/_sum/_count lines;
		// a metric's points must be contiguous and in time order.
		metric := histogramRE.ReplaceAllString(sample, "$1$2")
		if metric != prev && done[metric] {
			t.Fatalf("metric points not contiguous: %s", metric)
		}
		if ts <= last[sample] {
			t.Fatalf("timestamps not increasing for %s", sample)
		}
		if prev != "" && metric != prev {
			done[prev] = true
		}
		last[sample], prev = ts, metric
	}
	if len(last) == 0 {
		t.Fatal("metrics.om has no samples")
	}
}

// TestSchemaCoversTypes: every field the parser accepts is in the schema,
// and the library files validate against it.
func TestSchemaCoversTypes(t *testing.T) {
	js, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(js, &schema); err != nil {
		t.Fatal(err)
	}
	yamlNodeT := reflect.TypeOf(yaml.Node{})
	unmarshalerT := reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	var walk func(tp reflect.Type, s map[string]any, path string)
	walk = func(tp reflect.Type, s map[string]any, path string) {
		for tp.Kind() == reflect.Pointer || tp.Kind() == reflect.Slice {
			tp = tp.Elem()
			if it, ok := s["items"].(map[string]any); ok {
				s = it
			}
		}
		if tp.Kind() != reflect.Struct || reflect.PointerTo(tp).Implements(unmarshalerT) || tp == yamlNodeT {
			return
		}
		props, _ := s["properties"].(map[string]any)
		for name, ft := range yamlFields(tp) {
			p, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("schema lacks %s.%s", path, name)
				continue
			}
			walk(ft, p, path+"."+name)
		}
	}
	walk(reflect.TypeOf(Scenario{}), schema, "")
	for _, e := range Library() {
		data, _ := LibraryFile(e.Name)
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		validate(t, e.Name, doc, schema, "")
	}
}

// validate is a small JSON-Schema checker: object properties,
// additionalProperties false, items and enums.
func validate(t *testing.T, file string, v any, s map[string]any, path string) {
	if enum, ok := s["enum"].([]any); ok {
		for _, e := range enum {
			if e == v {
				return
			}
		}
		t.Errorf("%s %s: %v not in %v", file, path, v, enum)
		return
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if props == nil {
			return
		}
		for k, val := range x {
			p, ok := props[k].(map[string]any)
			if !ok {
				if s["additionalProperties"] == false {
					t.Errorf("%s %s: %q not allowed by the schema", file, path, k)
				}
				continue
			}
			validate(t, file, val, p, path+"."+k)
		}
	case []any:
		if it, ok := s["items"].(map[string]any); ok {
			for _, e := range x {
				validate(t, file, e, it, path+"[]")
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, e := range Library() {
		data, _ := LibraryFile(e.Name)
		f.Add(data)
	}
	f.Add([]byte(base))
	f.Add([]byte("duration: [1]\ntraffic: {defaults: {request_size: {dist: x}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.yaml", data)
		if err == nil && sc.Name == "" {
			t.Error("parsed scenario without a name")
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1KiB", "0", "1.5MB", "-1", "1e30", "KiB", " 3 GiB "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		z, err := ParseSize(s)
		if err == nil && z < 0 {
			t.Errorf("ParseSize(%q) = %d", s, z)
		}
	})
}

// TestOpenMetricsPromtool backfills metrics.om with promtool when it is
// installed (go install github.com/prometheus/prometheus/cmd/promtool@latest).
func TestOpenMetricsPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed")
	}
	dir := t.TempDir()
	if _, err := runSmall(t, 0).Write(dir); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics",
		filepath.Join(dir, OpenMetricsFile), filepath.Join(dir, "tsdb")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool rejected metrics.om: %v\n%s", err, out)
	}
}

// TestPoolingScenario: the built-in pooling scenario shows what pooling
// buys: per-request connections cost latency, and bursts past the stream cap
// cost handshakes, against the same arrivals.
func TestPoolingScenario(t *testing.T) {
	sc, err := Load("pooling")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(sc, Options{Duration: 10 * sim.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := map[string]results.EdgeResult{}
	for _, r := range run.Summary.Modes[0].Edges {
		e[strings.TrimPrefix(r.Source, "clients/")] = r
	}
	bk, bp := e["bursty-keepalive"], e["bursty-perrequest"]
	if bk.RateRPS != bp.RateRPS {
		t.Errorf("bursty pair started %.3f and %.3f calls/s; they share an arrival stream", bk.RateRPS, bp.RateRPS)
	}
	if !(bp.Handshakes > 10*bk.Handshakes && bp.HandshakeCPUMs > 10*bk.HandshakeCPUMs) {
		t.Errorf("bursty per-request handshakes %d (%.1f ms CPU) vs keep-alive %d (%.1f ms)", bp.Handshakes, bp.HandshakeCPUMs, bk.Handshakes, bk.HandshakeCPUMs)
	}
	// (p99 differs by less than a histogram bucket over 10 s; the mean is exact.)
	if !(bp.MeanMs > bk.MeanMs) || !(e["perrequest"].P50Ms > e["keepalive"].P50Ms) {
		t.Errorf("per-request should be slower: bursty mean %.3f vs %.3f, steady p50 %.3f vs %.3f",
			bp.MeanMs, bk.MeanMs, e["perrequest"].P50Ms, e["keepalive"].P50Ms)
	}
}

// TestManifestScenario: manifests carry no call graph; exact traffic edges
// with a rate add it.
func TestManifestScenario(t *testing.T) {
	sc, err := Load("testdata/manifests.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := run.Summary.Modes[0]
	if m.Requests.Succeeded == 0 || len(m.Edges) != 1 || m.Edges[0].Category != "ambient-l4" {
		t.Errorf("requests %+v edges %+v", m.Requests, m.Edges)
	}
	bad := strings.Replace(string(sc.Raw()), "to: shop/api", "to: shop/nope", 1)
	sc2, err := Parse("testdata/manifests.yaml", []byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Execute(sc2, Options{}); err == nil || !strings.Contains(err.Error(), "traffic.edges[0].to") {
		t.Errorf("unknown service in a traffic edge: %v", err)
	}
}

func TestOnOffNeedsPeriods(t *testing.T) {
	sc, err := Parse("x.yaml", []byte(base+"traffic:\n  defaults: {arrival: on-off}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Execute(sc, Options{}); err == nil || !strings.Contains(err.Error(), "on_period") {
		t.Errorf("on-off without periods: %v", err)
	}
}

// TestStrictErrorsWordedAlike: the scenario, topology-spec and sweep
// parsers word an unknown field the same way (one yamlcheck.FieldError).
func TestStrictErrorsWordedAlike(t *testing.T) {
	doc := `name: x
modes: [ambient]
topology:
  spec:
    nodes: {cuont: 2}
    namespaces: [{name: a, services: [{name: s}]}]
`
	tests := []struct{ name, in, want string }{
		{"scenario", strings.Replace(doc, "modes:", "mdoes:", 1), `x.yaml:2: mdoes: unknown field "mdoes" (did you mean "modes"?)`},
		{"topology spec", doc, `x.yaml:5: topology.spec.nodes.cuont: unknown field "cuont" (did you mean "count"?)`},
		{"sweep", strings.Replace(doc, "cuont", "count", 1) + "sweep: {replicatoins: 2, parameters: {load: [1]}}\n", `x.yaml:7: sweep.replicatoins: unknown field "replicatoins" (did you mean "replications"?)`},
	}
	for _, tt := range tests {
		_, err := Parse("x.yaml", []byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got  %v\nwant %s", tt.name, err, tt.want)
		}
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %T is not a FieldError", tt.name, err)
		}
	}
}

// TestRoutesScenario runs testdata/routes.yaml end to end and checks the
// split per match against the hand-computed expectations in its header,
// then pins its summary.json (go test ./scenarios/ -run TestRoutesScenario -update).
func TestRoutesScenario(t *testing.T) {
	sc, err := Load("testdata/routes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(sc, Options{Command: "ambientsim run testdata/routes.yaml --out OUT"})
	if err != nil {
		t.Fatal(err)
	}
	js, err := SummaryJSON(run)
	if err != nil {
		t.Fatal(err)
	}
	var sum results.Summary
	if err := json.Unmarshal(js, &sum); err != nil {
		t.Fatal(err)
	}
	edges := sum.Modes[0].Edges
	if len(edges) != 1 || len(edges[0].Routes) != 3 {
		t.Fatalf("edges = %+v", edges)
	}
	byName := map[string]results.RouteResult{}
	for _, r := range edges[0].Routes {
		byName[r.Request] = r
	}
	share := func(r results.RouteResult, backend string) (float64, int64) {
		var tot, n, failed int64
		for _, b := range r.Backends {
			tot += b.Calls
			if b.Backend == backend {
				n, failed = b.Calls, b.Failed
			}
		}
		if tot == 0 {
			t.Fatalf("%s: no calls", r.Request)
		}
		return float64(n) / float64(tot), failed
	}
	calls := float64(edges[0].Calls)
	for _, c := range []struct {
		req, backend string
		rule         int
		want, tol    float64 // share of the request's calls
		mix          float64 // share of the edge's calls
		allFail      bool
	}{
		{"beta", "shop/reviews-v2", 0, 1, 0, 0.25, false},
		{"api", "shop/reviews-v1", 1, 0.5, 0.05, 0.5, false},
		{"other", "shop/reviews-v1", 2, 0.9, 0.04, 0.25, false},
		{"other", "shop/reviews-v3", 2, 0.1, 0.04, 0.25, true},
	} {
		r := byName[c.req]
		if r.Rule != c.rule || r.Route != "HTTPRoute/shop/reviews" {
			t.Errorf("%s: route %s rule %d, want rule %d", c.req, r.Route, r.Rule, c.rule)
		}
		got, failed := share(r, c.backend)
		if math.Abs(got-c.want) > c.tol {
			t.Errorf("%s -> %s: share %.3f, want %.2f ± %.2f", c.req, c.backend, got, c.want, c.tol)
		}
		var n int64
		for _, b := range r.Backends {
			n += b.Calls
		}
		if m := float64(n) / calls; math.Abs(m-c.mix) > 0.04 {
			t.Errorf("%s: %.3f of the edge's calls, want %.2f", c.req, m, c.mix)
		}
		if c.allFail {
			for _, b := range r.Backends {
				if b.Backend == c.backend && (b.Failed != b.Calls || b.Calls == 0) {
					t.Errorf("%s -> %s: %d of %d failed; the canary has no pods, every call drawn to it must fail", c.req, c.backend, b.Failed, b.Calls)
				}
			}
		} else if failed != 0 {
			t.Errorf("%s -> %s: %d failed", c.req, c.backend, failed)
		}
	}
	golden.Check(t, filepath.Join("testdata", "routes.summary.json"), js)
}
