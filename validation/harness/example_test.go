package harness_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// A plan of two nodes in two zones, resolved for one run: every name and
// address the local backend will create.
func ExampleNewLayout() {
	plan := &harness.Plan{
		Nodes: []harness.Node{{Name: "node-a", Zone: "zone-1"}, {Name: "node-b", Zone: "zone-2"}},
		Pods: []harness.Pod{
			{Name: "server", Node: "node-a", Service: "echo", Roles: []harness.Role{harness.RoleEcho}},
			{Name: "client", Node: "node-b", Roles: []harness.Role{harness.RoleLoadGen}},
		},
		NodeProxies: []harness.NodeProxy{{Node: "node-a"}, {Node: "node-b"}},
		Network:     harness.Network{CrossZone: harness.LinkShape{Delay: time.Millisecond}},
	}
	l, err := harness.NewLayout(plan, "abc123")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range l.Nodes {
		fmt.Printf("%s: netns %s, node IP %s, pods %s\n", n.Name, n.Netns, n.IP, n.PodCIDR)
	}
	for _, s := range l.Sandboxes {
		fmt.Printf("%s: netns %s, IP %s\n", s.Name, s.Netns, s.IP)
	}
	// Output:
	// node-a: netns as-abc123-n-node-a, node IP 100.69.0.1, pods 100.69.1.0/24
	// node-b: netns as-abc123-n-node-b, node IP 100.69.0.2, pods 100.69.2.0/24
	// server: netns as-abc123-p-server, IP 100.69.1.2
	// client: netns as-abc123-p-client, IP 100.69.2.2
}

// Metrics scraped from a proxy are parsed with client_golang's parser and
// summed by label.
func ExampleParseMetrics() {
	text := `# TYPE istio_tcp_connections_opened_total counter
istio_tcp_connections_opened_total{reporter="source"} 7
istio_tcp_connections_opened_total{reporter="destination"} 5
`
	fams, err := harness.ParseMetrics(strings.NewReader(text))
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := harness.Scrape{Process: "nodeproxy/node-a", Families: fams}
	n, _ := sc.Sum("istio_tcp_connections_opened_total", map[string]string{"reporter": "destination"})
	fmt.Println(n)
	// Output: 5
}

// An experiment is checked against its plan before anything starts.
func ExampleExperiment_Validate() {
	plan := &harness.Plan{
		Nodes: []harness.Node{{Name: "node-a"}},
		Pods:  []harness.Pod{{Name: "server", Node: "node-a", Roles: []harness.Role{harness.RoleEcho}}},
	}
	exp := &harness.Experiment{Name: "smoke", Loads: []harness.Load{{From: "server", Target: "server", Duration: time.Second}}}
	fmt.Println(exp.Validate(plan))
	// Output: experiment "smoke": loads[0].from "server": the pod has no "loadgen" role
}
