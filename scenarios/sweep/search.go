package sweep

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// Verdicts of an SLO check on an interval estimate.
const (
	Holds     = "holds"     // the whole confidence interval is within the SLO
	Violated  = "violated"  // the whole confidence interval is beyond the SLO
	Uncertain = "uncertain" // the interval straddles the threshold; the mean decides, with no confidence
)

// verdict judges an estimate of the SLO metric against the threshold.
func verdict(e Estimate, threshold float64) string {
	switch {
	case e.Hi() <= threshold:
		return Holds
	case e.Lo() > threshold:
		return Violated
	default:
		return Uncertain
	}
}

// judgement is the SLO judged on one mode over a point's replications.
type judgement struct {
	Value     Estimate
	Verdict   string
	Saturated int  // replications that left over 5% of their requests unfinished
	Meets     bool // the decision searches take: the mean is within the SLO and no run saturated
}

// judge judges mode mi of a point's replications. A saturated run (see
// Figures.Saturated) violates any SLO, whatever the latency of the few
// requests that did finish.
func judge(reps []Replication, mi int, plan *Plan) judgement {
	v := MeanCI(column(reps, mi, func(f Figures) float64 { return f.SLOValue }), plan.Confidence)
	j := judgement{Value: v, Verdict: verdict(v, plan.SLO.Threshold), Meets: v.Mean <= plan.SLO.Threshold}
	for _, r := range reps {
		if r.Modes[mi].Saturated {
			j.Saturated++
		}
	}
	if j.Saturated > 0 {
		j.Verdict, j.Meets = Violated, false
	}
	return j
}

// meets is the decision of a recorded step.
func meets(verdict string, v Estimate, threshold float64) bool {
	return verdict != Violated && v.Mean <= threshold
}

// searchLoad bisects the load multiplier for the largest load at which the
// task's mode meets the SLO, assuming the SLO metric grows with load. The
// two ends of the range are evaluated at once; the top end's step is kept
// only when the serial search would have taken it (the bottom end meets the
// SLO), so the result is the serial search's.
func (x *executor) searchLoad(ctx context.Context, t Task) (*results.SLOSearchResult, error) {
	plan := x.plan
	q, slo := plan.SLO.Search, plan.SLO
	res := &results.SLOSearchResult{Mode: t.Mode, At: t.At}
	point := func(load float64) Point {
		p := clonePoint(t.At)
		p.Load = load
		p.Modes = []string{t.Mode}
		return p
	}
	step := func(load float64, reps []Replication) results.SearchStep {
		j := judge(reps, 0, plan)
		tput := column(reps, 0, func(f Figures) float64 { return f.ThroughputRPS })
		st := results.SearchStep{Load: load, Value: j.Value, Verdict: j.Verdict, Saturated: j.Saturated, ThroughputRPS: MeanCI(tput, plan.Confidence)}
		res.Steps = append(res.Steps, st)
		return st
	}
	eval := func(load float64) (results.SearchStep, error) {
		reps, err := x.evaluate(ctx, point(load))
		if err != nil {
			return results.SearchStep{}, err
		}
		return step(load, reps), nil
	}
	ends, err := x.evaluateEnds(ctx, point(q.From), point(q.To))
	if err != nil {
		return nil, err
	}
	lo := step(q.From, ends[0])
	if !meets(lo.Verdict, lo.Value, slo.Threshold) {
		res.Status, res.MinViolatingLoad, res.Uncertain = "violated-at-min", lo.Load, lo.Verdict == Uncertain
		res.Note = fmt.Sprintf("%s: the SLO (%s) is not met even at the lowest load searched, %.4g×", t.Mode, slo.describe(), q.From)
		return res, nil
	}
	if ends[1] == nil {
		return nil, ends1Err(ctx, x, point(q.To))
	}
	hi := step(q.To, ends[1])
	if meets(hi.Verdict, hi.Value, slo.Threshold) {
		res.Status, res.MaxLoad, res.Uncertain, res.ThroughputRPS = "holds-at-max", hi.Load, hi.Verdict == Uncertain, hi.ThroughputRPS
		res.ConfidentMaxLoad = confidentMax(res.Steps, math.Inf(1))
		res.Note = fmt.Sprintf("%s: the SLO (%s) holds up to the highest load searched, %.4g×; raise slo.search.to", t.Mode, slo.describe(), q.To)
		return res, nil
	}
	for step := 0; step < q.MaxSteps && (hi.Load-lo.Load)/lo.Load > q.Tolerance; step++ {
		// Bisect in log space: loads span decades and the bracket ratio is
		// what the tolerance bounds.
		mid, err := eval(math.Sqrt(lo.Load * hi.Load))
		if err != nil {
			return nil, err
		}
		if meets(mid.Verdict, mid.Value, slo.Threshold) {
			lo = mid
		} else {
			hi = mid
		}
	}
	res.Status, res.MaxLoad, res.MinViolatingLoad, res.ThroughputRPS = "found", lo.Load, hi.Load, lo.ThroughputRPS
	res.Uncertain = lo.Verdict == Uncertain || hi.Verdict == Uncertain
	res.ConfidentMaxLoad = confidentMax(res.Steps, hi.Load)
	res.Note = fmt.Sprintf("%s: the SLO (%s) holds up to load %.4g× (%.4g rps) and fails at %.4g×",
		t.Mode, slo.describe(), lo.Load, lo.ThroughputRPS.Mean, hi.Load)
	if res.Uncertain {
		res.Note += fmt.Sprintf("; the %g%% interval straddles the SLO at a bracket end, so the bracket is uncertain (confidently met up to %.4g×) — add replications to resolve it",
			plan.Confidence*100, res.ConfidentMaxLoad)
	}
	return res, nil
}

