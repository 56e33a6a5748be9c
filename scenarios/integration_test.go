package scenarios

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/scenarios/sweep"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// TestSweepSectionAccepted: a scenario file may carry a sweep: section;
// it is validated strictly by the sweep package, with file, line and field.
func TestSweepSectionAccepted(t *testing.T) {
	doc := base + "sweep:\n  replications: 3\n  parameters:\n    load: [1, 2]\n"
	sc, err := Parse("study.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("scenario with a sweep section: %v", err)
	}
	if sp := sc.SweepSpec(); sp == nil || sp.Replications != 3 || len(sp.Parameters) != 1 {
		t.Fatalf("sweep spec %+v", sp)
	}
	plain, err := Parse("plain.yaml", []byte(base))
	if err != nil || plain.SweepSpec() != nil {
		t.Fatalf("scenario without a sweep section: spec %v, err %v", plain.SweepSpec(), err)
	}
	bad := strings.Replace(doc, "    load:", "    lod:", 1)
	_, err = Parse("study.yaml", []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "study.yaml:14") || !strings.Contains(err.Error(), "lod") || !strings.Contains(err.Error(), "load") {
		t.Errorf("misspelt parameter: %v, want study.yaml:14 naming lod and suggesting load", err)
	}
	// ambientsim run ignores the section: same numbers as without it.
	a, err := Execute(sc, Options{Duration: sim.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Execute(plain, Options{Duration: sim.Second})
	if err != nil {
		t.Fatal(err)
	}
	if a.Summary.Modes[0].Requests != b.Summary.Modes[0].Requests {
		t.Errorf("sweep section changed the run: %+v vs %+v", a.Summary.Modes[0].Requests, b.Summary.Modes[0].Requests)
	}
}

// TestBatchSeries: Options.BatchInterval gives each mode a batch-means
// series over warm-up + duration and changes nothing else.
func TestBatchSeries(t *testing.T) {
	sc, err := Load("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Execute(sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Series != nil {
		t.Errorf("series without a batch interval: %v", plain.Series)
	}
	run, err := Execute(sc, Options{BatchInterval: 100 * sim.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	want := int((sc.Warmup.T() + sc.Duration.T()) / (100 * sim.Millisecond)) // 2.5 s → 25 batches
	for _, m := range sc.Modes {
		s := run.Series[m]
		if len(s) != want {
			t.Fatalf("mode %s: %d batches, want %d", m, len(s), want)
		}
		var sum float64
		for i, v := range s {
			if v <= 0 || v > 1000 {
				t.Errorf("mode %s batch %d: mean %g ms", m, i, v)
			}
			sum += v
		}
		// The batch means average to about the run's mean latency.
		mean := run.Summary.Modes[0].Latency[0].MeanMs
		if m == sc.Modes[0] && (sum/float64(len(s)) < mean/2 || sum/float64(len(s)) > mean*2) {
			t.Errorf("mode %s: batch means average %g ms, run mean %g ms", m, sum/float64(len(s)), mean)
		}
	}
	a, _ := SummaryJSON(plain)
	b, _ := SummaryJSON(run)
	if !bytes.Equal(a, b) {
		t.Error("recording the batch series changed summary.json")
	}
}

// TestExecuteContext: a cancelled context stops a long run promptly with
// an error wrapping context.Canceled; an uncancelled one changes nothing.
func TestExecuteContext(t *testing.T) {
	sc, err := Load("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ExecuteContext(done, sc, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before the start: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	full, err := ExecuteContext(ctx, sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := Execute(sc, Options{})
	a, _ := SummaryJSON(full)
	b, _ := SummaryJSON(plain)
	if !bytes.Equal(a, b) {
		t.Error("a cancellable context changed summary.json")
	}
	// An hour of simulated time would take minutes; cancel after the
	// first simulated seconds and expect a prompt return.
	ctx, cancel = context.WithCancel(context.Background())
	var once bool
	opt := Options{Duration: 3600 * sim.Second, Progress: func(mode string, frac float64) {
		if frac > 0.001 && !once {
			once = true
			cancel()
		}
	}}
	start := time.Now()
	_, err = ExecuteContext(ctx, sc, opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled mid-run: %v", err)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("cancelled run took %v to stop", el)
	}
}

// TestWorkerThreadsPoint: a sweep point's workerThreads changes the
// profile the run uses and the inputs hash, not the recorded profile name.
func TestWorkerThreadsPoint(t *testing.T) {
	sc, err := Load("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Execute(sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tunedSc, err := sc.WithPoint(sweep.Point{WorkerThreads: 9})
	if err != nil {
		t.Fatal(err)
	}
	tuned, err := Execute(tunedSc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tuned.Profile.Ztunnel.WorkerThreads.Value != 9 {
		t.Errorf("tuned profile has %g ztunnel threads", tuned.Profile.Ztunnel.WorkerThreads.Value)
	}
	if tuned.Summary.Profile.Name != plain.Summary.Profile.Name || tuned.Summary.InputsHash == plain.Summary.InputsHash {
		t.Errorf("tuned: name %q hash %s; plain: name %q hash %s", tuned.Summary.Profile.Name, tuned.Summary.InputsHash, plain.Summary.Profile.Name, plain.Summary.InputsHash)
	}
}

// TestSummarySLOReadinessPlacements: summary.json carries the scenario's
// SLO, the readiness checklist and the policy placements.
func TestSummarySLOReadinessPlacements(t *testing.T) {
	doc := base + `    policies:
      - apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: s-only-c, namespace: a}
        spec:
          selector: {matchLabels: {app: s}}
          action: ALLOW
          rules:
            - from: [{source: {principals: ["cluster.local/ns/a/sa/c"]}}]
slo: {p99: 25ms, error_ratio: 0.01, latency: 500ms}
`
	sc, err := Parse("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(sc, Options{Duration: sim.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := run.Summary
	if s.SLO == nil || s.SLO.P99Ms != 25 || s.SLO.MaxErrorRatio != 0.01 || s.SLO.LatencyMs != 500 {
		t.Errorf("summary SLO %+v", s.SLO)
	}
	if len(s.Readiness) != len(topology.ReadinessChecks) {
		t.Errorf("%d readiness checks, want the 16-item checklist", len(s.Readiness))
	}
	if len(s.Paths.Placements) == 0 {
		t.Error("no policy placements in summary.json")
	}
	for _, bad := range []string{"slo: {}\n", "slo: {p99: 25ms, error_ratio: 2}\n"} {
		if _, err := Parse("t.yaml", []byte(base+bad)); err == nil || !strings.Contains(err.Error(), "slo.") {
			t.Errorf("%q: %v, want an slo.* error", bad, err)
		}
	}
}
