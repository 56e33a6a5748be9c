package sweep_test

import (
	"context"
	"fmt"
	"math"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
)

// queue is a Runner whose p99 is that of an M/M/1 queue serving 1,000
// requests/s, offered 800 requests/s × load.
func queue(_ context.Context, p sweep.Point, seed uint64) (*sweep.Outcome, error) {
	lambda, mu := 800*p.Load, 1000.0
	p99 := 10000.0
	if lambda < mu {
		p99 = math.Log(100) / (mu - lambda) * 1000
	}
	s := &results.Summary{Seed: seed, Topology: results.TopologySummary{Nodes: []results.NodeInfo{{Name: "n1", Pods: 10}}}}
	for _, m := range p.Modes {
		s.Modes = append(s.Modes, results.ModeResult{
			Mode:     m,
			Requests: results.RequestCounts{Offered: 1000, Succeeded: 1000, ThroughputRPS: math.Min(lambda, mu)},
			Latency:  []results.LatencyRow{{Category: "all", P99Ms: p99}},
		})
	}
	return &sweep.Outcome{Summary: s}, nil
}

func Example() {
	doc := `
replications: 3
parameters:
  mode: [ambient]
  load: [0.5, 1]
slo: {metric: p99, threshold: 20, search: {from: 0.1, to: 2, tolerance: 0.01}}
`
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		fmt.Println(err)
		return
	}
	spec, err := sweep.DecodeSpec("study.yaml", &n)
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := spec.Plan(sweep.PlanOptions{Scenario: "queue", Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := sweep.Run(context.Background(), plan, sweep.RunnerFunc(queue), sweep.Options{Workers: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range res.Points {
		m := p.Modes[0]
		fmt.Printf("load %g: p99 %.2f ± %.2f ms, SLO %s\n", p.Point.Load, m.P99Ms.Mean, m.P99Ms.HalfWidth, m.SLO.Verdict)
	}
	fmt.Println(res.Searches[0].Note)
	// Output:
	// load 0.5: p99 7.68 ± 0.00 ms, SLO holds
	// load 1: p99 23.03 ± 0.00 ms, SLO violated
	// ambient: the SLO (p99 latency ≤ 20 ms) holds up to load 0.9569× (765.5 rps) and fails at 0.9625×
}

func ExampleDecodeSpec_error() {
	var n yaml.Node
	_ = yaml.Unmarshal([]byte("parameters:\n  lod: [1, 2]\n"), &n)
	_, err := sweep.DecodeSpec("study.yaml", &n)
	fmt.Println(err)
	// Output:
	// study.yaml:2: sweep.parameters.lod: unknown parameter "lod" (did you mean "load"?)
}

func ExampleMSER5() {
	// A series that starts high and settles at 10.
	var xs []float64
	for i := 0; i < 100; i++ {
		x := 10.0
		if i < 20 {
			x += float64(20-i) / 2
		}
		xs = append(xs, x+float64(i%3)-1)
	}
	discard, ok := sweep.MSER5(xs)
	fmt.Println(discard, ok)
	// Output:
	// 20 true
}
