package scenarios

import (
	"context"
	"fmt"
	"math"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// CapacitySpec asks for the largest load an edge sustains within a latency
// bound: `ambientsim run` bisects the edge's offered rate (its open-loop
// rate, or its load generator's qps) in every mode, each point a full run
// on the same random streams, and reports summary.json `capacity`.
type CapacitySpec struct {
	From     string   `yaml:"from" json:"from"`                                            // source workload ns/name (glob matching one edge)
	To       string   `yaml:"to" json:"to"`                                                // destination service ns/name (glob)
	Quantile string   `yaml:"quantile,omitempty" json:"quantile,omitempty"`                // p50 | p90 | p99 (default) | p999
	Latency  Duration `yaml:"latency" json:"latency" range:"(0s,1h]" unit:"latency bound"` // the bound, e.g. 10ms
	// MaxQPS is the top of the search (default 64× the edge's rate).
	MaxQPS float64 `yaml:"max_qps,omitempty" json:"max_qps,omitempty" range:"[0,1000000]" unit:"requests/s (0 = 64× the edge's rate)"`
	// MaxErrorRatio fails a point whose failed/started calls exceed it
	// (default 0.001).
	MaxErrorRatio float64 `yaml:"max_error_ratio,omitempty" json:"max_error_ratio,omitempty" range:"[0,1)" unit:"failed / started calls"`
}

var capacityQuantiles = map[string]float64{"p50": 0.5, "p90": 0.9, "p99": 0.99, "p999": 0.999}

// capacityRuns is how many bisection steps refine the bound (about 1/2^8
// of the range above the largest point known to pass).
const capacityRuns = 9

func (s *Scenario) validateCapacity(ferr func(field, format string, a ...any) error) error {
	c := s.Capacity
	if c == nil {
		return nil
	}
	if c.Quantile == "" {
		c.Quantile = "p99"
	}
	switch {
	case c.From == "" || c.To == "":
		return ferr("capacity", "name the edge: from (source workload ns/name) and to (destination service ns/name)")
	case capacityQuantiles[c.Quantile] == 0:
		return ferr("capacity.quantile", "unknown quantile %q; want p50, p90, p99 or p999", c.Quantile)
	case c.Latency <= 0:
		return ferr("capacity.latency", "give the latency bound, e.g. 10ms")
	case c.MaxQPS < 0 || math.IsNaN(c.MaxQPS):
		return ferr("capacity.max_qps", "negative")
	case c.MaxErrorRatio < 0 || c.MaxErrorRatio >= 1:
		return ferr("capacity.max_error_ratio", "want a fraction in [0, 1)")
	}
	if c.MaxErrorRatio == 0 {
		c.MaxErrorRatio = 0.001
	}
	return nil
}

// capacity searches every mode's largest load within the bound.
func (sc *Scenario) capacity(ctx context.Context, prof *models.Profile, seed uint64, dur, warm sim.Time, maxEvents uint64) ([]results.CapacityResult, error) {
	c := sc.Capacity
	var out []results.CapacityResult
	for _, mode := range sc.Modes {
		top, err := sc.BuildTopology(mode)
		if err != nil {
			return nil, fmt.Errorf("capacity, mode %s: %w", mode, err)
		}
		base, err := sc.compile(top, prof, mode, seed, dur, warm)
		if err != nil {
			return nil, err
		}
		base.SnapshotInterval = 0
		edge := -1
		for i, e := range base.Edges {
			if matchGlob(c.From, e.Call.From.ID()) && matchGlob(c.To, e.Call.To.ID()) {
				if edge >= 0 {
					return nil, sc.fieldErr("capacity", "%s -> %s matches several edges (%s -> %s and %s -> %s); name one",
						c.From, c.To, base.Edges[edge].Call.From.ID(), base.Edges[edge].Call.To.ID(), e.Call.From.ID(), e.Call.To.ID())
				}
				edge = i
			}
		}
		if edge < 0 {
			return nil, sc.fieldErr("capacity", "no call-graph edge %s -> %s (the edges: %s)", c.From, c.To, edgeNames(top))
		}
		e := base.Edges[edge]
		rate := e.Rate
		if e.Generator != nil && e.Generator.Connections > 0 {
			rate = e.Generator.QPS
		}
		hi := c.MaxQPS
		if hi == 0 {
			hi = 64 * rate
		}
		if hi <= 0 {
			return nil, sc.fieldErr("capacity.max_qps", "edge %s -> %s has no rate to scale (a load generator at qps 0 runs as fast as it can): give max_qps", e.Call.From.ID(), e.Call.To.ID())
		}
		res := results.CapacityResult{Mode: mode, Source: e.Call.From.ID(), Destination: e.Call.To.ID(),
			Quantile: c.Quantile, BoundMs: c.Latency.T().Milliseconds()}
		closed := e.Generator != nil && e.Generator.Connections > 0
		try := func(qps float64) (bool, float64, float64, error) {
			cfg := base
			cfg.Edges = append([]models.EdgeConfig(nil), base.Edges...)
			ec := &cfg.Edges[edge]
			if ec.Generator != nil && ec.Generator.Connections > 0 {
				g := *ec.Generator
				g.QPS = qps
				ec.Generator = &g
			} else {
				ec.Rate = qps
			}
			if _, err := sc.admit(&cfg, maxEvents); err != nil {
				return false, 0, 0, err
			}
			mesh, err := models.NewMesh(cfg)
			if err != nil {
				return false, 0, 0, err
			}
			r, err := mesh.Run(ctx)
			if err != nil {
				return false, 0, 0, err
			}
			res.Runs++
			lat, started, _, succeeded := r.EdgeLatency(edge, capacityQuantiles[c.Quantile])
			// Calls still in flight at the end count as failed: an overloaded
			// path finishes few of the calls it was offered.
			ok := started > 0 && lat <= c.Latency.T() && float64(started-succeeded) <= c.MaxErrorRatio*float64(started)
			x := float64(succeeded) / dur.Seconds()
			if closed {
				// A closed loop never overloads the path: it just cannot send
				// faster than its connections get answers.
				ok = ok && x >= 0.98*qps
			}
			return ok, lat.Milliseconds(), x, nil
		}
		// Bisection on the rate: lo passes (or is 0), hi fails.
		lo := 0.0
		okHi, latHi, xHi, err := try(hi)
		if err != nil {
			return nil, fmt.Errorf("capacity, mode %s: %w", mode, err)
		}
		if okHi {
			res.MaxQPS, res.LatencyMs, res.ThroughputRPS = hi, round3(latHi), round3(xHi)
		} else {
			for i := 0; i < capacityRuns-1; i++ {
				mid := (lo + hi) / 2
				ok, lat, x, err := try(mid)
				if err != nil {
					return nil, fmt.Errorf("capacity, mode %s: %w", mode, err)
				}
				if ok {
					lo = mid
					res.MaxQPS, res.LatencyMs, res.ThroughputRPS = round3(mid), round3(lat), round3(x)
				} else {
					hi = mid
				}
			}
		}
		out = append(out, res)
	}
	return out, nil
}

func edgeNames(top *topology.Topology) string {
	s := ""
	for i, c := range top.Calls {
		if c.From == nil || c.To == nil {
			continue
		}
		if i > 0 {
			s += ", "
		}
		s += c.From.ID() + " -> " + c.To.ID()
	}
	return s
}
