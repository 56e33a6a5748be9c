package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// TestStationMatchesKernel feeds one Poisson job stream to the recursion
// station and to the kernel's event-driven sim.Station and checks every job
// finishes at exactly the same time.
func TestStationMatchesKernel(t *testing.T) {
	for _, servers := range []int{1, 2, 5} {
		s := sim.New()
		kernel := sim.NewStation(s, "kernel", servers, 0)
		mine := NewStation("mine", servers)
		rng := rand.New(rand.NewPCG(1, uint64(servers)))
		const n = 20000
		want := make([]sim.Time, n)
		got := make([]sim.Time, n)
		at := sim.Time(0)
		for i := 0; i < n; i++ {
			at += sim.Time(rng.ExpFloat64() * float64(sim.Millisecond) / (0.9 * float64(servers)))
			demand := sim.Time(rng.ExpFloat64() * float64(sim.Millisecond))
			i := i
			s.At(at, sim.HandlerFunc(func(sim.Event) {
				got[i] = mine.Arrive(s.Now(), demand)
				kernel.Submit(demand, sim.HandlerFunc(func(sim.Event) { want[i] = s.Now() }), sim.Event{})
			}), sim.Event{})
		}
		s.Run()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("servers=%d job %d: recursion finishes at %v, kernel at %v", servers, i, got[i], want[i])
			}
		}
		if mine.Served() != n {
			t.Errorf("served %d, want %d", mine.Served(), n)
		}
	}
}

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
	var app *Station
	for i := range m.pods {
		if m.pods[i].p.Name == "server-0" {
			app = m.pods[i].app
		}
	}
	a := lambda * 1e-3
	wantWq := erlangC(c, a) / (float64(c)/1e-3 - lambda) // seconds
	gotWq := app.MeanWait().Seconds()
	if math.Abs(gotWq-wantWq)/wantWq > 0.05 {
		t.Errorf("mean wait %.4g s, Erlang C %.4g s", gotWq, wantWq)
	}
	if u := app.Utilisation(60 * sim.Second); math.Abs(u-0.75) > 0.01 {
		t.Errorf("utilisation %.3f, want 0.75", u)
	}
}
