package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

const studyDoc = `
sweep:
  replications: 4
  seed: 42
  parameters:
    mode: [sidecar, ambient, ambient+waypoint]
    load: [0.5, 1, 1.5]
    nodes: [3, 6]
  slo:
    metric: p99
    threshold: 20
    search: {from: 0.1, to: 4, tolerance: 0.01}
  sizing:
    load: 1.5
    parameters: [waypointReplicas, workerThreads]
    max: 8
  cost: {headroom: 1.3}
`

func studyPlan(t testing.TB, doc string) *Plan {
	t.Helper()
	p, err := mustDecode(t, doc).Plan(PlanOptions{Scenario: "fake-mm1", ScenarioHash: "abc", Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func marshal(t testing.TB, r *results.Sweep) []byte {
	t.Helper()
	b, err := MarshalResult(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResultsIndependentOfWorkersAndShards is the determinism contract: the
// same plan gives byte-identical sweep.json with 1 or 4 workers, as one
// process or as 1, 2, 3 or 7 shards merged back from their files.
func TestResultsIndependentOfWorkersAndShards(t *testing.T) {
	plan := studyPlan(t, studyDoc)
	r := mm1Runner{baseRPS: 1000, noise: 0.05, series: true}
	ref, err := Run(context.Background(), plan, r, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := marshal(t, ref)
	got4, err := Run(context.Background(), plan, r, Options{Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(marshal(t, got4), want) {
		t.Error("4 workers give a different sweep.json than 1 worker")
	}
	for _, n := range []int{1, 2, 3, 7} {
		dir := t.TempDir()
		for i := 0; i < n; i++ {
			s, err := Execute(context.Background(), plan, r, Options{Workers: 2, Shard: i, Shards: n})
			if err != nil {
				t.Fatal(err)
			}
			// Shards written to separate directories, as pods on a PVC would.
			if _, err := WriteShard(filepath.Join(dir, "pod", string(rune('a'+i))), s); err != nil {
				t.Fatal(err)
			}
		}
		var dirs []string
		for i := n - 1; i >= 0; i-- { // order of directories must not matter
			dirs = append(dirs, filepath.Join(dir, "pod", string(rune('a'+i))))
		}
		shards, err := ReadShards(dirs...)
		if err != nil {
			t.Fatal(err)
		}
		merged, err := Merge(shards...)
		if err != nil {
			t.Fatalf("%d shards: %v", n, err)
		}
		if !bytes.Equal(marshal(t, merged), want) {
			t.Errorf("%d shards merged differ from the single-process sweep.json", n)
		}
	}
}

func TestGoldenSweepOutputs(t *testing.T) {
	plan := studyPlan(t, studyDoc)
	res, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000, noise: 0.05, series: true}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteResult(dir, res); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ResultFile, CSVFile} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", "study."+name), got)
	}
	// No temporary files are left behind by the atomic writes.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("output directory holds %d entries, want sweep.json and sweep.csv", len(entries))
	}
}

// TestSLOSearchExact checks the bisection against the M/M/1 closed form:
// p99 = ln(100)/(μ−λ) ≤ T  ⇔  λ ≤ μ − ln(100)/T.
func TestSLOSearchExact(t *testing.T) {
	plan := studyPlan(t, studyDoc)
	res, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Searches) != 2*3 { // nodes 3 and 6, three modes
		t.Fatalf("%d searches, want 6", len(res.Searches))
	}
	for _, s := range res.Searches {
		mu := serviceRate(s.Mode, s.At)
		exact := (mu - math.Log(100)/0.020) / 1000 // load multiplier
		if s.Status != "found" {
			t.Errorf("%s: status %s", s.Mode, s.Status)
			continue
		}
		if !(s.MaxLoad <= exact && exact < s.MinViolatingLoad) {
			t.Errorf("%s: bracket [%g, %g] does not contain the exact answer %g", s.Mode, s.MaxLoad, s.MinViolatingLoad, exact)
		}
		if s.MinViolatingLoad/s.MaxLoad > 1.01+1e-12 {
			t.Errorf("%s: bracket [%g, %g] wider than the 1%% tolerance", s.Mode, s.MaxLoad, s.MinViolatingLoad)
		}
		if s.Uncertain || s.ConfidentMaxLoad != s.MaxLoad {
			t.Errorf("%s: without noise the answer must be certain: %+v", s.Mode, s)
		}
	}
}

// TestSLOSearchReportsStraddle: with heavy noise and two replications the
// intervals at the bracket ends straddle the SLO and the result says so.
func TestSLOSearchReportsStraddle(t *testing.T) {
	plan := studyPlan(t, `
sweep:
  replications: 2
  parameters: {mode: [sidecar]}
  slo: {threshold: 20, search: {from: 0.1, to: 4, tolerance: 0.001, maxSteps: 30}}
`)
	res, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000, noise: 0.3}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Searches[0]
	if !s.Uncertain || !strings.Contains(s.Note, "straddles") {
		t.Fatalf("want an uncertain answer that says the interval straddles the SLO, got %+v", s)
	}
	if s.ConfidentMaxLoad >= s.MaxLoad {
		t.Errorf("confident max %g should be below the by-mean max %g", s.ConfidentMaxLoad, s.MaxLoad)
	}
}

func TestSLOSearchEnds(t *testing.T) {
	plan := studyPlan(t, `
sweep:
  replications: 2
  parameters: {mode: [sidecar, out-of-mesh]}
  slo: {threshold: 20, search: {from: 0.97, to: 1.5}}
`)
	res, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// sidecar (μ = 1000) already misses 20 ms at λ = 970; out-of-mesh
	// (μ = 5000) meets it at λ = 1500.
	if s := res.Searches[0]; s.Status != "violated-at-min" {
		t.Errorf("sidecar: %+v", s)
	}
	if s := res.Searches[1]; s.Status != "holds-at-max" || !strings.Contains(s.Note, "raise slo.search.to") {
		t.Errorf("out-of-mesh: %+v", s)
	}
}

// TestSizingExact: ambient+waypoint at λ = 1500 with 2 ztunnel threads
// (μ = min(1200, 700·r)) cannot meet the SLO by replicas alone, while
// ambient needs μ = 600·t ≥ 1500 + ln(100)/0.02 ≈ 1730 → t = 3.
func TestSizingExact(t *testing.T) {
	plan := studyPlan(t, studyDoc)
	res, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	need := 1500 + math.Log(100)/0.020
	type key struct{ mode, param string }
	got := map[key]results.SizingResult{}
	for _, z := range res.Sizing {
		if z.At.Nodes == 3 {
			got[key{z.Mode, z.Parameter}] = z
		}
	}
	// Waypoint replicas are sized only where waypoints are; ztunnel threads
	// only where ztunnels are.
	if len(got) != 3 {
		t.Fatalf("sizing tasks %v, want ambient/workerThreads, ambient+waypoint/both", got)
	}
	if z := got[key{"ambient", "workerThreads"}]; z.Status != "found" || z.Minimal != int(math.Ceil(need/600)) || z.ZtunnelCPURequestCores != 3 {
		t.Errorf("ambient threads: %+v, want 3", z)
	}
	// ambient+waypoint: 1 waypoint replica caps μ at 700; 2 threads cap
	// it at 1200: neither parameter alone meets the SLO at λ = 1500.
	for _, p := range []string{"workerThreads", "waypointReplicas"} {
		if z := got[key{"ambient+waypoint", p}]; z.Status != "not-met" || !strings.Contains(z.Note, "not met even with "+p+" = 8") {
			t.Errorf("ambient+waypoint %s: %+v, want not-met", p, z)
		}
	}
}

func TestSizingReplicas(t *testing.T) {
	plan := studyPlan(t, `
sweep:
  replications: 2
  parameters: {mode: [ambient+waypoint], workerThreads: [8]}
  slo: {threshold: 20}
  sizing: {load: 2, parameters: [waypointReplicas], max: 16}
`)
	res, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// μ = 700·r ≥ 2000 + ln(100)/0.02 ≈ 2230 → r = 4.
	if z := res.Sizing[0]; z.Status != "found" || z.Minimal != 4 || z.Verdict != Holds {
		t.Fatalf("got %+v, want 4 replicas", z)
	}
}

// TestCostTable checks the extrapolation against the fake's known costs:
// sidecar 60 MiB each, ztunnel 12 MiB per node, with chart requests.
func TestCostTable(t *testing.T) {
	plan := studyPlan(t, `
sweep:
  replications: 2
  parameters: {mode: [sidecar, ambient], load: [0.5]}
  cost: {headroom: 1.5, pods: [100, 100000], podsPerNode: 20}
`)
	res, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := res.Cost.Rows
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	// 100 pods sidecar: used 500 rps × 200 µs = 0.1 cores over 30 pods →
	// per sidecar 1/300 core, ×1.5 < request 0.1 → 100 × 0.1 = 10 cores;
	// memory 60 MiB × 1.5 = 87.9 MiB < 128 MiB → 100 × 0.125 GiB.
	check := func(r results.CostRow, mode string, pods, nodes int, cpu, mem float64) {
		t.Helper()
		if r.Mode != mode || r.Pods != pods || r.Nodes != nodes || math.Abs(r.CPUCores.Mean-cpu) > 1e-9 || math.Abs(r.MemoryGiB.Mean-mem) > 1e-9 {
			t.Errorf("row %+v, want %s %d pods %d nodes %g cores %g GiB", r, mode, pods, nodes, cpu, mem)
		}
	}
	check(rows[0], "sidecar", 100, 5, 10, 12.5)
	// ambient: ztunnel 500 × 60 µs = 0.03 cores over 3 nodes of 10 pods;
	// at 20 pods/node 0.02 cores each, ×1.5 < 0.2 → 5 × 0.2; 5 × 0.5 GiB.
	check(rows[1], "ambient", 100, 5, 1, 2.5)
	check(rows[2], "sidecar", 100000, 5000, 10000, 12500)
	check(rows[3], "ambient", 100000, 5000, 1000, 2500)
	if got := rows[1].UsedCPUCores.Mean; math.Abs(got-5*0.02) > 1e-9 {
		t.Errorf("used cores %g, want 0.1", got)
	}
}

func TestCommonRandomNumbersNarrowDifferences(t *testing.T) {
	plan := studyPlan(t, "sweep:\n  replications: 8\n  parameters: {mode: [sidecar, ambient], load: [0.6]}\n")
	res, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000, noise: 0.1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pt := res.Points[0]
	d := pt.Differences[0]
	indep := math.Hypot(pt.Modes[0].P99Ms.HalfWidth, pt.Modes[1].P99Ms.HalfWidth)
	if d.Mode != "ambient" || d.Baseline != "sidecar" || !(d.P99Ms.HalfWidth < indep/2) {
		t.Errorf("paired half-width %g, independent %g: common random numbers should make it much narrower", d.P99Ms.HalfWidth, indep)
	}
	for i, s := range pt.Seeds {
		if s != SeedFor(plan.BaseSeed, pt.Key, i) {
			t.Errorf("seed %d is %d, want SeedFor(base, key, %d)", i, s, i)
		}
	}
}

func TestWarmupCheck(t *testing.T) {
	plan := studyPlan(t, "sweep:\n  replications: 3\n  parameters: {mode: [ambient], load: [0.5]}\n")
	res, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000, series: true}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := res.Points[0].Modes[0].Warmup
	// The fake's transient decays with a 1.5 s time constant; MSER-5 cuts
	// a few seconds, inside the scenario's 10 s warm-up.
	if w == nil || w.Covered != 3 || w.ShortRuns != 0 || w.MSERTruncateS.Mean <= 0 || w.MSERTruncateS.Mean > 10 {
		t.Fatalf("warm-up check %+v", w)
	}
}

func TestMergeRejects(t *testing.T) {
	plan := studyPlan(t, "sweep:\n  replications: 2\n  parameters: {mode: [ambient], load: [0.5, 1, 2]}\n")
	other := studyPlan(t, "sweep:\n  replications: 3\n  parameters: {mode: [ambient], load: [0.5, 1, 2]}\n")
	r := mm1Runner{baseRPS: 1000}
	run := func(p *Plan, i, n int) *ShardResult {
		s, err := Execute(context.Background(), p, r, Options{Shard: i, Shards: n})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name   string
		shards []*ShardResult
		want   string
	}{
		{"missing shard", []*ShardResult{run(plan, 0, 3), run(plan, 2, 3)}, "missing shard results for shards [1] of 3"},
		{"shard twice", []*ShardResult{run(plan, 0, 2), run(plan, 0, 2), run(plan, 1, 2)}, "given twice"},
		{"different sweep", []*ShardResult{run(plan, 0, 2), run(other, 1, 2)}, "different sweep"},
		{"different shard counts", []*ShardResult{run(plan, 0, 2), run(plan, 1, 3)}, "one of 3"},
		{"nothing", nil, "no shard results"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Merge(tt.shards...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Merge error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRunnerErrorStopsTheSweep(t *testing.T) {
	plan := studyPlan(t, "sweep:\n  replications: 3\n  parameters: {load: {from: 1, to: 40, step: 1}}\n")
	var calls atomic.Int64
	boom := errors.New("boom")
	r := RunnerFunc(func(ctx context.Context, p Point, seed uint64) (*Outcome, error) {
		calls.Add(1)
		if p.Load == 3 {
			return nil, boom
		}
		return mm1Runner{baseRPS: 10}.RunPoint(ctx, p, seed)
	})
	_, err := Run(context.Background(), plan, r, Options{Workers: 2})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "point 2 (load=3)") {
		t.Fatalf("error %v, want boom naming point 2", err)
	}
	if n := calls.Load(); n >= 120 {
		t.Errorf("%d runs after the failure: the sweep did not stop", n)
	}
}

func TestCancelledContext(t *testing.T) {
	plan := studyPlan(t, "sweep:\n  replications: 2\n  parameters: {load: [1, 2]}\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, plan, mm1Runner{baseRPS: 10}, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestRunnerModeMismatch(t *testing.T) {
	plan := studyPlan(t, "sweep:\n  replications: 2\n  parameters: {mode: [ambient, sidecar]}\n")
	r := RunnerFunc(func(ctx context.Context, p Point, seed uint64) (*Outcome, error) {
		p.Modes = []string{"ambient"}
		return mm1Runner{baseRPS: 10}.RunPoint(ctx, p, seed)
	})
	if _, err := Run(context.Background(), plan, r, Options{}); err == nil || !strings.Contains(err.Error(), "runner returned modes [ambient]") {
		t.Fatalf("got %v", err)
	}
}

func TestProgressCountsEveryItem(t *testing.T) {
	plan := studyPlan(t, "sweep:\n  replications: 3\n  parameters: {mode: [ambient], load: [1, 2]}\n  slo: {threshold: 50, search: {}}\n")
	var last, total int
	calls := 0
	_, err := Run(context.Background(), plan, mm1Runner{baseRPS: 100}, Options{Workers: 3, Progress: func(d, n int) {
		calls++
		if d != last+1 {
			t.Errorf("progress jumped from %d to %d", last, d)
		}
		last, total = d, n
	}})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2*3+1 || last != total || calls != total {
		t.Errorf("progress ended at %d/%d after %d calls, want 7/7", last, total, calls)
	}
}

// TestSaturatedRunsViolateTheSLO: a run that finishes nothing reports no
// latency (p99 0); it must count as a violation, not as a fast run.
func TestSaturatedRunsViolateTheSLO(t *testing.T) {
	plan := studyPlan(t, `
sweep:
  replications: 2
  parameters: {mode: [sidecar], load: [0.5, 2]}
  slo: {threshold: 20, search: {from: 0.1, to: 4, tolerance: 0.01}}
`)
	res, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000, collapse: true}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	over := res.Points[1].Modes[0]
	if over.P99Ms.Mean != 0 || over.Saturated != 2 || over.SLO.Verdict != Violated || over.SLO.Saturated != 2 {
		t.Errorf("overloaded point: p99 %g, saturated %d, verdict %s", over.P99Ms.Mean, over.Saturated, over.SLO.Verdict)
	}
	s := res.Searches[0]
	exact := (1000 - math.Log(100)/0.020) / 1000
	if s.Status != "found" || !(s.MaxLoad <= exact && exact < s.MinViolatingLoad) {
		t.Errorf("search %s [%g, %g], want a bracket around %g", s.Status, s.MaxLoad, s.MinViolatingLoad, exact)
	}
	if last := s.Steps[1]; last.Load != 4 || last.Saturated != 2 || last.Verdict != Violated {
		t.Errorf("step at the top load %+v, want 2 saturated runs judged violated", last)
	}
}

func TestSearchAndSizingAt(t *testing.T) {
	plan := studyPlan(t, `
sweep:
  replications: 2
  parameters:
    mode: [ambient, ambient+waypoint]
    load: [1, 2]
    workerThreads: [1, 2, 4]
  slo:
    threshold: 20
    search: {at: {workerThreads: 4}}
  sizing: {load: 1.5, parameters: [waypointReplicas], at: {nodes: 6}}
`)
	var kinds []string
	for _, task := range plan.Tasks {
		kinds = append(kinds, task.Kind+"/"+task.Mode+"/"+task.At.Key())
	}
	want := "slo-search/ambient/workerThreads=4 slo-search/ambient+waypoint/workerThreads=4 sizing/ambient+waypoint/load=1.5,nodes=6"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("tasks\n got  %s\n want %s", got, want)
	}
	_, err := decode(t, "sweep:\n  parameters: {load: [1]}\n  slo:\n    threshold: 20\n    search: {at: {load: 2}}\n")
	if err == nil || !strings.Contains(err.Error(), "fix only the other parameters") {
		t.Errorf("search at a load: %v", err)
	}
}

func TestCostReferenceAt(t *testing.T) {
	plan := studyPlan(t, `
sweep:
  replications: 2
  parameters: {mode: [sidecar, ambient], load: [0.5, 1], nodes: [3, 6]}
  cost: {load: 1, at: {nodes: 6}}
`)
	// load=1,nodes=6 is a design point: no extra reference run.
	if len(plan.Tasks) != 0 {
		t.Fatalf("tasks %+v, want the design point reused", plan.Tasks)
	}
	res, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ref := res.Cost.Reference; ref.Load != 1 || ref.Nodes != 6 || res.Cost.PodsPerNode != fakePodsPerNode {
		t.Errorf("reference %+v, pods per node %g", ref, res.Cost.PodsPerNode)
	}
	plan = studyPlan(t, "sweep:\n  replications: 2\n  parameters: {mode: [sidecar], load: [0.5]}\n  cost: {load: 3}\n")
	if len(plan.Tasks) != 1 || plan.Tasks[0].Kind != "cost-reference" || plan.Tasks[0].At.Load != 3 {
		t.Fatalf("tasks %+v, want one cost-reference run at load 3", plan.Tasks)
	}
	if _, err := Run(context.Background(), plan, mm1Runner{baseRPS: 1000}, Options{}); err != nil {
		t.Fatal(err)
	}
}

// FuzzMerge feeds damaged shard files to Merge: it must return an error or
// a result, never panic.
func FuzzMerge(f *testing.F) {
	plan := studyPlan(f, "sweep:\n  replications: 2\n  parameters: {mode: [sidecar, ambient], load: [1]}\n  slo: {threshold: 20, search: {maxSteps: 2}}\n  cost: {pods: [100]}\n")
	s, err := Execute(context.Background(), plan, mm1Runner{baseRPS: 100}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(bytes.Replace(b, []byte(`"replication":1`), []byte(`"replication":0`), 1))
	f.Add(bytes.Replace(b, []byte(`"points":[{`), []byte(`"points":[{"index":7,`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s ShardResult
		if json.Unmarshal(data, &s) != nil {
			return
		}
		res, err := Merge(&s)
		if err == nil {
			if _, err := MarshalResult(res); err != nil {
				t.Fatalf("merged result does not encode: %v", err)
			}
			if _, err := MarshalCSV(res); err != nil {
				t.Fatalf("merged result has no CSV: %v", err)
			}
		}
	})
}
