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
