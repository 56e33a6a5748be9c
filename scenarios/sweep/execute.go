package sweep

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// ShardFormat names the format of a shard file.
const ShardFormat = "ambientsim-sweep-shard/1"

// ShardResult is what one shard (or a whole local run, shard 0 of 1)
// produces: the raw per-replication figures of its points and the outcomes
// of its tasks. Merge turns shard results into a results.Sweep.
type ShardResult struct {
	Format   string        `json:"format"`
	Shard    int           `json:"shard"`
	Shards   int           `json:"shards"`
	PlanHash string        `json:"plan_hash"`
	Plan     *Plan         `json:"plan"`
	Points   []PointRecord `json:"points"`
	Tasks    []TaskRecord  `json:"tasks"`
}

// PointRecord holds every replication of one design point.
type PointRecord struct {
	Index        int           `json:"index"`
	Replications []Replication `json:"replications"`
}

// Replication is one run: its seed and the figures of each mode.
type Replication struct {
	Replication int       `json:"replication"`
	Seed        uint64    `json:"seed"`
	Modes       []Figures `json:"modes"`
}

// TaskRecord is the outcome of one task.
type TaskRecord struct {
	Index        int                      `json:"index"` // into Plan.Tasks
	Search       *results.SLOSearchResult `json:"search,omitempty"`
	Sizing       *results.SizingResult    `json:"sizing,omitempty"`
	Replications []Replication            `json:"replications,omitempty"` // cost-reference
}

// Options control how a shard runs; none of them changes a number.
type Options struct {
	// Workers is how many simulations run at once; default GOMAXPROCS.
	Workers int
	// Shard and Shards select every Shards-th work unit starting at Shard;
	// Shards 0 or 1 runs everything.
	Shard, Shards int
	// Progress, when set, is called after each finished item (a
	// replication of a point, or a whole task) with the count done and the
	// total. Calls are serialised.
	Progress func(done, total int)
	// Stats, when set, receives how the workers were used.
	Stats *Stats
}

// Stats tell how a shard's simulations kept the workers busy. They are
// wall-clock figures about this machine, never part of a result.
type Stats struct {
	Workers int           // workers in the pool
	Units   int           // simulations run (replications, of points and of tasks' steps)
	Busy    time.Duration // summed wall time of the units
	Wall    time.Duration // wall time of Execute
}

// Occupancy is Busy / (Wall × Workers): the share of the workers' time the
// pool kept a simulation running (1 = every worker busy from start to end).
// On a machine shared with other work, CPU/real time falls below it.
func (s Stats) Occupancy() float64 {
	if s.Wall <= 0 || s.Workers == 0 {
		return 0
	}
	return s.Busy.Seconds() / (s.Wall.Seconds() * float64(s.Workers))
}

