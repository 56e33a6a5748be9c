package models

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// perTrySpec is a Service "reviews" over two workloads, slow and fast (one
// pod each), called by frontend, in mode (sidecar: the client's sidecar
// routes; ambient: the namespace's waypoint does), with route: the
// reviews rule's retry and timeout stanza (VirtualService http[] fields,
// or HTTPRoute rule fields when httproute).
func perTrySpec(mode, route string, httproute bool) string {
	wp := ""
	if mode == "ambient" {
		wp = "\n    waypoint: {name: waypoint, replicas: 1}"
	}
	rt := `  - apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: reviews, namespace: shop}
    spec:
      hosts: [reviews]
      http:
        - route: [{destination: {host: reviews}}]
` + indent(route, "          ")
	if httproute {
		rt = `  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: reviews, namespace: shop}
    spec:
      parentRefs: [{group: "", kind: Service, name: reviews, port: 8080}]
      rules:
        - backendRefs: [{name: reviews, port: 8080}]
` + indent(route, "          ")
	}
	return `
nodes: {count: 2, zones: [zone-a]}
namespaces:
  - name: shop
    mode: ` + mode + wp + `
    services:
      - {name: slow, replicas: 1, labels: {service: reviews}}
      - {name: fast, replicas: 1, labels: {service: reviews}}
    workloads:
      - {name: frontend, replicas: 1}
policies:
  - apiVersion: v1
    kind: Service
    metadata: {name: reviews, namespace: shop}
    spec: {selector: {service: reviews}, ports: [{name: http, port: 8080}]}
` + rt + `
calls:
  - {from: shop/frontend, to: shop/reviews, rate: 20}
`
}

func indent(s, pre string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		b.WriteString(pre + l + "\n")
	}
	return b.String()
}

// perTryRun runs spec with constant service times slow and fast (ms) and
// round-robin balancing (a retry goes to the other pod).
func perTryRun(t *testing.T, spec, mode string, slow, fast float64) (*Mesh, *RunResult) {
	t.Helper()
	top := mustTopology(t, spec)
	st := func(ms float64) AppConfig {
		return AppConfig{ServiceTime: sim.DistSpec{Kind: sim.DistConstant, Mean: ms * float64(sim.Millisecond)}, Concurrency: 1000}
	}
	cfg := Config{Topology: top, Profile: mustProfile(t), Mode: mode, Seed: 7, Duration: 20 * sim.Second, Warmup: sim.Second,
		Apps:  map[*topology.Workload]AppConfig{top.Workload("shop", "slow"): st(slow), top.Workload("shop", "fast"): st(fast)},
		Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4, LB: LBRoundRobin})}
	return runMesh(t, cfg)
}

// appRequests is the requests each backend's app received in the window.
func appRequests(res Measurement) (slow, fast int64) {
	for _, c := range res.Components {
		switch {
		case c.Kind == "app" && strings.Contains(c.Instance, "/slow-"):
			slow += c.RequestsSeen
		case c.Kind == "app" && strings.Contains(c.Instance, "/fast-"):
			fast += c.RequestsSeen
		}
	}
	return
}

// routerCodes counts istio_requests_total at the routing proxy (reporter
// waypoint, or source for a client sidecar) by "code flag".
func routerCodes(t *testing.T, res *RunResult, mode string) map[string]int64 {
	t.Helper()
	rep := "waypoint"
	if mode == "sidecar" {
		rep = "source"
	}
	out := map[string]int64{}
	for _, m := range gather(t, res)["istio_requests_total"].GetMetric() {
		if label(m, "reporter") == rep {
			out[label(m, "response_code")+" "+label(m, "response_flags")] += int64(m.GetCounter().GetValue())
		}
	}
	return out
}

func errorsBy(res Measurement, cause string) int64 {
	for _, e := range res.Errors {
		if e.Cause == cause {
			return e.Count
		}
	}
	return 0
}

