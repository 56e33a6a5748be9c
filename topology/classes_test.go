package topology

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// bruteForcePairs is the path matrix computed pair by pair, the way Paths
// did before equivalence classes: the oracle the class-based matrix must
// reproduce row for row.
func bruteForcePairs(t *Topology) []PathPair {
	var pairs []PathPair
	if len(t.Calls) > 0 {
		seen := map[string]bool{}
		for _, c := range t.Calls {
			key := fmt.Sprintf("%s>%s:%d", c.From.ID(), c.To.ID(), c.Port)
			if seen[key] {
				continue
			}
			seen[key] = true
			pods := t.PodsOf(c.From)
			if len(pods) == 0 {
				continue
			}
			pairs = append(pairs, PathPair{Source: c.From, Destination: c.To, Port: c.Port, Path: t.PathFrom(pods[0], c.To, c.Port)})
		}
	} else {
		for _, w := range t.Sources() {
			src := t.PodsOf(w)[0]
			if w.Ingress {
				if targets, ok := t.IngressTargets(w); ok {
					for _, tg := range targets {
						pairs = append(pairs, PathPair{Source: w, Destination: tg.Service, Port: tg.Port, Path: t.PathFrom(src, tg.Service, tg.Port)})
					}
					continue
				}
			}
			for _, s := range t.Services {
				if t.selectsWorkload(s, w) || t.isGatewayService(s) {
					continue
				}
				for _, sp := range s.Ports {
					pairs = append(pairs, PathPair{Source: w, Destination: s, Port: sp.Port, Path: t.PathFrom(src, s, sp.Port)})
				}
			}
		}
		for _, w := range t.Sources() {
			if w.Ingress {
				continue
			}
			src := t.PodsOf(w)[0]
			for _, se := range t.ServiceEntries {
				for _, sp := range se.Ports {
					pairs = append(pairs, PathPair{Source: w, Destination: se.AsService(), Port: sp.Port, Path: t.EgressPathPort(src, se, sp.Port)})
				}
			}
		}
		for _, s := range t.Services {
			if !s.Exposed() {
				continue
			}
			for _, sp := range s.Ports {
				if sp.Port == 15021 && s.Labels[lblGatewayName] != "" {
					continue
				}
				p := t.PathFrom(nil, s, sp.Port)
				if t.isGatewayService(s) {
					p.Bypass = false
				}
				pairs = append(pairs, PathPair{Source: ExternalClient, Destination: s, Port: sp.Port, Path: p})
			}
		}
	}
	for i := range pairs {
		t.judge(&pairs[i])
	}
	sortPairs(pairs)
	return pairs
}

func sortPairs(pairs []PathPair) {
	sort.SliceStable(pairs, func(i, j int) bool {
		a, b := pairs[i], pairs[j]
		if a.Source.ID() != b.Source.ID() {
			return a.Source.ID() < b.Source.ID()
		}
		if a.Destination.ID() != b.Destination.ID() {
			return a.Destination.ID() < b.Destination.ID()
		}
		return a.Port < b.Port
	})
}

func pairText(p PathPair) string {
	ep, wp := "-", "-"
	if p.Path.Endpoint != nil {
		ep = p.Path.Endpoint.ID()
	}
	if p.Path.Waypoint != nil {
		wp = p.Path.Waypoint.ID()
	}
	return fmt.Sprintf("%s -> %s:%d %s bypass=%v hops=%v wp=%s ep=%s reason=%q denied=%q by=%q",
		p.Source.ID(), p.Destination.ID(), p.Port, p.Path.Category, p.Path.Bypass, p.Path.HopStrings(), wp, ep, p.Path.Reason, p.Path.Denied, p.Path.DeniedBy)
}

