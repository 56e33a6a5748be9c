package models

import (
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// TestRetryAvoidsPreviousHosts: reviews has a slow pod (200 ms) and a fast
// one (5 ms), a 50 ms per-try timeout retried on 5xx, and a random load
// balancer. Istio puts Envoy's previous_hosts predicate on every retry
// policy, so a try that timed out on the slow pod is retried on the fast
// one, unless all of Istio's 5 host selections draw the slow pod again
// (1/32): about 1/64 of requests take a third try and 1/2048 fail. With
// retryIgnorePreviousHosts: false a retry draws either pod again, and a
// request fails when all three tries land on the slow one (1/2 · 1/2 · 1/2
// of them).
func TestRetryAvoidsPreviousHosts(t *testing.T) {
	for _, tc := range []struct {
		name         string
		ignoreOption string
		failed       [2]float64 // share of requests that fail, within
	}{
		{"avoids the tried host (Istio's default)", "", [2]float64{0, 0.005}},
		{"retryIgnorePreviousHosts: true", "\n  retryIgnorePreviousHosts: true", [2]float64{0, 0.005}},
		{"retryIgnorePreviousHosts: false", "\n  retryIgnorePreviousHosts: false", [2]float64{0.125 - 0.04, 0.125 + 0.04}},
	} {
		for _, mode := range []string{"sidecar", "ambient"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				route := "retries:\n  attempts: 2\n  perTryTimeout: 50ms\n  retryOn: 5xx" + tc.ignoreOption
				top := mustTopology(t, perTrySpec(mode, route, false))
				st := func(ms float64) AppConfig {
					return AppConfig{ServiceTime: sim.DistSpec{Kind: sim.DistConstant, Mean: ms * float64(sim.Millisecond)}, Concurrency: 1000}
				}
				cfg := Config{Topology: top, Profile: mustProfile(t), Mode: mode, Seed: 5, Duration: 40 * sim.Second, Warmup: sim.Second,
					Apps:  map[*topology.Workload]AppConfig{top.Workload("shop", "slow"): st(200), top.Workload("shop", "fast"): st(5)},
					Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4, LB: LBRandom})}
				_, res := runMesh(t, cfg)
				rq := res.Measured.Requests
				if rq.Offered < 600 {
					t.Fatalf("only %d requests offered", rq.Offered)
				}
				share := float64(rq.Failed) / float64(rq.Offered)
				if share < tc.failed[0] || share > tc.failed[1] {
					t.Errorf("%.3f of %d requests failed (%v), want %.3f–%.3f", share, rq.Offered, res.Measured.Errors, tc.failed[0], tc.failed[1])
				}
				slow, fast := appRequests(res.Measured)
				// Tries per request: 1.5 + 1/64 avoiding tried hosts (a
				// third try for 1/64), 1.75 when retries draw either pod.
				perReq := float64(slow+fast) / float64(rq.Offered)
				if want := 1.5 + 1.0/64; tc.failed[1] < 0.01 && (perReq < want-0.06 || perReq > want+0.06) {
					t.Errorf("the apps saw %.3f tries per request, want %.3f", perReq, want)
				} else if tc.failed[1] > 0.01 && (perReq < 1.75-0.08 || perReq > 1.75+0.08) {
					t.Errorf("the apps saw %.3f tries per request, want 1.75", perReq)
				}
			})
		}
	}
}
