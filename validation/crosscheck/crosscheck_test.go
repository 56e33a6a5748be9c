package crosscheck

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/internal/golden"

	"github.com/ambientsim/ambientsim/validation/harness"
)

func TestNumberRow(t *testing.T) {
	tests := []struct {
		name      string
		pred, mes float64
		target    float64
		wantRel   float64 // NaN = null
		wantPass  string  // "pass", "miss", "report"
	}{
		{"within", 1.05, 1, 0.10, 0.05, "pass"},
		{"at the target", 1.1, 1, 0.10, 0.10, "pass"},
		{"over", 0.8, 1, 0.10, 0.2, "miss"},
		{"report only", 2, 1, 0, 1, "report"},
		{"both zero", 0, 0, 0.15, 0, "pass"},
		{"measured zero", 1, 0, 0.15, math.NaN(), "miss"},
		{"not available", math.NaN(), 1, 0.25, math.NaN(), "miss"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NumberRow("s", "m", tt.pred, tt.mes, tt.target)
			switch {
			case math.IsNaN(tt.wantRel) && r.RelativeError != nil:
				t.Errorf("relative error %v, want null", *r.RelativeError)
			case !math.IsNaN(tt.wantRel) && (r.RelativeError == nil || math.Abs(*r.RelativeError-tt.wantRel) > 1e-12):
				t.Errorf("relative error %v, want %v", r.RelativeError, tt.wantRel)
			}
			got := "report"
			if r.Pass != nil {
				got = map[bool]string{true: "pass", false: "miss"}[*r.Pass]
			}
			if got != tt.wantPass {
				t.Errorf("verdict %s, want %s", got, tt.wantPass)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("marshal: %v", err)
			}
		})
	}
}

func TestSetRow(t *testing.T) {
	r := SetRow("blast", "affected_pods", []string{"b", "a"}, []string{"a", "b"})
	if r.Pass == nil || !*r.Pass || *r.RelativeError != 0 {
		t.Errorf("equal sets in another order: %+v, want pass", r)
	}
	r = SetRow("blast", "affected_pods", []string{"a"}, []string{"a", "c"})
	if r.Pass == nil || *r.Pass || !strings.Contains(r.Note, "measured {a, c}") {
		t.Errorf("different sets: %+v, want a miss naming both", r)
	}
	b, _ := json.Marshal(SetRow("s", "m", nil, nil))
	if !strings.Contains(string(b), `"predicted_set":[]`) {
		t.Errorf("empty sets marshal as %s, want []", b)
	}
}

func TestRowJSONFields(t *testing.T) {
	b, err := json.Marshal(NumberRow("same-node-l4", "p50_ms a→b", math.NaN(), 0.3333333333, 0.1))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "metric", "predicted", "measured", "relative_error", "target", "pass"} {
		if _, ok := m[k]; !ok {
			t.Errorf("row JSON %s lacks %q", b, k)
		}
	}
	if m["predicted"] != nil || m["measured"] != 0.333333 || m["pass"] != false || m["target"] != "10%" {
		t.Errorf("row JSON %s", b)
	}
}

func TestSummarize(t *testing.T) {
	rows := []Row{NumberRow("s", "a", 1, 1, 0.1), NumberRow("s", "b", 2, 1, 0.1), NumberRow("s", "c", 2, 1, 0)}
	if got := Summarize(rows); got != (Summary{Rows: 3, Passed: 1, Missed: 1, ReportOnly: 1}) {
		t.Errorf("Summarize = %+v", got)
	}
}

func TestCompare(t *testing.T) {
	sc := Scenarios(time.Second)[3] // blast
	pred := &Prediction{CPUSeconds: map[string]float64{"nodeproxy/node-a": 0.1, "nodeproxy/node-b": 0.05, "echo/server-a": 1},
		Affected: []string{"client-b"}, FailedByFailure: 100}
	meas := &Prediction{CPUSeconds: map[string]float64{"nodeproxy/node-a": 0.2, "nodeproxy/node-b": 0.05, "echo/server-a": 0.1},
		Affected: []string{"client-b"}, FailedByFailure: 110}
	rows := Compare(sc, pred, meas)
	var metrics []string
	for _, r := range rows {
		metrics = append(metrics, r.Metric)
	}
	if got := strings.Join(metrics, ","); got != "cpu_s nodeproxy/node-a,cpu_s nodeproxy/node-b,failed_requests,affected_pods" {
		t.Fatalf("rows %s", got)
	}
	if rows[0].Pass == nil || *rows[0].Pass {
		t.Errorf("node-a CPU 0.1 vs 0.2: want a miss")
	}
	if rows[1].Pass != nil {
		t.Errorf("the killed proxy's CPU is report only, got %+v", rows[1])
	}
	if rows[3].Pass == nil || !*rows[3].Pass {
		t.Errorf("affected pods: want pass")
	}
}

func TestMirrorGolden(t *testing.T) {
	for _, sc := range Scenarios(2 * time.Second) {
		dir := t.TempDir()
		if _, err := Mirror(dir, Plan(), sc.Experiment); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"scenario.yaml", "manifests.yaml"} {
			got, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", sc.Name+"-"+f), got)
		}
	}
}