// evaluateEnds evaluates a search's first step and, speculatively, its
// second at once. The first's error is returned; the second's replications
// are nil when it failed, and ends1Err re-runs it serially to report that
// failure only if the search needs the step.
func (x *executor) evaluateEnds(ctx context.Context, first, second Point) ([][]Replication, error) {
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		reps [2][]Replication
		errs [2]error
	)
	for i, p := range []Point{first, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := ctx
			if i == 1 {
				c = sub // a failing speculation must not cancel the search
			}
			reps[i], errs[i] = x.evaluate(c, p)
		}()
	}
	wg.Wait()
	if errs[0] != nil {
		return nil, errs[0]
	}
	return reps[:], nil
}

// ends1Err reports the error of a speculative second step the search needs
// after all, by evaluating it again (a pure function of point and seed, so
// it fails the same way).
func ends1Err(ctx context.Context, x *executor, p Point) error {
	_, err := x.evaluate(ctx, p)
	if err == nil {
		return fmt.Errorf("%s: a run failed and then succeeded on the same seed (the runner is not deterministic)", p)
	}
	return err
}

// confidentMax is the largest step load below limit whose verdict is Holds.
func confidentMax(steps []results.SearchStep, limit float64) float64 {
	best := 0.0
	for _, s := range steps {
		if s.Verdict == Holds && s.Load < limit && s.Load > best {
			best = s.Load
		}
	}
	return best
}

func (o *SLOSpec) describe() string {
	if o.Metric == "error_rate" {
		return fmt.Sprintf("error rate ≤ %g", o.Threshold)
	}
	cat := ""
	if o.Category != "all" {
		cat = " of " + o.Category + " paths"
	}
	return fmt.Sprintf("%s latency%s ≤ %g ms", o.Metric, cat, o.Threshold)
}

// column collects one figure of mode index mi over replications.
func column(reps []Replication, mi int, get func(Figures) float64) []float64 {
	out := make([]float64, len(reps))
	for i, r := range reps {
		out[i] = get(r.Modes[mi])
	}
	return out
}

// searchSize bisects an integer parameter for the smallest value meeting the
// SLO, assuming more replicas or threads never hurt. The largest value and
// the cheapest (1, the serial search's next step) are evaluated at once; the
// cheapest's step is kept only when the serial search would have taken it.
func (x *executor) searchSize(ctx context.Context, t Task) (*results.SizingResult, error) {
	plan := x.plan
	z, slo := plan.Sizing, plan.SLO
	res := &results.SizingResult{Mode: t.Mode, Parameter: t.Parameter, Load: t.At.Load, At: t.At}
	memo := map[int]results.SizingStep{}
	pending := map[int][]Replication{} // speculative results not yet taken
	point := func(v int) Point {
		p := clonePoint(t.At)
		p.Modes = []string{t.Mode}
		setParam(&p, t.Parameter, results.FormatNumber(float64(v)))
		return p
	}
	eval := func(v int) (results.SizingStep, error) {
		if s, ok := memo[v]; ok {
			return s, nil
		}
		reps, ok := pending[v]
		if !ok {
			var err error
			if reps, err = x.evaluate(ctx, point(v)); err != nil {
				return results.SizingStep{}, err
			}
		}
		j := judge(reps, 0, plan)
		s := results.SizingStep{Value: v, SLOValue: j.Value, Verdict: j.Verdict, Saturated: j.Saturated}
		memo[v] = s
		res.Steps = append(res.Steps, s)
		return s, nil
	}
	if z.Max > 1 {
		ends, err := x.evaluateEnds(ctx, point(z.Max), point(1))
		if err != nil {
			return nil, err
		}
		pending[z.Max] = ends[0]
		if ends[1] != nil {
			pending[1] = ends[1] // else eval(1) runs it again and reports its error
		}
	}
	top, err := eval(z.Max)
	if err != nil {
		return nil, err
	}
	if !meets(top.Verdict, top.SLOValue, slo.Threshold) {
		res.Status = "not-met"
		res.Note = fmt.Sprintf("%s at load %.4g×: the SLO (%s) is not met even with %s = %d", t.Mode, res.Load, slo.describe(), t.Parameter, z.Max)
		return res, nil
	}
	// Invariant: hi meets the SLO; every value <= lo is known to miss it
	// (lo = 0 means nothing tried yet).
	lo, hi := 0, top
	for hi.Value-lo > 1 {
		mid := lo + (hi.Value-lo)/2
		if lo == 0 {
			mid = 1 // try the cheapest first: often it already suffices
		}
		s, err := eval(mid)
		if err != nil {
			return nil, err
		}
		if meets(s.Verdict, s.SLOValue, slo.Threshold) {
			hi = s
		} else {
			lo = mid
		}
	}
	res.Status, res.Minimal, res.Verdict = "found", hi.Value, hi.Verdict
	if t.Parameter == "workerThreads" {
		res.ZtunnelCPURequestCores = float64(hi.Value)
	}
	res.Note = fmt.Sprintf("%s at load %.4g×: %s = %d meets the SLO (%s)", t.Mode, res.Load, t.Parameter, hi.Value, slo.describe())
	if hi.Verdict == Uncertain {
		res.Note += fmt.Sprintf(", but its %g%% interval straddles the threshold", plan.Confidence*100)
	}
	return res, nil
}
