package sweep

import (
	"fmt"
	"sort"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// Merge combines shard results of one plan into the sweep's results.Sweep. A local
// run is the merge of its single shard, so a sharded sweep merged gives
// exactly the results.Sweep (and the sweep.json bytes) of a local run.
func Merge(shards ...*ShardResult) (*results.Sweep, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("no shard results to merge")
	}
	first := shards[0]
	plan := first.Plan
	if plan == nil {
		return nil, fmt.Errorf("shard %d has no plan", first.Shard)
	}
	if err := plan.check(); err != nil {
		return nil, fmt.Errorf("shard %d: %w", first.Shard, err)
	}
	hash := plan.Hash()
	points := make([]*PointRecord, len(plan.Points))
	tasks := make([]*TaskRecord, len(plan.Tasks))
	seen := map[int]bool{}
	for _, s := range shards {
		if s.Format != ShardFormat {
			return nil, fmt.Errorf("shard %d: format %q, want %q", s.Shard, s.Format, ShardFormat)
		}
		if s.Plan == nil || s.Plan.Hash() != hash || s.PlanHash != hash {
			return nil, fmt.Errorf("shard %d of %d belongs to a different sweep (plan hash differs from shard %d's): merge shards of one scenario and sweep only", s.Shard, s.Shards, first.Shard)
		}
		if s.Shards != first.Shards {
			return nil, fmt.Errorf("shard %d was run as one of %d shards, shard %d as one of %d", s.Shard, s.Shards, first.Shard, first.Shards)
		}
		if seen[s.Shard] {
			return nil, fmt.Errorf("shard %d of %d given twice", s.Shard, s.Shards)
		}
		seen[s.Shard] = true
		for i := range s.Points {
			pr := &s.Points[i]
			if pr.Index < 0 || pr.Index >= len(points) || points[pr.Index] != nil || !InShard(pr.Index, s.Shard, s.Shards) {
				return nil, fmt.Errorf("shard %d: unexpected point %d", s.Shard, pr.Index)
			}
			if err := checkReplications(pr.Replications, plan.Replications); err != nil {
				return nil, fmt.Errorf("shard %d: point %d: %w", s.Shard, pr.Index, err)
			}
			points[pr.Index] = pr
		}
		for i := range s.Tasks {
			tr := &s.Tasks[i]
			if tr.Index < 0 || tr.Index >= len(tasks) || tasks[tr.Index] != nil || !InShard(len(plan.Points)+tr.Index, s.Shard, s.Shards) {
				return nil, fmt.Errorf("shard %d: unexpected task %d", s.Shard, tr.Index)
			}
			if tr.Replications != nil {
				if err := checkReplications(tr.Replications, plan.Replications); err != nil {
					return nil, fmt.Errorf("shard %d: task %d: %w", s.Shard, tr.Index, err)
				}
			}
			tasks[tr.Index] = tr
		}
	}
	var missing []int
	for i := 0; i < first.Shards; i++ {
		if !seen[i] {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing shard results for shards %v of %d (rerun them with --shard I/%d)", missing, first.Shards, first.Shards)
	}
	return finalize(plan, points, tasks)
}

// check rejects a plan that no Spec could have produced (a damaged or
// hand-edited shard file), so that finalize can index freely.
func (p *Plan) check() error {
	switch {
	case len(p.Points) == 0:
		return fmt.Errorf("plan has no points")
	case p.Replications < 1 || p.Replications > 1000:
		return fmt.Errorf("plan has %d replications", p.Replications)
	case !(p.Confidence > 0 && p.Confidence < 1):
		return fmt.Errorf("plan confidence %g is not in (0, 1)", p.Confidence)
	case p.Cost != nil && p.Cost.Headroom < 1:
		return fmt.Errorf("plan cost headroom %g is below 1", p.Cost.Headroom)
	}
	for i, t := range p.Tasks {
		switch {
		case t.Kind == "slo-search" && (p.SLO == nil || p.SLO.Search == nil),
			t.Kind == "sizing" && (p.SLO == nil || p.Sizing == nil),
			t.Kind == "cost-reference" && p.Cost == nil:
			return fmt.Errorf("plan task %d (%s) has no matching section", i, t.Kind)
		case t.Kind != "slo-search" && t.Kind != "sizing" && t.Kind != "cost-reference":
			return fmt.Errorf("plan task %d has unknown kind %q", i, t.Kind)
		}
	}
	return nil
}

// checkReplications verifies that a point has the plan's replication
// count, in order, each with the same modes and finite figures.
func checkReplications(reps []Replication, want int) error {
	if len(reps) != want {
		return fmt.Errorf("%d replications, want %d", len(reps), want)
	}
	for i, r := range reps {
		if r.Replication != i {
			return fmt.Errorf("replication %d recorded as %d", i, r.Replication)
		}
		if len(r.Modes) == 0 || len(r.Modes) != len(reps[0].Modes) {
			return fmt.Errorf("replication %d has %d modes, replication 0 has %d", i, len(r.Modes), len(reps[0].Modes))
		}
		for mi, f := range r.Modes {
			if f.Mode != reps[0].Modes[mi].Mode {
				return fmt.Errorf("replication %d has mode %s where replication 0 has %s", i, f.Mode, reps[0].Modes[mi].Mode)
			}
			if err := checkFinite(f); err != nil {
				return fmt.Errorf("replication %d, mode %s: %w", i, f.Mode, err)
			}
		}
	}
	return nil
}

// finalize computes every estimate from the raw replications.
func finalize(plan *Plan, points []*PointRecord, tasks []*TaskRecord) (*results.Sweep, error) {
	res := &results.Sweep{
		Format:       results.SweepFormat,
		Scenario:     plan.Scenario,
		Description:  plan.Description,
		Question:     plan.Question,
		Profile:      plan.Profile,
		Command:      plan.Command,
		WarmupS:      plan.WarmupS,
		ScenarioHash: plan.ScenarioHash,
		ToolVersion:  plan.ToolVersion,
		RunDurationS: plan.RunDurationS,
		BaseSeed:     plan.BaseSeed,
		Replications: plan.Replications,
		Confidence:   plan.Confidence,
		Interval:     fmt.Sprintf("Student-t: mean ± t(%g, n−1)·s/√n over independent replications", (1+plan.Confidence)/2),
		Warmup:       warmupRule(plan.Warmup),
		SeedRule:     "seed = SplitMix64 mix of (base seed, FNV-1a of the point key, replication); all modes of a replication share it (common random numbers)",
		Parameters:   plan.Parameters,
		Metrics:      metricInfos,
		SLO:          sloResult(plan.SLO),
		Points:       make([]results.SweepPointResult, len(points)),
	}
	for i, pr := range points {
		p := plan.Points[i]
		pt, err := pointStats(plan, pr.Replications)
		if err != nil {
			return nil, fmt.Errorf("point %d (%s): %w", i, p, err)
		}
		pt.Index, pt.Point, pt.Key = i, p, p.Key()
		res.Points[i] = pt
	}
	var costReps []Replication
	if plan.Cost != nil {
		if i := plan.costPoint(plan.costRef()); i >= 0 {
			costReps = points[i].Replications
		}
	}
	for i, tr := range tasks {
		switch plan.Tasks[i].Kind {
		case "slo-search":
			if tr.Search == nil {
				return nil, fmt.Errorf("task %d: SLO search result missing", i)
			}
			res.Searches = append(res.Searches, *tr.Search)
		case "sizing":
			if tr.Sizing == nil {
				return nil, fmt.Errorf("task %d: sizing result missing", i)
			}
			res.Sizing = append(res.Sizing, *tr.Sizing)
		case "cost-reference":
			costReps = tr.Replications
		}
	}
	if plan.Cost != nil {
		ct, err := costTable(plan, costReps)
		if err != nil {
			return nil, fmt.Errorf("cost table: %w", err)
		}
		res.Cost = ct
	}
	return res, nil
}

func warmupRule(rule string) results.WarmupRule {
	if rule == "scenario" {
		return results.WarmupRule{Rule: rule, Description: "each run discards the scenario's warm-up (warmup_s); no further check"}
	}
	return results.WarmupRule{Rule: "mser5", Description: "each run discards the scenario's warm-up (warmup_s); where the run reports a batch-means series, MSER-5 (White 1997, batches of 5) is applied to it and points[].modes[].warmup says whether the scenario's warm-up covers the truncation MSER-5 finds"}
}

// pointStats computes one point's per-mode estimates.
func pointStats(plan *Plan, reps []Replication) (results.SweepPointResult, error) {
	var pt results.SweepPointResult
	if len(reps) == 0 {
		return pt, fmt.Errorf("no replications")
	}
	modes := reps[0].Modes
	for _, r := range reps {
		pt.Seeds = append(pt.Seeds, r.Seed)
		if len(r.Modes) != len(modes) {
			return pt, fmt.Errorf("replication %d has %d modes, replication 0 has %d", r.Replication, len(r.Modes), len(modes))
		}
		for mi, f := range r.Modes {
			if f.Mode != modes[mi].Mode {
				return pt, fmt.Errorf("replication %d has mode %s where replication 0 has %s", r.Replication, f.Mode, modes[mi].Mode)
			}
		}
	}
	c := plan.Confidence
	est := func(mi int, get func(Figures) float64) Estimate { return MeanCI(column(reps, mi, get), c) }
	for mi, m := range modes {
		ms := results.SweepModeStats{
			Mode:          m.Mode,
			P50Ms:         est(mi, func(f Figures) float64 { return f.P50Ms }),
			P90Ms:         est(mi, func(f Figures) float64 { return f.P90Ms }),
			P99Ms:         est(mi, func(f Figures) float64 { return f.P99Ms }),
			P999Ms:        est(mi, func(f Figures) float64 { return f.P999Ms }),
			MeanMs:        est(mi, func(f Figures) float64 { return f.MeanMs }),
			ThroughputRPS: est(mi, func(f Figures) float64 { return f.ThroughputRPS }),
			ErrorRate:     est(mi, func(f Figures) float64 { return f.ErrorRate }),
			MeshCPUCores:  est(mi, func(f Figures) float64 { return f.MeshCPUCores }),
			MeshMemoryGiB: est(mi, func(f Figures) float64 { return f.MeshMemoryGiB }),
		}
		for _, kind := range kindsOf(reps, mi) {
			get := func(f Figures) KindFigures {
				for _, k := range f.Kinds {
					if k.Kind == kind {
						return k
					}
				}
				return KindFigures{Kind: kind}
			}
			ms.Components = append(ms.Components, results.SweepKindStats{
				Kind:      kind,
				Instances: est(mi, func(f Figures) float64 { return float64(get(f).Instances) }),
				CPUCores:  est(mi, func(f Figures) float64 { return get(f).CPUCores }),
				MemoryGiB: est(mi, func(f Figures) float64 { return get(f).MemoryGiB }),
			})
		}
		if plan.SLO != nil {
			j := judge(reps, mi, plan)
			ms.SLO = &results.SLOCheck{Value: j.Value, Verdict: j.Verdict, Saturated: j.Saturated}
		}
		if plan.Warmup == "mser5" {
			ms.Warmup = warmupCheck(reps, mi, c)
		}
		for _, r := range reps {
			if r.Modes[mi].Saturated {
				ms.Saturated++
			}
		}
		pt.Modes = append(pt.Modes, ms)
	}
	for mi := 1; mi < len(modes); mi++ {
		diff := func(get func(Figures) float64) Estimate {
			d := make([]float64, len(reps))
			for i, r := range reps {
				d[i] = get(r.Modes[mi]) - get(r.Modes[0])
			}
			return MeanCI(d, c)
		}
		pt.Differences = append(pt.Differences, results.ModeDiff{
			Mode:          modes[mi].Mode,
			Baseline:      modes[0].Mode,
			P99Ms:         diff(func(f Figures) float64 { return f.P99Ms }),
			MeshCPUCores:  diff(func(f Figures) float64 { return f.MeshCPUCores }),
			MeshMemoryGiB: diff(func(f Figures) float64 { return f.MeshMemoryGiB }),
		})
	}
	return pt, nil
}

// kindsOf lists the component kinds any replication of mode mi reports.
func kindsOf(reps []Replication, mi int) []string {
	set := map[string]bool{}
	for _, r := range reps {
		for _, k := range r.Modes[mi].Kinds {
			set[k.Kind] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// warmupCheck summarises MSER-5 over the replications, or nil when the runs
// gave no series.
func warmupCheck(reps []Replication, mi int, conf float64) *results.WarmupCheck {
	w := &results.WarmupCheck{ScenarioWarmupS: reps[0].Modes[mi].WarmupS}
	var tr []float64
	for _, r := range reps {
		f := r.Modes[mi]
		if f.MSER == nil {
			return nil
		}
		tr = append(tr, f.MSER.TruncateS)
		if f.MSER.TruncateS <= f.WarmupS {
			w.Covered++
		}
		if !f.MSER.OK {
			w.ShortRuns++
		}
	}
	w.MSERTruncateS = MeanCI(tr, conf)
	return w
}

// sloResult is the SLO as sweep.json records it.
func sloResult(o *SLOSpec) *results.SweepSLO {
	if o == nil {
		return nil
	}
	out := &results.SweepSLO{Metric: o.Metric, Category: o.Category, Threshold: o.Threshold}
	if q := o.Search; q != nil {
		out.Search = &results.SLOSearchSpec{From: q.From, To: q.To, Tolerance: q.Tolerance, MaxSteps: q.MaxSteps}
		if q.At != nil {
			out.Search.At = &results.SweepPointSpec{Point: q.At.Point}
		}
	}
	return out
}
