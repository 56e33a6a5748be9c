package crosscheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// fakeReport writes a validation.json whose measurements are synthetic:
// every load answered with p50 1 ms, p90 2 ms, p99 3 ms; every proxy used
// cpu CPU-seconds; the blast scenario's client-b saw errors.
func fakeReport(t testing.TB, d time.Duration, cpu float64) string {
	t.Helper()
	var ms []*harness.Measurement
	for _, sc := range Scenarios(d) {
		m := &harness.Measurement{Backend: "local", Experiment: sc.Experiment.Name}
		for _, l := range sc.Experiment.Loads {
			res := &harness.FortioResult{RetCodes: map[string]int64{"200": 100}}
			res.DurationHistogram.Percentiles = []harness.FortioPercentile{{Percentile: 50, Value: 0.001}, {Percentile: 90, Value: 0.002}, {Percentile: 99, Value: 0.003}}
			if sc.Blast && l.From == "client-b" {
				res.RetCodes["-1"] = 10
			}
			m.Loads = append(m.Loads, harness.LoadResult{Load: l, Result: res})
		}
		for _, p := range []string{"nodeproxy/node-a", "nodeproxy/node-b", "nodeproxy/node-c", "waypoint/waypoint", "sidecar/sc-client", "sidecar/sc-server"} {
			m.Processes = append(m.Processes, harness.ProcessUsage{Process: p, CPUSeconds: cpu})
		}
		if sc.Blast {
			m.Events = []harness.Event{{Action: harness.FailKill, Target: "nodeproxy/node-b"}}
		}
		ms = append(ms, m)
	}
	js, err := json.Marshal(&Report{Backend: "local", DurationS: d.Seconds(), Repeat: 1, Measured: ms})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "validation.json")
	if err := os.WriteFile(path, js, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplay: recorded measurements are compared with new predictions,
// unchanged, row for row as a measured report would be.
func TestReplay(t *testing.T) {
	path := fakeReport(t, time.Second, 0.25)
	rep, err := Replay(path, Options{Profile: "istio-1.24-published", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReplayOf != path || rep.Summary.Rows != len(rep.Rows) || len(rep.Rows) < 20 {
		t.Fatalf("replay of %q: %d rows, summary %+v", rep.ReplayOf, len(rep.Rows), rep.Summary)
	}
	html, err := rep.HTML()
	if err != nil || !strings.Contains(string(html), "nothing was measured again") {
		t.Errorf("the HTML does not say it is a replay (%v)", err)
	}
	for _, r := range rep.Rows {
		switch {
		case strings.HasPrefix(r.Metric, "p50_ms") && r.Measured != 1,
			strings.HasPrefix(r.Metric, "p99_ms") && r.Measured != 3,
			strings.HasPrefix(r.Metric, "cpu_s") && r.Measured != 0.25:
			t.Errorf("%s %s: measured %v, not the recorded value", r.Scenario, r.Metric, r.Measured)
		case r.Metric == "affected_pods" && (r.Pass == nil || !*r.Pass):
			t.Errorf("affected pods: %+v, want client-b in both", r)
		}
	}
}

func TestReplayRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ name, body, want string }{
		{"garbage.json", "{", "not a validation report"},
		{"empty.json", `{"load_duration_s": 4, "measurements": []}`, "field measurements: nothing recorded"},
		{"alien.json", `{"load_duration_s": 4, "measurements": [{"Experiment": "something-else"}]}`, `field measurements[0]: experiment "something-else"`},
	} {
		_, err := Replay(write(tc.name, tc.body), Options{Profile: "istio-1.24-published", Dir: dir})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: error %v, want the file and %q", tc.name, err, tc.want)
		}
	}
}
