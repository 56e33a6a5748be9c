package dataplane

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but the test is not running as root")
	}
	t.Skip("needs root (network namespaces); CI runs it as root")
}

// TestAmbientL4EndToEnd runs the real data plane — CA, two ztunnel-like
// node proxies, an echo app and the load generator, each a meshnode
// process in its own namespace and cgroup — and sends HTTP from a pod on
// node-b to a pod on node-a through both node proxies over HBONE.
func TestAmbientL4EndToEnd(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	moduleDir, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := Build(ctx, moduleDir, dir)
	if err != nil {
		t.Fatal(err)
	}
	cmdr := NewCommander(Options{Binary: bin, Dir: dir})
	b, err := harness.NewLocal(harness.LocalOptions{Commander: cmdr, Logf: t.Logf, StopGrace: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	id := b.RunID()
	defer func() { _, _ = harness.Sweep(context.Background(), harness.ExecRunner{}, id) }()

	m, err := harness.Session(ctx, b, TwoNodeAmbient(), CrossNodeL4(50, 2*time.Second, 2), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res := m.Loads[0].Result
	if res == nil || res.DurationHistogram.Count < 90 || res.RetCodes["200"] != res.DurationHistogram.Count {
		t.Fatalf("load result %+v: %+v", m.Loads[0], res)
	}
	p50, _ := res.DurationHistogram.Percentile(50)
	p99, _ := res.DurationHistogram.Percentile(99)
	t.Logf("%d requests, %.1f qps, p50 %.3f ms, p99 %.3f ms", res.DurationHistogram.Count, res.ActualQPS, p50*1e3, p99*1e3)
	for _, pu := range m.Processes {
		t.Logf("%-28s cpu %.3f s  peak %5.1f MiB  (%s)", pu.Process, pu.CPUSeconds, float64(pu.PeakMemoryBytes)/(1<<20), pu.Source)
	}
	for _, name := range []string{"nodeproxy/node-a", "nodeproxy/node-b"} {
		if pu, ok := m.Process(name); !ok || pu.CPUSeconds <= 0 || pu.PeakMemoryBytes <= 0 {
			t.Errorf("%s usage %+v", name, pu)
		}
	}
	src, _ := m.Scrape("nodeproxy/node-b")
	dst, _ := m.Scrape("nodeproxy/node-a")
	if src.Err != "" || dst.Err != "" {
		t.Fatalf("scrape errors: %q, %q", src.Err, dst.Err)
	}
	opened, ok1 := src.Sum("istio_tcp_connections_opened_total", map[string]string{"reporter": "source"})
	inbound, ok2 := dst.Sum("istio_tcp_connections_opened_total", map[string]string{"reporter": "destination"})
	t.Logf("source node proxy opened %v, destination opened %v", opened, inbound)
	if !ok1 || !ok2 || opened < 2 || inbound < 2 {
		var names []string
		for n := range src.Families {
			names = append(names, n)
		}
		t.Errorf("istio_tcp_connections_opened_total: source %v (%v), destination %v (%v); families %s", opened, ok1, inbound, ok2, strings.Join(names, " "))
	}
	inv, err := harness.Leftovers(context.Background(), harness.ExecRunner{}, id)
	if err != nil || !inv.Empty() {
		t.Errorf("left behind: %v %v", inv, err)
	}
}
