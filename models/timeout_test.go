package models

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// timeoutRun runs perTrySpec(mode, route) with constant service times slow
// and fast (ms) and the client's own timeout (0: none).
func timeoutRun(t *testing.T, mode, route string, slow, fast float64, client sim.Time) *RunResult {
	t.Helper()
	top := mustTopology(t, perTrySpec(mode, route, false))
	st := func(ms float64) AppConfig {
		return AppConfig{ServiceTime: sim.DistSpec{Kind: sim.DistConstant, Mean: ms * float64(sim.Millisecond)}, Concurrency: 1000}
	}
	cfg := Config{Topology: top, Profile: mustProfile(t), Mode: mode, Seed: 7, Duration: 20 * sim.Second, Warmup: sim.Second,
		Apps:  map[*topology.Workload]AppConfig{top.Workload("shop", "slow"): st(slow), top.Workload("shop", "fast"): st(fast)},
		Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4, LB: LBRoundRobin, Timeout: client})}
	_, res := runMesh(t, cfg)
	return res
}

// codesByReporter counts istio_requests_total by reporter and "code
// flag", and sums each reporter's request durations (ms) by the same.
func codesByReporter(t *testing.T, res *RunResult) (n map[string]map[string]int64, durMs map[string]map[string]float64) {
	t.Helper()
	n, durMs = map[string]map[string]int64{}, map[string]map[string]float64{}
	fams := gather(t, res)
	for _, m := range fams["istio_requests_total"].GetMetric() {
		r, k := label(m, "reporter"), label(m, "response_code")+" "+label(m, "response_flags")
		if n[r] == nil {
			n[r] = map[string]int64{}
		}
		n[r][k] += int64(m.GetCounter().GetValue())
	}
	for _, m := range fams["istio_request_duration_milliseconds"].GetMetric() {
		r, k := label(m, "reporter"), label(m, "response_code")+" "+label(m, "response_flags")
		if durMs[r] == nil {
			durMs[r] = map[string]float64{}
		}
		durMs[r][k] += m.GetHistogram().GetSampleSum()
	}
	return n, durMs
}

