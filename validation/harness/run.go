package harness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Run starts the experiment's load generators in their pods, injects its
// failures at their times, waits for the loads to end (killing any that
// overrun Duration+LoadGrace), lets the proxies settle, then reads CPU and
// memory of every process, scrapes every process that serves metrics and
// parses the load generators' results. A failed load is recorded in its
// LoadResult and also returned as an error, with the partial Measurement.
// When ctx is cancelled, Run kills its load generators and returns
// ctx.Err(); the caller then calls Teardown.
func (b *Local) Run(ctx context.Context, exp *Experiment) (*Measurement, error) {
	b.mu.Lock()
	plan, layout, longRunning := b.plan, b.layout, append([]*process(nil), b.procs...)
	b.runs++
	runNo := b.runs
	b.mu.Unlock()
	if layout == nil {
		return nil, errors.New("local backend: Run before Setup")
	}
	if err := exp.Validate(plan); err != nil {
		return nil, err
	}
	m := &Measurement{Backend: b.Name(), RunID: b.runID, Experiment: exp.Name, NotEmulated: b.NotEmulated()}

	cpuBefore := map[*process]float64{}
	for _, p := range longRunning {
		cpu, _, _, _ := p.usage()
		cpuBefore[p] = cpu
	}

	// Start the load generators.
	loadgens := make([]*process, len(exp.Loads))
	for i := range exp.Loads {
		load := exp.Loads[i]
		s, _ := layout.Sandbox(load.From)
		spec := ProcessSpec{
			Kind:       KindLoadGen,
			Owner:      fmt.Sprintf("%s.r%d.%d", load.From, runNo, i),
			Node:       s.Node,
			IP:         s.IP,
			Load:       &load,
			ResultPath: filepath.Join(b.WorkDir(), "results", fmt.Sprintf("run%d-load%d.json", runNo, i)),
		}
		p, err := b.newProcess(ctx, spec, s.Netns)
		if err != nil {
			b.killAll(loadgens)
			return nil, err
		}
		loadgens[i] = p
	}
	m.Start = time.Now()

	// Inject failures.
	fctx, stopFailures := context.WithCancel(ctx)
	var fwg sync.WaitGroup
	var emu sync.Mutex
	for _, f := range exp.Failures {
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			select {
			case <-fctx.Done():
				return
			case <-time.After(f.At - time.Since(m.Start)):
			}
			ev := Event{At: time.Since(m.Start), Action: f.Action, Target: f.Target}
			if err := b.inject(fctx, f); err != nil {
				ev.Err = err.Error()
			}
			b.logf("failure %s %s at %v", f.Action, f.Target, ev.At.Round(time.Millisecond))
			emu.Lock()
			m.Events = append(m.Events, ev)
			emu.Unlock()
		}()
	}

	// Wait for the loads.
	deadline := exp.Longest() + b.opts.LoadGrace
	wctx, cancelWait := context.WithTimeout(ctx, deadline)
	loadErrs := make([]string, len(loadgens))
	for i, p := range loadgens {
		err := p.wait(wctx)
		switch {
		case err == nil:
		case ctx.Err() != nil:
		case errors.Is(err, context.DeadlineExceeded):
			_ = p.kill(context.WithoutCancel(ctx))
			loadErrs[i] = fmt.Sprintf("did not finish within %v (duration + grace); killed", deadline)
		default:
			loadErrs[i] = fmt.Sprintf("%v; log tail:\n%s", err, p.logTail(1000))
		}
	}
	cancelWait()
	stopFailures()
	fwg.Wait()
	if err := ctx.Err(); err != nil {
		b.killAll(loadgens)
		return nil, err
	}
	m.End = time.Now()
	if exp.Settle > 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(exp.Settle):
		}
	}

	// Resource use.
	for _, p := range longRunning {
		cpu, peak, src, err := p.usage()
		if err != nil {
			b.logf("usage of %s: %v", p.spec.Name, err)
		}
		p.mu.Lock()
		restarts := p.restarts
		p.mu.Unlock()
		m.Processes = append(m.Processes, ProcessUsage{
			Process: p.spec.Name, Kind: p.spec.Kind, Node: p.spec.Node,
			CPUSeconds: cpu - cpuBefore[p], PeakMemoryBytes: peak, PeakRSSBytes: p.peakRSS(),
			Source: src, Restarts: restarts,
		})
	}
	for _, p := range loadgens {
		cpu, peak, src, _ := p.usage()
		m.Processes = append(m.Processes, ProcessUsage{
			Process: p.spec.Name, Kind: p.spec.Kind, Node: p.spec.Node,
			CPUSeconds: cpu, PeakMemoryBytes: peak, Source: src,
		})
	}

	// Metrics.
	for _, p := range append(longRunning, loadgens...) {
		if p.command.MetricsURL == "" || p.exited() {
			continue
		}
		sc := Scrape{Process: p.spec.Name, URL: p.command.MetricsURL}
		fams, err := scrapeInNetns(ctx, p.netns, p.command.MetricsURL, b.opts.ScrapeTimeout)
		if err != nil {
			sc.Err = err.Error()
		}
		sc.Families, sc.Samples = fams, Flatten(fams)
		m.Metrics = append(m.Metrics, sc)
	}

	// Results.
	var errs []error
	for i, p := range loadgens {
		lr := LoadResult{Load: exp.Loads[i], Process: p.spec.Name, Err: loadErrs[i]}
		res, err := ReadFortioFile(p.spec.ResultPath)
		if err != nil && lr.Err == "" {
			lr.Err = fmt.Sprintf("no result: %v; log tail:\n%s", err, p.logTail(1000))
		}
		lr.Result = res
		if lr.Err != "" {
			errs = append(errs, fmt.Errorf("load %d (%s → %s): %s", i, exp.Loads[i].From, exp.Loads[i].Target, lr.Err))
		}
		m.Loads = append(m.Loads, lr)
	}
	return m, errors.Join(errs...)
}

// killAll kills the given processes (nil entries are skipped).
func (b *Local) killAll(ps []*process) {
	for _, p := range ps {
		if p != nil {
			_ = p.signal(syscall.SIGKILL)
		}
	}
}

// inject applies one failure action.
func (b *Local) inject(ctx context.Context, f FailureAction) error {
	var target *process
	b.mu.Lock()
	for _, p := range b.procs {
		if p.spec.Name == f.Target {
			target = p
		}
	}
	b.mu.Unlock()
	if target == nil {
		return fmt.Errorf("no process %q", f.Target)
	}
	var err error
	switch f.Action {
	case FailKill, FailKillAndUp:
		err = target.kill(ctx)
	case FailStop, FailRestart:
		err = target.stop(ctx, b.opts.StopGrace)
	default:
		return fmt.Errorf("unknown failure action %q", f.Action)
	}
	if err != nil || (f.Action != FailRestart && f.Action != FailKillAndUp) {
		return err
	}
	if err := target.start(); err != nil {
		return err
	}
	target.mu.Lock()
	target.restarts++
	target.mu.Unlock()
	return b.waitReady(ctx, target)
}
