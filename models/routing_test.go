package models

import (
	"math"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

const routingSpec = `
nodes: {count: 2, zones: [zone-a]}
namespaces:
  - name: shop
    mode: ambient
    waypoint: {name: waypoint, replicas: 1}
    services:
      - {name: v1, replicas: 2, labels: {service: reviews, version: v1}}
      - {name: v2, replicas: 1, labels: {service: reviews, version: v2}}
      - {name: shadow, replicas: 1}
    workloads:
      - {name: frontend, replicas: 1}
policies:
  - apiVersion: v1
    kind: Service
    metadata: {name: reviews, namespace: shop}
    spec: {selector: {service: reviews}, ports: [{name: http, port: 8080}]}
  - apiVersion: v1
    kind: Service
    metadata: {name: v3, namespace: shop}
    spec: {selector: {version: v3}, ports: [{name: http, port: 8080}]}
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: reviews, namespace: shop}
    spec:
      parentRefs: [{group: "", kind: Service, name: reviews, port: 8080}]
      rules:
        - matches: [{path: {type: PathPrefix, value: /split}}]
          backendRefs: [{name: v1, port: 8080, weight: 75}, {name: v2, port: 8080, weight: 25}]
          filters: [{type: RequestMirror, requestMirror: {backendRef: {name: shadow, port: 8080}}}]
        - matches: [{path: {type: Exact, value: /split/exact}}]
          backendRefs: [{name: v2, port: 8080}]
        - matches: [{path: {type: PathPrefix, value: /canary}}]
          backendRefs: [{name: v1, port: 8080, weight: 50}, {name: v3, port: 8080, weight: 50}]
          retry: {attempts: 2, codes: [503]}
        - matches: [{path: {type: PathPrefix, value: /bad}}]
          backendRefs: [{name: missing, port: 8080}]
calls:
  - {from: shop/frontend, to: shop/reviews, rate: 2000}
`

// TestRouting checks run's routing against hand-computed expectations:
// Gateway API precedence (the Exact match beats the shorter prefix), the
// split per match, a 404 for no match, a 500 for a backend resolving to no
// Service, a canary without endpoints failing its whole share (the backend
// is drawn once per request and kept across retries), and mirroring.
func TestRouting(t *testing.T) {
	top := mustTopology(t, routingSpec)
	reqs := []RequestClass{
		{Name: "split", Path: "/split/a?x=1"},
		{Name: "exact", Path: "/split/exact"},
		{Name: "canary", Path: "/canary/1"},
		{Name: "bad", Path: "/bad"},
		{Name: "none", Path: "/other"},
	}
	cfg := Config{Topology: top, Profile: mustProfile(t), Mode: "ambient", Seed: 3, Duration: 3 * sim.Second, Warmup: 200 * sim.Millisecond,
		ProxyRetries: 2, Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4, Requests: reqs})}
	_, res := runMesh(t, cfg)
	if len(res.Measured.Edges) != 1 {
		t.Fatalf("edges: %+v", res.Measured.Edges)
	}
	e := res.Measured.Edges[0]
	routes := map[string]RouteStats{}
	for _, r := range e.Routes {
		routes[r.Request] = r
	}
	for _, c := range []struct {
		req      string
		rule     int
		answered string
		shares   map[string]float64 // backend -> share of the request's calls
		failed   map[string]bool    // backend -> every call fails
	}{
		{"split", 0, "", map[string]float64{"shop/v1": 0.75, "shop/v2": 0.25}, nil},
		{"exact", 1, "", map[string]float64{"shop/v2": 1}, nil},
		{"canary", 2, "", map[string]float64{"shop/v1": 0.5, "shop/v3": 0.5}, map[string]bool{"shop/v3": true}},
		{"bad", 3, "", map[string]float64{"shop/missing": 1}, map[string]bool{"shop/missing": true}},
		{"none", -1, "404", nil, nil},
	} {
		r, ok := routes[c.req]
		if !ok {
			t.Fatalf("%s: no route stats in %+v", c.req, e.Routes)
		}
		if r.Rule != c.rule || r.Answered != c.answered {
			t.Errorf("%s: rule %d answered %q, want rule %d answered %q", c.req, r.Rule, r.Answered, c.rule, c.answered)
		}
		var tot int64
		for _, b := range r.Backends {
			tot += b.Calls
		}
		for _, b := range r.Backends {
			want, ok := c.shares[b.Backend]
			if !ok {
				t.Errorf("%s: unexpected backend %s", c.req, b.Backend)
				continue
			}
			got := float64(b.Calls) / float64(tot)
			// binomial: 4 standard deviations
			if tol := 4 * math.Sqrt(want*(1-want)/float64(tot)); math.Abs(got-want) > tol+1e-9 {
				t.Errorf("%s -> %s: share %.3f of %d, want %.2f ± %.3f", c.req, b.Backend, got, tot, want, tol)
			}
			if c.failed[b.Backend] != (b.Failed == b.Calls && b.Calls > 0) || (!c.failed[b.Backend] && b.Failed != 0) {
				t.Errorf("%s -> %s: %d of %d failed", c.req, b.Backend, b.Failed, b.Calls)
			}
		}
		if c.answered != "" && (r.AnsweredCalls == 0 || len(r.Backends) != 0) {
			t.Errorf("%s: answered %d calls, backends %+v", c.req, r.AnsweredCalls, r.Backends)
		}
		// Copies are counted when sent, calls when finished: the window's
		// edges differ by the calls in flight.
		if c.req == "split" && math.Abs(float64(r.Mirrored-tot)) > 0.02*float64(tot) {
			t.Errorf("split: %d mirrored copies for %d calls, want one each", r.Mirrored, tot)
		}
	}
	causes := map[string]int64{}
	for _, x := range res.Measured.Errors {
		causes[x.Cause] = x.Count
	}
	if causes["route_not_found_404"] != routes["none"].AnsweredCalls || causes["invalid_backend_500"] == 0 || causes["no_healthy_upstream_503"] == 0 {
		t.Errorf("errors %v", res.Measured.Errors)
	}
}

