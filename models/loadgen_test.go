package models

import (
	"math"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// closedLoop runs a closed-loop generator of n connections (fortio -c n
// -qps qps) from a client to a one-worker server with exponential service
// of 1 ms, out of mesh, on nodes of their own, for 60 s.
func closedLoop(t *testing.T, n int, qps float64, prof *Profile) (x, meanMs float64) {
	t.Helper()
	top := mustTopology(t, `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    workloads: [{name: client}]
    services: [{name: server}]
calls:
  - {from: a/client, to: a/server, rate: 0}
`)
	cfg := Config{Topology: top, Profile: prof, Mode: "out-of-mesh", Seed: 3, Duration: 60 * sim.Second, Warmup: 2 * sim.Second,
		Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 1, ReqSize: kib1, RespSize: kib1,
			Generator: &Generator{Connections: n, QPS: qps}}),
		Apps: map[*topology.Workload]AppConfig{top.Workload("a", "server"): {
			ServiceTime: sim.DistSpec{Kind: sim.DistExponential, Mean: float64(sim.Millisecond)}, Concurrency: 1}}}
	_, res := runMesh(t, cfg)
	e := res.Measured.Edges[0]
	return float64(res.Measured.Requests.Succeeded) / 60, e.MeanMs
}

// mva returns the throughput and mean cycle response of a closed network
// of n customers: one exponential FCFS server of mean service s and a pure
// delay d (product form; exact mean value analysis).
func mva(n int, s, d float64) (x, r float64) {
	q := 0.0
	for k := 1; k <= n; k++ {
		r = s * (1 + q)
		x = float64(k) / (r + d)
		q = x * r
	}
	return x, r + d
}

// TestClosedLoopLittle: a closed-loop generator with N connections and no
// target rate keeps N requests in flight, so its throughput is N divided
// by the response time (Little's law), and the response time is what mean
// value analysis gives for one exponential server plus the network's
// delay; with a target rate below capacity it sends exactly that rate.
func TestClosedLoopLittle(t *testing.T) {
	prof := mustProfile(t)
	prof.LoadGen.PerRequestCPU.Value = 0
	net := prof.Network
	// The network delay per cycle: a cross-node hop each way plus each
	// 1 KiB message's serialisation on its sender's NIC.
	d := 2*net.CrossNode.Value*1e-6 + 2*1024*8/(net.NICBandwidth.Value*1e9)
	for _, n := range []int{1, 4, 16} {
		x, meanMs := closedLoop(t, n, 0, prof)
		wantX, wantR := mva(n, 1e-3, d)
		t.Logf("N=%d: %.1f/s mean %.4f ms; MVA %.1f/s %.4f ms; N/R %.1f/s", n, x, meanMs, wantX, wantR*1e3, float64(n)/(meanMs*1e-3))
		if math.Abs(x-wantX)/wantX > 0.02 {
			t.Errorf("N=%d: throughput %.1f/s, MVA %.1f/s", n, x, wantX)
		}
		if math.Abs(meanMs*1e-3-wantR)/wantR > 0.03 {
			t.Errorf("N=%d: mean response %.4f ms, MVA %.4f ms", n, meanMs, wantR*1e3)
		}
		if lit := float64(n) / (meanMs * 1e-3); math.Abs(lit-x)/x > 0.01 {
			t.Errorf("N=%d: Little's law: N/R = %.1f/s but throughput %.1f/s", n, lit, x)
		}
	}
	// A target rate the path can carry is met exactly (fortio -qps 200).
	if x, _ := closedLoop(t, 8, 200, prof); math.Abs(x-200) > 1 {
		t.Errorf("-c 8 -qps 200: %.1f/s", x)
	}
}

// TestExternalClientRTT: an external client pays its round trip on top of
// the path and uses no node CPU.
func TestExternalClientRTT(t *testing.T) {
	top := mustTopology(t, `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    workloads: [{name: client}]
    services: [{name: server}]
calls:
  - {from: a/client, to: a/server, rate: 0}
`)
	run := func(g *Generator) *RunResult {
		_, res := runMesh(t, Config{Topology: top, Profile: mustProfile(t), Mode: "out-of-mesh", Seed: 1, Duration: 10 * sim.Second,
			Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 1, ReqSize: kib1, RespSize: kib1, Generator: g})})
		return res
	}
	in := run(&Generator{Connections: 1, QPS: 100})
	out := run(&Generator{Connections: 1, QPS: 100, External: true, RTT: 20 * sim.Millisecond})
	if d := out.Measured.Edges[0].MeanMs - in.Measured.Edges[0].MeanMs; math.Abs(d-20) > 0.5 {
		t.Errorf("external client: mean %.3f ms vs %.3f in cluster; want +20 ms", out.Measured.Edges[0].MeanMs, in.Measured.Edges[0].MeanMs)
	}
	cpu := func(r *RunResult) float64 {
		for _, c := range r.Measured.Components {
			if strings.HasPrefix(c.Instance, "app/a/client") {
				return c.CPUCores
			}
		}
		return -1
	}
	if c := cpu(out); c != 0 {
		t.Errorf("external client used %.4f cores of a node", c)
	}
	if c, want := cpu(in), 100*287e-6; math.Abs(c-want) > 0.05*want {
		t.Errorf("in-cluster fortio used %.4f cores, want %.4f (287 µs × 100/s)", c, want)
	}
}
