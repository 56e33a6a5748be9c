package sweep

import (
	"context"
	"fmt"
	"math"
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

// SearchStep is one evaluated load of an SLO search.
type SearchStep struct {
	Load          float64  `json:"load"`
	Value         Estimate `json:"value"` // the SLO metric (ms, or a fraction for error_rate)
	Verdict       string   `json:"verdict"`
	Saturated     int      `json:"saturated_runs,omitempty"` // replications that could not keep up
	ThroughputRPS Estimate `json:"throughput_rps"`
}

// SearchResult is the largest load at which one mode meets the SLO.
type SearchResult struct {
	Mode string `json:"mode"`
	At   Point  `json:"at"` // the other parameters
	// Status: "found" (a bracket [MaxLoad, MinViolatingLoad] within the
	// tolerance), "holds-at-max" (the SLO holds at the highest load
	// searched), "violated-at-min" (it fails at the lowest).
	Status string `json:"status"`
	// MaxLoad is the largest evaluated load whose mean meets the SLO
	// (0 when none did).
	MaxLoad float64 `json:"max_load"`
	// MinViolatingLoad is the smallest evaluated load whose mean misses it
	// (0 when none did).
	MinViolatingLoad float64 `json:"min_violating_load"`
	// ConfidentMaxLoad is the largest evaluated load below MinViolatingLoad
	// whose whole interval meets the SLO (0 when none).
	ConfidentMaxLoad float64 `json:"confident_max_load"`
	// Uncertain is true when the interval at MaxLoad or MinViolatingLoad
	// straddles the threshold: more replications would be needed to be
	// sure of the answer to the tolerance.
	Uncertain bool `json:"uncertain"`
	// ThroughputRPS is the throughput measured at MaxLoad.
	ThroughputRPS Estimate     `json:"throughput_rps"`
	Note          string       `json:"note"` // the answer in one sentence
	Steps         []SearchStep `json:"steps"`
}

// searchLoad bisects the load multiplier for the largest load at which the
// task's mode meets the SLO, assuming the SLO metric grows with load.
func searchLoad(ctx context.Context, plan *Plan, r Runner, t Task) (*SearchResult, error) {
	q, slo := plan.SLO.Search, plan.SLO
	res := &SearchResult{Mode: t.Mode, At: t.At}
	eval := func(load float64) (SearchStep, error) {
		p := t.At.clone()
		p.Load = load
		p.Modes = []string{t.Mode}
		reps, err := evaluate(ctx, plan, r, p)
		if err != nil {
			return SearchStep{}, err
		}
		j := judge(reps, 0, plan)
		tput := column(reps, 0, func(f Figures) float64 { return f.ThroughputRPS })
		st := SearchStep{Load: load, Value: j.Value, Verdict: j.Verdict, Saturated: j.Saturated, ThroughputRPS: MeanCI(tput, plan.Confidence)}
		res.Steps = append(res.Steps, st)
		return st, nil
	}
	lo, err := eval(q.From)
	if err != nil {
		return nil, err
	}
	if !meets(lo.Verdict, lo.Value, slo.Threshold) {
		res.Status, res.MinViolatingLoad, res.Uncertain = "violated-at-min", lo.Load, lo.Verdict == Uncertain
		res.Note = fmt.Sprintf("%s: the SLO (%s) is not met even at the lowest load searched, %.4g×", t.Mode, slo.describe(), q.From)
		return res, nil
	}
	hi, err := eval(q.To)
	if err != nil {
		return nil, err
	}
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

// confidentMax is the largest step load below limit whose verdict is Holds.
func confidentMax(steps []SearchStep, limit float64) float64 {
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

// SizingStep is one evaluated size.
type SizingStep struct {
	Value     int      `json:"value"`
	SLOValue  Estimate `json:"slo_value"`
	Verdict   string   `json:"verdict"`
	Saturated int      `json:"saturated_runs,omitempty"`
}

// SizingResult is the smallest value of one parameter at which one mode
// meets the SLO at the sizing load.
type SizingResult struct {
	Mode      string  `json:"mode"`
	Parameter string  `json:"parameter"` // waypointReplicas | workerThreads
	Load      float64 `json:"load"`
	At        Point   `json:"at"`
	// Status: "found", or "not-met" when even sizing.max misses the SLO.
	Status  string `json:"status"`
	Minimal int    `json:"minimal,omitempty"`
	// Verdict at Minimal: holds, or uncertain when its interval straddles
	// the SLO (the next size up is then the confident answer).
	Verdict string `json:"verdict,omitempty"`
	// ZtunnelCPURequestCores is the ztunnel CPU request matching Minimal
	// worker threads (one core per worker thread).
	ZtunnelCPURequestCores float64      `json:"ztunnel_cpu_request_cores,omitempty"`
	Note                   string       `json:"note"`
	Steps                  []SizingStep `json:"steps"`
}

// searchSize bisects an integer parameter for the smallest value meeting the
// SLO, assuming more replicas or threads never hurt.
func searchSize(ctx context.Context, plan *Plan, r Runner, t Task) (*SizingResult, error) {
	z, slo := plan.Sizing, plan.SLO
	res := &SizingResult{Mode: t.Mode, Parameter: t.Parameter, Load: t.At.Load, At: t.At}
	memo := map[int]SizingStep{}
	eval := func(v int) (SizingStep, error) {
		if s, ok := memo[v]; ok {
			return s, nil
		}
		p := t.At.clone()
		p.Modes = []string{t.Mode}
		p.set(t.Parameter, formatNumber(float64(v)))
		reps, err := evaluate(ctx, plan, r, p)
		if err != nil {
			return SizingStep{}, err
		}
		j := judge(reps, 0, plan)
		s := SizingStep{Value: v, SLOValue: j.Value, Verdict: j.Verdict, Saturated: j.Saturated}
		memo[v] = s
		res.Steps = append(res.Steps, s)
		return s, nil
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
