package models

import (
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

// noEndpointSpec: client -> empty, a Service whose selector matches no pod,
// in mode (ambient: through the namespace's waypoint when waypoint is set).
const noEndpointSpec = `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: shop
    mode: %s%s
    services: [{name: api, replicas: 2, ports: [{name: http, port: 8080}]}]
    workloads: [{name: client}]
calls:
  - {from: shop/client, to: shop/empty, rate: 300}
policies:
  - apiVersion: v1
    kind: Service
    metadata: {name: empty, namespace: shop}
    spec: {selector: {app: nothing}, ports: [{name: http, port: 8080}]}
`

const denyOnEmpty = `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: deny-all, namespace: shop}
    spec:
      targetRefs: [{kind: Service, group: "", name: empty}]
      action: DENY
      rules: [{}]
`

// TestNoEndpointThroughRouter: a request to a Service with no endpoints goes
// to its L7 router, which answers 503 UH itself (Envoy's "no healthy
// upstream") and reports it; a waypoint's policies decide first (403). The
// source's ztunnel carries the connection to the waypoint (TCP metrics);
// no destination reports anything. Without an L7 router (ztunnel only) the
// connection fails at once and no proxy reports an HTTP code.
func TestNoEndpointThroughRouter(t *testing.T) {
	const wp = "\n    waypoint: {name: waypoint}"
	for _, tc := range []struct {
		name, mode, waypoint, policies string
		cause, reporter, code          string // reporter "" = no HTTP series at all
		routerCPU                      string // component kind whose CPU the answer costs, "" = none
	}{
		{"waypoint answers 503 UH", "ambient", wp, "", "no_healthy_upstream_503", "waypoint", "503 UH", "waypoint"},
		{"waypoint's DENY first: 403", "ambient", wp, denyOnEmpty, "l7_denied_403", "waypoint", "403 -", "waypoint"},
		{"sidecar answers 503 UH", "sidecar", "", "", "no_healthy_upstream_503", "source", "503 UH", "sidecar"},
		{"sidecar: no RBAC outbound", "sidecar", "", denyOnEmpty, "no_healthy_upstream_503", "source", "503 UH", "sidecar"},
		{"ztunnel only: connection fails", "ambient", "", "", "no_healthy_upstream_503", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := mustTopology(t, sprintf(noEndpointSpec, tc.mode, tc.waypoint)+tc.policies)
			cfg := Config{Topology: top, Profile: mustProfile(t), Mode: tc.mode, Seed: 7, Duration: sim.Second, Warmup: 100 * sim.Millisecond,
				Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 2})}
			_, res := runMesh(t, cfg)
			e := res.Measured.Edges[0]
			if e.Calls < 200 {
				t.Fatalf("only %d measured calls", e.Calls)
			}
			if e.Failed != e.Calls || errorsBy(res.Measured, tc.cause) != e.Calls {
				t.Errorf("%d of %d failed, errors %v; want all %s", e.Failed, e.Calls, res.Measured.Errors, tc.cause)
			}
			for _, r := range e.Routes {
				if r.AnsweredCalls != 0 {
					t.Errorf("route %+v counts answered calls: a 503 UH is not the route's answer", r)
				}
			}
			n, _ := codesByReporter(t, res)
			if tc.reporter == "" {
				if len(n) != 0 {
					t.Errorf("HTTP series %s, want none", fmtCodes(n))
				}
			} else {
				if len(n) != 1 || len(n[tc.reporter]) != 1 {
					t.Errorf("series %s: want only %s %q", fmtCodes(n), tc.reporter, tc.code)
				}
				if d := n[tc.reporter][tc.code] - e.Calls; d < -3 || d > 3 {
					t.Errorf("%s reported %d %q for %d calls", tc.reporter, n[tc.reporter][tc.code], tc.code, e.Calls)
				}
			}
			fams := gather(t, res)
			var srcOpened float64
			for _, m := range fams["istio_tcp_connections_opened_total"].GetMetric() {
				if label(m, "reporter") == "source" {
					srcOpened += m.GetCounter().GetValue()
				}
				if label(m, "reporter") == "destination" {
					t.Errorf("a destination ztunnel reports a connection: %v", m.GetCounter().GetValue())
				}
			}
			if tc.mode == "ambient" && tc.reporter != "" && srcOpened == 0 {
				t.Error("the source ztunnel reports no connection to the waypoint")
			}
			var cpu float64
			for _, c := range res.Measured.Components {
				if c.Kind == tc.routerCPU {
					cpu += c.CPUCores
				}
			}
			if tc.routerCPU != "" && cpu == 0 {
				t.Errorf("no %s CPU: the router's answer is free", tc.routerCPU)
			}
		})
	}
}

// TestNoEndpointLeftAfterFailure: when a failure leaves a Service with no
// endpoint a load balancer would pick (its only pod's node lost), the
// router answers 503 UH the same way, and reports it.
func TestNoEndpointLeftAfterFailure(t *testing.T) {
	for _, mode := range []string{"ambient", "sidecar"} {
		t.Run(mode, func(t *testing.T) {
			spec := `
nodes: {count: 3, zones: [z]}
namespaces:
  - name: shop
    mode: ` + mode + `
    waypoint: {name: waypoint, replicas: 1}
    services: [{name: api, replicas: 1, ports: [{name: http, port: 8080}]}]
    workloads: [{name: client}]
calls:
  - {from: shop/client, to: shop/api, rate: 300}
`
			top := mustTopology(t, spec)
			var lost, keep []string
			for _, p := range top.Pods {
				if p.Workload == top.Workload("shop", "api") {
					lost = append(lost, p.Node)
				} else {
					keep = append(keep, p.Node)
				}
			}
			for _, k := range keep {
				if k == lost[0] {
					t.Skipf("the api pod shares its node (%s) with the client or the waypoint", k)
				}
			}
			cfg := Config{Topology: top, Profile: mustProfile(t), Mode: mode, Seed: 7, Duration: 2 * sim.Second, Warmup: 100 * sim.Millisecond,
				Edges:    edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 2, Timeout: 200 * sim.Millisecond}),
				Failures: []Failure{{Name: "lost", Kind: FailNodeLoss, Nodes: lost, At: sim.Second, EndpointDelay: 10 * sim.Millisecond}}}
			_, res := runMesh(t, cfg)
			uh := errorsBy(res.Measured, "no_healthy_upstream_503")
			if uh < 200 {
				t.Fatalf("%d calls failed 503 UH (errors %v): want the second after the loss's", uh, res.Measured.Errors)
			}
			rep := "waypoint"
			if mode == "sidecar" {
				rep = "source"
			}
			n, _ := codesByReporter(t, res)
			if d := n[rep]["503 UH"] - uh; d < -3 || d > 3 {
				t.Errorf("%s reported %d 503 UH, %d calls failed so (all: %s)", rep, n[rep]["503 UH"], uh, fmtCodes(n))
			}
		})
	}
}
