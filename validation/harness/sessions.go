package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// SessionRuns is Session for a series of experiments on one environment:
// Setup once, Run each experiment in order (calling each, if set, after
// every Run), Teardown always — after an error, on ctx cancellation and on
// SIGINT/SIGTERM — with its own teardownTimeout. It returns the
// measurements of the runs that completed.
func SessionRuns(ctx context.Context, b Backend, plan *Plan, exps []*Experiment, teardownTimeout time.Duration,
	each func(i int, m *Measurement) error) (ms []*Measurement, err error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
		defer cancel()
		if terr := b.Teardown(tctx); terr != nil {
			err = errors.Join(err, fmt.Errorf("%s backend: teardown: %w", b.Name(), terr))
		}
	}()
	if err := b.Setup(ctx, plan); err != nil {
		return nil, fmt.Errorf("%s backend: setup: %w", b.Name(), err)
	}
	for i, exp := range exps {
		m, err := b.Run(ctx, exp)
		if err != nil {
			return ms, fmt.Errorf("%s backend: run %q: %w", b.Name(), exp.Name, err)
		}
		ms = append(ms, m)
		if each != nil {
			if err := each(i, m); err != nil {
				return ms, err
			}
		}
	}
	return ms, nil
}
