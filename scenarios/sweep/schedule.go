package sweep

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// pool runs work units — one replication of one point each — on a fixed
// number of workers, so every core stays busy until the last unit is done.
//
// Searches and sizing are not units themselves: a task is a coordinator
// (a goroutine that holds no worker) whose steps submit their replications
// as units and wait for them. A step's replications therefore run in
// parallel, and so do the steps of different tasks and the grid's points.
// Task units are urgent: they go before queued point units, because a
// search is a chain of steps (each bisection step needs the previous one's
// verdict) and its chain, not the grid, decides when the sweep ends.
//
// Scheduling changes no number: a unit is a pure function of its point and
// seed, and its result lands in a slot fixed by the plan.
type pool struct {
	mu     sync.Mutex
	cond   sync.Cond
	urgent []func()
	normal []func()
	closed bool
	wg     sync.WaitGroup
	busy   time.Duration // summed wall time of finished units
	units  int
}

// newPool starts workers goroutines waiting for units.
func newPool(workers int) *pool {
	p := &pool{}
	p.cond.L = &p.mu
	for range workers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// submit queues f; urgent units run before every queued normal one.
func (p *pool) submit(urgent bool, f func()) {
	p.mu.Lock()
	if urgent {
		p.urgent = append(p.urgent, f)
	} else {
		p.normal = append(p.normal, f)
	}
	p.mu.Unlock()
	p.cond.Signal()
}

// close lets the workers exit once the queues are empty and waits for them.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cond.Broadcast()
	p.wg.Wait()
}

func (p *pool) work() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		for len(p.urgent) == 0 && len(p.normal) == 0 && !p.closed {
			p.cond.Wait()
		}
		var f func()
		switch {
		case len(p.urgent) > 0:
			f, p.urgent[0] = p.urgent[0], nil
			p.urgent = p.urgent[1:]
		case len(p.normal) > 0:
			f, p.normal[0] = p.normal[0], nil
			p.normal = p.normal[1:]
		default: // closed and drained
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		start := time.Now()
		f()
		d := time.Since(start)
		p.mu.Lock()
		p.busy += d
		p.units++
		p.mu.Unlock()
	}
}

// executor runs a plan's replications through a pool.
type executor struct {
	plan *Plan
	r    Runner
	pool *pool
}

// evaluate runs every replication of p as an urgent unit and waits for
// them; the replications run in parallel.
func (x *executor) evaluate(ctx context.Context, p Point) ([]Replication, error) {
	all, err := x.evaluateAll(ctx, []Point{p})
	if err != nil {
		return nil, err
	}
	return all[0], nil
}

// evaluateAll runs every replication of every point at once (a search's
// speculative steps) and returns them in order. The error is the first
// point's, in the order given, that failed for a reason of its own rather
// than because another failure cancelled ctx.
func (x *executor) evaluateAll(ctx context.Context, ps []Point) ([][]Replication, error) {
	n := x.plan.Replications
	reps := make([][]Replication, len(ps))
	errs := make([]error, len(ps)*n)
	var wg sync.WaitGroup
	for pi, p := range ps {
		reps[pi] = make([]Replication, n)
		for i := range n {
			wg.Add(1)
			x.pool.submit(true, func() {
				defer wg.Done()
				reps[pi][i], errs[pi*n+i] = runReplication(ctx, x.plan, x.r, p, i)
			})
		}
	}
	wg.Wait()
	if err := firstCause(errs); err != nil {
		for k, e := range errs {
			if e == err {
				return nil, fmt.Errorf("%s: %w", ps[k/n], err)
			}
		}
	}
	return reps, nil
}

// firstCause is the first error that is not a cancellation, else the first
// error, else nil: when one replication fails, the others stop with
// ctx.Err(), and the failure that caused it is the one to report.
func firstCause(errs []error) error {
	var first error
	for _, e := range errs {
		if e == nil {
			continue
		}
		if !errors.Is(e, context.Canceled) {
			return e
		}
		if first == nil {
			first = e
		}
	}
	return first
}
