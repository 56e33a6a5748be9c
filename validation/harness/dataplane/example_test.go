package dataplane_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/harness/dataplane"
)

// The command line of the node proxy on node-b for the basic plan, as the
// local backend would start it.
func ExampleCommander() {
	dir, _ := os.MkdirTemp("", "dataplane-example-")
	defer os.RemoveAll(dir)
	plan := dataplane.TwoNodeAmbient()
	layout, _ := harness.NewLayout(plan, "abc123")
	cmdr := dataplane.NewCommander(dataplane.Options{Binary: "meshnode", Dir: dir})
	node, _ := layout.Node("node-b")
	cmd, err := cmdr.Command(harness.ProcessSpec{Backend: "local", Kind: harness.KindNodeProxy, Name: "nodeproxy/node-b",
		Owner: "node-b", Node: "node-b", IP: node.IP, Plan: plan, Layout: layout})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cmd.Path, strings.ReplaceAll(strings.Join(cmd.Args, " "), dir, "$DIR"))
	fmt.Println("ready:", cmd.ReadyAddr)
	// Output:
	// meshnode ztunnel --mesh $DIR/mesh-abc123.yaml --pki $DIR/pki --log-level warn --ca-url https://100.69.0.1:15012 --node node-b --metrics 100.69.0.2:15020 --inbound-listen 0.0.0.0:15008 --capture listen=0.0.0.0:80,mode=tproxy --capture listen=0.0.0.0:8080,mode=tproxy
	// ready: 100.69.0.2:15008
}

// On kind the mesh file names every address; meshnode resolves the names
// through the cluster DNS when it starts.
func ExampleKindMesh() {
	m, err := dataplane.KindMesh(dataplane.TwoNodeWaypoint(), "")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range m.Workloads {
		fmt.Println("workload", w.Name, w.IP)
	}
	for _, w := range m.Waypoints {
		fmt.Println("waypoint", w.Name, w.IP)
	}
	for _, s := range m.Services {
		fmt.Println("service ", s.Name, s.VIP)
	}
	port, _ := dataplane.KindOutboundPort(dataplane.TwoNodeWaypoint(), "client-b", "echo")
	fmt.Println("client-b → echo via $(HOST_IP):", port)
	// Output:
	// workload server-a pod-server-a.default.svc.cluster.local
	// workload client-a pod-client-a.default.svc.cluster.local
	// workload client-b pod-client-b.default.svc.cluster.local
	// waypoint waypoint waypoint.default.svc.cluster.local
	// service  echo echo.default.svc.cluster.local
	// client-b → echo via $(HOST_IP): 16000
}
