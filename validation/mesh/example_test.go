package mesh_test

import (
	"fmt"
	"net/netip"

	"github.com/ambientsim/ambientsim/validation/mesh"
)

func ExampleIndex_ResolveOutbound() {
	m, _ := mesh.Parse("mesh.yaml", []byte(`
workloads:
  - {name: server, namespace: default, serviceAccount: server, ip: 10.0.0.11, node: node-b}
waypoints:
  - {name: waypoint, namespace: default, ip: 10.0.0.50}
services:
  - {name: api, namespace: default, vip: 10.96.0.1, ports: [{port: 80, targetPort: 8080}], endpoints: [server]}
  - {name: api-wp, namespace: default, vip: 10.96.0.2, ports: [{port: 80, targetPort: 8080}], endpoints: [server], waypoint: waypoint}
`))
	ix, err := mesh.Compile(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, dst := range []string{"10.96.0.1:80", "10.96.0.2:80", "192.0.2.1:443"} {
		out, _ := ix.ResolveOutbound(netip.MustParseAddrPort(dst))
		fmt.Printf("%s: %s via %s, :authority %s\n", dst, out.Kind, out.NextHop, out.Authority)
	}
	// Output:
	// 10.96.0.1:80: direct via 10.0.0.11:15008, :authority 10.0.0.11:8080
	// 10.96.0.2:80: waypoint via 10.0.0.50:15008, :authority 10.96.0.2:80
	// 192.0.2.1:443: passthrough via 192.0.2.1:443, :authority 192.0.2.1:443
}
