package crosscheck

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/validation/harness"
)

// LoadStats are one load's latency percentiles (ms) and outcome counts,
// predicted or measured. A percentile the source cannot give is NaN.
type LoadStats struct {
	P50, P90, P99 float64
	Calls, Errors int64
}

// Prediction is what the simulator says about a mirrored experiment, in
// the harness's names.
type Prediction struct {
	// Loads holds one entry per Experiment.Loads entry, in order.
	Loads []LoadStats
	// CPUSeconds per harness process name ("nodeproxy/node-a",
	// "waypoint/waypoint", "sidecar/sc-client", "echo/server-a").
	CPUSeconds map[string]float64
	// Affected is the blast radius of the experiment's failure (if any):
	// the harness pods whose calls failed more than without it, sorted.
	Affected []string
	// FailedByFailure is the failure's extra failed requests.
	FailedByFailure int64
}

// Predict reads a simulator run of Mirror(plan, exp) in the harness's names.
func Predict(run *scenarios.Run, plan *harness.Plan, exp *harness.Experiment) (*Prediction, error) {
	sum := run.Summary
	if len(sum.Modes) != 1 {
		return nil, fmt.Errorf("crosscheck: simulator run has %d modes, want 1", len(sum.Modes))
	}
	m := sum.Modes[0]
	pr := &Prediction{CPUSeconds: map[string]float64{}}
	catCount := map[string]int{}
	for _, e := range m.Edges {
		catCount[e.Category]++
	}
	for _, l := range exp.Loads {
		src, dst, err := LoadKey(plan, l)
		if err != nil {
			return nil, err
		}
		st := LoadStats{P50: math.NaN(), P90: math.NaN(), P99: math.NaN()}
		found := false
		for _, e := range m.Edges {
			if e.Source != src || e.Destination != dst {
				continue
			}
			found = true
			st.P50, st.P99, st.Calls, st.Errors = e.P50Ms, e.P99Ms, e.Calls, e.Failed
			// p90 is only in the per-category rows; use it when this
			// edge is the only one of its category.
			if catCount[e.Category] == 1 {
				for _, row := range m.Latency {
					if row.Category == e.Category {
						st.P90 = row.P90Ms
					}
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("crosscheck: simulator result has no edge %s -> %s", src, dst)
		}
		pr.Loads = append(pr.Loads, st)
	}
	for _, c := range m.Components {
		name := ProcessOfInstance(c.Instance)
		if name == "" {
			continue
		}
		pr.CPUSeconds[name] += c.CPUCores * sum.DurationS
	}
	for _, f := range sum.Failures {
		pr.FailedByFailure += f.FailedRequests
		set := map[string]bool{}
		for _, a := range f.Transitive {
			if a.FailureFraction > 0 {
				_, w, _ := strings.Cut(a.Workload, "/")
				set[w] = true
			}
		}
		for _, p := range pr.Affected {
			set[p] = true
		}
		pr.Affected = sortedKeys(set)
	}
	return pr, nil
}

// ProcessOfInstance maps a simulator component instance to the harness
// process that plays it ("" when none does, e.g. istiod).
func ProcessOfInstance(instance string) string {
	parts := strings.Split(instance, "/")
	switch {
	case parts[0] == "ztunnel" && len(parts) == 2:
		return harness.ProcessName(harness.KindNodeProxy, parts[1])
	case parts[0] == "waypoint" && len(parts) >= 3:
		return harness.ProcessName(harness.KindWaypoint, parts[2])
	case parts[0] == "sidecar" && len(parts) == 3:
		return harness.ProcessName(harness.KindSidecar, parts[2])
	case parts[0] == "app" && len(parts) == 3:
		return harness.ProcessName(harness.KindEcho, parts[2])
	}
	return ""
}

// Measured reads a harness measurement in the same shape as a Prediction.
// Affected is the set of load-generator pods whose loads saw errors after
// the experiment's first failure (or failed to report).
func Measured(m *harness.Measurement) *Prediction {
	out := &Prediction{CPUSeconds: map[string]float64{}}
	affected := map[string]bool{}
	for _, lr := range m.Loads {
		st := LoadStats{P50: math.NaN(), P90: math.NaN(), P99: math.NaN()}
		if lr.Result != nil {
			h := &lr.Result.DurationHistogram
			for _, p := range []struct {
				pc  float64
				dst *float64
			}{{50, &st.P50}, {90, &st.P90}, {99, &st.P99}} {
				if v, ok := h.Percentile(p.pc); ok {
					*p.dst = v * 1e3
				}
			}
			st.Errors = lr.Result.Errors()
			for _, n := range lr.Result.RetCodes {
				st.Calls += n
			}
		}
		if lr.Result == nil || lr.Err != "" || st.Errors > 0 {
			if len(m.Events) > 0 {
				affected[lr.Load.From] = true
			}
		}
		out.FailedByFailure += st.Errors
		out.Loads = append(out.Loads, st)
	}
	for _, p := range m.Processes {
		if p.Kind == harness.KindLoadGen {
			continue
		}
		out.CPUSeconds[p.Process] += p.CPUSeconds
	}
	out.Affected = sortedKeys(affected)
	sort.Strings(out.Affected)
	return out
}
