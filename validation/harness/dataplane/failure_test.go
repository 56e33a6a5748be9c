package dataplane

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// TestNodeProxyCrashRestart kills the source node proxy a third of the way
// through a cross-node load and starts it again: the path works again after
// the restart, and the Measurement records it.
func TestNodeProxyCrashRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real data plane in network namespaces; the full suite (go test ./...) runs it")
	}
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	moduleDir, _ := filepath.Abs("../../..")
	bin, err := Build(ctx, moduleDir, dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := harness.NewLocal(harness.LocalOptions{Commander: NewCommander(Options{Binary: bin, Dir: dir})})
	if err != nil {
		t.Fatal(err)
	}
	exp := CrossNodeL4(40, 3*time.Second, 2)
	exp.Failures = []harness.FailureAction{{At: time.Second, Action: harness.FailKillAndUp, Target: "nodeproxy/node-b"}}
	m, err := harness.Session(ctx, b, TwoNodeAmbient(), exp, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res := m.Loads[0].Result
	ok := res.RetCodes["200"]
	t.Logf("outcomes %v, events %+v", res.RetCodes, m.Events)
	if len(m.Events) != 1 || m.Events[0].Err != "" {
		t.Fatalf("events %+v", m.Events)
	}
	if np, _ := m.Process("nodeproxy/node-b"); np.Restarts != 1 {
		t.Errorf("nodeproxy/node-b restarts = %d, want 1", np.Restarts)
	}
	// Kept-alive connections through the killed proxy break (a request or
	// two fails, or the client's retry of an idle connection hides it);
	// 40 rps × 3 s = 120 requests, and those after the restart (2/3 of
	// them) must succeed again.
	if ok < 100 {
		t.Errorf("outcomes %v: want >= 100 successes, the path must work again after the restart", res.RetCodes)
	}
}