// checkClassesMatchPairwise is the property: the class-based matrix and
// its expansion equal the pairwise evaluation, and everything built on
// the classes (findings, readiness) equals the same analysis with every
// source and destination in a class of its own.
func checkClassesMatchPairwise(t *testing.T, name string, load func() *Topology) {
	t.Helper()
	top := load()
	want := bruteForcePairs(top)
	m := top.Matrix()
	got := m.Pairs()
	if int64(len(want)) != m.Rows {
		t.Errorf("%s: matrix counts %d rows, pairwise %d", name, m.Rows, len(want))
	}
	n := len(want)
	if len(got) < n {
		n = len(got)
	}
	for i := 0; i < n; i++ {
		if a, b := pairText(got[i]), pairText(want[i]); a != b {
			t.Fatalf("%s: row %d differs:\nclasses:  %s\npairwise: %s", name, i, a, b)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, pairwise %d", name, len(got), len(want))
	}
	// Every row's cell shape is the row's own shape.
	for _, p := range want {
		var src *Pod
		if p.Source != ExternalClient {
			src = top.PodsOf(p.Source)[0]
		}
		c := m.SourceClassOf(p.Source)
		d := m.DestClassOf(Unit{Service: p.Destination, Port: p.Port})
		sh := m.CellShape(c, d)
		own := shapeFromPath(p.Path, src)
		if sh == nil || shapeKey(sh) != shapeKey(&own) {
			t.Fatalf("%s: row %s: cell %s x %s has shape %v, the row %v", name, pairText(p), c.ID, d.ID, sh, own)
		}
	}
	var cells int64
	for _, c := range m.Cells {
		cells += c.Rows
	}
	if cells != m.Rows {
		t.Errorf("%s: cells hold %d rows, the matrix %d", name, cells, m.Rows)
	}
	// Findings and readiness: classes versus one class per source.
	id := load()
	id.identityClasses = true
	if a, b := findingsText(top.Paths().Findings), findingsText(id.Paths().Findings); a != b {
		t.Errorf("%s: findings differ between classes and pairwise:\n--- classes\n%s--- pairwise\n%s", name, a, b)
	}
	// The checklist's verdicts are the same; its evidence names classes,
	// which differ by construction.
	if a, b := readinessStatus(Readiness(top, top.Paths().Findings)), readinessStatus(Readiness(id, id.Paths().Findings)); a != b {
		t.Errorf("%s: readiness differs between classes and pairwise:\n--- classes\n%s--- pairwise\n%s\n--- evidence\n%s", name, a, b, readinessText(Readiness(top, top.Paths().Findings)))
	}
}

func findingsText(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%s|%s|%s\n", f.Code, f.Severity, f.Policy, f.Source, f.Destination, f.Message, f.Proof, f.Fix)
	}
	return b.String()
}

func readinessStatus(cs []ReadinessCheck) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s: %s\n", c.Name, c.Status)
	}
	return b.String()
}

func readinessText(cs []ReadinessCheck) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s: %s\n", c.Name, c.Status)
		for _, e := range c.Evidence {
			fmt.Fprintf(&b, "  - %s\n", e)
		}
	}
	return b.String()
}

// TestClassesMatchPairwiseCorpus runs the property on every topology the
// behaviour specs load (testdata/cases/*.txt) and on the golden inputs.
func TestClassesMatchPairwiseCorpus(t *testing.T) {
	for _, tc := range goldenCases {
		checkClassesMatchPairwise(t, tc.name, func() *Topology { top, _ := loadCase(t, tc.paths, tc.opts); return top })
	}
	datadriven.Walk(t, "testdata/cases", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "load" {
				checkClassesMatchPairwise(t, d.Pos, func() *Topology { top, _ := ddLoad(t, d); return top })
			}
			return d.Expected
		})
	})
}

// TestClassesMatchPairwiseRandom runs the property on random small
// topologies: every mode, waypoints, policies naming principals,
// namespaces and service accounts (and their negations), IP blocks, L7
// fields, STRICT mTLS, NetworkPolicies, ingress, egress, exposed Services.
func TestClassesMatchPairwiseRandom(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 60
	}
	if v, err := strconv.Atoi(os.Getenv("TOPOLOGY_PROPERTY_SEEDS")); err == nil && v > 0 {
		n = v // e.g. TOPOLOGY_PROPERTY_SEEDS=5000 for a longer search
	}
	for seed := 1; seed <= n; seed++ {
		doc := randomTopology(rand.New(rand.NewSource(int64(seed))))
		name := fmt.Sprintf("seed %d", seed)
		checkClassesMatchPairwise(t, name, func() *Topology {
			top, _, err := ParseManifests(fmt.Sprintf("random-%d.yaml", seed), []byte(doc), LoadOptions{})
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, doc)
			}
			return top
		})
		if t.Failed() {
			t.Logf("%s input:\n%s", name, doc)
			return
		}
	}
}