// TestPerTryTimeout checks per-try timeouts against what Envoy's router
// does: a try longer than the per-try timeout is reset at the router (504
// UT, reported there when it ends the request) and retried only by a policy that retries resets;
// the route's timeout covers all tries; the abandoned try's upstream work
// still happens, and its late response finishes nothing.
func TestPerTryTimeout(t *testing.T) {
	const X = 50.0 // ms, the per-try timeout
	for _, tc := range []struct {
		name, mode string
		httproute  bool
		route      string
		slow, fast float64 // ms
		// Expectations: failed share, tries per call, latency bounds (ms)
		// of every call (p50 and p99 within [lo, hi]).
		failAll      bool
		triesPerCall float64 // app requests / calls (± 2%)
		lo, hi       float64
		retried      bool // a success may follow a timed-out try
	}{
		// (1) A call succeeds only when a try lands on the fast backend:
		// the slow pod's tries all time out and are retried (round robin
		// over the two pods, without Envoy's previous_hosts predicate,
		// so some calls meet the slow pod three times and fail).
		{name: "retry-5xx/sidecar", mode: "sidecar", route: "retries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx, backoff: 1ms}",
			slow: 200, fast: 2, lo: 2, hi: 3*X + 8, retried: true},
		{name: "retry-gateway-error/waypoint", mode: "ambient", route: "retries: {attempts: 2, perTryTimeout: 50ms, retryOn: gateway-error, backoff: 1ms}",
			slow: 200, fast: 2, lo: 2, hi: 3*X + 8, retried: true},
		// (2) Istio's default retryOn (no reset, 5xx, gateway-error) does
		// not retry a per-try timeout: 504 after X, not after 200 ms.
		{name: "default-retry-on/sidecar", mode: "sidecar", route: "retries: {attempts: 2, perTryTimeout: 50ms}",
			slow: 200, fast: 200, failAll: true, triesPerCall: 1, lo: X, hi: X + 3},
		{name: "httproute-backendRequest/waypoint", mode: "ambient", httproute: true,
			route: "timeouts: {backendRequest: 50ms}\nretry: {attempts: 2, codes: [504]}",
			slow:  200, fast: 200, failAll: true, triesPerCall: 1, lo: X, hi: X + 3},
		// (3) The route's timeout shorter than the per-try one wins.
		{name: "route-timeout-wins/sidecar", mode: "sidecar", route: "timeout: 30ms\nretries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx}",
			slow: 200, fast: 200, failAll: true, triesPerCall: 1, lo: 30, hi: 30.5},
		{name: "route-timeout-between/waypoint", mode: "ambient", route: "timeout: 120ms\nretries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx, backoff: 1ms}",
			slow: 200, fast: 200, failAll: true, triesPerCall: 3, lo: 120, hi: 120.5},
		// (5) Closed form: S > X everywhere, every try times out: 504
		// after (attempts+1)·X plus back-offs (< 1+3 ms) and the hops.
		{name: "all-slow/sidecar", mode: "sidecar", route: "retries: {attempts: 2, perTryTimeout: 50ms, retryOn: reset, backoff: 1ms}",
			slow: 200, fast: 200, failAll: true, triesPerCall: 3, lo: 3 * X, hi: 3*X + 8},
		{name: "all-slow/waypoint", mode: "ambient", route: "retries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx, backoff: 1ms}",
			slow: 200, fast: 200, failAll: true, triesPerCall: 3, lo: 3 * X, hi: 3*X + 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, res := perTryRun(t, perTrySpec(tc.mode, tc.route, tc.httproute), tc.mode, tc.slow, tc.fast)
			e := res.Measured.Edges[0]
			rc := res.Measured.Requests
			// The call is finished once: the counts reconcile and a
			// zombie's late 200 never turns into a success.
			if rc.Offered != rc.Succeeded+rc.Failed+rc.InFlight {
				t.Errorf("requests do not reconcile: %+v", rc)
			}
			if e.Calls < 300 {
				t.Fatalf("only %d calls", e.Calls)
			}
			if tc.failAll && e.Failed != e.Calls {
				t.Errorf("%d of %d calls failed, want all", e.Failed, e.Calls)
			}
			if tc.failAll && errorsBy(res.Measured, "timeout_504") != e.Failed {
				t.Errorf("causes %+v, want every failure timeout_504", res.Measured.Errors)
			}
			if e.P50Ms < tc.lo || e.P99Ms > tc.hi {
				t.Errorf("p50 %.3f ms, p99 %.3f ms: want within [%g, %g]", e.P50Ms, e.P99Ms, tc.lo, tc.hi)
			}
			// (4) Every try reached a backend's app, the abandoned ones
			// included (their work goes on after the router gave up).
			slow, fast := appRequests(res.Measured)
			if tc.triesPerCall > 0 {
				got := float64(slow+fast) / float64(e.Calls)
				if got < tc.triesPerCall*0.98 || got > tc.triesPerCall*1.02 {
					t.Errorf("%.3f tries per call at the apps (%d+%d for %d calls), want %g", got, slow, fast, e.Calls, tc.triesPerCall)
				}
			}
			// The router reports each request once, its final answer
			// (decision 075): 504 UT for a request whose last try timed
			// out or whose route timeout fired (decision 074), 200 for
			// one a try answered; the tries it retried are not reported
			// there.
			codes := routerCodes(t, res, tc.mode)
			ut, ok := codes["504 UT"], codes["200 -"]
			if d := ut - e.Failed; d < -3 || d > 3 {
				t.Errorf("router reported %d requests 504 UT, %d calls failed (the slow app got %d tries)", ut, e.Failed, slow)
			}
			if d := ok - (e.Calls - e.Failed); d < -3 || d > 3 {
				t.Errorf("router reported %d requests 200, %d calls succeeded", ok, e.Calls-e.Failed)
			}
			if tc.retried {
				// Most successes follow a timed-out try on the slow pod.
				if e.Failed > e.Calls/4 || slow < e.Calls/2 {
					t.Errorf("router codes %v, %d of %d calls failed, the slow app got %d tries: want most calls to succeed after a timed-out try", codes, e.Failed, e.Calls, slow)
				}
				if tries := float64(slow+fast) / float64(e.Calls); tries <= 1.5 || tries > 3 {
					t.Errorf("%.3f tries per call", tries)
				}
			}
		})
	}
}

