package topology

import (
	"strings"
	"testing"
)

func parse(t *testing.T, doc string) (*Topology, *LoadReport) {
	t.Helper()
	top, rep, err := ParseManifests("in.yaml", []byte(doc), LoadOptions{})
	if err != nil {
		t.Fatalf("ParseManifests: %v", err)
	}
	return top, rep
}

// TestAPIDefaults pins the API-server defaults the model applies itself.
func TestAPIDefaults(t *testing.T) {
	top, _ := parse(t, `
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  selector: {app: s}
  ports: [{port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: s}
spec:
  selector: {matchLabels: {app: s}}
  template: {metadata: {labels: {app: s}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wp}
spec: {gatewayClassName: istio-waypoint}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: s, kind: Service, group: ""}]
  rules: [{backendRefs: [{name: s, port: 8080}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podSelector: {}
  egress: [{}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ap}
spec: {}
`)
	s := top.Service("default", "s")
	if s == nil {
		t.Fatal("service not loaded into the default namespace")
	}
	if got := s.Ports[0]; got.TargetPort != 8080 || got.Protocol != "TCP" {
		t.Errorf("service port defaults: got targetPort %d protocol %q, want 8080 TCP", got.TargetPort, got.Protocol)
	}
	if w := top.Workload("default", "s"); w.Replicas != 1 || w.ServiceAccount != "default" {
		t.Errorf("deployment defaults: got replicas %d sa %q, want 1 default", w.Replicas, w.ServiceAccount)
	}
	if wp := top.Waypoint("default", "wp"); wp == nil || wp.For != ForService || wp.Replicas != 1 {
		t.Errorf("waypoint defaults: got %+v, want for=service replicas=1", wp)
	}
	r := top.Routes[0]
	if br := r.Rules[0].BackendRefs[0]; br.Weight != 1 || br.Kind != "Service" || br.Namespace != "default" {
		t.Errorf("backendRef defaults: got %+v, want weight 1 kind Service namespace default", br)
	}
	if m := r.Rules[0].Matches[0]; m.PathType != "PathPrefix" || m.Path != "/" {
		t.Errorf("route match default: got %+v, want PathPrefix /", m)
	}
	if np := top.NetworkPolicies[0]; strings.Join(np.PolicyTypes, ",") != "Ingress,Egress" {
		t.Errorf("networkpolicy policyTypes default: got %v, want Ingress,Egress", np.PolicyTypes)
	}
	if ap := top.AuthorizationPolicies[0]; ap.Action != ActionAllow || ap.HasRules {
		t.Errorf("authorizationpolicy defaults: got action %q hasRules %v, want ALLOW false", ap.Action, ap.HasRules)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"bad action", `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: x
  namespace: y
spec:
  action: ALOW
`, `in.yaml:7: spec.action: unknown value "ALOW" (want ALLOW, DENY, CUSTOM, AUDIT)`},
		{"bad mtls mode", `apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: x}
spec:
  mtls: {mode: STRICTER}
`, `in.yaml:5: spec.mtls.mode: unknown value "STRICTER" (want UNSET, DISABLE, PERMISSIVE, STRICT)`},
		{"port not a number", `apiVersion: v1
kind: Service
metadata: {name: x}
spec:
  ports:
  - port: http
`, `in.yaml:6: spec.ports[0].port: expected an integer, got "http"`},
		{"replicas a list", `apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  replicas: [1]
`, `in.yaml:5: spec.replicas: expected an integer, got a list`},
		{"no kind", `apiVersion: v1
metadata: {name: x}
`, `in.yaml:1: object has no kind`},
		{"not a mapping", `- a
- b
`, `in.yaml:1: expected a Kubernetes object`},
		{"syntax", "apiVersion: v1\nkind: Service\n  metadata: x\n", `in.yaml:3: mapping values are not allowed`},
		{"selector and targetRefs", `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: x}
spec:
  selector: {matchLabels: {app: a}}
  targetRefs: [{kind: Service, name: a}]
`, `in.yaml:5: spec.selector: selector and targetRefs are mutually exclusive`},
		{"list item error", `apiVersion: v1
kind: List
items:
- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: {name: x}
  spec: {action: NOPE}
`, `in.yaml:7: items[0].spec.action: unknown value "NOPE"`},
		{"bad ap port", `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: x}
spec:
  rules:
  - to: [{operation: {ports: ["web"]}}]
`, `spec.rules[0].to[0].operation.ports[0]: invalid port "web"`},
		{"waypoint-for", `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: w, labels: {istio.io/waypoint-for: services}}
spec: {gatewayClassName: istio-waypoint}
`, `unknown value "services" (want service, workload, all, none)`},
		{"service name upper case", `apiVersion: v1
kind: Service
metadata:
  name: Payments
spec: {ports: [{port: 80}]}
`, `in.yaml:4: metadata.name: invalid Service name "Payments": it must be a DNS-1035 label and contains 'P'`},
		{"service name starts with a digit", `apiVersion: v1
kind: Service
metadata: {name: 1api}
`, `in.yaml:3: metadata.name: invalid Service name "1api": it must be a DNS-1035 label and must start with a lowercase letter`},
		{"namespace name with a dot", `apiVersion: v1
kind: Namespace
metadata: {name: team.a}
`, `in.yaml:3: metadata.name: invalid Namespace name "team.a": it must be a DNS-1123 label`},
		{"statefulset name with a dot", `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db.primary}
`, `invalid StatefulSet name "db.primary": it must be a DNS-1123 label`},
		{"deployment name with a dot is fine, underscore is not", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web_v2}
`, `in.yaml:3: metadata.name: invalid Deployment name "web_v2": it must be a DNS-1123 subdomain and contains '_'`},
		{"policy name too long", "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: " + strings.Repeat("a", 254) + "}\n",
			`invalid AuthorizationPolicy name "aaaa`},
		{"object namespace", `apiVersion: v1
kind: Service
metadata: {name: a, namespace: Team-A}
`, `in.yaml:3: metadata.namespace: invalid namespace "Team-A"`},
		{"label key", `apiVersion: v1
kind: Namespace
metadata:
  name: a
  labels: {"istio.io/data plane": ambient}
`, `in.yaml:5: metadata.labels.istio.io/data plane: invalid label key "istio.io/data plane"`},
		{"label value", `apiVersion: apps/v1
kind: Deployment
metadata: {name: a}
spec:
  template:
    metadata:
      labels: {app: "<script>"}
`, `in.yaml:7: spec.template.metadata.labels.app: invalid label value "<script>"`},
		{"list item name", `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: Bad}
`, `in.yaml:6: items[0].metadata.name: invalid Service name "Bad"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseManifests("in.yaml", []byte(tc.doc), LoadOptions{})
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestUnknownFieldWarnings(t *testing.T) {
	_, rep := parse(t, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
  managedFields: [{manager: kubectl}]
  resourceVersion: "1"
  uid: abc
spec:
  replica: 2
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}, creationTimestamp: null}
    spec:
      containers: [{name: c, image: i, livenessProbe: {httpGet: {path: /}}}]
      tolerations: []
      nodeSelectorr: {}
status: {replicas: 1}
`)
	want := []string{
		`in.yaml:9: spec.replica: unknown field "replica" (did you mean "replicas"?)`,
		`in.yaml:16: spec.template.spec.nodeSelectorr: unknown field "nodeSelectorr" (did you mean "nodeSelector"?)`,
	}
	if strings.Join(rep.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(rep.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

func TestKubectlExportHasNoWarnings(t *testing.T) {
	top, rep := loadCase(t, []string{"testdata/bookinfo"}, LoadOptions{})
	if len(rep.Warnings) > 0 {
		t.Errorf("a real kubectl export should load without warnings, got:\n%s", strings.Join(rep.Warnings, "\n"))
	}
	if rep.SyntheticNodes || len(top.Nodes) != 3 || top.Node("kind-worker2").Zone != "eu-west-1b" {
		t.Errorf("nodes should come from Node objects with their zones: %+v", top.Nodes)
	}
	if rep.RealPods != 7 || rep.GeneratedPods != 0 {
		t.Errorf("want the exported pods used as they are (7 real, 0 generated), got %d real %d generated", rep.RealPods, rep.GeneratedPods)
	}
	rv1 := top.Workload("bookinfo", "reviews-v1")
	if rv1 == nil || rv1.Kind != KindDeployment || rv1.Mode != Ambient {
		t.Fatalf("reviews-v1 should be an ambient Deployment, got %+v", rv1)
	}
	p := top.PodsOf(rv1)[0]
	if p.Node != "kind-worker" || p.IP != "10.244.1.13" || p.ServiceAccount != "bookinfo-reviews" {
		t.Errorf("real pod fields lost: node %q ip %q sa %q", p.Node, p.IP, p.ServiceAccount)
	}
	wp := top.Waypoint("bookinfo", "waypoint")
	if wp == nil || len(wp.Pods) != 1 || wp.Pods[0].IP != "10.244.1.16" {
		t.Errorf("the waypoint should use its exported pod, got %+v", wp)
	}
	if top.Workload("bookinfo", "waypoint") != nil {
		t.Error("the waypoint's generated Deployment must not be an application workload")
	}
	if top.Service("bookinfo", "reviews").Waypoint != wp {
		t.Error("reviews should be served by the waypoint")
	}
}

func TestDaemonSetAndPlacement(t *testing.T) {
	top, _ := parse(t, `apiVersion: v1
kind: Node
metadata: {name: a, labels: {topology.kubernetes.io/zone: z1}}
---
apiVersion: v1
kind: Node
metadata: {name: b, labels: {topology.kubernetes.io/zone: z1}}
---
apiVersion: v1
kind: Node
metadata: {name: c, labels: {topology.kubernetes.io/zone: z2}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: mon}
spec:
  selector: {matchLabels: {app: agent}}
  template: {metadata: {labels: {app: agent}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: mon}
spec:
  replicas: 3
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: i}]}}
`)
	ds := top.PodsOf(top.Workload("mon", "agent"))
	if len(ds) != 3 {
		t.Fatalf("DaemonSet: want one pod per node (3), got %d", len(ds))
	}
	// Spread by zone: the first slots alternate z1, z2.
	db := top.PodsOf(top.Workload("mon", "db"))
	var nodes []string
	for _, p := range db {
		nodes = append(nodes, p.Node)
	}
	// DaemonSet pods are pinned and take no slot; the zone-spread order is a, c, b.
	if got := strings.Join(nodes, ","); got != "a,c,b" {
		t.Errorf("StatefulSet placement: got %s, want a,c,b (zones alternate z1, z2, z1)", got)
	}
}

func TestModeResolution(t *testing.T) {
	tests := []struct {
		name          string
		nsLabels, pod map[string]string
		ann           map[string]string
		want          Mode
	}{
		{"plain", nil, nil, nil, OutOfMesh},
		{"ns ambient", map[string]string{lblDataplaneMode: "ambient"}, nil, nil, Ambient},
		{"pod opts out", map[string]string{lblDataplaneMode: "ambient"}, map[string]string{lblDataplaneMode: "none"}, nil, OutOfMesh},
		{"pod ambient in plain ns", nil, map[string]string{lblDataplaneMode: "ambient"}, nil, Ambient},
		{"ns injection", map[string]string{lblInjection: "enabled"}, nil, nil, Sidecar},
		{"ns revision", map[string]string{lblRev: "canary"}, nil, nil, Sidecar},
		{"ns injection, pod inject=false", map[string]string{lblInjection: "enabled"}, map[string]string{lblInject: "false"}, nil, OutOfMesh},
		{"pod inject=true", nil, map[string]string{lblInject: "true"}, nil, Sidecar},
		{"pod inject annotation", nil, nil, map[string]string{lblInject: "true"}, Sidecar},
		{"ns injection disabled beats pod", map[string]string{lblInjection: "disabled"}, map[string]string{lblInject: "true"}, nil, OutOfMesh},
		{"sidecar wins over ambient", map[string]string{lblDataplaneMode: "ambient", lblInjection: "enabled"}, nil, nil, Sidecar},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := podMode(&Namespace{Labels: tc.nsLabels}, tc.pod, tc.ann); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestWaypointResolution(t *testing.T) {
	top, _ := parse(t, `apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: ns-wp}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ns-wp, namespace: a}
spec: {gatewayClassName: istio-waypoint}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: svc-wp, namespace: a}
spec: {gatewayClassName: istio-waypoint}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra, labels: {istio.io/waypoint-for: all}}
# A shared waypoint must admit other namespaces (allowedRoutes), or Istio
# refuses the attachment; see testdata/cases/waypoint-attachment.txt.
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ingress, namespace: a}
spec: {gatewayClassName: istio}
---
apiVersion: v1
kind: Service
metadata: {name: inherits, namespace: a}
spec: {selector: {app: x}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: own, namespace: a, labels: {istio.io/use-waypoint: svc-wp}}
spec: {selector: {app: x}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: optout, namespace: a, labels: {istio.io/use-waypoint: none}}
spec: {selector: {app: x}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: cross, namespace: a, labels: {istio.io/use-waypoint: shared, istio.io/use-waypoint-namespace: infra}}
spec: {selector: {app: x}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: wrongclass, namespace: a, labels: {istio.io/use-waypoint: ingress}}
spec: {selector: {app: x}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: x, namespace: a}
spec:
  selector: {matchLabels: {app: x}}
  template: {metadata: {labels: {app: x, istio.io/use-waypoint: shared, istio.io/use-waypoint-namespace: infra}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: a}
spec:
  selector: {matchLabels: {app: client}}
  template: {metadata: {labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
`)
	want := map[string]string{"inherits": "a/ns-wp", "own": "a/svc-wp", "optout": "", "cross": "infra/shared", "wrongclass": ""}
	for name, w := range want {
		s := top.Service("a", name)
		got := ""
		if s.Waypoint != nil {
			got = s.Waypoint.ID()
		}
		if got != w {
			t.Errorf("service %s: waypoint %q, want %q", name, got, w)
		}
	}
	if len(top.WaypointIssues) != 1 || top.WaypointIssues[0].Reason != "not-a-waypoint" {
		t.Errorf("want one not-a-waypoint issue, got %+v", top.WaypointIssues)
	}
	// The namespace label names a service waypoint; the client inherits it
	// silently (no workload waypoint, no issue).
	if top.Workload("a", "client").Waypoint != nil {
		t.Error("a service-only namespace waypoint must not become a workload waypoint")
	}
	// Pod-addressed traffic uses the workload waypoint (for: all), service
	// traffic the service's.
	client := top.PodsOf(top.Workload("a", "client"))[0]
	x := top.PodsOf(top.Workload("a", "x"))[0]
	if p := top.PathToPod(client, x, nil, 80); p.Waypoint == nil || p.Waypoint.ID() != "infra/shared" {
		t.Errorf("pod-addressed path: want via infra/shared, got %s", p)
	}
	if p := top.PathToPod(client, x, top.Service("a", "optout"), 80); p.Waypoint != nil {
		t.Errorf("service traffic to an opted-out service must not use the workload waypoint: %s", p)
	}
	if sc := top.Waypoint("a", "svc-wp").Scope; sc != ScopeDedicated {
		t.Errorf("svc-wp scope %q, want dedicated", sc)
	}
	if sc := top.Waypoint("a", "ns-wp").Scope; sc != ScopeNamespace {
		t.Errorf("ns-wp scope %q, want namespace", sc)
	}
}

func TestIngressUseWaypoint(t *testing.T) {
	doc := `apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: wp, istio.io/ingress-use-waypoint: "%s"}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wp, namespace: a}
spec: {gatewayClassName: istio-waypoint}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: a}
spec: {selector: {app: s}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: s, namespace: a}
spec:
  selector: {matchLabels: {app: s}}
  template: {metadata: {labels: {app: s}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  template: {metadata: {labels: {istio: ingressgateway}}, spec: {containers: [{name: istio-proxy, image: i}]}}
`
	for _, label := range []string{"false", "true"} {
		top, _ := parse(t, strings.Replace(doc, "%s", label, 1))
		gw := top.PodsOf(top.Workload("istio-system", "istio-ingressgateway"))[0]
		p := top.PathFrom(gw, top.Service("a", "s"), 80)
		if label == "true" && (p.Waypoint == nil || p.Bypass) {
			t.Errorf("ingress-use-waypoint=true: want via the waypoint, got %s", p)
		}
		if label == "false" && (p.Waypoint != nil || !p.Bypass) {
			t.Errorf("ingress-use-waypoint unset: want a bypass, got %s", p)
		}
		if p.Hops[0].Kind != HopGateway {
			t.Errorf("first hop should be the gateway, got %+v", p.Hops)
		}
	}
}

func TestAliasCycle(t *testing.T) {
	_, _, err := ParseManifests("in.yaml", []byte("&x {kind: List, items: [*x]}\n"), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "alias cycle") {
		t.Errorf("want an alias-cycle error, got %v", err)
	}
}

// TestPodsOnlyExport: `kubectl get pods -o yaml` without the Deployments:
// pods are grouped by their owner (the ReplicaSet's Deployment).
func TestPodsOnlyExport(t *testing.T) {
	pod := func(name, owner, kind, hash, extra string) string {
		return `- apiVersion: v1
  kind: Pod
  metadata:
    name: ` + name + `
    namespace: shop
    labels: {app: web, pod-template-hash: "` + hash + `"` + extra + `}
    ownerReferences: [{apiVersion: apps/v1, kind: ` + kind + `, name: ` + owner + `, controller: true, uid: x}]
  spec: {nodeName: n1, serviceAccountName: web, containers: [{name: web, image: i}, {name: istio-proxy, image: proxyv2}]}
  status: {phase: Running, podIP: 10.1.0.` + name[len(name)-1:] + `}
`
	}
	doc := "apiVersion: v1\nkind: List\nitems:\n" +
		pod("web-7f9c6d-a1", "web-7f9c6d", "ReplicaSet", "7f9c6d", "") +
		pod("web-7f9c6d-b2", "web-7f9c6d", "ReplicaSet", "7f9c6d", "") +
		pod("migrate-x3", "migrate", "Job", "", "") +
		pod("done-x4", "done", "Job", "", "") +
		`- apiVersion: v1
  kind: Pod
  metadata: {name: done-x5, namespace: shop}
  spec: {containers: [{name: c, image: i}]}
  status: {phase: Succeeded}
`
	top, rep := parse(t, doc)
	w := top.Workload("shop", "web")
	if w == nil || w.Kind != KindDeployment || w.Replicas != 2 || w.Mode != Sidecar {
		t.Fatalf("want Deployment shop/web with 2 sidecar replicas, got %+v", w)
	}
	if top.Workload("shop", "migrate-x3") == nil {
		t.Error("a Job's pod should become a bare-pod workload")
	}
	if rep.RealPods != 4 || rep.Skipped["v1 Pod (completed)"] != 1 {
		t.Errorf("real pods %d, completed skipped %d; want 4 and 1", rep.RealPods, rep.Skipped["v1 Pod (completed)"])
	}
}

// TestJSONExport: `kubectl get -o json` output is YAML too.
func TestJSONExport(t *testing.T) {
	top, rep := parse(t, `{
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "j", "labels": {"istio.io/dataplane-mode": "ambient"}}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "j", "uid": "1"},
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "a"}},
              "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "a", "image": "i"}]}}},
     "status": {"replicas": 2}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "j"},
     "spec": {"selector": {"app": "a"}, "ports": [{"port": 80, "targetPort": 8080}]}}
  ]
}`)
	if len(rep.Warnings) != 0 || len(top.PodsOf(top.Workload("j", "a"))) != 2 || top.Service("j", "a").Ports[0].TargetPort != 8080 {
		t.Errorf("JSON List not loaded: warnings %v", rep.Warnings)
	}
	if top.PodsOf(top.Workload("j", "a"))[0].Mode != Ambient {
		t.Error("mode from the namespace label lost")
	}
}
