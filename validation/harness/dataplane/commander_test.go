package dataplane

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/internal/golden"

	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// goldenFile compares got with testdata/name, or rewrites it with -update.
func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

// TestCommandLines renders every role's command line for the basic plan.
func TestCommandLines(t *testing.T) {
	plan := TwoNodeAmbient()
	l, err := harness.NewLayout(plan, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := NewCommander(Options{Binary: "/bin/meshnode", Dir: dir})
	load := CrossNodeL4(50, 2*time.Second, 2).Loads[0]
	specs := []harness.ProcessSpec{
		{Kind: harness.KindControlPlane, Owner: "node-a", IP: l.Nodes[0].IP},
		{Kind: harness.KindNodeProxy, Owner: "node-b", IP: l.Nodes[1].IP},
		{Kind: harness.KindEcho, Owner: "server-a", IP: l.Sandboxes[0].IP},
		{Kind: harness.KindLoadGen, Owner: "client-b.r1.0", IP: l.Sandboxes[2].IP, Load: &load, ResultPath: "/results/r.json"},
	}
	var out strings.Builder
	for _, s := range specs {
		s.Backend, s.Plan, s.Layout, s.Name = "local", plan, l, harness.ProcessName(s.Kind, s.Owner)
		cmd, err := c.Command(s)
		if err != nil {
			t.Fatal(err)
		}
		line := strings.ReplaceAll(strings.Join(cmd.Args, " "), dir, "$DIR")
		fmt.Fprintf(&out, "%s: meshnode %s\n  ready %q metrics %q\n", s.Name, line, cmd.ReadyAddr, cmd.MetricsURL)
	}
	goldenFile(t, "commands.txt", []byte(out.String()))

	data, err := os.ReadFile(filepath.Join(dir, "mesh-abc123.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Not a golden file: its bytes follow package mesh's YAML tags, which
	// are not ours. Check what it says instead.
	m, err := mesh.Parse("mesh.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mesh.Compile(m); err != nil {
		t.Errorf("generated mesh does not compile: %v", err)
	}
	var got []string
	for _, w := range m.Workloads {
		got = append(got, fmt.Sprintf("%s/%s %s %s %s", w.Namespace, w.Name, w.IP, w.Node, w.Mode))
	}
	for _, s := range m.Services {
		got = append(got, fmt.Sprintf("service %s/%s %s %v %v", s.Namespace, s.Name, s.VIP, s.Endpoints, s.Ports))
	}
	want := []string{
		"default/server-a 100.69.1.2 node-a ambient",
		"default/client-a 100.69.1.3 node-a ambient",
		"default/client-b 100.69.2.2 node-b ambient",
		"service default/echo 100.69.254.1 [server-a] [{80 8080 http} {9000 9000 tcp}]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mesh:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCommanderErrors(t *testing.T) {
	plan := TwoNodeAmbient()
	l, _ := harness.NewLayout(plan, "abc123")
	c := NewCommander(Options{Binary: "/bin/meshnode", Dir: t.TempDir()})
	tcp := harness.Load{From: "client-b", Target: "server-a", Protocol: "tcp", Duration: time.Second}
	noCA := TwoNodeAmbient()
	noCA.ControlPlane = ""
	tests := []struct {
		name string
		spec harness.ProcessSpec
		want string
	}{
		{"unknown backend", harness.ProcessSpec{Backend: "k3s", Kind: harness.KindEcho, Plan: plan}, "want local or kind"},
		{"local without layout", harness.ProcessSpec{Backend: "local", Kind: harness.KindEcho, Plan: plan}, "Layout is nil"},
		{"kind without CA", harness.ProcessSpec{Backend: "kind", Kind: harness.KindNodeProxy, Owner: "node-a", Plan: noCA}, "set Plan.ControlPlane"},
		{"kind tcp load", harness.ProcessSpec{Backend: "kind", Kind: harness.KindLoadGen, Plan: plan, Load: &tcp}, "HTTP only"},
		{"kind unknown target", harness.ProcessSpec{Backend: "kind", Kind: harness.KindLoadGen, Plan: plan,
			Load: &harness.Load{From: "client-b", Target: "nowhere", Duration: time.Second}}, `load target "nowhere"`},
		{"tcp load", harness.ProcessSpec{Backend: "local", Kind: harness.KindLoadGen, Plan: plan, Layout: l, Load: &tcp}, "HTTP only"},
		{"unknown target", harness.ProcessSpec{Backend: "local", Kind: harness.KindLoadGen, Plan: plan, Layout: l,
			Load: &harness.Load{From: "client-b", Target: "nowhere", Duration: time.Second}}, `load target "nowhere"`},
		{"no CA", harness.ProcessSpec{Backend: "local", Kind: harness.KindNodeProxy, Owner: "node-a", Plan: noCA, Layout: l}, "set Plan.ControlPlane"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Command(tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
