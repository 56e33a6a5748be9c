package models

import (
	"math"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

func errorCount(r *RunResult, cause string) int64 {
	for _, e := range r.Measured.Errors {
		if e.Cause == cause {
			return e.Count
		}
	}
	return 0
}

func TestTimeout(t *testing.T) {
	top := mustTopology(t, strings.Replace(poolTopo, "rate: 200", "rate: 50", 1))
	slow := sim.DistSpec{Kind: sim.DistConstant, Mean: float64(50 * sim.Millisecond)}
	_, res := runMesh(t, Config{Topology: top, Profile: mustProfile(t), Mode: "ambient", Seed: 2, Duration: 10 * sim.Second,
		Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4, Protocol: HTTP2, Timeout: 10 * sim.Millisecond}),
		Apps:  map[*topology.Workload]AppConfig{top.Workload("a", "server"): {ServiceTime: slow, Concurrency: 100}}})
	if res.Measured.Requests.Succeeded != 0 || errorCount(res, "timeout_504") == 0 {
		t.Fatalf("requests %+v errors %+v: every call should time out", res.Measured.Requests, res.Measured.Errors)
	}
	if l := res.Measured.Latency; len(l) < 2 || math.Abs(l[1].P50Ms-10) > 0.2 {
		t.Errorf("timed-out calls should end at the 10 ms timeout: %+v", l)
	}
}

func TestRetriesOnReset(t *testing.T) {
	top := mustTopology(t, `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    mode: ambient
    workloads: [{name: client}]
    services: [{name: server}]
calls:
  - {from: a/client, to: a/server, rate: 100}
policies:
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: deny, namespace: a}
    spec: {action: DENY, rules: [{from: [{source: {namespaces: [a]}}]}]}
`)
	_, res := runMesh(t, Config{Topology: top, Profile: mustProfile(t), Mode: "ambient", Seed: 2, Duration: 5 * sim.Second,
		Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 2, Retries: 2})})
	reg, _ := res.Metrics.Registry()
	fams, _ := reg.Gather()
	var denied float64
	for _, f := range fams {
		if f.GetName() != "istio_tcp_connections_closed_total" {
			continue
		}
		for _, m := range f.Metric {
			if label(m, "response_flags") == "DENY" && label(m, "reporter") == "destination" {
				denied += m.GetCounter().GetValue()
			}
		}
	}
	calls := res.Measured.Requests.Failed
	if calls == 0 || denied != float64(3*calls) {
		t.Errorf("%d failed calls, %v denied connections: each call should be tried 3 times", calls, denied)
	}
}

const splitTopo = `
nodes: {count: 3, zones: [z]}
namespaces:
  - name: a
    mode: ambient
    %s
    workloads: [{name: client}]
    services:
      - {name: reviews, replicas: 1}
      - {name: reviews-v2, replicas: 1}
calls:
  - {from: a/client, to: a/reviews, rate: 1000}
policies:
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: split, namespace: a}
    spec:
      parentRefs: [{group: "", kind: Service, name: reviews}]
      rules:
        - backendRefs:
            - {name: reviews, port: 8080, weight: 80}
            - {name: reviews-v2, port: 8080, weight: 20}
`

// TestHTTPRouteWeights: a waypoint splits traffic by the HTTPRoute weights;
// without a waypoint nothing routes at L7 and the route does not apply.
func TestHTTPRouteWeights(t *testing.T) {
	for _, tc := range []struct {
		name, wp string
		wantV2   float64
	}{{"waypoint", "waypoint: {scope: namespace}", 0.2}, {"no-waypoint", "", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			top := mustTopology(t, strings.Replace(splitTopo, "%s", tc.wp, 1))
			m, _ := runMesh(t, Config{Topology: top, Profile: mustProfile(t), Mode: tc.name, Seed: 4, Duration: 10 * sim.Second,
				Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 8, Protocol: HTTP2})})
			var v1, v2 float64
			for i := range m.pods {
				switch m.pods[i].p.Workload.Name {
				case "reviews":
					v1 += float64(m.podHot[i].appReqs)
				case "reviews-v2":
					v2 += float64(m.podHot[i].appReqs)
				}
			}
			if got := v2 / (v1 + v2); math.Abs(got-tc.wantV2) > 0.02 {
				t.Errorf("reviews-v2 got %.3f of requests, want %.2f", got, tc.wantV2)
			}
		})
	}
}

