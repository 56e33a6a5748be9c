package topology

import (
	"fmt"
	"strings"
	"testing"
)

// evalSpec is a small cluster: namespace a (ambient, namespace waypoint)
// with api and web, sidecar namespace b with legacy, out-of-mesh namespace c
// with curl. Policies are appended per test case.
const evalSpec = `
nodes: {count: 3}
namespaces:
  - name: a
    mode: ambient
    waypoint: {name: wp}
    services:
      - {name: api, replicas: 2, ports: [{name: http, port: 80, targetPort: 8080}]}
      - {name: direct, waypoint: none, ports: [{name: http, port: 8080}]}
    workloads:
      - {name: client}
  - name: b
    mode: sidecar
    services:
      - {name: legacy, ports: [{name: http, port: 8080}]}
  - name: c
    services:
      - {name: curl}
policies:
`

func buildEval(t testing.TB, policies string) *Topology {
	t.Helper()
	top, err := ParseSpec("eval.yaml", []byte(evalSpec+policies))
	if err != nil {
		t.Fatalf("ParseSpec: %v", err)
	}
	return top
}

func TestEvaluate(t *testing.T) {
	type call struct {
		from, to   string // workload ns/name, service ns/name
		viaService bool   // follow the path (waypoint when it applies)
		method     string
		allow      bool
		by         string // prefix of Decision.By
		policy     string
	}
	tests := []struct {
		name     string
		policies string
		calls    []call
	}{
		{name: "no policies", calls: []call{
			{from: "a/client", to: "a/direct", allow: true, by: "ztunnel/"},
			{from: "c/curl", to: "a/direct", allow: true, by: "ztunnel/"},
			{from: "a/client", to: "b/legacy", allow: true, by: "sidecar/b/legacy-0"},
		}},
		{name: "deny principal at ztunnel", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: no-client, namespace: a}
    spec:
      action: DENY
      rules: [{from: [{source: {principals: ["cluster.local/ns/a/sa/client"]}}]}]
`, calls: []call{
			{from: "a/client", to: "a/direct", allow: false, by: "ztunnel/", policy: "a/no-client"},
			{from: "b/legacy", to: "a/direct", allow: true, by: "ztunnel/"},
			// Via the waypoint the destination sees the waypoint, not client.
			{from: "a/client", to: "a/api", viaService: true, allow: true, by: "ztunnel/"},
		}},
		{name: "allow list", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: only-client, namespace: a}
    spec:
      selector: {matchLabels: {app: direct}}
      rules: [{from: [{source: {namespaces: ["a"]}}]}]
`, calls: []call{
			{from: "a/client", to: "a/direct", allow: true, by: "ztunnel/", policy: "a/only-client"},
			{from: "b/legacy", to: "a/direct", allow: false, by: "ztunnel/", policy: "a/only-client"},
			{from: "c/curl", to: "a/direct", allow: false, by: "ztunnel/", policy: "a/only-client"},
		}},
		{name: "L7 ALLOW at ztunnel denies all", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: get-only, namespace: a}
    spec:
      selector: {matchLabels: {app: direct}}
      rules: [{to: [{operation: {methods: ["GET"]}}]}]
`, calls: []call{
			{from: "a/client", to: "a/direct", method: "GET", allow: false, by: "ztunnel/", policy: "a/get-only"},
		}},
		{name: "L7 DENY stripped to L4", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: no-admin, namespace: a}
    spec:
      selector: {matchLabels: {app: direct}}
      action: DENY
      rules:
        - from: [{source: {principals: ["cluster.local/ns/a/sa/client"]}}]
          to: [{operation: {paths: ["/admin*"]}}]
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: no-delete, namespace: a}
    spec:
      selector: {matchLabels: {app: direct}}
      action: DENY
      rules: [{to: [{operation: {methods: ["DELETE"]}}]}]
`, calls: []call{
			// The path condition is dropped: client is denied everything.
			{from: "a/client", to: "a/direct", method: "GET", allow: false, by: "ztunnel/", policy: "a/no-admin"},
			// no-delete has nothing left at ztunnel: no effect.
			{from: "b/legacy", to: "a/direct", method: "DELETE", allow: true, by: "ztunnel/"},
		}},
		{name: "STRICT mTLS", policies: `
  - apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: {name: default, namespace: istio-system}
    spec: {mtls: {mode: STRICT}}
  - apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: {name: legacy-permissive, namespace: b}
    spec: {mtls: {mode: PERMISSIVE}}
`, calls: []call{
			{from: "c/curl", to: "a/direct", allow: false, by: "ztunnel/", policy: "istio-system/default"},
			{from: "a/client", to: "a/direct", allow: true, by: "ztunnel/"},
			{from: "c/curl", to: "b/legacy", allow: true, by: "sidecar/"},
		}},
		{name: "notPrincipals presence denies plaintext", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: require-id, namespace: a}
    spec:
      action: DENY
      rules: [{from: [{source: {notPrincipals: ["*"]}}]}]
