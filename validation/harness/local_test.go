package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// needRoot skips a test that needs root, unless CI is set: CI runs as
// root, so there a missing privilege is a failure, not a skip.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but the test is not running as root; the local backend tests need root")
	}
	t.Skip("needs root (network namespaces); CI runs it as root")
}

// assertNothingLeft fails the test if anything of run id remains.
func assertNothingLeft(t *testing.T, id string) {
	t.Helper()
	inv, err := Leftovers(context.Background(), ExecRunner{}, id)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Empty() {
		t.Errorf("run %s left behind: %s", id, inv)
		_, _ = Sweep(context.Background(), ExecRunner{}, id)
	}
}

func newTestLocal(t *testing.T, commander Commander, runner Runner) *Local {
	t.Helper()
	return newTestLocalOpts(t, LocalOptions{Commander: commander, Runner: runner})
}

func newTestLocalOpts(t *testing.T, o LocalOptions) *Local {
	t.Helper()
	b, err := NewLocal(LocalOptions{
		NoCgroups:    o.NoCgroups,
		Commander:    o.Commander,
		Runner:       o.Runner,
		ReadyTimeout: 10 * time.Second,
		StopGrace:    2 * time.Second,
		LoadGrace:    15 * time.Second,
		Logf:         func(f string, a ...any) { t.Logf(time.Now().Format("15:04:05.000 ")+f, a...) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Safety net only; the tests tear down themselves and check.
		_ = b.Teardown(context.Background())
		_, _ = Sweep(context.Background(), ExecRunner{}, b.RunID())
	})
	return b
}

// TestLocalEndToEnd builds 2 nodes × 2 pods, sends real TCP round trips
// from a pod on node-b to a pod on node-a (crossing both nodes and the
// fabric), injects a node-proxy restart, measures CPU, scrapes metrics and
// tears down clean.
func TestLocalEndToEnd(t *testing.T) {
	needRoot(t)
	for _, noCgroups := range []bool{false, true} {
		t.Run(fmt.Sprintf("noCgroups=%v", noCgroups), func(t *testing.T) { testLocalEndToEnd(t, noCgroups) })
	}
}

func testLocalEndToEnd(t *testing.T, noCgroups bool) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("github.com/ambientsim/ambientsim/validation/harness.spawn.func1.1"))
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	b := newTestLocalOpts(t, LocalOptions{Commander: testCommander(t), NoCgroups: noCgroups})
	if err := b.Setup(ctx, testPlan()); err != nil {
		t.Fatal(err)
	}
	if got := b.NotEmulated(); len(got) != 1 || !strings.Contains(got[0], "cross-zone latency 1ms") {
		// This machine has no sch_netem; where it has, nothing is missing.
		if len(got) != 0 {
			t.Errorf("NotEmulated = %q", got)
		}
	}
	exp := &Experiment{
		Name: "cross-node-echo",
		Loads: []Load{{
			From: "client-b", Target: "server-a", Protocol: "tcp",
			RatePerSec: 40, Duration: 500 * time.Millisecond, PayloadBytes: 512, Connections: 1, Mode: ConnPerRequest,
		}},
		Failures: []FailureAction{{At: 50 * time.Millisecond, Action: FailRestart, Target: "nodeproxy/node-b"}},
	}
	m, err := b.Run(ctx, exp)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s run done", time.Now().Format("15:04:05.000"))
	res := m.Loads[0].Result
	if res == nil || res.DurationHistogram.Count != 20 || res.RetCodes["OK"] != 20 {
		t.Fatalf("load result = %+v, want 20 OK round trips", res)
	}
	if p99, ok := res.DurationHistogram.Percentile(99); !ok || p99 <= 0 || p99 > 2 {
		t.Errorf("p99 = %v s (ok %v), want in (0, 2]", p99, ok)
	}
	echo, ok := m.Process("echo/server-a")
	if !ok {
		t.Fatalf("no usage for echo/server-a in %+v", m.Processes)
	}
	wantSource := CgroupV1
	if noCgroups {
		wantSource = CgroupNone
	} else if fileExists("/sys/fs/cgroup/cgroup.controllers") {
		wantSource = CgroupV2
	}
	// /proc counts whole clock ticks (10 ms): a nearly idle echo server may
	// show 0 there; cgroups count nanoseconds.
	if (!noCgroups && echo.CPUSeconds <= 0) || echo.CPUSeconds < 0 || echo.PeakMemoryBytes <= 0 || echo.Source != wantSource {
		t.Errorf("echo/server-a usage = %+v, want CPU and memory > 0 from %s", echo, wantSource)
	}
	lg, ok := m.Process("loadgen/client-b.r1.0")
	if !ok || lg.CPUSeconds <= 0 {
		t.Errorf("load generator usage = %+v (found %v), want CPU > 0", lg, ok)
	}
	np, _ := m.Process("nodeproxy/node-b")
	if np.Restarts != 1 || len(m.Events) != 1 || m.Events[0].Err != "" {
		t.Errorf("restart of nodeproxy/node-b: usage %+v, events %+v", np, m.Events)
	}
	sc, ok := m.Scrape("nodeproxy/node-a")
	if !ok || sc.Err != "" {
		t.Fatalf("scrape of nodeproxy/node-a = %+v (found %v)", sc, ok)
	}
	if data, err := json.Marshal(m); err != nil || !strings.Contains(string(data), `"helper_connections_total"`) {
		t.Errorf("Measurement as JSON: %v (%d bytes)", err, len(data))
	}
	if v, ok := sc.Sum("helper_connections_total", nil); !ok || v < 1 {
		// The readiness probe connected at least once.
		t.Errorf("helper_connections_total = %v (found %v), want >= 1", v, ok)
	}
	id := b.RunID()
	if err := b.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s teardown done", time.Now().Format("15:04:05.000"))
	assertNothingLeft(t, id)
	if n := len(b.Journal()); n != 0 {
		t.Errorf("journal holds %d entries after Teardown", n)
	}
}

