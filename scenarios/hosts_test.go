package scenarios

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestHostsSection: topology.hosts is checked where it is written (file,
// line, field) and against the topology the scenario builds.
func TestHostsSection(t *testing.T) {
	base, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	with := func(hosts string) []byte {
		return []byte(strings.Replace(string(base), "topology:\n  spec:\n", "topology:\n"+hosts+"  spec:\n", 1))
	}
	for _, tc := range []struct {
		name, hosts, want string
	}{
		{"no cores", "  hosts: [{name: vm, cores: 0, nodes: [node-1]}]\n", "small.yaml:8: topology.hosts[0].cores"},
		{"no name", "  hosts: [{cores: 2, nodes: [node-1]}]\n", "topology.hosts[0].name"},
		{"no nodes", "  hosts: [{name: vm, cores: 2}]\n", "lists no nodes"},
		{"twice", "  hosts:\n    - {name: a, cores: 2, nodes: [node-1]}\n    - {name: b, cores: 2, nodes: [node-2, node-1]}\n", `topology.hosts[1].nodes[1]: node "node-1" is already on host "a"`},
		{"unknown field", "  hosts: [{name: vm, core: 2, nodes: [node-1]}]\n", "core"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("small.yaml", with(tc.hosts))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// A node the topology does not have is found when the run builds it.
	sc, err := Parse("small.yaml", with("  hosts: [{name: vm, cores: 2, nodes: [node-1, node-7]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Execute(sc, Options{}); err == nil || !strings.Contains(err.Error(), `small.yaml:8: topology.hosts[0].nodes[1]: host "vm": node "node-7" is not in the topology`) {
		t.Errorf("unknown node: %v", err)
	}
	// The nodes of a host share its cores: a host with cores to spare
	// changes nothing (no thread ever waits for a core), a one-core host
	// makes every container wait for the others.
	run := func(hosts string) *Run {
		sc, err := Parse("small.yaml", with(hosts))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Execute(sc, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	plain := run("")
	roomy := run("  hosts: [{name: vm, cores: 64, nodes: [node-1, node-2]}]\n")
	tight := run("  hosts: [{name: vm, cores: 1, nodes: [node-1, node-2]}]\n")
	for i := range plain.Summary.Modes {
		a, b := plain.Summary.Modes[i], roomy.Summary.Modes[i]
		a.Machines, b.Machines = nil, nil // one row per node vs one for the host
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s: a host with cores to spare changed the results", a.Mode)
		}
	}
	if m := roomy.Summary.Modes[0].Machines; len(m) != 1 || m[0].Name != "vm" || len(m[0].Nodes) != 2 || m[0].Cores != 64 {
		t.Errorf("host row %+v", m)
	}
	for i, m := range tight.Summary.Modes {
		p, q := plain.Summary.Modes[i].Latency[0], m.Latency[0]
		if !(q.MeanMs > p.MeanMs) {
			t.Errorf("%s: mean latency %.3f ms on a one-core host, %.3f ms on machines of their own: want slower", m.Mode, q.MeanMs, p.MeanMs)
		}
	}
}
