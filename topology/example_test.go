package topology_test

import (
	"fmt"

	"github.com/ambientsim/ambientsim/topology"
)

// A compact spec: payment-api behind a namespace waypoint, a debug pod out
// of the mesh. The debug pod's request skips the waypoint.
func ExampleParseSpec() {
	top, err := topology.ParseSpec("example.yaml", []byte(`
nodes: {count: 2, zones: [a, b]}
namespaces:
  - name: payments
    mode: ambient
    waypoint: {name: waypoint}
    services:
      - {name: payment-api, replicas: 2, ports: [{name: http, port: 80, targetPort: 8080}]}
    workloads:
      - {name: checkout}
      - {name: debug, kind: Pod, mode: out-of-mesh}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	api := top.Service("payments", "payment-api")
	for _, name := range []string{"checkout", "debug"} {
		src := top.PodsOf(top.Workload("payments", name))[0]
		p := top.PathFrom(src, api, 80)
		fmt.Printf("%s: %s bypass=%v %s\n", name, p.Category, p.Bypass, p)
	}
	// Output:
	// checkout: ambient-waypoint bypass=false ztunnel/node-1 -> waypoint/payments/waypoint -> ztunnel/node-1
	// debug: out-of-mesh bypass=true ztunnel/node-1
}

// Evaluate decides a request the way the proxies on its path would.
func ExampleTopology_Evaluate() {
	top, _ := topology.ParseSpec("example.yaml", []byte(`
namespaces:
  - name: shop
    mode: ambient
    services: [{name: cart}]
    workloads: [{name: web}]
policies:
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: cart-get, namespace: shop}
    spec:
      selector: {matchLabels: {app: cart}}
      rules: [{to: [{operation: {methods: ["GET"]}}]}]
`))
	web := top.PodsOf(top.Workload("shop", "web"))[0]
	cart := top.EndpointsOf(top.Service("shop", "cart"))[0]
	d := top.Evaluate(web, cart, nil, 8080, topology.Request{Method: "GET", Path: "/"})
	fmt.Printf("allow=%v by=%s layer=%s policy=%s\n", d.Allow, d.By, d.Layer, d.Policy)
	// Output:
	// allow=false by=ztunnel/node-1 layer=L4 policy=shop/cart-get
}

// EvaluateWaypoint is the waypoint's check before it routes: a request
// its policies refuse gets 403 even when no route would take it.
func ExampleTopology_EvaluateWaypoint() {
	top, _ := topology.ParseSpec("example.yaml", []byte(`
namespaces:
  - name: shop
    mode: ambient
    waypoint: {name: waypoint}
    services: [{name: cart, ports: [{name: http, port: 80, targetPort: 8080}]}]
    workloads: [{name: web}]
policies:
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: no-admin, namespace: shop}
    spec:
      targetRefs: [{kind: Service, group: "", name: cart}]
      action: DENY
      rules: [{to: [{operation: {paths: ["/admin"]}}]}]
`))
	web := top.PodsOf(top.Workload("shop", "web"))[0]
	cart := top.Service("shop", "cart")
	for _, path := range []string{"/admin", "/items"} {
		d := top.EvaluateWaypoint(web, top.WaypointFor(cart), cart.TargetPort(80), topology.Request{Method: "GET", Path: path, Service: cart})
		fmt.Printf("%s: allow=%v by=%s policy=%s\n", path, d.Allow, d.By, d.Policy)
	}
	// Output:
	// /admin: allow=false by=waypoint/shop/waypoint policy=shop/no-admin
	// /items: allow=true by=waypoint/shop/waypoint policy=
}

func ExampleTopology_Migrate() {
	top, _, _ := topology.ParseManifests("sidecar.yaml", []byte(`
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template: {metadata: {labels: {app: cart}}, spec: {containers: [{name: cart, image: cart}]}}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {selector: {app: cart}, ports: [{name: http, port: 8080}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cart-get, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  rules: [{to: [{operation: {methods: ["GET"]}}]}]
`), topology.LoadOptions{DefaultNamespace: "default"})
	m, _ := top.Migrate(topology.Ambient)
	for _, c := range m.Commands() {
		fmt.Println(c)
	}
	// Output:
	// kubectl apply -f migration.yaml   # the generated manifests; nothing changes behaviour before the switch
	// kubectl label service -n shop cart istio.io/use-waypoint=waypoint
	// kubectl delete authorizationpolicy -n shop cart-get   # right before the switch: ztunnel would drop its HTTP rules or see the waypoint's identity
	// kubectl label namespace shop istio-injection- istio.io/dataplane-mode=ambient
	// kubectl rollout restart deployment,statefulset,daemonset -n shop   # restart without sidecars; istio-cni captures the new pods
	// kubectl apply -f migration-lock.yaml   # once no pod of shop runs an istio-proxy container any more
}
