package sweep

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// Runner runs one design point with one seed: the scenario with the point's
// parameters applied, every mode of p.Modes (or the scenario's modes when
// empty) on the same seed. A call must be single-threaded and a pure
// function of (p, seed): the sweep runs many calls in parallel and relies on
// a repeated call giving the same numbers.
type Runner interface {
	RunPoint(ctx context.Context, p Point, seed uint64) (*Outcome, error)
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context, p Point, seed uint64) (*Outcome, error)

// RunPoint calls f.
func (f RunnerFunc) RunPoint(ctx context.Context, p Point, seed uint64) (*Outcome, error) {
	return f(ctx, p, seed)
}

// Outcome is what one run returns.
type Outcome struct {
	Summary *results.Summary
	// Series optionally holds, per mode, the run's batch series over the
	// whole run including the warm-up the scenario discards. The sweep
	// applies MSER-5 to it to check that warm-up.
	Series []ModeSeries
}

// ModeSeries is a batch-means series of one mode's end-to-end latency.
type ModeSeries struct {
	Mode      string
	BatchS    float64   // simulated seconds per batch
	LatencyMs []float64 // mean latency of the requests completed in each batch
}

// Figures are the numbers the sweep keeps from one mode of one run.
type Figures struct {
	Mode          string  `json:"mode"`
	P50Ms         float64 `json:"p50_ms"`
	P90Ms         float64 `json:"p90_ms"`
	P99Ms         float64 `json:"p99_ms"`
	P999Ms        float64 `json:"p999_ms"`
	MeanMs        float64 `json:"mean_ms"`
	ThroughputRPS float64 `json:"throughput_rps"`
	ErrorRate     float64 `json:"error_rate"` // failed / (succeeded + failed)
	// Saturated: the run finished (succeeded or failed) fewer than 95% of
	// the requests offered, or none at all — the system did not keep up
	// and the latencies of the few that finished understate it.
	Saturated     bool    `json:"saturated,omitempty"`
	MeshCPUCores  float64 `json:"mesh_cpu_cores"`
	MeshMemoryGiB float64 `json:"mesh_memory_gib"`
	// SLOValue is the SLO metric on the SLO's latency category (absent
	// without an SLO).
	SLOValue float64        `json:"slo_value,omitempty"`
	Kinds    []KindFigures  `json:"kinds"` // by component kind, sorted
	Pods     int            `json:"pods"`
	Nodes    int            `json:"nodes"`
	WarmupS  float64        `json:"warmup_s"`       // the scenario's discarded warm-up
	MSER     *MSERDiagnosis `json:"mser,omitempty"` // when the run gave a series
}

// KindFigures are one component kind's totals in one run.
type KindFigures struct {
	Kind      string  `json:"kind"` // ztunnel | waypoint | sidecar | app
	Instances int     `json:"instances"`
	CPUCores  float64 `json:"cpu_cores"`
	MemoryGiB float64 `json:"memory_gib"`
}

// MSERDiagnosis is MSER-5 applied to one run's batch series.
type MSERDiagnosis struct {
	TruncateS float64 `json:"truncate_s"` // warm-up MSER-5 would discard, from the run's start
	OK        bool    `json:"ok"`         // false: the minimum fell in the second half (run too short)
}

// saturationFraction is the share of offered requests a run must finish
// not to count as saturated. A healthy run leaves about rate × latency
// requests in flight at its end, well under 1% of a run of seconds.
const saturationFraction = 0.95