func TestMirrorRejectsWhatItCannotFollow(t *testing.T) {
	plan := Plan()
	base := func() *harness.Experiment {
		return &harness.Experiment{Name: "x", Loads: []harness.Load{{From: "client-a", Target: "server-a", RatePerSec: 10, Duration: time.Second}}}
	}
	tests := []struct {
		name string
		edit func(e *harness.Experiment)
		want string
	}{
		{"closed loop", func(e *harness.Experiment) { e.Loads[0].RatePerSec = 0 }, "closed-loop"},
		{"literal address", func(e *harness.Experiment) { e.Loads[0].Target = "1.2.3.4:80" }, "ip:port"},
		{"same pair twice", func(e *harness.Experiment) { e.Loads = append(e.Loads, e.Loads[0]) }, "one edge per pair"},
		{"waypoint failure", func(e *harness.Experiment) {
			e.Failures = []harness.FailureAction{{Action: harness.FailKill, Target: "waypoint/waypoint"}}
		}, "only node-proxy failures"},
		{"restart", func(e *harness.Experiment) {
			e.Failures = []harness.FailureAction{{Action: harness.FailRestart, Target: "nodeproxy/node-a"}}
		}, "only kill/stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base()
			tt.edit(e)
			_, err := Mirror(t.TempDir(), plan, e)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSimulatedBlastRadiusIsTheKilledNodesClients(t *testing.T) {
	sc := Scenarios(2 * time.Second)[3]
	run, err := Simulate(t.TempDir(), Plan(), sc.Experiment, "istio-1.24-published", 0)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := Predict(run, Plan(), sc.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(pr.Affected, ",") != "client-b" {
		t.Errorf("affected %v, want [client-b]: only client-b's traffic crosses node-b's proxy", pr.Affected)
	}
	if pr.FailedByFailure < 250 || pr.FailedByFailure > 350 {
		t.Errorf("failed by the failure %d, want ~300 (300 rps for the last second)", pr.FailedByFailure)
	}
	if pr.Loads[2].Errors != 0 {
		t.Errorf("sidecar load failed %d calls: sidecars do not use the node proxy", pr.Loads[2].Errors)
	}
}

func TestMeasuredAffectedNeedsAFailure(t *testing.T) {
	res := &harness.FortioResult{RetCodes: map[string]int64{"200": 90, "-1": 10}}
	res.DurationHistogram.Percentiles = []harness.FortioPercentile{{Percentile: 50, Value: 0.001}}
	m := &harness.Measurement{Loads: []harness.LoadResult{
		{Load: harness.Load{From: "client-b"}, Result: res},
		{Load: harness.Load{From: "client-c"}, Result: &harness.FortioResult{RetCodes: map[string]int64{"200": 100}}},
	}, Processes: []harness.ProcessUsage{{Process: "nodeproxy/node-a", Kind: harness.KindNodeProxy, CPUSeconds: 0.5},
		{Process: "loadgen/x", Kind: harness.KindLoadGen, CPUSeconds: 9}}}
	got := Measured(m)
	if len(got.Affected) != 0 {
		t.Errorf("affected %v without a failure, want none", got.Affected)
	}
	if got.Loads[0].P50 != 1 || got.Loads[0].Errors != 10 || got.Loads[0].Calls != 100 || !math.IsNaN(got.Loads[0].P99) {
		t.Errorf("load 0 = %+v", got.Loads[0])
	}
	if _, ok := got.CPUSeconds["loadgen/x"]; ok || got.CPUSeconds["nodeproxy/node-a"] != 0.5 {
		t.Errorf("CPU %v: want proxies, not load generators", got.CPUSeconds)
	}
	m.Events = []harness.Event{{Action: harness.FailKill, Target: "nodeproxy/node-b"}}
	if got := Measured(m); strings.Join(got.Affected, ",") != "client-b" {
		t.Errorf("affected %v, want [client-b]", got.Affected)
	}
}

func TestHTMLSaysWhatMissed(t *testing.T) {
	rep := &Report{Profile: ProfileInfo{Name: "p", Provenance: "calibrated on X"}, Backend: "local",
		NotEmulated: []string{"cross-zone latency 1ms (one way) not emulated: sch_netem unavailable on this kernel"},
		Rows:        []Row{NumberRow("s", "p50_ms a→b", 2, 1, 0.1), NumberRow("s", "cpu_s x", 1, 1, 0.15)}}
	rep.Summary = Summarize(rep.Rows)
	b, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"<b>1</b> rows pass", "<b>1</b> miss", "MISS", "sch_netem unavailable", "a→b"} {
		if !strings.Contains(s, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(s, "<script") || strings.Contains(s, "http://") || strings.Contains(s, "https://") {
		t.Error("HTML is not self-contained")
	}
}

func TestMirrorPathCategories(t *testing.T) {
	sc := Scenarios(time.Second)[2] // mixed-modes
	run, err := Simulate(t.TempDir(), Plan(), sc.Experiment, "istio-1.24-published", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"default/client-b -> default/echo":         "ambient-waypoint",
		"default/sc-client -> default/sc-echo":     "sidecar",
		"default/client-c -> default/server-a-pod": "ambient-l4",
	}
	for _, e := range run.Summary.Modes[0].Edges {
		key := e.Source + " -> " + e.Destination
		if want[key] != e.Category {
			t.Errorf("%s: category %q, want %q", key, e.Category, want[key])
		}
		delete(want, key)
	}
	if len(want) > 0 {
		t.Errorf("edges missing from the simulation: %v", want)
	}
	pr, err := Predict(run, Plan(), sc.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	// The waypoint is on node-c: client-b's traffic crosses node-b's and
	// node-a's proxies, never node-c's.
	for _, p := range []string{"nodeproxy/node-a", "nodeproxy/node-b", "nodeproxy/node-c", "waypoint/waypoint", "sidecar/sc-client", "sidecar/sc-server"} {
		if pr.CPUSeconds[p] <= 0 {
			t.Errorf("%s: no simulated CPU", p)
		}
	}
	for i, l := range pr.Loads {
		if math.IsNaN(l.P90) || l.P50 <= 0 || l.P99 < l.P50 {
			t.Errorf("load %d: %+v", i, l)
		}
	}
}
