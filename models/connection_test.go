package models

import (
	"math"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

// connectionRun runs a light open-loop load (20 requests/s, so nothing
// queues) from a client on node-1 to a server on node-2, with keep-alive
// connections or a new connection per request (Connection: close).
func connectionRun(t *testing.T, mode string, keepAlive bool) (*Mesh, *RunResult) {
	t.Helper()
	ns := ""
	if mode != "out-of-mesh" {
		ns = "\n    mode: " + mode
	}
	top := mustTopology(t, `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a`+ns+`
    workloads: [{name: client, nodeName: node-1}]
    services: [{name: server, nodeName: node-2}]
calls:
  - {from: a/client, to: a/server, rate: 20}
`)
	cfg := Config{Topology: top, Profile: mustProfile(t), Mode: mode, Seed: 11, Duration: 120 * sim.Second, Warmup: 2 * sim.Second,
		Edges: edgesOf(top, EdgeConfig{KeepAlive: keepAlive, Pool: 4, ReqSize: kib1, RespSize: kib1})}
	return runMesh(t, cfg)
}

// TestConnectionCloseVsKeepAlive: a new connection per request adds, in
// closed form, what the connection costs on the request's path. Out of
// mesh: one TCP handshake between the pods (tcp_handshake_rtts round
// trips across nodes). In ambient: the app's handshake with its in-pod
// ztunnel listener (same node), a CONNECT stream (CONNECT → 200, one round
// trip between the ztunnels), the source ztunnel's accept and stream CPU
// and the destination ztunnel's authorisation, stream and dial CPU — but
// no mTLS handshake: the HBONE connection stays pooled, so both runs dial
// the same few.
func TestConnectionCloseVsKeepAlive(t *testing.T) {
	for _, mode := range []string{"out-of-mesh", "ambient"} {
		t.Run(mode, func(t *testing.T) {
			_, ka := connectionRun(t, mode, true)
			m, cl := connectionRun(t, mode, false)
			c := &m.c
			var want sim.Time
			if mode == "out-of-mesh" {
				want = sim.Time(c.tcpRTTs * float64(2*c.crossNode))
			} else {
				want = sim.Time(c.tcpRTTs*float64(2*c.sameNode)) + 2*c.crossNode +
					m.atSpeed(0, c.tcpCPU+c.ztStream) + m.atSpeed(1, c.ztAuthz+c.tcpCPU+c.ztStream)
			}
			ek, ec := ka.Measured.Edges[0], cl.Measured.Edges[0]
			got := (ec.MeanMs - ek.MeanMs) * 1e6 // ns
			t.Logf("%s: mean %.4f ms keep-alive, %.4f ms close: +%.1f µs, closed form +%.1f µs; handshakes %d / %d",
				mode, ek.MeanMs, ec.MeanMs, got/1e3, float64(want)/1e3, ek.Handshakes, ec.Handshakes)
			if math.Abs(got-float64(want)) > 0.03*float64(want)+1000 {
				t.Errorf("Connection: close adds %.1f µs per request, closed form %.1f µs", got/1e3, float64(want)/1e3)
			}
			// The one pool key (source pod, destination pod) was dialled in
			// the warm-up: no mTLS handshake in the measured window.
			const wantHS = 0
			if ec.Handshakes != wantHS || ek.Handshakes != wantHS {
				t.Errorf("mTLS handshakes: %d with close, %d with keep-alive; want %d for both (the HBONE pool is warm)", ec.Handshakes, ek.Handshakes, wantHS)
			}
			if ec.ConnectionsOpened != ec.Calls || ek.ConnectionsOpened > 4 {
				t.Errorf("app connections: %d for %d calls with close (want one each), %d with keep-alive (want at most the pool of 4)",
					ec.ConnectionsOpened, ec.Calls, ek.ConnectionsOpened)
			}
		})
	}
}