`, calls: []call{
			{from: "c/curl", to: "a/direct", allow: false, by: "ztunnel/", policy: "a/require-id"},
			{from: "b/legacy", to: "a/direct", allow: true, by: "ztunnel/"},
		}},
		{name: "waypoint L7", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: api-get, namespace: a}
    spec:
      targetRefs: [{kind: Service, group: "", name: api}]
      rules: [{to: [{operation: {methods: ["GET"], paths: ["/v1/*"]}}]}]
`, calls: []call{
			{from: "a/client", to: "a/api", viaService: true, method: "GET", allow: true, by: "ztunnel/"},
			{from: "a/client", to: "a/api", viaService: true, method: "POST", allow: false, by: "waypoint/a/wp", policy: "a/api-get"},
			// A sidecar bypasses the waypoint: nothing checks the method.
			{from: "b/legacy", to: "a/api", viaService: true, method: "POST", allow: true, by: "ztunnel/"},
		}},
		{name: "sidecar enforces L7", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: legacy-get, namespace: b}
    spec:
      selector: {matchLabels: {app: legacy}}
      rules: [{to: [{operation: {methods: ["GET"]}}]}]
`, calls: []call{
			{from: "a/client", to: "b/legacy", method: "GET", allow: true, by: "sidecar/b/legacy-0", policy: "b/legacy-get"},
			{from: "a/client", to: "b/legacy", method: "POST", allow: false, by: "sidecar/b/legacy-0", policy: "b/legacy-get"},
		}},
		{name: "NetworkPolicy must admit HBONE", policies: `
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: app-port-only, namespace: a}
    spec:
      podSelector: {matchLabels: {app: direct}}
      ingress: [{ports: [{port: 8080}]}]
`, calls: []call{
			// Mesh traffic arrives on 15008, which the policy does not admit.
			{from: "a/client", to: "a/direct", allow: false, by: "networkpolicy", policy: "a/app-port-only"},
			// Plaintext from outside the mesh goes to 8080 and passes.
			{from: "c/curl", to: "a/direct", allow: true, by: "ztunnel/"},
		}},
		{name: "ipBlocks and serviceAccounts", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: sa-only, namespace: a}
    spec:
      selector: {matchLabels: {app: direct}}
      rules:
        - from: [{source: {serviceAccounts: ["client"]}}]
        - from: [{source: {ipBlocks: ["10.0.0.0/8"]}}]
          to: [{operation: {ports: ["9999"]}}]
`, calls: []call{
			{from: "a/client", to: "a/direct", allow: true, by: "ztunnel/", policy: "a/sa-only"},
			{from: "b/legacy", to: "a/direct", allow: false, by: "ztunnel/", policy: "a/sa-only"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			top := buildEval(t, tc.policies)
			for _, c := range tc.calls {
				fns, fname, _ := strings.Cut(c.from, "/")
				tns, tname, _ := strings.Cut(c.to, "/")
				w := top.Workload(fns, fname)
				s := top.Service(tns, tname)
				if w == nil || s == nil {
					t.Fatalf("unknown %s or %s", c.from, c.to)
				}
				src := top.PodsOf(w)[0]
				p := top.PathFrom(src, s, s.Ports[0].Port)
				var via *Waypoint
				if c.viaService {
					via = p.Waypoint
				}
				req := Request{Method: c.method, Path: "/v1/items", Host: tname, Service: s}
				if req.Method == "" {
					req.Method = "GET"
				}
				d := top.Evaluate(src, p.Endpoint, via, s.TargetPort(s.Ports[0].Port), req)
				label := fmt.Sprintf("%s -> %s %s", c.from, c.to, req.Method)
				if d.Allow != c.allow || !strings.HasPrefix(d.By, c.by) || d.Policy != c.policy {
					t.Errorf("%s: got %+v, want allow=%v by=%s* policy=%q", label, d, c.allow, c.by, c.policy)
				}
			}
		})
	}
}

func TestEvaluateOutsideCluster(t *testing.T) {
	top := buildEval(t, `
  - apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: {name: strict, namespace: a}
    spec: {mtls: {mode: STRICT}}
`)
	s := top.Service("a", "direct")
	d := top.Evaluate(nil, top.EndpointsOf(s)[0], nil, 8080, Request{})
	if d.Allow || d.Policy != "a/strict" {
		t.Errorf("a client outside the cluster has no identity; STRICT must deny it: %+v", d)
	}
}