// TestLocalSetupFailsHalfway makes the Commander fail for the second echo
// app: Setup must fail and leave nothing behind.
func TestLocalSetupFailsHalfway(t *testing.T) {
	needRoot(t)
	inner := testCommander(t)
	cmdr := CommanderFunc(func(s ProcessSpec) (Command, error) {
		if s.Name == "echo/server-b" {
			return Command{}, errors.New("injected failure")
		}
		return inner.Command(s)
	})
	b := newTestLocal(t, cmdr, nil)
	err := b.Setup(context.Background(), testPlan())
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("Setup error = %v, want the injected failure", err)
	}
	assertNothingLeft(t, b.RunID())
}

// cancellingRunner cancels a context once it has run n commands.
type cancellingRunner struct {
	n      int32
	seen   atomic.Int32
	cancel context.CancelFunc
}

func (r *cancellingRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if r.seen.Add(1) == r.n {
		r.cancel()
	}
	return ExecRunner{}.Run(ctx, name, args...)
}

// TestLocalSetupCancelled cancels the context in the middle of building
// the network (as Ctrl-C does) and during a Run: nothing may remain.
func TestLocalSetupCancelled(t *testing.T) {
	needRoot(t)
	t.Run("during setup", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		b := newTestLocal(t, testCommander(t), &cancellingRunner{n: 20, cancel: cancel})
		err := b.Setup(ctx, testPlan())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Setup error = %v, want context.Canceled", err)
		}
		assertNothingLeft(t, b.RunID())
	})
	t.Run("during run", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		b := newTestLocal(t, testCommander(t), nil)
		if err := b.Setup(ctx, testPlan()); err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(300*time.Millisecond, cancel)
		_, err := b.Run(ctx, &Experiment{Name: "long", Loads: []Load{{
			From: "client-a", Target: "server-b", RatePerSec: 100, Duration: 20 * time.Second, PayloadBytes: 64,
		}}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run error = %v, want context.Canceled", err)
		}
		if err := b.Teardown(ctx); err != nil {
			t.Fatal(err)
		}
		assertNothingLeft(t, b.RunID())
	})
}

// TestSweepAfterCrash leaves a set-up run without Teardown, as a crashed
// harness would, and checks that Sweep removes all of it.
func TestSweepAfterCrash(t *testing.T) {
	needRoot(t)
	b := newTestLocal(t, testCommander(t), nil)
	if err := b.Setup(context.Background(), testPlan()); err != nil {
		t.Fatal(err)
	}
	inv, err := Leftovers(context.Background(), ExecRunner{}, b.RunID())
	if err != nil {
		t.Fatal(err)
	}
	// fabric + 2 nodes + 4 pods; 4 processes (2 node proxies, 2 echo apps).
	if len(inv.Netns) != 7 || len(inv.Processes) != 4 || len(inv.Cgroups) == 0 || len(inv.WorkDirs) != 1 {
		t.Fatalf("before sweep: %s", inv)
	}
	if _, err := Sweep(context.Background(), ExecRunner{}, b.RunID()); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, b.RunID())
}

// TestLocalNeedsRoot runs Setup as user nobody: it must fail with
// ErrNeedsRoot and say how to proceed.
func TestLocalNeedsRoot(t *testing.T) {
	needRoot(t) // to switch to nobody we must be root
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The go tool's build directory is private to root: run a copy from a
	// directory nobody can read.
	dir, err := os.MkdirTemp("", "ambientsim-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "harness.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "AS_HARNESS_HELPER=setup-as-nobody")
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("setup as nobody: exit %v, output %q; want exit 3 (ErrNeedsRoot)", err, out)
	}
	if !strings.Contains(string(out), "needs root") || !strings.Contains(string(out), "--backend kind") {
		t.Errorf("message %q does not say what to do", out)
	}
}

// TestLocalBandwidthShaping checks that the cross-zone bandwidth wish is
// really applied (htb): echoing 256 KiB across zones limited to 8 Mbit/s
// takes at least the 0.26 s one direction needs, while the same transfer
// inside one node is not shaped.
func TestLocalBandwidthShaping(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	plan := testPlan()
	plan.Network = Network{CrossZone: LinkShape{BandwidthBitsPerSec: 8_000_000}}
	b := newTestLocal(t, testCommander(t), nil)
	if err := b.Setup(ctx, plan); err != nil {
		t.Fatal(err)
	}
	const payload = 256 << 10
	run := func(target string) float64 {
		m, err := b.Run(ctx, &Experiment{Name: "bulk", Loads: []Load{{
			From: "client-b", Target: target, RatePerSec: 1, Duration: time.Second, PayloadBytes: payload,
		}}})
		if err != nil {
			t.Fatal(err)
		}
		return m.Loads[0].Result.DurationHistogram.Max
	}
	cross := run("server-a") // node-b → node-a: zone-2 → zone-1
	local := run("server-b") // same node: never leaves node-b's bridge
	t.Logf("256 KiB round trip: cross-zone %.3f s, same node %.3f s", cross, local)
	minCross := float64(payload*8) / 8e6 // one direction at the shaped rate
	if cross < minCross || cross > 10 {
		t.Errorf("cross-zone round trip %.3f s, want >= %.3f s (8 Mbit/s each way)", cross, minCross)
	}
	if local >= minCross {
		t.Errorf("same-node round trip %.3f s was shaped too (want < %.3f s)", local, minCross)
	}
	id := b.RunID()
	if err := b.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, id)
}
