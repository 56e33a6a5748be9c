package scenarios

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/sim"
)

const studyTestDoc = `name: t
modes: [sidecar, ambient]
duration: 1s
warmup: 200ms
topology:
  spec:
    nodes: {count: 2}
    namespaces:
      - name: app
        workloads: [{name: client}]
        services:
          - {name: web, replicas: 2}
          - {name: db}
    calls:
      - {from: app/client, to: app/web, rate: 40}
      - {from: app/web, to: app/db}
sweep:
  replications: 2
  parameters:
    load: [1, 2]
traffic:
  defaults: {rate: 10}
  edges:
    - {from: app/web, to: app/db, rate: 5}
    - {from: app/client, to: app/web, protocol: http}
`

func mustParseStudy(t *testing.T, doc string) *Study {
	t.Helper()
	s, err := ParseStudy("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseStudySplitsSweepSection(t *testing.T) {
	s := mustParseStudy(t, studyTestDoc)
	if s.Spec.Replications != 2 || len(s.Scenario.Modes) != 2 || s.Scenario.Traffic.Defaults.Rate == nil {
		t.Fatalf("study: %+v / %+v", s.Spec, s.Scenario)
	}
	// A scenario error after the sweep section keeps its line number.
	bad := strings.Replace(studyTestDoc, "  edges:", "  edgez:", 1)
	_, err := ParseStudy("t.yaml", []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "t.yaml:23") || !strings.Contains(err.Error(), "edgez") {
		t.Errorf("error %v, want one at t.yaml:23 naming edgez", err)
	}
	// A sweep error names the sweep field and line.
	bad = strings.Replace(studyTestDoc, "    load: [1, 2]", "    lod: [1, 2]", 1)
	if _, err := ParseStudy("t.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), `t.yaml:20: sweep.parameters.lod: unknown parameter "lod" (did you mean "load"?)`) {
		t.Errorf("error %v", err)
	}
	if _, err := ParseStudy("t.yaml", []byte(strings.Split(studyTestDoc, "sweep:")[0])); err == nil || !strings.Contains(err.Error(), "no sweep: section") {
		t.Errorf("error %v, want a missing-section error", err)
	}
}

func TestScenarioOverrides(t *testing.T) {
	r := NewStudyRunner(mustParseStudy(t, studyTestDoc), StudyOptions{})
	tests := []struct {
		name  string
		point sweep.Point
		check func(t *testing.T, r *StudyRunner, p sweep.Point)
	}{
		{"load scales every offered rate where it is compiled", sweep.Point{Load: 2.5}, func(t *testing.T, r *StudyRunner, p sweep.Point) {
			sc, err := r.study.Scenario.WithPoint(p)
			if err != nil {
				t.Fatal(err)
			}
			// The scenario's traffic stays as written: the point is applied
			// once, when the traffic is compiled into the model's edges.
			if *sc.Traffic.Defaults.Rate != 10 || *sc.Traffic.Edges[0].Rate != 5 || sc.Traffic.Edges[1].Rate != nil {
				t.Errorf("traffic changed: %+v", sc.Traffic)
			}
			top, err := sc.BuildTopology("ambient")
			if err != nil {
				t.Fatal(err)
			}
			prof, _ := models.LoadProfile("")
			cfg, err := sc.compile(top, prof, "ambient", 1, sc.Duration.T(), sc.Warmup.T())
			if err != nil {
				t.Fatal(err)
			}
			// client→web: traffic.defaults.rate 10 overrides the spec's 40;
			// web→db: traffic.edges[0].rate 5.
			want := map[string]float64{"app/client->app/web": 25, "app/web->app/db": 12.5}
			for _, e := range cfg.Edges {
				id := e.Call.From.ID() + "->" + e.Call.To.ID()
				if e.Rate != want[id] {
					t.Errorf("%s: rate %g, want %g", id, e.Rate, want[id])
				}
			}
		}},
		{"nodes, pods, modes, profile", sweep.Point{Nodes: 5, PodsPerService: 3, Modes: []string{"ambient"}, Profile: models.DefaultProfile}, func(t *testing.T, r *StudyRunner, p sweep.Point) {
			sc, err := r.study.Scenario.WithPoint(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Modes) != 1 || sc.Modes[0] != "ambient" || sc.Profile != models.DefaultProfile {
				t.Errorf("modes %v profile %q", sc.Modes, sc.Profile)
			}
			top, err := sc.BuildTopology("ambient")
			if err != nil {
				t.Fatal(err)
			}
			if len(top.Nodes) != 5 {
				t.Errorf("%d nodes, want 5", len(top.Nodes))
			}
			pods := map[string]int{}
			for _, pod := range top.Pods {
				if pod.Workload != nil {
					pods[pod.Workload.Name]++
				}
			}
			if pods["web"] != 3 || pods["db"] != 3 || pods["client"] != 1 {
				t.Errorf("pods per workload %v, want web 3, db 3, client 1", pods)
			}
		}},
		{"waypoint scope and replicas", sweep.Point{WaypointScope: "per-service", WaypointReplicas: 3}, func(t *testing.T, r *StudyRunner, p sweep.Point) {
			sc, err := r.study.Scenario.WithPoint(p)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Mesh.WaypointReplicas != 3 {
				t.Errorf("mesh.waypoint_replicas %d", sc.Mesh.WaypointReplicas)
			}
			top, err := sc.BuildTopology("ambient+waypoint")
			if err != nil {
				t.Fatal(err)
			}
			if len(top.Waypoints) != 2 {
				t.Fatalf("%d waypoints, want one per service", len(top.Waypoints))
			}
			for _, w := range top.Waypoints {
				if w.Replicas != 3 {
					t.Errorf("waypoint %s has %d replicas, want 3", w.Name, w.Replicas)
				}
			}
		}},
		{"worker threads tune the profile in memory", sweep.Point{WorkerThreads: 7}, func(t *testing.T, r *StudyRunner, p sweep.Point) {
			base, _ := models.LoadProfile("")
			sc, err := r.study.Scenario.WithPoint(p)
			if err != nil {
				t.Fatal(err)
			}
			prof, _ := models.LoadProfile("")
			if err := sc.tuneProfile(prof); err != nil {
				t.Fatal(err)
			}
			if prof.Ztunnel.WorkerThreads.Value != 7 || prof.Name != base.Name || prof.Waypoint.WorkerThreads.Value != base.Waypoint.WorkerThreads.Value {
				t.Errorf("tuned profile: ztunnel threads %g name %s", prof.Ztunnel.WorkerThreads.Value, prof.Name)
			}
			// Two thread counts: same profile name, different inputs hash
			// (the hash covers the tuned profile).
			a, err := r.RunPoint(context.Background(), sweep.Point{Load: 1, WorkerThreads: 1}, 3)
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.RunPoint(context.Background(), sweep.Point{Load: 1, WorkerThreads: 7}, 3)
			if err != nil {
				t.Fatal(err)
			}
			if a.Summary.Profile.Name != base.Name || b.Summary.Profile.Name != base.Name {
				t.Errorf("profile names %q %q, want %q", a.Summary.Profile.Name, b.Summary.Profile.Name, base.Name)
			}
			if a.Summary.InputsHash == b.Summary.InputsHash {
				t.Error("1 and 7 worker threads gave the same inputs hash")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, r, tt.point) })
	}
}

func TestOverrideErrors(t *testing.T) {
	manifests := "name: m\ntopology: {manifests: [testdata/manifests.yaml]}\nsweep: {parameters: {load: [1]}}\n"
	if _, err := mustParseStudy(t, manifests).Scenario.WithPoint(sweep.Point{PodsPerService: 2}); err == nil || !strings.Contains(err.Error(), "podsPerService needs a generative topology.spec") {
		t.Errorf("podsPerService on manifests: %v", err)
	}
	if _, err := mustParseStudy(t, studyTestDoc).Scenario.WithPoint(sweep.Point{Modes: []string{"sidecar", "no-such-mode"}}); err == nil || !strings.Contains(err.Error(), `modes[1]: unknown mode "no-such-mode"`) {
		t.Errorf("a point's modes pass the file's validation: %v", err)
	}
	listed := strings.Replace(studyTestDoc, "nodes: {count: 2}", "nodes: {list: [{name: a}, {name: b}]}", 1)
	if _, err := mustParseStudy(t, listed).Scenario.WithPoint(sweep.Point{Nodes: 4}); err == nil || !strings.Contains(err.Error(), "explicit list") {
		t.Errorf("nodes on a listed topology: %v", err)
	}
	if _, err := mustParseStudy(t, studyTestDoc).Scenario.WithPoint(sweep.Point{Modes: []string{"sidecar"}, WaypointScope: "service-account"}); err != nil {
		t.Errorf("service-account scope: %v", err)
	}
}

// TestRunPointSameSeedSameNumbers: a run is a function of (point, seed),
// and the modes of one run share their arrivals.
func TestRunPointSameSeedSameNumbers(t *testing.T) {
	s := mustParseStudy(t, studyTestDoc)
	r := NewStudyRunner(s, StudyOptions{})
	p := sweep.Point{Load: 1, WorkerThreads: 1}
	a, err := r.RunPoint(context.Background(), p, 11)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.RunPoint(context.Background(), p, 11)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.RunPoint(context.Background(), p, 12)
	if err != nil {
		t.Fatal(err)
	}
	if a.Summary.Modes[0].Latency[0].P99Ms != b.Summary.Modes[0].Latency[0].P99Ms || a.Summary.Seed != 11 {
		t.Error("the same seed gave different numbers")
	}
	if a.Summary.Modes[0].Latency[0].P99Ms == c.Summary.Modes[0].Latency[0].P99Ms {
		t.Error("a different seed gave the same p99")
	}
	if a.Summary.Modes[0].Requests.Offered != a.Summary.Modes[1].Requests.Offered {
		t.Errorf("modes of one run saw different arrivals: %d vs %d", a.Summary.Modes[0].Requests.Offered, a.Summary.Modes[1].Requests.Offered)
	}
}

func TestLoadLibraryStudy(t *testing.T) {
	for _, name := range Studies() {
		s, err := LoadStudy(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plan, err := s.Plan(StudyOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "capacity" && len(plan.Points) != 200 {
			t.Errorf("capacity has %d points, want 200", len(plan.Points))
		}
	}
	if _, err := LoadStudy("no-such-study"); err == nil || !strings.Contains(err.Error(), "capacity") {
		t.Errorf("unknown study: %v", err)
	}
}

// TestRunPointSeriesAndMSER: real runs report each mode's batch series
// (warm-up included), so the sweep's MSER-5 check sees every replication.
func TestRunPointSeriesAndMSER(t *testing.T) {
	s := mustParseStudy(t, studyTestDoc)
	r := NewStudyRunner(s, StudyOptions{})
	out, err := r.RunPoint(context.Background(), sweep.Point{Load: 1}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Series) != 2 {
		t.Fatalf("%d series, want one per mode", len(out.Series))
	}
	for i, ser := range out.Series {
		if ser.Mode != out.Summary.Modes[i].Mode || ser.BatchS != 0.1 || len(ser.LatencyMs) != 12 { // 200 ms + 1 s
			t.Errorf("series %d: mode %s, %g s batches, %d values", i, ser.Mode, ser.BatchS, len(ser.LatencyMs))
		}
	}
	plan, err := s.Plan(StudyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sweep.Run(context.Background(), plan, r, sweep.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Warmup.Rule != "mser5" {
		t.Errorf("warm-up rule %q", res.Warmup.Rule)
	}
	for _, p := range res.Points {
		for _, m := range p.Modes {
			if m.Warmup == nil || m.Warmup.ScenarioWarmupS != 0.2 {
				t.Errorf("point %v mode %s: warm-up check %+v", p.Point, m.Mode, m.Warmup)
			}
		}
	}
	// warmup: scenario turns the series (and the check) off.
	r2 := NewStudyRunner(mustParseStudy(t, strings.Replace(studyTestDoc, "  replications: 2\n", "  replications: 2\n  warmup: scenario\n", 1)), StudyOptions{})
	out, err = r2.RunPoint(context.Background(), sweep.Point{Load: 1}, 5)
	if err != nil || out.Series != nil {
		t.Errorf("warmup: scenario: series %v, err %v", out.Series, err)
	}
}

// TestRunPointCancel: cancelling stops a long run within moments.
func TestRunPointCancel(t *testing.T) {
	s := mustParseStudy(t, studyTestDoc)
	r := NewStudyRunner(s, StudyOptions{Duration: 3600 * sim.Second, MaxEvents: 1 << 40}) // a budget the hour fits in: cancellation stops it
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.RunPoint(ctx, sweep.Point{Load: 500}, 1) // ~25k req/s for an hour: minutes of CPU
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled run: %v", err)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("run took %v to stop after cancellation", el)
	}
}