func TestPathCategories(t *testing.T) {
	top := buildEval(t, "")
	tests := []struct {
		from, to string
		cat      Category
		bypass   bool
		hops     string
	}{
		{"a/client", "a/api", CatAmbientWaypoint, false, "ztunnel/node-1 -> waypoint/a/wp -> ztunnel/node-1"},
		{"a/client", "a/direct", CatAmbientL4, false, "ztunnel/node-1 -> ztunnel/node-3"},
		{"a/client", "b/legacy", CatMixed, false, "ztunnel/node-1 -> sidecar/b/legacy-0"},
		{"b/legacy", "a/api", CatMixed, true, "sidecar/b/legacy-0 -> ztunnel/node-1"},
		{"c/curl", "a/api", CatOutOfMesh, true, "ztunnel/node-1"},
		{"c/curl", "b/legacy", CatOutOfMesh, false, "sidecar/b/legacy-0"},
		{"a/client", "c/curl", CatOutOfMesh, false, "ztunnel/node-1"},
	}
	for _, tc := range tests {
		fns, fname, _ := strings.Cut(tc.from, "/")
		tns, tname, _ := strings.Cut(tc.to, "/")
		src := top.PodsOf(top.Workload(fns, fname))[0]
		s := top.Service(tns, tname)
		p := top.PathFrom(src, s, s.Ports[0].Port)
		if p.Category != tc.cat || p.Bypass != tc.bypass || p.String() != tc.hops {
			t.Errorf("%s -> %s: got %s bypass=%v %q, want %s bypass=%v %q", tc.from, tc.to, p.Category, p.Bypass, p, tc.cat, tc.bypass, tc.hops)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	top := buildEval(b, `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: deny-bad, namespace: a}
    spec:
      action: DENY
      rules: [{from: [{source: {principals: ["cluster.local/ns/x/sa/bad", "*/sa/evil"]}}]}]
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: allow-wp, namespace: a}
    spec:
      selector: {matchLabels: {app: api}}
      rules: [{from: [{source: {principals: ["cluster.local/ns/a/sa/wp"]}}], to: [{operation: {ports: ["8080"]}}]}]
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: api-get, namespace: a}
    spec:
      targetRefs: [{kind: Service, group: "", name: api}]
      rules: [{to: [{operation: {methods: ["GET"], paths: ["/v1/*"]}}]}]
  - apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: {name: strict, namespace: a}
    spec: {mtls: {mode: STRICT}}
`)
	s := top.Service("a", "api")
	src := top.PodsOf(top.Workload("a", "client"))[0]
	p := top.PathFrom(src, s, 80)
	req := Request{Method: "GET", Path: "/v1/items", Host: "api", Service: s}
	if d := top.Evaluate(src, p.Endpoint, p.Waypoint, 8080, req); !d.Allow {
		b.Fatalf("benchmark request denied: %+v", d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		top.Evaluate(src, p.Endpoint, p.Waypoint, 8080, req)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// TestConcurrentQueries: the first query indexes the topology; concurrent
// first queries must be safe (run with -race).
func TestConcurrentQueries(t *testing.T) {
	top := buildEval(t, `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: api-get, namespace: a}
    spec:
      targetRefs: [{kind: Service, group: "", name: api}]
      rules: [{to: [{operation: {methods: ["GET"]}}]}]
`)
	query := func() string {
		s := top.Service("a", "api")
		src := top.PodsOf(top.Workload("a", "client"))[0]
		p := top.PathFrom(src, s, 80)
		get := top.Evaluate(src, p.Endpoint, p.Waypoint, 8080, Request{Method: "GET"})
		post := top.Evaluate(src, p.Endpoint, p.Waypoint, 8080, Request{Method: "POST"})
		return fmt.Sprintf("GET allow=%v POST allow=%v pairs=%d", get.Allow, post.Allow, len(top.Paths().Pairs))
	}
	got := make(chan string, 4)
	for i := 0; i < 4; i++ {
		go func() { got <- query() }()
	}
	var answers []string
	for i := 0; i < 4; i++ {
		answers = append(answers, <-got)
	}
	// Every concurrent first query saw the same, correct answer: the
	// policy allows GET only.
	want := query()
	if !strings.HasPrefix(want, "GET allow=true POST allow=false pairs=") || strings.HasSuffix(want, "pairs=0") {
		t.Fatalf("sequential query: %s", want)
	}
	for _, a := range answers {
		if a != want {
			t.Errorf("concurrent query: %s, sequential: %s", a, want)
		}
	}
}

// TestRootNamespaceSelector: a selector policy in the root namespace selects
// matching pods in every namespace.
func TestRootNamespaceSelector(t *testing.T) {
	top := buildEval(t, `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: deny-curl-to-direct, namespace: istio-system}
    spec:
      selector: {matchLabels: {app: direct}}
      action: DENY
      rules: [{from: [{source: {notNamespaces: ["a"]}}]}]
`)
	s := top.Service("a", "direct")
	ep := top.EndpointsOf(s)[0]
	legacy := top.PodsOf(top.Workload("b", "legacy"))[0]
	client := top.PodsOf(top.Workload("a", "client"))[0]
	if d := top.Evaluate(legacy, ep, nil, 8080, Request{}); d.Allow || d.Policy != "istio-system/deny-curl-to-direct" {
		t.Errorf("legacy -> direct: %+v", d)
	}
	if d := top.Evaluate(client, ep, nil, 8080, Request{}); !d.Allow {
		t.Errorf("client -> direct: %+v", d)
	}
}

// TestEvaluateWaypoint: what the waypoint alone decides before routing (no
// destination endpoint): a DENY on a path, an ALLOW-only policy, a policy
// on the waypoint's Gateway and one on the Service, and no policies.
func TestEvaluateWaypoint(t *testing.T) {
	type call struct {
		from, path string
		allow      bool
		policy     string
	}
	tests := []struct {
		name     string
		policies string
		calls    []call
	}{
		{name: "no policies", calls: []call{
			{from: "a/client", path: "/admin", allow: true},
			{from: "c/curl", path: "/", allow: true},
		}},
		{name: "DENY a path on the Service", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: no-admin, namespace: a}
    spec:
      targetRefs: [{kind: Service, group: "", name: api}]
      action: DENY
      rules: [{to: [{operation: {paths: ["/admin*"]}}]}]
`, calls: []call{
			{from: "a/client", path: "/admin", allow: false, policy: "a/no-admin"},
			{from: "a/client", path: "/admin/users", allow: false, policy: "a/no-admin"},
			{from: "a/client", path: "/v1/items", allow: true},
		}},
		{name: "ALLOW only", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: clients-v1, namespace: a}
    spec:
      targetRefs: [{kind: Service, group: "", name: api}]
      rules: [{from: [{source: {namespaces: ["a"]}}], to: [{operation: {paths: ["/v1/*"]}}]}]
`, calls: []call{
			{from: "a/client", path: "/v1/items", allow: true, policy: "a/clients-v1"},
			// No ALLOW matches: refused although no route may exist for it.
			{from: "a/client", path: "/admin", allow: false, policy: "a/clients-v1"},
			{from: "c/curl", path: "/v1/items", allow: false, policy: "a/clients-v1"},
		}},
		{name: "DENY on the waypoint's Gateway", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: gw-no-admin, namespace: a}
    spec:
      targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: wp}]
      action: DENY
      rules: [{to: [{operation: {paths: ["/admin"]}}]}]
`, calls: []call{
			{from: "a/client", path: "/admin", allow: false, policy: "a/gw-no-admin"},
			{from: "a/client", path: "/", allow: true},
		}},
		{name: "a policy on another Service does not apply", policies: `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: direct-nothing, namespace: a}
    spec:
      targetRefs: [{kind: Service, group: "", name: direct}]
      action: DENY
      rules: [{}]
`, calls: []call{
			{from: "a/client", path: "/admin", allow: true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			top := buildEval(t, tc.policies)
			s := top.Service("a", "api")
			via := top.WaypointFor(s)
			if via == nil {
				t.Fatal("a/api has no waypoint")
			}
			for _, c := range tc.calls {
				ns, name, _ := strings.Cut(c.from, "/")
				src := top.PodsOf(top.Workload(ns, name))[0]
				req := Request{Method: "GET", Path: c.path, Host: "api.a.svc.cluster.local", Service: s}
				d := top.EvaluateWaypoint(src, via, s.TargetPort(s.Ports[0].Port), req)
				if d.Allow != c.allow || d.Policy != c.policy || (!d.Allow && !strings.HasPrefix(d.By, "waypoint/a/wp")) {
					t.Errorf("%s %s: got %+v, want allow=%v policy=%q by waypoint/a/wp", c.from, c.path, d, c.allow, c.policy)
				}
			}
		})
	}
	if d := buildEval(t, "").EvaluateWaypoint(nil, nil, 80, Request{}); !d.Allow {
		t.Errorf("no waypoint: %+v, want allow", d)
	}
}
