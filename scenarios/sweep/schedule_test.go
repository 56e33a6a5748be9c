package sweep

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// concurrency records how many calls of a runner overlap. Each call waits
// briefly for company, so calls that can overlap do, and calls that run one
// after another are seen alone.
type concurrency struct {
	mu       sync.Mutex
	inFlight int
	max      int
}

func (c *concurrency) wrap(r Runner, counted func(Point) bool) Runner {
	return RunnerFunc(func(ctx context.Context, p Point, seed uint64) (*Outcome, error) {
		if counted(p) {
			c.mu.Lock()
			c.inFlight++
			c.max = max(c.max, c.inFlight)
			c.mu.Unlock()
			deadline := time.Now().Add(100 * time.Millisecond)
			for time.Now().Before(deadline) {
				c.mu.Lock()
				m := c.max
				c.mu.Unlock()
				if m >= 2 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			defer func() {
				c.mu.Lock()
				c.inFlight--
				c.mu.Unlock()
			}()
		}
		return r.RunPoint(ctx, p, seed)
	})
}

// TestSearchStepsUseEveryWorker: a study whose work is one SLO search (the
// grid is a single point) still runs two simulations at once — a step's
// replications, and the search's two ends, are separate units.
func TestSearchStepsUseEveryWorker(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"slo-search", `
sweep:
  replications: 2
  parameters: {mode: [sidecar], load: [0.001]}
  slo: {threshold: 20, search: {from: 0.1, to: 4}}
`},
		{"sizing", `
sweep:
  replications: 2
  parameters: {mode: [ambient], load: [0.001]}
  slo: {threshold: 20}
  sizing: {load: 1.5, parameters: [workerThreads], max: 8}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := studyPlan(t, tc.doc)
			var c concurrency
			r := c.wrap(mm1Runner{baseRPS: 1000}, func(p Point) bool { return p.Load != 0.001 })
			var st Stats
			if _, err := Run(context.Background(), plan, r, Options{Workers: 2, Stats: &st}); err != nil {
				t.Fatal(err)
			}
			if c.max < 2 {
				t.Errorf("the task's simulations never overlapped (max %d at once): it holds one worker", c.max)
			}
			if st.Units == 0 || st.Workers != 2 || st.Busy <= 0 || st.Wall <= 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestSpeculativeStepsChangeNothing: a search evaluates its first two steps
// at once; when the serial search would not have needed the second, neither
// its step nor its failure shows.
func TestSpeculativeStepsChangeNothing(t *testing.T) {
	boom := errors.New("boom")
	failAt := func(bad func(Point) bool) Runner {
		return RunnerFunc(func(ctx context.Context, p Point, seed uint64) (*Outcome, error) {
			if bad(p) {
				return nil, boom
			}
			return mm1Runner{baseRPS: 1000}.RunPoint(ctx, p, seed)
		})
	}
	// sidecar (μ = 1000) misses 20 ms at λ = 970: the search stops at its
	// first step, so the failing top end must not matter.
	plan := studyPlan(t, `
sweep:
  replications: 2
  parameters: {mode: [sidecar], load: [0.5]}
  slo: {threshold: 20, search: {from: 0.97, to: 1.5}}
`)
	res, err := Run(context.Background(), plan, failAt(func(p Point) bool { return p.Load == 1.5 }), Options{Workers: 2})
	if err != nil {
		t.Fatalf("a step the search never takes failed the sweep: %v", err)
	}
	if s := res.Searches[0]; s.Status != "violated-at-min" || len(s.Steps) != 1 {
		t.Errorf("search %+v, want violated-at-min after one step", s)
	}
	// With a bottom end that meets the SLO the top end is needed: its
	// failure is the sweep's.
	plan = studyPlan(t, `
sweep:
  replications: 2
  parameters: {mode: [sidecar], load: [0.5]}
  slo: {threshold: 20, search: {from: 0.1, to: 1.5}}
`)
	_, err = Run(context.Background(), plan, failAt(func(p Point) bool { return p.Load == 1.5 }), Options{Workers: 2})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "load=1.5") {
		t.Errorf("error %v, want boom at load=1.5", err)
	}
	// Sizing: ambient+waypoint cannot meet the SLO at λ = 1500 even with 8
	// threads, so the cheapest value (1) is never needed.
	plan = studyPlan(t, `
sweep:
  replications: 2
  parameters: {mode: [ambient+waypoint], load: [0.5]}
  slo: {threshold: 20}
  sizing: {load: 1.5, parameters: [workerThreads], max: 8}
`)
	res, err = Run(context.Background(), plan, failAt(func(p Point) bool { return p.WorkerThreads == 1 }), Options{Workers: 2})
	if err != nil {
		t.Fatalf("a sizing step the search never takes failed the sweep: %v", err)
	}
	if z := res.Sizing[0]; z.Status != "not-met" || len(z.Steps) != 1 {
		t.Errorf("sizing %+v, want not-met after one step", z)
	}
}