func fmtCodes(n map[string]map[string]int64) string {
	var out []string
	for r, ks := range n {
		for k, v := range ks {
			out = append(out, fmt.Sprintf("%s:%s=%d", r, k, v))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestTimeoutTelemetry checks what each proxy reports for a request its
// overall timeout ended (decision 074), against Envoy: the route's
// timeout makes the router answer 504 UT and reset its upstream request,
// so the destination's sidecar, still waiting for the slow app when the
// reset comes, reports 0 DC; the client's own timeout closes the client's
// connection: every L7 proxy still holding the request reports 0 DC. No
// proxy reports the 200 the slow app eventually answers.
func TestTimeoutTelemetry(t *testing.T) {
	const X = 50.0 // ms, the timeout; the apps take 200 ms
	for _, tc := range []struct {
		name, mode, route string
		client            sim.Time
		want              map[string]string // reporter -> its one "code flag" (each call once)
		absent            []string          // reporters with no HTTP series
	}{
		{name: "route/sidecar", mode: "sidecar", route: "timeout: 50ms",
			want: map[string]string{"source": "504 UT", "destination": "0 DC"}},
		{name: "route/waypoint", mode: "ambient", route: "timeout: 50ms",
			want: map[string]string{"waypoint": "504 UT"}, absent: []string{"source", "destination"}},
		{name: "client/sidecar", mode: "sidecar", route: "timeout: 10s", client: 50 * sim.Millisecond,
			want: map[string]string{"source": "0 DC", "destination": "0 DC"}},
		{name: "client/waypoint", mode: "ambient", route: "timeout: 10s", client: 50 * sim.Millisecond,
			want: map[string]string{"waypoint": "0 DC"}, absent: []string{"source", "destination"}},
		// The shorter wins: a route timeout as long as the client's fires
		// at the router.
		{name: "route-first/sidecar", mode: "sidecar", route: "timeout: 50ms", client: 50 * sim.Millisecond,
			want: map[string]string{"source": "504 UT", "destination": "0 DC"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := timeoutRun(t, tc.mode, tc.route, 200, 200, tc.client)
			e := res.Measured.Edges[0]
			if e.Calls < 300 || e.Failed != e.Calls {
				t.Fatalf("%d of %d calls failed: want every call to time out", e.Failed, e.Calls)
			}
			n, dur := codesByReporter(t, res)
			for r, code := range tc.want {
				if len(n[r]) != 1 {
					t.Errorf("reporter %s: %v, want only %q (all: %s)", r, n[r], code, fmtCodes(n))
					continue
				}
				// Each call's one try, counted once; the ones still in
				// flight at the run's end report nothing beyond the cut.
				if d := n[r][code] - e.Calls; d < -5 || d > 1 {
					t.Errorf("reporter %s: %d %q, want one per call (%d)", r, n[r][code], code, e.Calls)
				}
				// Reported for the time up to the cut, not the app's 200 ms.
				if mean := dur[r][code] / float64(n[r][code]); mean > X+1 {
					t.Errorf("reporter %s: mean duration %.2f ms, want at most the timeout", r, mean)
				}
			}
			for _, r := range tc.absent {
				if len(n[r]) != 0 {
					t.Errorf("reporter %s reports HTTP %v: want none (ztunnel)", r, n[r])
				}
			}
		})
	}
}

// TestTimeoutTelemetryAnswered: when the destination answered before the
// reset reached it, it reports its answer, the router still 504 UT. The
// timeout is set so the router gives up while the response is on its way
// back (between the destination's sidecar and the client's).
func TestTimeoutTelemetryAnswered(t *testing.T) {
	var both bool
	for _, x := range []string{"5.2ms", "5.4ms", "5.6ms", "5.8ms", "6ms", "6.2ms", "6.4ms"} {
		res := timeoutRun(t, "sidecar", "timeout: "+x, 5, 5, 0)
		n, _ := codesByReporter(t, res)
		src, dst := n["source"], n["destination"]
		// Per call: both 200, or 504 UT at the router and 200 or 0 DC at
		// the destination; never a 200 the destination did not send.
		if src["200 -"] > dst["200 -"]+2 || dst["0 DC"] > src["504 UT"]+2 {
			t.Errorf("timeout %s: %s: a router's 200 without the destination's, or a reset without the router's 504", x, fmtCodes(n))
		}
		// Every try is counted at both sides, the same number of times.
		if s, d := sum(src), sum(dst); s-d > 2 || d-s > 2 {
			t.Errorf("timeout %s: source counted %d tries, destination %d", x, s, d)
		}
		if src["504 UT"] > 0 && dst["200 -"] > 0 {
			both = true
		}
		t.Logf("timeout %s: %s", x, fmtCodes(n))
	}
	if !both {
		t.Error("no timeout made the router answer 504 UT after the destination answered 200")
	}
}

func sum(m map[string]int64) int64 {
	var s int64
	for _, v := range m {
		s += v
	}
	return s
}

// TestPerTryTimeoutTelemetry: a per-try timeout is the same cut per try:
// the destination's sidecar, reset while the app works, reports each try 0
// DC; the router, which retries them upstream of its stats filter,
// reports each request once (decision 075): 504 UT after its last try.
func TestPerTryTimeoutTelemetry(t *testing.T) {
	res := timeoutRun(t, "sidecar", "retries: {attempts: 2, perTryTimeout: 50ms, retryOn: reset, backoff: 1ms}", 200, 200, 0)
	n, _ := codesByReporter(t, res)
	slow, fast := appRequests(res.Measured)
	tries := slow + fast
	calls := res.Measured.Edges[0].Calls
	if len(n["source"]) != 1 || len(n["destination"]) != 1 {
		t.Fatalf("codes %s: want source 504 UT and destination 0 DC only", fmtCodes(n))
	}
	if d := n["source"]["504 UT"] - calls; d < -3 || d > 3 {
		t.Errorf("source reported %d requests 504 UT, the client made %d (%d tries)", n["source"]["504 UT"], calls, tries)
	}
	// The zombies still in flight at the run's end report nothing.
	if d := n["destination"]["0 DC"] - tries; d < -15 || d > 5 {
		t.Errorf("destination reported %d tries 0 DC, the apps got %d", n["destination"]["0 DC"], tries)
	}
}