// observe extracts the figures of every mode of a run.
func observe(out *Outcome, slo *SLOSpec) ([]Figures, error) {
	if out == nil || out.Summary == nil {
		return nil, fmt.Errorf("runner returned no summary")
	}
	s := out.Summary
	if len(s.Modes) == 0 {
		return nil, fmt.Errorf("summary of %q has no modes", s.Scenario)
	}
	pods := 0
	for _, n := range s.Topology.Nodes {
		pods += n.Pods
	}
	figs := make([]Figures, 0, len(s.Modes))
	for _, m := range s.Modes {
		f := Figures{
			Mode:          m.Mode,
			ThroughputRPS: m.Requests.ThroughputRPS,
			MeshCPUCores:  m.Totals.CPUCores,
			MeshMemoryGiB: m.Totals.MemoryGiB,
			Pods:          pods,
			Nodes:         len(s.Topology.Nodes),
			WarmupS:       s.WarmupS,
		}
		done := m.Requests.Succeeded + m.Requests.Failed
		if done > 0 {
			f.ErrorRate = float64(m.Requests.Failed) / float64(done)
		}
		f.Saturated = m.Requests.Offered > 0 && (done == 0 || float64(done) < saturationFraction*float64(m.Requests.Offered))
		all, ok := latencyRow(m, "all")
		if !ok {
			return nil, fmt.Errorf("mode %s: summary has no latency row %q", m.Mode, "all")
		}
		f.P50Ms, f.P90Ms, f.P99Ms, f.P999Ms, f.MeanMs = all.P50Ms, all.P90Ms, all.P99Ms, all.P999Ms, all.MeanMs
		if slo != nil {
			v, err := sloValue(m, f, slo)
			if err != nil {
				return nil, fmt.Errorf("mode %s: %w", m.Mode, err)
			}
			f.SLOValue = v
		}
		byKind := map[string]*KindFigures{}
		for _, c := range m.Components {
			k := byKind[c.Kind]
			if k == nil {
				k = &KindFigures{Kind: c.Kind}
				byKind[c.Kind] = k
			}
			k.Instances++
			k.CPUCores += c.CPUCores
			k.MemoryGiB += c.MemoryMiB / 1024
		}
		for _, k := range byKind {
			f.Kinds = append(f.Kinds, *k)
		}
		sort.Slice(f.Kinds, func(i, j int) bool { return f.Kinds[i].Kind < f.Kinds[j].Kind })
		for _, ser := range out.Series {
			if ser.Mode != m.Mode || ser.BatchS <= 0 {
				continue
			}
			d, ok := MSER5(ser.LatencyMs)
			f.MSER = &MSERDiagnosis{TruncateS: float64(d) * ser.BatchS, OK: ok}
		}
		if err := checkFinite(f); err != nil {
			return nil, fmt.Errorf("mode %s: %w", m.Mode, err)
		}
		figs = append(figs, f)
	}
	return figs, nil
}

func latencyRow(m results.ModeResult, category string) (results.LatencyRow, bool) {
	for _, r := range m.Latency {
		if r.Category == category {
			return r, true
		}
	}
	return results.LatencyRow{}, false
}

func sloValue(m results.ModeResult, f Figures, slo *SLOSpec) (float64, error) {
	if slo.Metric == "error_rate" {
		return f.ErrorRate, nil
	}
	r, ok := latencyRow(m, slo.Category)
	if !ok {
		// A mode without this path category has no such requests; an SLO
		// on them holds vacuously only if nobody asked, so say so.
		return 0, fmt.Errorf("summary has no latency row %q for the SLO (check slo.category)", slo.Category)
	}
	switch slo.Metric {
	case "p50":
		return r.P50Ms, nil
	case "p90":
		return r.P90Ms, nil
	case "p999":
		return r.P999Ms, nil
	default:
		return r.P99Ms, nil
	}
}

// checkFinite rejects NaN and ±Inf, which JSON cannot carry and which would
// poison every mean they enter.
func checkFinite(f Figures) error {
	vals := []float64{f.P50Ms, f.P90Ms, f.P99Ms, f.P999Ms, f.MeanMs, f.ThroughputRPS, f.ErrorRate, f.MeshCPUCores, f.MeshMemoryGiB, f.SLOValue}
	for _, k := range f.Kinds {
		vals = append(vals, k.CPUCores, k.MemoryGiB)
	}
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("summary has a non-finite figure")
		}
	}
	return nil
}
