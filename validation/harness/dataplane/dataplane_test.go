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
	if testing.Short() {
		t.Skip("starts the real data plane in network namespaces; the full suite (go test ./...) runs it")
	}
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

	exp := CrossNodeL4(50, 2*time.Second, 2)
	// Concurrently: service-addressed (VIP) traffic inside node-a, one new
	// connection per request.
	exp.Loads = append(exp.Loads, harness.Load{From: "client-a", Target: "echo", Protocol: "http", RatePerSec: 20,
		Duration: 2 * time.Second, Connections: 1, Mode: harness.ConnPerRequest})
	m, err := harness.Session(ctx, b, TwoNodeAmbient(), exp, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Loads[1].Result; r == nil || r.DurationHistogram.Count < 36 || r.RetCodes["200"] != r.DurationHistogram.Count {
		t.Errorf("service-addressed load %+v: %+v", m.Loads[1], r)
	}
	res := m.Loads[0].Result
	if res == nil || res.DurationHistogram.Count < 90 || res.RetCodes["200"] != res.DurationHistogram.Count {
		t.Fatalf("load result %+v: %+v", m.Loads[0], res)
	}
	p50, _ := res.DurationHistogram.Percentile(50)
	p99, _ := res.DurationHistogram.Percentile(99)
	t.Logf("%d requests, %.1f qps, p50 %.3f ms, p99 %.3f ms", res.DurationHistogram.Count, res.ActualQPS, p50*1e3, p99*1e3)
	for _, pu := range m.Processes {
		t.Logf("%-28s cpu %.3f s  peak %5.1f MiB (%s), peak RSS %5.1f MiB", pu.Process, pu.CPUSeconds, float64(pu.PeakMemoryBytes)/(1<<20), pu.Source, float64(pu.PeakRSSBytes)/(1<<20))
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
	// 2 kept-alive connections from client-b, plus ~40 per-request ones
	// from client-a that node-a's proxy reports as source and destination.
	if !ok1 || !ok2 || opened < 2 || inbound < 40 {
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

// TestWaypointPath sends service-addressed HTTP through the waypoint:
// client-b → node proxy (node-b) → waypoint (node-b) → node proxy
// (node-a) → server-a, and checks the waypoint's Istio request metrics.
func TestWaypointPath(t *testing.T) {
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
	exp := &harness.Experiment{Name: "waypoint", Settle: 200 * time.Millisecond, Loads: []harness.Load{{
		From: "client-b", Target: "echo", Protocol: "http", RatePerSec: 40, Duration: 2 * time.Second, Connections: 2}}}
	m, err := harness.Session(ctx, b, TwoNodeWaypoint(), exp, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res := m.Loads[0].Result
	if res == nil || res.DurationHistogram.Count < 70 || res.RetCodes["200"] != res.DurationHistogram.Count {
		t.Fatalf("load %+v: %+v", m.Loads[0], res)
	}
	sc, ok := m.Scrape("waypoint/waypoint")
	if !ok || sc.Err != "" {
		t.Fatalf("waypoint scrape %+v", sc)
	}
	n, found := sc.Sum("istio_requests_total", map[string]string{"reporter": "waypoint"})
	p50, _ := res.DurationHistogram.Percentile(50)
	t.Logf("%d requests via the waypoint, p50 %.3f ms; waypoint istio_requests_total %v", res.DurationHistogram.Count, p50*1e3, n)
	if !found || n < float64(res.DurationHistogram.Count) {
		t.Errorf("waypoint istio_requests_total = %v (found %v), want >= %d", n, found, res.DurationHistogram.Count)
	}
	if wp, ok := m.Process("waypoint/waypoint"); !ok || wp.CPUSeconds <= 0 {
		t.Errorf("waypoint usage %+v", wp)
	}
}

// TestSidecarPath sends HTTP from a sidecar pod to a sidecar service on
// the other node: load generator → its sidecar (explicit listener) → mTLS
// → the server's sidecar → echo.
func TestSidecarPath(t *testing.T) {
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
	exp := &harness.Experiment{Name: "sidecar", Settle: 200 * time.Millisecond, Loads: []harness.Load{{
		From: "sc-client", Target: "sc-echo", Protocol: "http", RatePerSec: 40, Duration: 2 * time.Second, Connections: 2}}}
	m, err := harness.Session(ctx, b, TwoNodeSidecar(), exp, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res := m.Loads[0].Result
	if res == nil || res.DurationHistogram.Count < 70 || res.RetCodes["200"] != res.DurationHistogram.Count {
		t.Fatalf("load %+v: %+v", m.Loads[0], res)
	}
	src, _ := m.Scrape("sidecar/sc-client")
	dst, _ := m.Scrape("sidecar/sc-server")
	ns, _ := src.Sum("istio_requests_total", map[string]string{"reporter": "source"})
	nd, _ := dst.Sum("istio_requests_total", map[string]string{"reporter": "destination"})
	p50, _ := res.DurationHistogram.Percentile(50)
	t.Logf("%d requests sidecar to sidecar, p50 %.3f ms; istio_requests_total source %v, destination %v", res.DurationHistogram.Count, p50*1e3, ns, nd)
	if ns < float64(res.DurationHistogram.Count) || nd < float64(res.DurationHistogram.Count) {
		t.Errorf("sidecar metrics: source %v, destination %v, want >= %d (scrape errors %q %q)", ns, nd, res.DurationHistogram.Count, src.Err, dst.Err)
	}
}