// randomTopology writes a small random cluster as manifests.
func randomTopology(r *rand.Rand) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	pick := func(xs ...string) string { return xs[r.Intn(len(xs))] }
	nss := []string{"a", "b", "c"}[:1+r.Intn(3)]
	for i := 0; i < 2+r.Intn(3); i++ {
		p("---\napiVersion: v1\nkind: Node\nmetadata: {name: n%d, labels: {topology.kubernetes.io/zone: z%d}}\n", i, i%2)
	}
	var svcs []string // ns/name
	for _, ns := range nss {
		labels := pick("", "istio.io/dataplane-mode: ambient", "istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint",
			"istio-injection: enabled", "istio.io/dataplane-mode: ambient, istio.io/use-waypoint: wl, istio.io/use-waypoint-namespace: a")
		p("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: {%s}}\n", ns, labels)
		if r.Intn(2) == 0 {
			p("---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: waypoint, namespace: %s, labels: {istio.io/waypoint-for: %s}}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners: [{name: mesh, port: 15008, protocol: HBONE, allowedRoutes: {namespaces: {from: %s}}}]\n",
				ns, pick("service", "all", "workload"), pick("Same", "All"))
		}
		if ns == "a" && r.Intn(2) == 0 {
			p("---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: wl, namespace: a, labels: {istio.io/waypoint-for: all}}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners: [{name: mesh, port: 15008, protocol: HBONE, allowedRoutes: {namespaces: {from: All}}}]\n")
		}
		for j := 0; j < 2+r.Intn(4); j++ {
			name := fmt.Sprintf("w%d", j)
			podLabels := pick("", ", istio.io/dataplane-mode: none", ", istio.io/dataplane-mode: ambient", ", sidecar.istio.io/inject: \"true\"", ", team: x", ", team: y")
			sa := pick(name, "shared", "default")
			p("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s, namespace: %s}\nspec:\n  replicas: %d\n  template:\n    metadata: {labels: {app: %s%s}}\n    spec: {serviceAccountName: %s, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}\n",
				name, ns, 1+r.Intn(2), name, podLabels, sa)
			if r.Intn(4) != 0 {
				svcLabels := pick("{}", "{istio.io/use-waypoint: waypoint}", "{istio.io/use-waypoint: none}", "{istio.io/ingress-use-waypoint: \"true\"}")
				typ := pick("ClusterIP", "ClusterIP", "LoadBalancer", "NodePort")
				ports := pick("[{name: http, port: 80, targetPort: http}]", "[{name: tcp, port: 9000}]", "[{name: http, port: 80, targetPort: 8080}, {name: grpc, port: 9090, appProtocol: grpc}]")
				p("---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s, labels: %s}\nspec: {type: %s, selector: {app: %s}, ports: %s}\n", name, ns, svcLabels, typ, name, ports)
				svcs = append(svcs, ns+"/"+name)
				if r.Intn(5) == 0 {
					p("---\napiVersion: v1\nkind: Service\nmetadata: {name: %s-alias, namespace: %s}\nspec: {selector: {app: %s}, ports: [{name: http, port: 80}]}\n", name, ns, name)
				}
			}
		}
		// Policies.
		for k := 0; k < r.Intn(4); k++ {
			from := pick(
				"principals: [\"cluster.local/ns/"+pick(nss...)+"/sa/"+pick("w0", "w1", "shared", "default", "waypoint")+"\"]",
				"namespaces: ["+pick(nss...)+"]", "notNamespaces: ["+pick(nss...)+"]",
				"serviceAccounts: ["+pick("w0", "shared", "b/w1")+"]", "ipBlocks: [\"10.64.0."+pick("0/30", "4/30", "1")+"\"]",
				"principals: [\"*\"]", "notPrincipals: [\"cluster.local/ns/a/*\"]", "remoteIpBlocks: [\"10.64.0.0/29\"]")
			to := pick("", "\n      to: [{operation: {methods: [GET]}}]", "\n      to: [{operation: {ports: [\"8080\"]}}]", "\n      to: [{operation: {paths: [\"/admin\"]}}]")
			when := pick("", "\n      when: [{key: source.namespace, values: ["+pick(nss...)+"]}]", "\n      when: [{key: \"request.headers[x]\", values: [y]}]")
			target := pick("", "  selector: {matchLabels: {app: w0}}\n", "  selector: {matchLabels: {team: x}}\n", "  targetRefs: [{kind: Service, group: \"\", name: w"+fmt.Sprint(r.Intn(3))+"}]\n",
				"  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\n")
			p("---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p%d, namespace: %s}\nspec:\n%s  action: %s\n  rules:\n    - from: [{source: {%s}}]%s%s\n",
				k, ns, target, pick("ALLOW", "ALLOW", "DENY"), from, to, when)
		}
		if r.Intn(3) == 0 {
			p("---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: %s}\nspec: {mtls: {mode: %s}}\n", ns, pick("STRICT", "PERMISSIVE"))
		}
		if r.Intn(4) == 0 {
			peer := pick("{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "+pick(nss...)+"}}}", "{podSelector: {matchLabels: {team: x}}}",
				"{ipBlock: {cidr: 10.64.0.0/28}}", "{podSelector: {matchLabels: {gateway.networking.k8s.io/gateway-name: waypoint}}}")
			p("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: %s}\nspec:\n  podSelector: {}\n  ingress: [{from: [%s]%s}]\n", ns, peer, pick("", ", ports: [{port: 15008}]", ", ports: [{port: 8080}]"))
		}
	}
	if r.Intn(2) == 0 && len(svcs) > 0 {
		dst := strings.SplitN(svcs[r.Intn(len(svcs))], "/", 2)
		p("---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: public, namespace: a}\nspec:\n  gatewayClassName: istio\n  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]\n")
		p("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: %s}\nspec:\n  parentRefs: [{name: public, namespace: a}]\n  rules: [{backendRefs: [{name: %s, port: 80}]}]\n", dst[0], dst[1])
	}
	if r.Intn(2) == 0 {
		p("---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext, namespace: a, labels: {%s}}\nspec: {hosts: [api.example.com], location: %s, ports: [{number: 443, name: tls, protocol: TLS}, {number: 80, name: http, protocol: HTTP}]}\n",
			pick("", "istio.io/use-waypoint: waypoint"), pick("MESH_EXTERNAL", "MESH_INTERNAL"))
		if r.Intn(2) == 0 { // a sidecar-era egress gateway for it
			p("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: egw, namespace: a}\nspec:\n  template:\n    metadata: {labels: {istio: egressgateway}}\n    spec: {serviceAccountName: egw, containers: [{name: c}]}\n")
			p("---\napiVersion: v1\nkind: Service\nmetadata: {name: egw, namespace: a}\nspec: {selector: {istio: egressgateway}, ports: [{name: http, port: 80}]}\n")
			if r.Intn(3) != 0 {
				p("---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: egw, namespace: a}\nspec: {selector: {istio: egressgateway}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [api.example.com]}]}\n")
			}
			p("---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: via-egw, namespace: a}\nspec:\n  hosts: [api.example.com]\n  gateways: [egw, mesh]\n  http:\n  - match: [{gateways: [mesh], port: %s}]\n    route: [{destination: {host: egw.a.svc.cluster.local, port: {number: 80}}}]\n  - match: [{gateways: [egw], port: 80}]\n    route: [{destination: {host: api.example.com, port: {number: 80}}}]\n", pick("80", "443"))
		}
	}
	if r.Intn(3) == 0 {
		p("---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n")
	}
	return b.String()
}

// TestClassesCompress: on a cluster of many alike services the matrix has
// few classes, and its cells still count every row.
func TestClassesCompress(t *testing.T) {
	var b strings.Builder
	if err := genExport(&b, 300); err != nil {
		t.Fatal(err)
	}
	top, _, err := ParseManifests("gen.yaml", []byte(b.String()), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := top.Matrix()
	if len(m.SourceClasses) > 20 || len(m.DestClasses) > 40 {
		t.Errorf("%d source and %d destination classes for 300 alike services; want a few", len(m.SourceClasses), len(m.DestClasses))
	}
	if want := int64(len(bruteForcePairs(top))); m.Rows != want {
		t.Errorf("rows %d, pairwise %d", m.Rows, want)
	}
}