// TestL7RulesOnTCPDenyInRun: an ALLOW policy whose rules all use HTTP
// fields, on a TCP port of a Service behind a waypoint, denies every
// connection in run (the waypoint's TCP chain cannot match HTTP rules) —
// what paths reports as L7_RULES_ON_TCP; the same policy on an HTTP port
// admits a matching GET and refuses a POST per request.
func TestL7RulesOnTCPDenyInRun(t *testing.T) {
	for _, c := range []struct {
		port, method string
		wantFailed   bool
	}{
		{"tcp-db", "GET", true},
		{"http", "GET", false},
		{"http", "POST", true},
	} {
		top := mustTopology(t, `
nodes: {count: 2}
namespaces:
  - name: shop
    mode: ambient
    waypoint: {name: waypoint}
    workloads: [{name: client}]
policies:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: db, namespace: shop}
    spec: {selector: {matchLabels: {app: db}}, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: db}]}}}
  - apiVersion: v1
    kind: Service
    metadata: {name: db, namespace: shop}
    spec: {selector: {app: db}, ports: [{name: `+c.port+`, port: 5432}]}
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: db-get, namespace: shop}
    spec:
      targetRefs: [{kind: Service, group: "", name: db}]
      action: ALLOW
      rules: [{to: [{operation: {methods: [GET]}}]}]
calls:
  - {from: shop/client, to: shop/db, rate: 200}
`)
		proto := HTTP1
		if c.port == "tcp-db" {
			proto = TCP
		}
		cfg := Config{Topology: top, Profile: mustProfile(t), Mode: "ambient", Seed: 1, Duration: sim.Second, Warmup: 100 * sim.Millisecond,
			Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 2, Protocol: proto, Method: c.method})}
		_, res := runMesh(t, cfg)
		e := res.Measured.Edges[0]
		if e.Calls == 0 || (e.Failed == e.Calls) != c.wantFailed || (!c.wantFailed && e.Failed != 0) {
			t.Errorf("port %s %s: %d of %d failed, want all failed = %v (errors %v)", c.port, c.method, e.Failed, e.Calls, c.wantFailed, res.Measured.Errors)
		}
	}
}

// TestJWTAtWaypoint: with a RequestAuthentication and an ALLOW policy
// requiring a request principal on the waypoint, requests carrying a token
// pass and requests without one are refused (403); the request mix says
// which carry one.
func TestJWTAtWaypoint(t *testing.T) {
	top := mustTopology(t, `
nodes: {count: 2}
namespaces:
  - name: shop
    mode: ambient
    waypoint: {name: waypoint}
    services: [{name: api, replicas: 1}]
    workloads: [{name: client}]
policies:
  - apiVersion: security.istio.io/v1
    kind: RequestAuthentication
    metadata: {name: jwt, namespace: shop}
    spec:
      targetRefs: [{kind: Service, group: "", name: api}]
      jwtRules: [{issuer: "https://issuer.example"}]
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: need-token, namespace: shop}
    spec:
      targetRefs: [{kind: Service, group: "", name: api}]
      rules: [{from: [{source: {requestPrincipals: ["https://issuer.example/*"]}}]}]
calls:
  - {from: shop/client, to: shop/api, rate: 400}
`)
	cfg := Config{Topology: top, Profile: mustProfile(t), Mode: "ambient", Seed: 1, Duration: sim.Second, Warmup: 100 * sim.Millisecond,
		Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 2, Requests: []RequestClass{{Name: "signed", Token: true}, {Name: "anonymous"}}})}
	_, res := runMesh(t, cfg)
	for _, r := range res.Measured.Edges[0].Routes {
		b := r.Backends[0]
		if want := r.Request == "anonymous"; b.Calls == 0 || (b.Failed == b.Calls) != want || (!want && b.Failed != 0) {
			t.Errorf("%s: %d of %d failed", r.Request, b.Failed, b.Calls)
		}
	}
	if len(res.Measured.Errors) != 1 || res.Measured.Errors[0].Cause != "l7_denied_403" {
		t.Errorf("errors %v, want only l7_denied_403", res.Measured.Errors)
	}
}
