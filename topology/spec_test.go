package topology

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSpecErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"unknown field with suggestion", "nodes: {count: 3}\nnamespaces:\n  - name: a\n    servics: []\n",
			`s.yaml:4: namespaces[0].servics: unknown field "servics" (did you mean "services"?)`},
		{"bad mode", "namespaces:\n  - name: a\n    mode: ambiant\n",
			`s.yaml:3: namespaces[0].mode: unknown value "ambiant" (want out-of-mesh, ambient, sidecar)`},
		{"count without pattern", "namespaces:\n  - name: a\n    services: [{name: svc, count: 3}]\n",
			`name "svc" must contain %d when count is 3`},
		{"type error", "nodes: {count: many}\n", `s.yaml:1: nodes.count: cannot unmarshal !!str`},
		{"call to nothing", "namespaces:\n  - name: a\n    services: [{name: s}]\ncalls:\n  - {from: a/s, to: a/nope}\n",
			`s.yaml:5: calls[0].to: "a/nope" matches nothing`},
		{"call to an undeclared host", "namespaces:\n  - name: a\n    services: [{name: s}]\npolicies:\n  - apiVersion: networking.istio.io/v1\n    kind: ServiceEntry\n    metadata: {name: ext, namespace: a}\n    spec: {hosts: [api.example.com], ports: [{number: 80, protocol: HTTP}]}\ncalls:\n  - {from: a/s, to: a/api.example.org}\n",
			`s.yaml:10: calls[0].to: no ServiceEntry in namespace "a" declares host "api.example.org" (a call to an external host names it namespace/host, the ServiceEntry's namespace and one of its spec.hosts; hosts: a/api.example.com)`},
		{"call bad port", "namespaces:\n  - name: a\n    services: [{name: s}]\ncalls:\n  - {from: a/s, to: a/s, port: 81}\n",
			`calls[0].port: service a/s has no port 81`},
		{"bad waypoint scope", "namespaces:\n  - name: a\n    waypoint: {scope: global}\n",
			`unknown value "global" (want namespace, per-service, service-account)`},
		{"inline policy error", "namespaces: [{name: a}]\npolicies:\n  - apiVersion: security.istio.io/v1\n    kind: AuthorizationPolicy\n    metadata: {name: p, namespace: a}\n    spec: {action: ALOW}\n",
			`s.yaml:6: policies[0].spec.action: unknown value "ALOW"`},
		{"duplicate namespace", "namespaces: [{name: a}, {name: a}]\n", `namespace "a" defined twice`},
		{"namespace name", "namespaces:\n  - name: Team_A\n", `s.yaml:2: namespaces[0].name: invalid namespace name "Team_A": it must be a DNS-1123 label`},
		{"generated service name", "namespaces:\n  - name: a\n    services: [{name: \"API-%d\", count: 2}]\n",
			`s.yaml:3: namespaces[0].services[0].name: invalid Service name "API-1": it must be a DNS-1035 label`},
		{"workload name", "namespaces:\n  - name: a\n    workloads: [{name: debug_pod, kind: Pod}]\n",
			`namespaces[0].workloads[0].name: invalid Pod name "debug_pod"`},
		{"waypoint name", "namespaces:\n  - name: a\n    waypoint: {name: Waypoint}\n", `invalid waypoint name "Waypoint"`},
		{"node pattern", "nodes: {count: 2, name: \"Node-%d\"}\n", `s.yaml:1: nodes.name: invalid Node name "Node-1"`},
		{"label value", "namespaces:\n  - name: a\n    labels: {team: \"a b\"}\n", `namespaces[0].labels.team: invalid label value "a b"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpec("s.yaml", []byte(tc.doc))
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestDecodeSpecEmbedded decodes a Spec from the `topology:` key of a larger
// document, as the scenario loader does.
func TestDecodeSpecEmbedded(t *testing.T) {
	doc := `name: demo
topology:
  nodes: {count: 4, zones: [a, b]}
  namespaces:
    - name: shop
      mode: ambient
      waypoint: {scope: per-service}
      services:
        - {name: svc-%d, count: 3, replicas: 2}
  calls:
    - {from: shop/svc-1, to: shop/svc-%d}
`
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	var topoNode *yaml.Node
	m := root.Content[0]
	for i := 0; i < len(m.Content); i += 2 {
		if m.Content[i].Value == "topology" {
			topoNode = m.Content[i+1]
		}
	}
	s, err := DecodeSpec("scenario.yaml", topoNode)
	if err != nil {
		t.Fatal(err)
	}
	top, err := s.Build()
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Nodes) != 4 || top.Node("node-2").Zone != "b" {
		t.Errorf("nodes: %+v", top.Nodes)
	}
	if len(top.Waypoints) != 3 || top.Service("shop", "svc-2").Waypoint.ID() != "shop/svc-2-waypoint" {
		t.Errorf("per-service waypoints not built: %d", len(top.Waypoints))
	}
	if top.Waypoint("shop", "svc-2-waypoint").Scope != ScopeDedicated {
		t.Errorf("scope: %s", top.Waypoint("shop", "svc-2-waypoint").Scope)
	}
	if len(top.Calls) != 3 {
		t.Errorf("calls: want 3 (fan-out to svc-1..3), got %d", len(top.Calls))
	}
	// An unknown field in the embedded node names the scenario file's line.
	bad := strings.Replace(doc, "zones:", "zone:", 1)
	if err := yaml.Unmarshal([]byte(bad), &root); err != nil {
		t.Fatal(err)
	}
	_, err = DecodeSpec("scenario.yaml", root.Content[0].Content[3])
	if err == nil || !strings.Contains(err.Error(), `scenario.yaml:3: nodes.zone: unknown field "zone" (did you mean "zones"?)`) {
		t.Errorf("got %v", err)
	}
}

func TestSpecGenerative(t *testing.T) {
	top, err := ParseSpec("s.yaml", []byte(`
nodes: {count: 6, zones: [a, b, c]}
namespaces:
  - name: team-%d
    count: 3
    mode: ambient
    waypoint: {scope: service-account}
    services:
      - {name: front}
      - {name: back, replicas: 2}
  - name: plain
    services: [{name: db, kind: StatefulSet, replicas: 3, ports: [{port: 5432, appProtocol: tcp}]}]
calls:
  - {from: team-%d/front, to: team-%d/back, rate: 10}
  - {from: team-%d/back, to: plain/db}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Namespaces) != 4 || len(top.Services) != 7 || len(top.Pods) != 3*3+3 {
		t.Errorf("got %d namespaces %d services %d pods", len(top.Namespaces), len(top.Services), len(top.Pods))
	}
	// Same-namespace pairing for matching namespace patterns; cross product otherwise.
	if len(top.Calls) != 3+3 {
		t.Errorf("calls: want 6, got %d", len(top.Calls))
	}
	for _, c := range top.Calls[:3] {
		if c.From.Namespace != c.To.Namespace || c.RateRPS != 10 {
			t.Errorf("call %s -> %s should stay in one namespace with rate 10", c.From.ID(), c.To.ID())
		}
	}
	// service-account scope: a workload waypoint per SA, pods use it for
	// pod-addressed traffic.
	w := top.Workload("team-2", "back")
	if w.Waypoint == nil || w.Waypoint.ID() != "team-2/back-waypoint" || w.Waypoint.For != ForWorkload || w.Waypoint.Scope != ScopeServiceAccount {
		t.Errorf("workload waypoint: %+v", w.Waypoint)
	}
	// Zone spread: the 3 db replicas land in 3 zones.
	zones := map[string]bool{}
	for _, p := range top.PodsOf(top.Workload("plain", "db")) {
		zones[top.Node(p.Node).Zone] = true
	}
	if len(zones) != 3 {
		t.Errorf("db replicas should spread over 3 zones, got %v", zones)
	}
}

