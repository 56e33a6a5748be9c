package models

import (
	"fmt"
	"math"

	"github.com/ambientsim/ambientsim/sim"
)

// Waypoint autoscaling, HPA-like: every Period the controller measures
// each waypoint's utilisation (busy fraction of its serving replicas'
// worker threads over the period) and asks for
// ceil(replicas × utilisation / target) replicas (Kubernetes HPA's
// formula, with its 10% tolerance), at most Max. New replicas serve
// Delay after the decision (pod scheduling, start, readiness, endpoint
// push). Scale-down is not modelled: the HPA's default scale-down
// stabilisation window (5 minutes) outlasts a scenario. Replicas are
// pre-built (the topology has Max of them); the ones not yet scaled up
// are outside the waypoint Service, take no traffic and cost nothing.
// Existing connections stay on their replica, as keep-alive and HBONE
// pooling do, so scale-out helps new connections first.

// Autoscale configures waypoint autoscaling.
type Autoscale struct {
	Min    int      // replicas serving at the start (of the topology's, which are the maximum)
	Target float64  // target utilisation of worker threads, in (0, 1]
	Delay  sim.Time // from the decision until a new replica serves
	Period sim.Time // controller sync period (HPA default 15 s)
}

// kScale is the autoscaler's tick.
const kScale int32 = 101

func (m *Mesh) setupAutoscale() error {
	as := m.cfg.WaypointAutoscale
	if as == nil {
		return nil
	}
	if as.Target <= 0 || as.Target > 1 || as.Min < 1 {
		return fmt.Errorf("waypoint autoscale: want min >= 1 and 0 < target <= 1, got min %d target %v", as.Min, as.Target)
	}
	a := *as // the caller's config is shared between runs
	if a.Period <= 0 {
		a.Period = 15 * sim.Second
	}
	m.cfg.WaypointAutoscale = &a
	as = &a
	f := m.flt
	f.activeFrom = make([]sim.Time, len(m.reps))
	f.lastBusy = make([]sim.Time, len(m.reps))
	for _, w := range m.wps {
		for i, r := range w.reps {
			if i >= as.Min {
				f.activeFrom[r] = never
			}
		}
	}
	m.s.At(as.Period, m, sim.Event{Kind: kScale})
	return nil
}

// scale is one controller tick.
func (m *Mesh) scale() {
	as := m.cfg.WaypointAutoscale
	f := m.flt
	now := m.s.Now()
	workers := float64(m.c.wpWorkers)
	for _, w := range m.wps {
		serving, pending := 0, 0
		var busy sim.Time
		for _, r := range w.reps {
			b := m.reps[r].st.g.CPUTime()
			switch {
			case f.activeFrom[r] <= now:
				serving++
				busy += b - f.lastBusy[r]
			case f.activeFrom[r] < never:
				pending++
			}
			f.lastBusy[r] = b
		}
		if serving == 0 {
			continue
		}
		util := float64(busy) / (float64(serving) * workers * float64(as.Period))
		ratio := util / as.Target
		if ratio <= 1.1 {
			continue // within the HPA's tolerance, or would scale down
		}
		want := int(math.Ceil(float64(serving) * ratio))
		for _, r := range w.reps {
			if serving+pending >= want {
				break
			}
			if f.activeFrom[r] == never {
				f.activeFrom[r] = now + as.Delay
				pending++
			}
		}
	}
	if next := now + as.Period; next < m.end {
		m.s.At(next, m, sim.Event{Kind: kScale})
	}
}

// neverServed reports whether autoscaling never brought replica r up
// (it is left out of the results).
func (m *Mesh) neverServed(r int) bool {
	return m.flt != nil && m.flt.activeFrom != nil && m.flt.activeFrom[r] >= m.end
}

// ScaleEvents returns, per waypoint replica that autoscaling brought up,
// when it started serving (simulated time), keyed by instance name.
func (r *RunResult) ScaleEvents() map[string]sim.Time {
	m := r.Metrics.m
	out := map[string]sim.Time{}
	if m.flt == nil || m.flt.activeFrom == nil {
		return out
	}
	for i, t := range m.flt.activeFrom {
		if t > 0 && t < m.end {
			out[m.reps[i].name] = t
		}
	}
	return out
}
