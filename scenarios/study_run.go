package scenarios

import (
	"context"

	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/sim"
)

// DefaultBatchInterval is the batch width of the runs' latency series: 100
// ms gives MSER-5 120 batches (24 groups of 5) on a 2 s + 10 s run.
const DefaultBatchInterval = 100 * sim.Millisecond

// StudyRunner runs sweep points as scenario runs (a sweep.Runner). It is
// safe for concurrent use; each point gets its own copy of the scenario.
type StudyRunner struct {
	study *Study
	opt   StudyOptions
}

// NewStudyRunner returns a StudyRunner for the study.
func NewStudyRunner(s *Study, o StudyOptions) *StudyRunner {
	if o.BatchInterval <= 0 {
		o.BatchInterval = DefaultBatchInterval
	}
	return &StudyRunner{study: s, opt: o}
}

// RunPoint implements sweep.Runner: the study's scenario with the point
// applied (Scenario.WithPoint), every mode on the seed. The run stops
// promptly (within one simulated second) when ctx is cancelled.
func (r *StudyRunner) RunPoint(ctx context.Context, p sweep.Point, seed uint64) (*sweep.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc, err := r.study.Scenario.WithPoint(p)
	if err != nil {
		return nil, err
	}
	opt := Options{Seed: &seed, Duration: r.opt.Duration, Command: r.opt.Command, ToolVersion: r.opt.ToolVersion, MaxEvents: r.opt.MaxEvents}
	mser := r.study.Spec.Warmup == "mser5"
	if mser {
		opt.BatchInterval = r.opt.BatchInterval
	}
	run, err := ExecuteContext(ctx, sc, opt)
	if err != nil {
		return nil, err
	}
	out := &sweep.Outcome{Summary: run.Summary}
	if mser {
		for _, m := range run.Summary.Modes {
			out.Series = append(out.Series, sweep.ModeSeries{Mode: m.Mode, BatchS: r.opt.BatchInterval.Seconds(), LatencyMs: run.Series[m.Mode]})
		}
	}
	return out, nil
}
