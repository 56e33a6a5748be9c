package meshconfig_test

import (
	"fmt"
	"net/netip"

	"github.com/ambientsim/ambientsim/topology"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/meshconfig"
)

const clusterSpec = `
trustDomain: cluster.local
nodes:
  count: 2
namespaces:
  - name: shop
    mode: ambient
    waypoint:
      name: waypoint
      for: service
    services:
      - name: api
        ports: [{name: http, port: 80, targetPort: 8080, appProtocol: http}]
    workloads:
      - name: client
        kind: Pod
policies:
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: api-no-delete, namespace: shop}
    spec:
      targetRefs: [{kind: Service, group: "", name: api}]
      action: DENY
      rules: [{to: [{operation: {methods: ["DELETE"]}}]}]
`

// Build turns one topology description into the data plane's configuration:
// every pod, service and waypoint gets a loopback address from Options.Base
// and the targetRefs policy lands at the waypoint as an L7 rule.
func ExampleBuild() {
	top, err := topology.ParseSpec("cluster.yaml", []byte(clusterSpec))
	if err != nil {
		fmt.Println(err)
		return
	}
	m, rep, err := meshconfig.Build(top, meshconfig.Options{Base: netip.MustParsePrefix("127.20.0.0/16")})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range m.Workloads {
		fmt.Printf("workload %s/%s ip=%s node=%s mode=%s\n", w.Namespace, w.Name, w.IP, w.Node, w.Mode)
	}
	for _, s := range m.Services {
		fmt.Printf("service %s/%s vip=%s waypoint=%s endpoints=%v\n", s.Namespace, s.Name, s.VIP, s.Waypoint, s.Endpoints)
	}
	for _, w := range m.Waypoints {
		fmt.Printf("waypoint %s/%s ip=%s for=%s\n", w.Namespace, w.Name, w.IP, w.For)
	}
	for _, p := range m.L7Policies {
		fmt.Printf("l7 policy %s/%s %s on %v\n", p.Namespace, p.Name, p.Action, p.TargetServices)
	}
	fmt.Printf("routes=%d l4 policies=%d warnings=%d\n", len(m.Routes), len(m.L4Policies), len(rep.Warnings))
	// The result is a complete mesh.Mesh: mesh.Compile validates it and
	// the proxies (or meshnode, after mesh.Write) read it.
	if _, err := mesh.Compile(m); err != nil {
		fmt.Println(err)
	}
	// Output:
	// workload shop/api-0 ip=127.20.1.1 node=node-1 mode=ambient
	// workload shop/client ip=127.20.1.2 node=node-2 mode=ambient
	// service shop/api vip=127.20.100.1 waypoint=shop/waypoint endpoints=[shop/api-0]
	// waypoint shop/waypoint ip=127.20.200.1 for=service
	// l7 policy shop/api-no-delete DENY on [shop/api]
	// routes=0 l4 policies=0 warnings=0
}