func TestSpecDeterministic(t *testing.T) {
	spec := largeSpec(20, 5, 40, 3)
	a, err := ParseSpec("s.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ParseSpec("s.yaml", []byte(spec))
	pa, pb := a.Paths(), b.Paths()
	if !reflect.DeepEqual(pa, pb) {
		t.Error("two builds of the same spec differ")
	}
	for i := range a.Pods {
		if a.Pods[i].Node != b.Pods[i].Node || a.Pods[i].IP != b.Pods[i].IP {
			t.Fatalf("pod %s placed differently", a.Pods[i].ID())
		}
	}
}

// largeSpec generates a spec with nodes, namespaces, services per namespace
// and replicas, and a chain call graph within each namespace.
func largeSpec(nodes, namespaces, servicesPerNS, replicas int) string {
	return fmt.Sprintf(`
nodes: {count: %d, zones: [a, b, c]}
namespaces:
  - name: ns-%%d
    count: %d
    mode: ambient
    waypoint: {replicas: 2}
    services:
      - {name: svc-%%d, count: %d, replicas: %d}
calls:
  - {from: ns-%%d/svc-1, to: ns-%%d/svc-%%d}
`, nodes, namespaces, servicesPerNS, replicas)
}

// BenchmarkBuildLarge builds 500 nodes, 50 namespaces, 1,000 services × 10
// pods and answers the call-graph path matrix (1,000 edges).
func BenchmarkBuildLarge(b *testing.B) {
	spec := []byte(largeSpec(500, 50, 20, 10))
	b.ReportAllocs()
	var pods, pairs int
	for i := 0; i < b.N; i++ {
		top, err := ParseSpec("large.yaml", spec)
		if err != nil {
			b.Fatal(err)
		}
		pods = len(top.Pods)
		for _, c := range top.Calls {
			src := top.PodsOf(c.From)[0]
			top.PathFrom(src, c.To, c.Port)
			pairs++
		}
	}
	b.ReportMetric(float64(pods), "pods")
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/build")
	_ = pairs
}

func TestSummary(t *testing.T) {
	top, err := LoadSpec("testdata/spec/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := top.Summary()
	if len(s.Nodes) != 6 || len(s.Calls) != 8 || len(s.Waypoints) != 1 {
		t.Fatalf("summary: %d nodes %d calls %d waypoints", len(s.Nodes), len(s.Calls), len(s.Waypoints))
	}
	total := 0
	for _, n := range s.Nodes {
		total += n.Pods + n.WaypointPods
	}
	if total != len(top.Pods)+2 {
		t.Errorf("pods on nodes %d, want %d (+2 waypoint replicas)", total, len(top.Pods)+2)
	}
	modes := map[string]string{}
	for _, si := range s.Services {
		modes[si.Name] = si.Mode
	}
	if modes["payments/payment-api"] != "ambient-waypoint" || modes["payments/ledger"] != "ambient" || modes["legacy/orders"] != "sidecar" {
		t.Errorf("service modes: %v", modes)
	}
	if w := s.Waypoints[0]; w.Scope != ScopeNamespace || w.Replicas != 2 || len(w.Serves) != 2 {
		t.Errorf("waypoint: %+v", w)
	}
}

// BenchmarkPathsLarge answers Paths() (1,000 call-graph edges plus the
// audit) on the 500-node, 1,000-service, 10,000-pod topology with a
// waypoint-only L7 policy per namespace and one out-of-mesh client.
func BenchmarkPathsLarge(b *testing.B) {
	spec := largeSpec(500, 50, 20, 10) + `
  - {from: ns-1/debug, to: ns-1/svc-1}
policies:
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: gw-l7, namespace: ns-1}
    spec:
      targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
      rules: [{to: [{operation: {methods: ["GET"]}}]}]
`
	spec = strings.Replace(spec, "      - {name: svc-%d,", "      - {name: debug, mode: out-of-mesh, ports: [{port: 9}]}\n      - {name: svc-%d,", 1)
	top, err := ParseSpec("large.yaml", []byte(spec))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var r PathReport
	for i := 0; i < b.N; i++ {
		r = top.Paths()
	}
	b.ReportMetric(float64(len(r.Pairs)), "pairs")
	b.ReportMetric(float64(len(r.Findings)), "findings")
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/report")
}

// TestSpecCallToServiceEntryHost: a call naming ns/<host> resolves to the
// ServiceEntry's path-matrix destination, on its first port by default.
func TestSpecCallToServiceEntryHost(t *testing.T) {
	doc := "namespaces:\n  - name: a\n    mode: ambient\n    services: [{name: s}]\npolicies:\n  - apiVersion: networking.istio.io/v1\n    kind: ServiceEntry\n    metadata: {name: ext, namespace: a}\n    spec: {hosts: [api.example.com, api2.example.com], ports: [{number: 443, protocol: TLS}, {number: 80, protocol: HTTP}]}\ncalls:\n  - {from: a/s, to: a/api2.example.com}\n  - {from: a/s, to: a/api.example.com, port: 80}\n"
	top, err := ParseSpec("s.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Calls) != 2 {
		t.Fatalf("%d calls, want 2", len(top.Calls))
	}
	for i, want := range []struct {
		id   string
		port int
	}{{"a/api.example.com", 443}, {"a/api.example.com", 80}} {
		c := top.Calls[i]
		if c.To.ID() != want.id || c.Port != want.port || c.To.Entry() == nil {
			t.Errorf("call %d: to %s port %d (entry %v), want %s port %d of the ServiceEntry", i, c.To.ID(), c.Port, c.To.Entry() != nil, want.id, want.port)
		}
	}
}
