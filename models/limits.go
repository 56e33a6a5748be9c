package models

import (
	"context"
	"errors"
	"fmt"

	"github.com/ambientsim/ambientsim/sim"
)

// Limits on what one Mesh may allocate and do, so that a configuration no
// scenario file can produce (the scenarios package validates its fields
// against tighter ranges) still fails with an error instead of exhausting
// memory or never returning (docs/limits.md).
const (
	// MaxServers bounds the workers of one station (app concurrency,
	// proxy worker threads): the station keeps a slot per worker.
	MaxServers = 1 << 20
	// MaxEdgeConns bounds an edge's app connections (source pods × pool).
	MaxEdgeConns = 10_000_000
	// MaxPairs bounds an edge target's per-pair state (source pods ×
	// destination pods or next hops: policy decisions, pool slots).
	MaxPairs = 20_000_000
	// MinRenewal is the shortest certificate renewal period: renewals are
	// advanced one period at a time, so the period bounds the work.
	MinRenewal = sim.Millisecond
	// CheckEvents is how many events Run handles between looks at its
	// context and the event budget.
	CheckEvents = 4096
)

// EventBudgetError is a run stopped at Config.MaxEvents.
type EventBudgetError struct {
	Max      uint64
	At, End  sim.Time // simulated time reached, and the run's end
	Mode     string
	Estimate float64 // the estimate the run was admitted on, if known (0: none)
}

func (e *EventBudgetError) Error() string {
	return fmt.Sprintf("mode %s: the run reached the event budget of %d events at %.3g s of %.3g s simulated and was stopped (raise --max-events, or shorten the duration or lower the rates)",
		e.Mode, e.Max, e.At.Seconds(), e.End.Seconds())
}

// checkServers rejects a station size the model cannot allocate.
func checkServers(what string, n int) error {
	if n > MaxServers {
		return fmt.Errorf("models: %s: %d workers, more than the limit of %d (the model keeps a slot per worker)", what, n, MaxServers)
	}
	return nil
}

// checkSizes rejects profile-derived station sizes and certificate
// timings the model cannot run.
func (m *Mesh) checkSizes() error {
	for _, c := range []struct {
		what string
		n    int
	}{{"ztunnel worker_threads", m.c.ztWorkers}, {"waypoint worker_threads", m.c.wpWorkers}, {"sidecar worker_threads", m.c.scWorkers}, {"app concurrency", m.c.appConc}} {
		if err := checkServers("profile "+c.what, c.n); err != nil {
			return err
		}
	}
	for w, a := range m.cfg.Apps {
		if err := checkServers("concurrency of "+w.ID(), a.Concurrency); err != nil {
			return err
		}
	}
	return nil
}

// checkRenewal rejects a certificate lifetime whose renewal period is
// below MinRenewal (a zero period would never advance).
func (cp *controlPlane) checkRenewal() error {
	if cp.refresh < MinRenewal || cp.ttl < MinRenewal {
		return fmt.Errorf("models: certificate lifetime %v renewed every %v; want both at least %v (profile control_plane.cert_ttl, cert_refresh_fraction; scenario mesh.cert_ttl)", cp.ttl, cp.refresh, MinRenewal)
	}
	return nil
}

// checkEdge rejects an edge whose per-connection state (source pods ×
// pool) or per-pair state (source pods × destination pods) would not fit.
func checkEdge(id string, srcPods, pool, dstPods int) error {
	if conns := float64(srcPods) * float64(pool); conns > MaxEdgeConns {
		return fmt.Errorf("models: edge %s: %d source pods × pool %d = %.0f app connections, more than the limit of %d (the model keeps state per connection)", id, srcPods, pool, conns, MaxEdgeConns)
	}
	if pairs := float64(srcPods) * float64(dstPods); pairs > MaxPairs {
		return fmt.Errorf("models: edge %s: %d source × %d destination pods = %.0f pairs, more than the limit of %d (the model keeps state per pair)", id, srcPods, dstPods, pairs, MaxPairs)
	}
	return nil
}

// runBounded runs the simulation to its end, looking at ctx and the event
// budget every CheckEvents events.
func (m *Mesh) runBounded(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var over bool
	done := ctx.Done()
	if done != nil || m.cfg.MaxEvents > 0 {
		m.s.SetInterrupt(CheckEvents, func() bool {
			if done != nil {
				select {
				case <-done:
					return true
				default:
				}
			}
			if m.cfg.MaxEvents > 0 && m.s.Fired() >= m.cfg.MaxEvents {
				over = true
				return true
			}
			return false
		})
		defer m.s.SetInterrupt(0, nil)
	}
	m.s.RunUntil(m.end)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("run stopped at %.0f s of %.0f s simulated: %w", m.s.Now().Seconds(), m.end.Seconds(), err)
	}
	if over {
		return &EventBudgetError{Max: m.cfg.MaxEvents, At: m.s.Now(), End: m.end, Mode: m.cfg.Mode}
	}
	return nil
}

// IsEventBudget reports whether err is a run stopped at its event budget.
func IsEventBudget(err error) bool {
	var e *EventBudgetError
	return errors.As(err, &e)
}