// TestPerTryTimeoutNoEffect: a per-try timeout no try reaches changes
// nothing at all (S < X): the same results as without one.
func TestPerTryTimeoutNoEffect(t *testing.T) {
	for _, mode := range []string{"sidecar", "ambient"} {
		t.Run(mode, func(t *testing.T) {
			_, with := perTryRun(t, perTrySpec(mode, "retries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx}", false), mode, 5, 5)
			_, without := perTryRun(t, perTrySpec(mode, "retries: {attempts: 2, retryOn: 5xx}", false), mode, 5, 5)
			if !reflect.DeepEqual(with.Measured, without.Measured) {
				t.Errorf("a per-try timeout longer than every try changed the results:\n%+v\n%+v", with.Measured.Requests, without.Measured.Requests)
			}
			if !reflect.DeepEqual(gather(t, with), gather(t, without)) {
				t.Error("a per-try timeout longer than every try changed the metrics")
			}
		})
	}
}

// TestPerTryTimeoutDeterministic: same scenario and seed, same results,
// with zombies in flight.
func TestPerTryTimeoutDeterministic(t *testing.T) {
	spec := perTrySpec("ambient", "retries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx}", false)
	_, a := perTryRun(t, spec, "ambient", 60, 40)
	_, b := perTryRun(t, spec, "ambient", 60, 40)
	if !reflect.DeepEqual(a.Measured, b.Measured) {
		t.Error("two runs of the same scenario and seed differ")
	}
}

// TestPerTryTimeoutRescuesHung: a node lost mid-request leaves the calls
// in flight to its pod hanging (no reset). Without a per-try timeout they
// wait for the route's timeout and fail; with one, the router gives up on
// the hung try after X and its retry reaches the live pod.
func TestPerTryTimeoutRescuesHung(t *testing.T) {
	run := func(route string) *RunResult {
		spec := strings.Replace(perTrySpec("sidecar", route, false), "count: 2", "count: 3", 1)
		spec = strings.Replace(spec, "rate: 20", "rate: 200", 1)
		top := mustTopology(t, spec)
		nodeOf := func(wl string) string {
			for _, p := range top.Pods {
				if p.Workload == top.Workload("shop", wl) {
					return p.Node
				}
			}
			t.Fatalf("no pod of %s", wl)
			return ""
		}
		lost := nodeOf("slow")
		if nodeOf("frontend") == lost || nodeOf("fast") == lost {
			t.Fatalf("the client or the other backend runs on the node the test loses (%s)", lost)
		}
		// The apps wait without computing: the surviving pod's node has
		// room for the whole load (with CPU, losing half the capacity
		// would stretch its tries past X and the retries would storm).
		waits := 0.0
		st := AppConfig{ServiceTime: sim.DistSpec{Kind: sim.DistConstant, Mean: float64(40 * sim.Millisecond)}, Concurrency: 1000, CPUFraction: &waits}
		cfg := Config{Topology: top, Profile: mustProfile(t), Mode: "sidecar", Seed: 7, Duration: 8 * sim.Second, Warmup: sim.Second,
			Apps:  map[*topology.Workload]AppConfig{top.Workload("shop", "slow"): st, top.Workload("shop", "fast"): st},
			Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4, LB: LBRoundRobin}),
			Failures: []Failure{{Name: "lost", Kind: FailNodeLoss, Nodes: []string{lost}, At: 5 * sim.Second,
				EndpointDelay: 10 * sim.Millisecond}}}
		_, res := runMesh(t, cfg)
		rc := res.Measured.Requests
		if rc.Offered != rc.Succeeded+rc.Failed+rc.InFlight {
			t.Errorf("requests do not reconcile: %+v", rc)
		}
		return res
	}
	without := run("timeout: 2s\nretries: {attempts: 2, retryOn: 5xx}")
	with := run("timeout: 2s\nretries: {attempts: 2, perTryTimeout: 50ms, retryOn: 5xx}")
	fw, fp := without.Measured.Requests.Failed, with.Measured.Requests.Failed
	if fw < 3 || fp >= fw {
		t.Errorf("failed calls: %d without a per-try timeout, %d with one: want the hung calls (>= 3) rescued", fw, fp)
	}
	t.Logf("failed: %d without a per-try timeout, %d with one", fw, fp)
}
