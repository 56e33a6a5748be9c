package kind

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// TestKindEndToEnd runs the whole kind backend — cluster, image, manifests,
// a Job, measurement, deletion — with a stand-in data plane
// (testdata/helper). It takes minutes, so it runs only where a container
// engine and kind exist and AMBIENTSIM_KIND_E2E=1 asks for it.
func TestKindEndToEnd(t *testing.T) {
	if os.Getenv("AMBIENTSIM_KIND_E2E") == "" {
		t.Skip("set AMBIENTSIM_KIND_E2E=1 to create a real kind cluster (takes minutes)")
	}
	if err := CheckPrerequisites(context.Background(), harness.ExecRunner{}, exec.LookPath); err != nil {
		t.Skip(err)
	}
	moduleDir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmdr := harness.CommanderFunc(func(s harness.ProcessSpec) (harness.Command, error) {
		bin := "/usr/local/bin/helper"
		switch s.Kind {
		case harness.KindNodeProxy:
			return harness.Command{Path: bin, Args: []string{"-mode=echo", "-listen=:15008", "-metrics=:15020"},
				ReadyAddr: "$(POD_IP):15008", MetricsURL: "http://$(POD_IP):15020/metrics"}, nil
		case harness.KindEcho:
			return harness.Command{Path: bin, Args: []string{"-mode=echo", "-listen=:8080"}, ReadyAddr: ":8080"}, nil
		case harness.KindLoadGen:
			n := int(s.Load.RatePerSec * s.Load.Duration.Seconds())
			return harness.Command{Path: bin, Args: []string{"-mode=client", "-target=" + s.Load.Target + ":80", fmt.Sprintf("-count=%d", n)}}, nil
		}
		return harness.Command{}, fmt.Errorf("no stand-in for %s", s.Kind)
	})
	plan := &harness.Plan{
		Nodes: []harness.Node{{Name: "node-a", Zone: "zone-1"}, {Name: "node-b", Zone: "zone-2"}},
		Pods: []harness.Pod{
			{Name: "server", Node: "node-a", Service: "echo", Roles: []harness.Role{harness.RoleEcho}},
			{Name: "client", Node: "node-b", Roles: []harness.Role{harness.RoleLoadGen}},
		},
		NodeProxies: []harness.NodeProxy{{Node: "node-a"}, {Node: "node-b"}},
	}
	b, err := New(Options{
		ClusterName: "ambientsim-e2e",
		Commander:   cmdr,
		ModuleDir:   moduleDir,
		Binaries:    []Binary{{Name: "helper", Package: "./validation/kind/testdata/helper"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	m, err := harness.Session(ctx, b, plan, &harness.Experiment{Name: "smoke", Loads: []harness.Load{{
		From: "client", Target: "echo", Protocol: "tcp", RatePerSec: 10, Duration: 2 * time.Second}}}, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Loads[0].Result; r == nil || r.RetCodes["OK"] != 20 {
		t.Errorf("load result %+v", m.Loads[0])
	}
	if sc, ok := m.Scrape("nodeproxy/node-a"); !ok || sc.Err != "" {
		t.Errorf("scrape %+v", sc)
	}
	if p, ok := m.Process("echo/server"); !ok || p.PeakMemoryBytes <= 0 {
		t.Errorf("echo/server usage %+v", p)
	}
}