// TestMixedModes runs every pairing of out-of-mesh, ambient and sidecar
// workloads and checks each path category is simulated without failures.
func TestMixedModes(t *testing.T) {
	top := mustTopology(t, `
nodes: {count: 3, zones: [z1, z2]}
namespaces:
  - name: amb
    mode: ambient
    waypoint: {scope: namespace}
    workloads: [{name: c}]
    services: [{name: s, replicas: 2}]
  - name: sc
    mode: sidecar
    workloads: [{name: c}]
    services: [{name: s, replicas: 2}]
  - name: plain
    workloads: [{name: c}]
    services: [{name: s, replicas: 2}]
calls:
  - {from: amb/c, to: amb/s, rate: 50}
  - {from: amb/c, to: sc/s, rate: 50}
  - {from: amb/c, to: plain/s, rate: 50}
  - {from: sc/c, to: amb/s, rate: 50}
  - {from: sc/c, to: sc/s, rate: 50}
  - {from: sc/c, to: plain/s, rate: 50}
  - {from: plain/c, to: amb/s, rate: 50}
  - {from: plain/c, to: sc/s, rate: 50}
  - {from: plain/c, to: plain/s, rate: 50}
`)
	_, res := runMesh(t, Config{Topology: top, Profile: mustProfile(t), Mode: "as-manifests", Seed: 9, Duration: 5 * sim.Second,
		Edges: edgesOf(top, EdgeConfig{KeepAlive: false})})
	if res.Measured.Requests.Failed != 0 {
		t.Errorf("failures: %+v", res.Measured.Errors)
	}
	got := map[string]bool{}
	for _, l := range res.Measured.Latency {
		got[l.Category] = true
	}
	for _, c := range []string{"out-of-mesh", "ambient-waypoint", "sidecar", "mixed"} {
		if !got[c] {
			t.Errorf("no latency row for %s: %v", c, got)
		}
	}
	if _, err := res.Metrics.Registry(); err != nil {
		t.Fatal(err)
	}
	if _, err := res.Metrics.Timestamped(); err != nil {
		t.Fatal(err)
	}
}

// TestSidecarScope: a sidecar's memory follows the config it is given.
func TestSidecarScope(t *testing.T) {
	spec := `
nodes: {count: 2}
namespaces:
  - name: a
    mode: sidecar
    workloads: [{name: client}]
    services: [{name: s%d, count: 40, replicas: 3}]
calls:
  - {from: a/client, to: a/s1, rate: 10}
`
	mem := map[string]float64{}
	for _, scope := range []string{"mesh", "calls"} {
		top := mustTopology(t, spec)
		_, res := runMesh(t, Config{Topology: top, Profile: mustProfile(t), Mode: "sidecar", Seed: 1, Duration: sim.Second,
			SidecarScope: scope, Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 1})})
		for _, c := range res.Measured.Components {
			if c.Instance == "sidecar/a/client-0" {
				mem[scope] = c.MemoryMiB
			}
		}
	}
	// The 39 services (117 endpoints) the client does not call are saved.
	e := mustProfile(t).Sidecar
	if d := mem["mesh"] - mem["calls"]; math.Abs(d-(39*e.MemoryPerSvc.Value+117*e.MemoryPerEP.Value)/1024.0) > 0.01 {
		t.Errorf("memory mesh %.3f MiB, calls %.3f MiB", mem["mesh"], mem["calls"])
	}
}
