package models

import (
	"math"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// erlangC is the probability an arrival waits in an M/M/c queue.
func erlangC(c int, a float64) float64 {
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	rho := a / float64(c)
	return b / (1 - rho + rho*b)
}

// TestSingleHopMMc: one out-of-mesh hop into an app with c workers,
// exponential service and Poisson arrivals is an M/M/c queue; the simulated
// mean wait matches Erlang C.
func TestSingleHopMMc(t *testing.T) {
	const c, lambda = 4, 3000.0 // ρ = 0.75 with 1 ms service
	top := mustTopology(t, `
nodes: {count: 2}
namespaces:
  - name: a
    workloads: [{name: client}]
    services: [{name: server}]
calls:
  - {from: a/client, to: a/server, rate: 3000}
`)
	cfg := Config{Topology: top, Profile: mustProfile(t), Mode: "out-of-mesh", Seed: 11,
		Duration: 60 * sim.Second, Warmup: 2 * sim.Second,
		Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 64}),
		Apps: map[*topology.Workload]AppConfig{top.Workload("a", "server"): {
			ServiceTime: sim.DistSpec{Kind: sim.DistExponential, Mean: float64(sim.Millisecond)}, Concurrency: c}}}
	m, _ := runMesh(t, cfg)
	var app *container
	for i := range m.pods {
		if m.pods[i].p.Name == "server-0" {
			app = m.pods[i].app
		}
	}
	a := lambda * 1e-3
	wantWq := erlangC(c, a) / (float64(c)/1e-3 - lambda) // seconds
	gotWq := app.meanWait().Seconds()
	if math.Abs(gotWq-wantWq)/wantWq > 0.05 {
		t.Errorf("mean wait %.4g s, Erlang C %.4g s", gotWq, wantWq)
	}
	if u := app.utilisation(); math.Abs(u-0.75) > 0.01 {
		t.Errorf("utilisation %.3f, want 0.75", u)
	}
	// The app computes its whole service time (cpu_fraction 1): 0.75 × 4
	// workers = 3 cores.
	if cores := app.cores(60 * sim.Second); math.Abs(cores-3) > 0.05 {
		t.Errorf("app CPU %.3f cores, want 3", cores)
	}
}
