package models

import (
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// onceSpec is perTrySpec with the reviews backends in sidecar mode, so
// that a destination sidecar reports every try also behind a waypoint.
func onceSpec(mode, route string) string {
	s := perTrySpec(mode, route, false)
	for _, w := range []string{"slow", "fast"} {
		s = strings.Replace(s, "{name: "+w+", replicas: 1,", "{name: "+w+", replicas: 1, mode: sidecar,", 1)
	}
	return s
}

func onceRun(t *testing.T, mode, route string, slow, fast float64, client sim.Time) *RunResult {
	t.Helper()
	top := mustTopology(t, onceSpec(mode, route))
	st := func(ms float64) AppConfig {
		return AppConfig{ServiceTime: sim.DistSpec{Kind: sim.DistConstant, Mean: ms * float64(sim.Millisecond)}, Concurrency: 1000}
	}
	cfg := Config{Topology: top, Profile: mustProfile(t), Mode: mode, Seed: 7, Duration: 20 * sim.Second, Warmup: sim.Second,
		Apps:  map[*topology.Workload]AppConfig{top.Workload("shop", "slow"): st(slow), top.Workload("shop", "fast"): st(fast)},
		Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4, LB: LBRoundRobin, Timeout: client})}
	_, res := runMesh(t, cfg)
	return res
}

// TestRouterReportsOnce: Istio's stats filter sits before Envoy's router,
// which retries upstream of it (decision 075): the router (the client's
// sidecar, or the waypoint) reports each request once, with its final code
// and a duration over all its tries; the destination's sidecar, beyond the
// router, sees and reports every try.
func TestRouterReportsOnce(t *testing.T) {
	const X = 50.0 // ms, the per-try timeout
	for _, tc := range []struct {
		name, mode, router, route string
		client                    sim.Time
		// finals: the router's codes a request may end with.
		finals []string
		// retried: successes follow timed-out tries (their durations
		// include them).
		retried bool
	}{
		// A try on the slow pod times out and is retried on the fast one.
		{name: "per-try/sidecar", mode: "sidecar", router: "source", route: "retries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx, backoff: 1ms}",
			finals: []string{"200 -", "504 UT"}, retried: true},
		{name: "per-try/waypoint", mode: "ambient", router: "waypoint", route: "retries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx, backoff: 1ms}",
			finals: []string{"200 -", "504 UT"}, retried: true},
		// Every try is slow and the route's timeout often fires during a
		// retry's back-off: the router still reports the request, 504 UT.
		{name: "route-timeout-in-backoff/sidecar", mode: "sidecar", router: "source", route: "timeout: 120ms\nretries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx, backoff: 100ms}",
			finals: []string{"504 UT"}},
		{name: "route-timeout-in-backoff/waypoint", mode: "ambient", router: "waypoint", route: "timeout: 120ms\nretries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx, backoff: 100ms}",
			finals: []string{"504 UT"}},
		// The client's own timeout: the client closes, the router reports
		// 0 DC once (also when it was waiting for a back-off).
		{name: "client-timeout/sidecar", mode: "sidecar", router: "source", route: "retries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx, backoff: 100ms}",
			client: 120 * sim.Millisecond, finals: []string{"0 DC"}},
		{name: "client-timeout/waypoint", mode: "ambient", router: "waypoint", route: "retries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx, backoff: 100ms}",
			client: 120 * sim.Millisecond, finals: []string{"0 DC"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slow, fast := 200.0, 2.0
			if !tc.retried {
				fast = 200
			}
			res := onceRun(t, tc.mode, tc.route, slow, fast, tc.client)
			e := res.Measured.Edges[0]
			n, durMs := codesByReporter(t, res)
			t.Logf("%d calls, %d failed: %s", e.Calls, e.Failed, fmtCodes(n))
			rt, dst := n[tc.router], n["destination"]
			if e.Calls < 300 {
				t.Fatalf("only %d calls", e.Calls)
			}
			// One sample per request at the router, with a final code.
			if d := sum(rt) - e.Calls; d < -3 || d > 3 {
				t.Errorf("router (%s) reported %d requests, the client made %d", tc.router, sum(rt), e.Calls)
			}
			var finals int64
			for _, k := range tc.finals {
				finals += rt[k]
			}
			if finals != sum(rt) {
				t.Errorf("router codes %v: want only %v", rt, tc.finals)
			}
			if d := rt["200 -"] - (e.Calls - e.Failed); d < -3 || d > 3 {
				t.Errorf("router reported %d 200s, %d calls succeeded", rt["200 -"], e.Calls-e.Failed)
			}
			if tc.mode == "ambient" && len(n["source"]) != 0 {
				t.Errorf("an ambient client's ztunnel reported HTTP codes: %v", n["source"])
			}
			// Every try at the destination sidecar (zombies still in
			// flight at the run's end report nothing yet).
			sl, fa := appRequests(res.Measured)
			if tries := sl + fa; sum(dst)-tries < -15 || sum(dst) > tries+5 || tries < e.Calls*3/2 {
				t.Errorf("destination reported %d tries, the apps got %d (%d calls)", sum(dst), tries, e.Calls)
			}
			if tc.retried {
				// A success after k timed-out tries took at least k·X at
				// the router: the slow pod's tries beyond those of the
				// failed calls (3 each) preceded successes.
				if e.Failed > e.Calls/4 || sl < e.Calls/3 {
					t.Fatalf("%d of %d calls failed, the slow pod got %d tries: want most calls to succeed after a timed-out try", e.Failed, e.Calls, sl)
				}
				want := X * float64(sl-3*e.Failed)
				if got := durMs[tc.router]["200 -"]; got < want {
					t.Errorf("router's 200s last %.0f ms in all: want at least %.0f ms (%d timed-out tries before a success, %g ms each)", got, want, sl-3*e.Failed, X)
				}
				if got := durMs["destination"]["200 -"]; got > float64(fa)*(fast+5) {
					t.Errorf("destination's 200s last %.0f ms in all, for %d fast tries: it reports each try alone", got, fa)
				}
			}
		})
	}
}
