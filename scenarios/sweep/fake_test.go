package sweep

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// mm1Runner is a fake Runner whose figures are closed-form functions of the
// point: each mode is an M/M/1 queue with arrival rate baseRPS × load and a
// service rate set by the mode and the sized parameters, so SLO and sizing
// answers can be checked exactly. Noise is one multiplicative draw per
// (seed) shared by all modes — common random numbers.
type mm1Runner struct {
	baseRPS float64
	noise   float64 // relative standard deviation of the multiplicative noise
	series  bool    // report a batch series with a transient
	// collapse makes an overloaded mode finish nothing (no latency at
	// all, every request in flight), as a real simulation can.
	collapse bool
	calls    *int64 // optional call counter (not goroutine-safe unless guarded)
}

const (
	fakeNodes       = 3
	fakePodsPerNode = 10
)

// serviceRate is the capacity in requests/s of a mode at point p.
func serviceRate(mode string, p Point) float64 {
	threads := float64(p.WorkerThreads)
	if threads == 0 {
		threads = 2
	}
	replicas := float64(p.WaypointReplicas)
	if replicas == 0 {
		replicas = 1
	}
	switch mode {
	case "sidecar":
		return 1000
	case "ambient":
		return 600 * threads
	case "ambient+waypoint":
		return math.Min(600*threads, 700*replicas)
	default:
		return 5000
	}
}

// quantileMs is the q-quantile of M/M/1 sojourn time in ms.
func quantileMs(q, lambda, mu float64) float64 {
	if lambda >= mu {
		return 10000
	}
	return -math.Log(1-q) / (mu - lambda) * 1000
}

func (f mm1Runner) RunPoint(ctx context.Context, p Point, seed uint64) (*Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	load := p.Load
	if load == 0 {
		load = 1
	}
	modes := p.Modes
	if len(modes) == 0 {
		modes = []string{"sidecar", "ambient"}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	z := 1 + f.noise*rng.NormFloat64()
	lambda := f.baseRPS * load
	nodes := fakeNodes
	if p.Nodes > 0 {
		nodes = p.Nodes
	}
	pods := nodes * fakePodsPerNode
	s := &results.Summary{SchemaVersion: results.SchemaVersion, Scenario: "fake-mm1", Seed: seed, DurationS: 60, WarmupS: 10}
	for i := 0; i < nodes; i++ {
		s.Topology.Nodes = append(s.Topology.Nodes, results.NodeInfo{Name: fmt.Sprintf("node-%d", i+1), Zone: "a", Pods: fakePodsPerNode})
	}
	out := &Outcome{Summary: s}
	for _, m := range modes {
		mu := serviceRate(m, p)
		tput := math.Min(lambda, mu)
		mr := results.ModeResult{Mode: m}
		done := int64(tput * 60)
		var failed int64
		if lambda > mu {
			failed = int64((lambda - mu) * 60)
		}
		mr.Requests = results.RequestCounts{Offered: done + failed, Succeeded: done, Failed: failed, ThroughputRPS: tput}
		collapsed := f.collapse && lambda >= mu
		if collapsed {
			mr.Requests = results.RequestCounts{Offered: int64(lambda * 60), InFlight: int64(lambda * 60)}
		}
		mr.Latency = []results.LatencyRow{{
			Category: "all", Count: done,
			MeanMs: quantileMs(1-math.Exp(-1), lambda, mu) * z,
			P50Ms:  quantileMs(0.5, lambda, mu) * z,
			P90Ms:  quantileMs(0.9, lambda, mu) * z,
			P99Ms:  quantileMs(0.99, lambda, mu) * z,
			P999Ms: quantileMs(0.999, lambda, mu) * z,
		}}
		if collapsed {
			mr.Latency = []results.LatencyRow{{Category: "all"}}
		}
		var comps []results.ComponentUsage
		add := func(kind, inst string, cpu, memMiB float64) {
			comps = append(comps, results.ComponentUsage{Kind: kind, Instance: inst, CPUCores: cpu, MemoryMiB: memMiB})
		}
		for i := 0; i < pods; i++ {
			add("app", fmt.Sprintf("app/%d", i), tput*100e-6/float64(pods)*z, 64)
		}
		switch m {
		case "sidecar":
			for i := 0; i < pods; i++ {
				add("sidecar", fmt.Sprintf("sidecar/%d", i), tput*200e-6/float64(pods)*z, 60)
			}
		case "ambient", "ambient+waypoint":
			for i := 0; i < nodes; i++ {
				add("ztunnel", fmt.Sprintf("ztunnel/node-%d", i+1), tput*60e-6/float64(nodes)*z, 12)
			}
			if m == "ambient+waypoint" {
				r := max(p.WaypointReplicas, 1)
				for i := 0; i < r; i++ {
					add("waypoint", fmt.Sprintf("waypoint/%d", i), tput*250e-6/float64(r)*z, 60)
				}
			}
		}
		mr.Components = comps
		mr.Totals.ByKind = map[string]results.KindCost{}
		for _, c := range comps {
			if c.Kind == "app" {
				continue
			}
			mr.Totals.CPUCores += c.CPUCores
			mr.Totals.MemoryGiB += c.MemoryMiB / 1024
		}
		s.Modes = append(s.Modes, mr)
		if f.series {
			// 0.1 s batches over the 70 s run (10 s warm-up + 60 s): a
			// transient decaying with a 1.5 s time constant on top of the
			// steady mean, with noise.
			ser := ModeSeries{Mode: m, BatchS: 0.1}
			steady := mr.Latency[0].MeanMs
			for j := 0; j < 700; j++ {
				ser.LatencyMs = append(ser.LatencyMs, steady*(1+3*math.Exp(-float64(j)/15)+0.05*rng.NormFloat64()))
			}
			out.Series = append(out.Series, ser)
		}
	}
	return out, nil
}