// Execute runs the plan's work units that belong to the shard and returns
// their raw results. The first failing run cancels the rest.
//
// Every simulation is a unit of one pool of Workers (see pool): the
// points' replications, and each step of a search or a sizing task, whose
// replications run in parallel and go before queued points.
func Execute(ctx context.Context, plan *Plan, r Runner, o Options) (*ShardResult, error) {
	shards := max(o.Shards, 1)
	if o.Shard < 0 || o.Shard >= shards {
		return nil, fmt.Errorf("shard %d is outside 0..%d", o.Shard, shards-1)
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	res := &ShardResult{Format: ShardFormat, Shard: o.Shard, Shards: shards, PlanHash: plan.Hash(), Plan: plan}

	items, taskSlot, pointSlot := shardItems(plan, res, o.Shard, shards)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr := &tracker{cancel: cancel, progress: o.Progress, total: len(items)}
	finished := tr.finished
	pl := newPool(workers)
	x := &executor{plan: plan, r: r, pool: pl}
	var wg sync.WaitGroup
	// Tasks first: their coordinators submit their first steps before the
	// grid is queued, and their units go first anyway.
	for _, it := range items {
		wg.Add(1)
		if it.task >= 0 {
			go func() {
				defer wg.Done()
				rec, err := x.runTask(ctx, it.task)
				if err == nil {
					res.Tasks[taskSlot[it.task]] = rec // distinct slots: no lock needed
				}
				finished(err)
			}()
			continue
		}
		pl.submit(false, func() {
			defer wg.Done()
			p := plan.Points[it.point]
			rep, err := runReplication(ctx, plan, r, p, it.rep)
			if err == nil {
				res.Points[pointSlot[it.point]].Replications[it.rep] = rep
			} else {
				err = fmt.Errorf("point %d (%s): %w", it.point, p, err)
			}
			finished(err)
		})
	}
	wg.Wait()
	pl.close()
	if o.Stats != nil {
		*o.Stats = Stats{Workers: workers, Units: pl.units, Busy: pl.busy, Wall: time.Since(start)}
	}
	if tr.firstErr != nil {
		return nil, tr.firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sweep interrupted: %w", err)
	}
	return res, nil
}

// execItem is a unit of progress: a whole task (task >= 0), or one
// replication of a point.
type execItem struct {
	task, point, rep int
}

// shardItems lists the shard's items, whole tasks first, and adds a record
// for each of the shard's tasks and points to res; taskSlot and pointSlot
// map a task's and a point's plan index to its record.
func shardItems(plan *Plan, res *ShardResult, shard, shards int) (items []execItem, taskSlot, pointSlot map[int]int) {
	for t := range plan.Tasks {
		if InShard(len(plan.Points)+t, shard, shards) {
			items = append(items, execItem{task: t})
			res.Tasks = append(res.Tasks, TaskRecord{Index: t})
		}
	}
	taskSlot = map[int]int{}
	for i, tr := range res.Tasks {
		taskSlot[tr.Index] = i
	}
	pointSlot = map[int]int{}
	for pi := range plan.Points {
		if InShard(pi, shard, shards) {
			pointSlot[pi] = len(res.Points)
			res.Points = append(res.Points, PointRecord{Index: pi, Replications: make([]Replication, plan.Replications)})
			for rep := 0; rep < plan.Replications; rep++ {
				items = append(items, execItem{task: -1, point: pi, rep: rep})
			}
		}
	}
	return items, taskSlot, pointSlot
}

// tracker counts finished items for progress and keeps the first error,
// cancelling the rest of the sweep on it.
type tracker struct {
	mu       sync.Mutex
	firstErr error
	done     int
	total    int
	cancel   context.CancelFunc
	progress func(done, total int)
}

func (t *tracker) fail(err error) {
	t.mu.Lock()
	if t.firstErr == nil {
		t.firstErr = err
	}
	t.mu.Unlock()
	t.cancel()
}

// finished records an item's end: its error, or one more done.
func (t *tracker) finished(err error) {
	if err != nil {
		t.fail(err)
		return
	}
	if t.progress != nil {
		t.mu.Lock()
		t.done++
		t.progress(t.done, t.total)
		t.mu.Unlock()
	}
}

// runReplication runs replication rep of point p and keeps its figures.
func runReplication(ctx context.Context, plan *Plan, r Runner, p Point, rep int) (Replication, error) {
	if err := ctx.Err(); err != nil {
		return Replication{}, err
	}
	seed := SeedFor(plan.BaseSeed, p.Key(), rep)
	out, err := r.RunPoint(ctx, p, seed)
	if err != nil {
		return Replication{}, fmt.Errorf("replication %d (seed %d): %w", rep, seed, err)
	}
	figs, err := observe(out, plan.SLO)
	if err != nil {
		return Replication{}, fmt.Errorf("replication %d (seed %d): %w", rep, seed, err)
	}
	if len(p.Modes) > 0 {
		if err := checkModes(figs, p.Modes); err != nil {
			return Replication{}, fmt.Errorf("replication %d (seed %d): %w", rep, seed, err)
		}
	}
	return Replication{Replication: rep, Seed: seed, Modes: figs}, nil
}

func checkModes(figs []Figures, want []string) error {
	got := make([]string, len(figs))
	for i, f := range figs {
		got[i] = f.Mode
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("runner returned modes %v, want %v", got, want)
	}
	return nil
}

func (x *executor) runTask(ctx context.Context, t int) (TaskRecord, error) {
	task := x.plan.Tasks[t]
	rec := TaskRecord{Index: t}
	var err error
	switch task.Kind {
	case "slo-search":
		rec.Search, err = x.searchLoad(ctx, task)
	case "sizing":
		rec.Sizing, err = x.searchSize(ctx, task)
	case "cost-reference":
		rec.Replications, err = x.evaluate(ctx, task.At)
	default:
		err = errors.New("unknown task kind " + task.Kind)
	}
	if err != nil {
		return rec, fmt.Errorf("%s task %d (mode %s): %w", task.Kind, t, task.Mode, err)
	}
	return rec, nil
}

// Run executes the whole plan locally and returns its results.Sweep: Execute of
// the single shard, then Merge.
func Run(ctx context.Context, plan *Plan, r Runner, o Options) (*results.Sweep, error) {
	o.Shard, o.Shards = 0, 1
	s, err := Execute(ctx, plan, r, o)
	if err != nil {
		return nil, err
	}
	return Merge(s)
}
