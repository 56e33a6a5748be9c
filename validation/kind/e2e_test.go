package kind_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/harness/dataplane"
	"github.com/ambientsim/ambientsim/validation/kind"
)

// TestKindEndToEnd runs the real data plane on a real kind cluster through
// dataplane.KindBackend — cluster, capture, meshnode image, manifests, a
// load-generator Job, measurement, deletion — and checks a request went
// client-b → node proxy (node-b) → HBONE → node proxy (node-a) → server-a.
// It takes minutes, so it runs only where a container engine and kind
// exist and AMBIENTSIM_KIND_E2E=1 asks for it. It has never run on the
// machine it was written on (no container engine there).
func TestKindEndToEnd(t *testing.T) {
	if os.Getenv("AMBIENTSIM_KIND_E2E") == "" {
		t.Skip("set AMBIENTSIM_KIND_E2E=1 to create a real kind cluster (takes minutes)")
	}
	if err := kind.CheckPrerequisites(context.Background(), harness.ExecRunner{}, exec.LookPath); err != nil {
		t.Skip(err)
	}
	moduleDir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	b, err := dataplane.KindBackend(dataplane.KindOptions{ModuleDir: moduleDir, Dir: t.TempDir(), ClusterName: "ambientsim-e2e"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	exp := dataplane.CrossNodeL4(20, 5*time.Second, 2)
	exp.Loads = append(exp.Loads, harness.Load{From: "client-a", Target: "echo", Protocol: "http", RatePerSec: 10,
		Duration: 5 * time.Second, Connections: 1})
	m, err := harness.Session(ctx, b, dataplane.TwoNodeAmbient(), exp, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for i, lr := range m.Loads {
		if r := lr.Result; r == nil || r.DurationHistogram.Count < 40 || r.RetCodes["200"] != r.DurationHistogram.Count {
			t.Errorf("load %d (%s → %s): %+v", i, lr.Load.From, lr.Load.Target, lr)
		}
	}
	src, _ := m.Scrape("nodeproxy/node-b")
	dst, _ := m.Scrape("nodeproxy/node-a")
	if src.Err != "" || dst.Err != "" {
		t.Fatalf("scrape errors: %q, %q", src.Err, dst.Err)
	}
	if n, ok := dst.Sum("istio_tcp_connections_opened_total", map[string]string{"reporter": "destination"}); !ok || n < 2 {
		t.Errorf("node-a's proxy reports %v inbound connections, want the client's", n)
	}
	if p, ok := m.Process("echo/server-a"); !ok || p.PeakMemoryBytes <= 0 {
		t.Errorf("echo/server-a usage %+v", p)
	}
}
