package topology

import (
	"strings"
	"testing"
)

// TestSpecNodeName: nodeName runs every replica of a workload on one node
// (a load generator on a node of its own); an unknown node is an error
// naming the field.
func TestSpecNodeName(t *testing.T) {
	spec := `
nodes: {count: 3}
namespaces:
  - name: load
    workloads: [{name: fortio, replicas: 2, nodeName: node-3}]
  - name: app
    services: [{name: web, replicas: 4, nodeName: %s}]
`
	top, err := ParseSpec("s.yaml", []byte(strings.Replace(spec, "%s", "node-1", 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range top.Pods {
		want := "node-1"
		if p.Namespace == "load" {
			want = "node-3"
		}
		if p.Node != want {
			t.Errorf("%s on %s, want %s", p.ID(), p.Node, want)
		}
	}
	_, err = ParseSpec("s.yaml", []byte(strings.Replace(spec, "%s", "node-9", 1)))
	if err == nil || !strings.Contains(err.Error(), `nodeName: no node "node-9" in nodes`) {
		t.Errorf("unknown node: %v", err)
	}
}
