package models

import (
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

const poolTopo = `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    mode: ambient
    workloads: [{name: client}]
    services: [{name: server, replicas: 1}]
calls:
  - {from: a/client, to: a/server, rate: 200}
`

func poolRun(t *testing.T, e EdgeConfig, app AppConfig, dur sim.Time) (*Mesh, *RunResult) {
	top := mustTopology(t, poolTopo)
	cfg := Config{Topology: top, Profile: mustProfile(t), Mode: "ambient", Seed: 5, Duration: dur,
		Edges: edgesOf(top, e), Apps: nil}
	if app.Concurrency > 0 {
		cfg.Apps = map[*topology.Workload]AppConfig{top.Workload("a", "server"): app}
	}
	return runMesh(t, cfg)
}

// TestPoolingWarmPool: streams share one pooled connection; only the cold
// pool pays a handshake, whether app connections are kept alive or opened
// per request.
func TestPoolingWarmPool(t *testing.T) {
	for _, tc := range []struct {
		name      string
		keepAlive bool
	}{{"keep-alive", true}, {"per-request", false}} {
		t.Run(tc.name, func(t *testing.T) {
			m, res := poolRun(t, EdgeConfig{KeepAlive: tc.keepAlive, Pool: 4, Protocol: HTTP2}, AppConfig{}, 20*sim.Second)
			e := res.Measured.Edges[0]
			if e.Handshakes != 1 {
				t.Errorf("handshakes = %d, want 1 (one pool key, dialled once)", e.Handshakes)
			}
			if tc.keepAlive && e.ConnectionsOpened != 4 {
				t.Errorf("keep-alive opened %d app connections (HBONE streams), want 4", e.ConnectionsOpened)
			}
			if !tc.keepAlive && e.ConnectionsOpened != e.Calls {
				t.Errorf("per-request opened %d streams for %d calls", e.ConnectionsOpened, e.Calls)
			}
			if len(m.ztPool) != 1 {
				t.Errorf("%d pool slots, want 1 (key = source pod, destination pod)", len(m.ztPool))
			}
		})
	}
}

// TestPoolingStreamCap: with more than 100 concurrent streams on one key,
// saturated connections leave the pool and new ones are dialled.
func TestPoolingStreamCap(t *testing.T) {
	// The app waits 0.5 s per request without computing (cpu_fraction 0):
	// 200 requests in progress must not need 200 cores.
	io := 0.0
	slow := AppConfig{ServiceTime: sim.DistSpec{Kind: sim.DistConstant, Mean: float64(500 * sim.Millisecond)}, Concurrency: 10000, CPUFraction: &io}
	// 400 rps × 0.5 s ≈ 200 streams open at once on one key.
	_, res := poolRun(t, EdgeConfig{Rate: 400, KeepAlive: false}, slow, 10*sim.Second)
	e := res.Measured.Edges[0]
	if e.Handshakes < 10 {
		t.Errorf("handshakes = %d; with ~200 concurrent streams and a cap of 100 per connection the pool must keep dialling", e.Handshakes)
	}
	// Keep-alive with 8 connections never exceeds the cap: one handshake.
	_, res = poolRun(t, EdgeConfig{Rate: 400, KeepAlive: true, Pool: 8, Protocol: HTTP2}, slow, 10*sim.Second)
	if h := res.Measured.Edges[0].Handshakes; h != 1 {
		t.Errorf("keep-alive handshakes = %d, want 1", h)
	}
}

// TestPoolingIdleRelease: a key unused for more than 5 minutes is released
// and the next request pays a new handshake.
func TestPoolingIdleRelease(t *testing.T) {
	// One request every 400 s (constant arrivals), per-request connections.
	_, res := poolRun(t, EdgeConfig{Rate: 1.0 / 400, Arrival: ArrivalConstant}, AppConfig{}, 2000*sim.Second)
	e := res.Measured.Edges[0]
	if e.Calls < 4 || e.Handshakes != e.Calls {
		t.Errorf("%d calls, %d handshakes: every call after a >5 min gap needs a new connection", e.Calls, e.Handshakes)
	}
	// Every 100 s: the pool stays warm.
	_, res = poolRun(t, EdgeConfig{Rate: 1.0 / 100, Arrival: ArrivalConstant}, AppConfig{}, 2000*sim.Second)
	if e := res.Measured.Edges[0]; e.Handshakes != 1 {
		t.Errorf("%d calls, %d handshakes: a pool used every 100 s stays warm", e.Calls, e.Handshakes)
	}
}

// TestPoolingChangesTail: the cold/saturating pool costs latency and CPU
// that the warm pool does not.
func TestPoolingChangesTail(t *testing.T) {
	_, warm := poolRun(t, EdgeConfig{KeepAlive: true, Pool: 4, Protocol: HTTP2}, AppConfig{}, 10*sim.Second)
	_, per := poolRun(t, EdgeConfig{KeepAlive: false}, AppConfig{}, 10*sim.Second)
	w, p := warm.Measured.Edges[0], per.Measured.Edges[0]
	if !(p.P50Ms > w.P50Ms) {
		t.Errorf("per-request p50 %.3f ms should exceed keep-alive p50 %.3f ms (a CONNECT round trip per request)", p.P50Ms, w.P50Ms)
	}
	zt := func(r *RunResult) float64 {
		var c float64
		for _, u := range r.Measured.Components {
			if u.Kind == "ztunnel" {
				c += u.CPUCores
			}
		}
		return c
	}
	if !(zt(per) > zt(warm)) {
		t.Errorf("per-request ztunnel CPU %.4f should exceed keep-alive %.4f (stream opens)", zt(per), zt(warm))
	}
}
