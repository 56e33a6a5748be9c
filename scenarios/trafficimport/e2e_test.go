package trafficimport

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/internal/golden"
	"github.com/ambientsim/ambientsim/internal/promtest"
	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/sim"
)

// roundTripDuration is the simulated time of the round trip's runs: six
// metrics.om samples per series at the default 10 s interval.
const roundTripDuration = 60 * sim.Second

// TestPrometheusRoundTrip runs a built-in scenario, backfills its
// metrics.om into a real Prometheus server, imports the traffic from it,
// runs the imported scenario and checks every edge's rate comes back within
// 2 % of the first run's, in the modes whose HTTP traffic Prometheus sees
// (sidecar: reporter destination; ambient+waypoint: reporter waypoint).
// In ambient (L4 only) it checks the import is TCP edges, each once.
func TestPrometheusRoundTrip(t *testing.T) {
	promtool := promtest.Binary(t, "promtool")
	prometheus := promtest.Binary(t, "prometheus")
	dir := t.TempDir()
	end := time.Now().UTC().Truncate(time.Second)

	sc, err := scenarios.Load("modes-compare")
	if err != nil {
		t.Fatal(err)
	}
	run1, err := scenarios.Execute(sc, scenarios.Options{Duration: roundTripDuration})
	if err != nil {
		t.Fatal(err)
	}
	out1 := filepath.Join(dir, "run1")
	if _, err := run1.WriteWith(out1, scenarios.WriteOptions{MetricsEnd: end}); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "tsdb")
	promtest.Backfill(t, promtool, filepath.Join(out1, scenarios.OpenMetricsFile), data)
	url := promtest.Start(t, prometheus, data)
	src, err := Prometheus(url)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ mode, reporter string }{{"sidecar", "destination"}, {"ambient+waypoint", "waypoint"}} {
		t.Run(tc.mode, func(t *testing.T) {
			rec := &Recorder{Source: src}
			o := Options{End: end, Range: time.Minute, PeakWindow: 30 * time.Second, Selector: `mode="` + tc.mode + `"`}
			res, err := Import(context.Background(), rec, o)
			if err != nil {
				t.Fatal(err)
			}
			imported := filepath.Join(dir, "imported-"+tc.mode+".yaml")
			yml, err := res.Scenario("modes-compare", imported)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(imported, yml, 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.mode == "sidecar" && golden.Update() {
				saveGolden(t, rec.Responses(), res)
			}
			sc2, err := scenarios.Load(imported)
			if err != nil {
				t.Fatal(err)
			}
			run2, err := scenarios.Execute(sc2, scenarios.Options{Duration: roundTripDuration})
			if err != nil {
				t.Fatal(err)
			}
			want := edgesOf(t, run1.Summary, tc.mode)
			got := edgesOf(t, run2.Summary, tc.mode)
			if len(res.Edges) != len(want) {
				t.Errorf("imported %d edges, the run has %d", len(res.Edges), len(want))
			}
			worst := 0.0
			for k, w := range want {
				g, ok := got[k]
				if !ok {
					t.Errorf("edge %s missing after the round trip", k)
					continue
				}
				e := math.Abs(g.RateRPS-w.RateRPS) / w.RateRPS
				worst = math.Max(worst, e)
				if e > 0.02 {
					t.Errorf("edge %s: %.3f rps after the round trip, %.3f before (%.2f%%)", k, g.RateRPS, w.RateRPS, 100*e)
				}
			}
			t.Logf("%s: %d edges, worst per-edge rate error after the round trip %.3f%%", tc.mode, len(want), 100*worst)
			for _, e := range res.Edges {
				if e.Observed.Reporter != tc.reporter {
					t.Errorf("edge %s -> %s took reporter %s, want %s", e.Observed.From, e.Observed.To, e.Observed.Reporter, tc.reporter)
				}
				if e.Observed.P50Ms == nil || e.Observed.P99Ms == nil {
					t.Errorf("edge %s -> %s: no observed p50/p99", e.Observed.From, e.Observed.To)
				}
			}
			// run compares against the observed section with the same metric.
			if run2.Summary.Observed == nil {
				t.Fatal("summary.json has no observed section")
			}
			n := 0
			for _, c := range run2.Summary.Observed.Edges {
				if c.Mode != tc.mode {
					continue
				}
				n++
				if !strings.HasPrefix(c.PredictedFrom, "istio_request_duration_milliseconds reporter="+tc.reporter) || c.PredictedP99Ms == nil {
					t.Errorf("%s -> %s: predicted latency from %q", c.Source, c.Destination, c.PredictedFrom)
				}
				if math.Abs(c.RateError) > 0.02 {
					t.Errorf("%s -> %s: rate error %.4f against the observation", c.Source, c.Destination, c.RateError)
				}
			}
			if n != len(want) {
				t.Errorf("%d observed comparisons in %s, want %d", n, tc.mode, len(want))
			}
		})
	}

	t.Run("ambient L4 only", func(t *testing.T) {
		res, err := Import(context.Background(), src, Options{End: end, Range: time.Minute, PeakWindow: 30 * time.Second, Selector: `mode="ambient"`})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range res.Edges {
			k := e.Observed.From + "->" + e.Observed.To
			if seen[k] {
				t.Errorf("edge %s imported twice", k)
			}
			seen[k] = true
			if e.Observed.Protocol != "tcp" || e.Observed.Reporter != "source" {
				t.Errorf("edge %s: protocol %s reporter %s; ztunnel-only traffic should import as tcp from the source reporter", k, e.Observed.Protocol, e.Observed.Reporter)
			}
		}
		if len(seen) != 4 {
			t.Errorf("imported %d ambient edges, want 4", len(seen))
		}
	})
}

func edgesOf(t *testing.T, s *results.Summary, mode string) map[string]results.EdgeResult {
	t.Helper()
	for _, m := range s.Modes {
		if m.Mode == mode {
			out := map[string]results.EdgeResult{}
			for _, e := range m.Edges {
				out[e.Source+"->"+e.Destination] = e
			}
			return out
		}
	}
	t.Fatalf("no mode %s in the summary", mode)
	return nil
}

// saveGolden writes the recorded responses and the fragment they give:
// TestImportFromFile replays them without a server.
func saveGolden(t *testing.T, r *Responses, res *Result) {
	t.Helper()
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "sidecar.responses.json"), append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
