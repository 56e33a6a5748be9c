package models

import (
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

// answerAuthzSpec: client -> api through the namespace's waypoint (ambient)
// or from the client's sidecar (sidecar). The HTTPRoute forwards /v1 and
// redirects /old (301); any other path, /admin among them, has no rule:
// the routing proxy answers 404. Policies are appended per case.
const answerAuthzSpec = `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: shop
    mode: %s
    waypoint: {name: waypoint}
    services: [{name: api, replicas: 2, ports: [{name: http, port: 8080}]}]
    workloads: [{name: client}]
calls:
  - {from: shop/client, to: shop/api, rate: 300}
policies:
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: api, namespace: shop}
    spec:
      parentRefs: [{group: "", kind: Service, name: api, port: 8080}]
      rules:
        - matches: [{path: {type: PathPrefix, value: /v1}}]
          backendRefs: [{name: api, port: 8080}]
        - matches: [{path: {type: PathPrefix, value: /old}}]
          filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /v1}, statusCode: 301}}]
`

const (
	denyAdminOnService = `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: no-admin, namespace: shop}
    spec:
      targetRefs: [{kind: Service, group: "", name: api}]
      action: DENY
      rules: [{to: [{operation: {paths: ["/admin", "/old"]}}]}]
`
	denyAdminOnGateway = `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: no-admin, namespace: shop}
    spec:
      targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
      action: DENY
      rules: [{to: [{operation: {paths: ["/admin"]}}]}]
`
	allowV1Only = `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: v1-only, namespace: shop}
    spec:
      targetRefs: [{kind: Service, group: "", name: api}]
      rules: [{to: [{operation: {paths: ["/v1*"]}}]}]
`
	needToken = `
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
`
	// The destination sidecar's own policy: a routing sidecar on the
	// client's side never reaches it for a path it answers itself.
	denyAdminAtPods = `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: no-admin, namespace: shop}
    spec:
      selector: {matchLabels: {app: api}}
      action: DENY
      rules: [{to: [{operation: {paths: ["/admin"]}}]}]
`
)

// TestWaypointAuthzBeforeRouting: a waypoint's RBAC filter runs before its
// router, so a request its policies refuse gets 403 from the waypoint even
// when the route would answer it itself (404 for no rule, a redirect); the
// route's answered count leaves it out. Without a refusing policy the
// route's answer stands, and a routing sidecar (no RBAC on its outbound
// side) answers whatever the destination's policies say.
func TestWaypointAuthzBeforeRouting(t *testing.T) {
	for _, tc := range []struct {
		name, mode, policies, path string
		token                      bool
		cause                      string // "" = every call succeeds
		code, reporter             string // istio_requests_total response_code of every series, and its reporter
		answered                   bool   // the route's AnsweredCalls > 0 (else 0)
	}{
		{"no policy: 404", "ambient", "", "/admin", false, "route_not_found_404", "404", "waypoint", true},
		{"no policy: redirect", "ambient", "", "/old", false, "", "301", "waypoint", true},
		{"DENY on the Service: 403, not 404", "ambient", denyAdminOnService, "/admin", false, "l7_denied_403", "403", "waypoint", false},
		{"DENY on the Service: 403, not a redirect", "ambient", denyAdminOnService, "/old", false, "l7_denied_403", "403", "waypoint", false},
		{"DENY on the Service: other paths forward", "ambient", denyAdminOnService, "/v1/items", false, "", "200", "waypoint", false},
		{"DENY on the Gateway: 403", "ambient", denyAdminOnGateway, "/admin", false, "l7_denied_403", "403", "waypoint", false},
		{"no ALLOW matches: 403", "ambient", allowV1Only, "/admin", false, "l7_denied_403", "403", "waypoint", false},
		{"token required, none: 403", "ambient", needToken, "/admin", false, "l7_denied_403", "403", "waypoint", false},
		{"token required, carried: 404", "ambient", needToken, "/admin", true, "route_not_found_404", "404", "waypoint", true},
		{"sidecar routes: 404 stands", "sidecar", denyAdminAtPods, "/admin", false, "route_not_found_404", "404", "source", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := mustTopology(t, sprintf(answerAuthzSpec, tc.mode)+tc.policies)
			cfg := Config{Topology: top, Profile: mustProfile(t), Mode: tc.mode, Seed: 7, Duration: sim.Second, Warmup: 100 * sim.Millisecond,
				Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 2, Requests: []RequestClass{{Path: tc.path, Token: tc.token}}})}
			_, res := runMesh(t, cfg)
			e := res.Measured.Edges[0]
			if e.Calls == 0 {
				t.Fatal("no measured calls")
			}
			if tc.cause == "" {
				if e.Failed != 0 || len(res.Measured.Errors) != 0 {
					t.Errorf("%d of %d failed (errors %v), want none", e.Failed, e.Calls, res.Measured.Errors)
				}
			} else if e.Failed != e.Calls || len(res.Measured.Errors) != 1 || res.Measured.Errors[0].Cause != tc.cause {
				t.Errorf("%d of %d failed, errors %v; want all failed as %s", e.Failed, e.Calls, res.Measured.Errors, tc.cause)
			}
			if len(e.Routes) != 1 {
				t.Fatalf("routes %+v", e.Routes)
			}
			if r := e.Routes[0]; (r.AnsweredCalls > 0) != tc.answered {
				t.Errorf("route %+v: answered calls %d, want > 0 = %v", r, r.AnsweredCalls, tc.answered)
			}
			series := gather(t, res)["istio_requests_total"].GetMetric()
			var n float64
			for _, m := range series {
				if label(m, "reporter") != tc.reporter {
					continue
				}
				n += m.GetCounter().GetValue()
				if got := label(m, "response_code"); got != tc.code {
					t.Errorf("reporter %s: response_code %s (%v requests), want %s", tc.reporter, got, m.GetCounter().GetValue(), tc.code)
				}
			}
			if n == 0 {
				t.Errorf("no istio_requests_total from reporter %s", tc.reporter)
			}
		})
	}
}
