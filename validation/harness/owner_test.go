package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseOwnerFile(t *testing.T) {
	for _, tc := range []struct {
		name       string
		data       string
		runs, dirs []string
	}{
		{"claims", "pid 42\nstart 7\nrun abc123\ndir /tmp/ambientsim-validate-1\n", []string{"abc123"}, []string{"/tmp/ambientsim-validate-1"}},
		{"released", "pid 42\nrun abc123\nrun def456\n-run abc123\ndir /tmp/ambientsim-x-1\n-dir /tmp/ambientsim-x-1\n", []string{"def456"}, nil},
		{"torn last line", "pid 42\nrun abc123\ndir /tmp/ambientsim-validate-1", []string{"abc123"}, nil},
		{"torn release", "pid 42\nrun abc123\n-run abc1", []string{"abc123"}, nil},
		{"unsafe directories", "dir /\ndir /tmp\ndir relative/ambientsim-x\ndir /tmp/../etc/ambientsim-x\ndir /home/user\n", nil, nil},
		{"bad run IDs", "run ABC123\nrun abc\nrun ../../x\n", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := parseOwnerFile("f", []byte(tc.data))
			if !slices.Equal(rec.runs, tc.runs) || !slices.Equal(rec.dirs, tc.dirs) {
				t.Errorf("runs %v dirs %v, want %v %v", rec.runs, rec.dirs, tc.runs, tc.dirs)
			}
		})
	}
}

// An owned temporary directory is 0700, claimed while it exists, and gone
// from disk and from the owner file once removed; with nothing left owned
// the owner file goes too.
func TestMakeOwnedTempDir(t *testing.T) {
	self.mu.Lock()
	leaked := self.f != nil
	self.mu.Unlock()
	if leaked {
		t.Fatal("an earlier test left an owner claim unreleased")
	}
	t.Setenv(OwnerDirEnv, t.TempDir())
	dir, remove, err := MakeOwnedTempDir("test")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("stat %s: %v mode %v, want 0700", dir, err, st.Mode().Perm())
	}
	files, _ := filepath.Glob(filepath.Join(OwnerDir(), "*.owner"))
	if len(files) != 1 {
		t.Fatalf("owner files %v, want one", files)
	}
	data, _ := os.ReadFile(files[0])
	if rec := parseOwnerFile(files[0], data); !slices.Equal(rec.dirs, []string{dir}) || rec.pid != os.Getpid() {
		t.Fatalf("owner file says %+v, want pid %d owning %s", rec, os.Getpid(), dir)
	}
	// Our own (live) claims are never cleaned up, by us or anyone.
	rep, err := CleanupOrphans(context.Background(), CleanupOptions{Runner: noRunner{}})
	if err != nil || len(rep.Dirs) != 0 || len(rep.DeadOwners) != 0 {
		t.Fatalf("cleanup of a live owner: %s, %v", rep, err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("cleanup removed a live owner's directory: %v", err)
	}
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s still there: %v", dir, err)
	}
	if files, _ := filepath.Glob(filepath.Join(OwnerDir(), "*")); len(files) != 0 {
		t.Fatalf("owner files left after the last release: %v", files)
	}
}

// noRunner answers `ip` listings with nothing (the registry tests need no root).
type noRunner struct{}

func (noRunner) Run(context.Context, string, ...string) ([]byte, error) { return nil, nil }

// helperOwnAndHang sets up a harness run as the production code does (an
// owned scratch directory holding credentials, then Local.Setup), prints
// "ready <run ID> <scratch dir>" and waits to be killed.
func helperOwnAndHang() int {
	self, err := os.Executable()
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	scratch, _, err := MakeOwnedTempDir("validate")
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	// Stand-ins for the data plane's PKI: a root and bootstrap credentials.
	if err := os.MkdirAll(filepath.Join(scratch, "pki", "bootstrap"), 0o700); err != nil {
		fmt.Println("error", err)
		return 1
	}
	for i := range 19 {
		_ = os.WriteFile(filepath.Join(scratch, "pki", "bootstrap", fmt.Sprintf("w%d.pem", i)), []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600)
	}
	b, err := NewLocal(LocalOptions{Commander: commanderFor(self), ReadyTimeout: 20 * time.Second})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	if err := b.Setup(context.Background(), testPlan()); err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Printf("ready %s %s\n", b.RunID(), scratch)
	select {} // until SIGKILL
}

// startOwner starts helperOwnAndHang in a subprocess and waits for it to be
// ready.
func startOwner(t *testing.T) (cmd *exec.Cmd, runID, scratch string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), "AS_HARNESS_HELPER=own-and-hang", "GORACE=atexit_sleep_ms=0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready ") || strings.HasPrefix(sc.Text(), "error ") {
				lines <- sc.Text()
				return
			}
		}
		lines <- "error: helper exited"
	}()
	select {
	case line := <-lines:
		f := strings.Fields(line)
		if f[0] != "ready" || len(f) != 3 {
			t.Fatalf("harness subprocess: %s", line)
		}
		return cmd, f[1], f[2]
	case <-time.After(90 * time.Second):
		t.Fatal("harness subprocess not ready in 90 s")
	}
	return nil, "", ""
}

// TestKilledHarnessLeavesNothing is issue 18's reproduction: a harness run
// (with an owned scratch directory of 19 PEM credentials) is SIGKILLed.
// The cleanup a later start runs removes every namespace, link, cgroup,
// process and directory of the dead run, and leaves a live run of another
// process untouched; `--cleanup` is the same call.
func TestKilledHarnessLeavesNothing(t *testing.T) {
	needRoot(t)
	if err := CheckPrerequisites(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	dead, deadID, deadScratch := startOwner(t)
	live, liveID, liveScratch := startOwner(t)
	t.Cleanup(func() { _, _ = Sweep(ctx, ExecRunner{}, liveID); _, _ = Sweep(ctx, ExecRunner{}, deadID) })

	before, err := Leftovers(ctx, ExecRunner{}, deadID)
	if err != nil {
		t.Fatal(err)
	}
	// fabric + 2 nodes + 4 pods; 2 node proxies + 2 echo apps; cgroups; work directory.
	if len(before.Netns) != 7 || len(before.Processes) != 4 || len(before.WorkDirs) != 1 ||
		(len(before.Cgroups) == 0 && fileExists(filepath.Join(cgroupRoot, "cgroup.controllers"))) {
		t.Fatalf("before the kill: %s", before)
	}
	if st, err := os.Stat(deadScratch); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("scratch directory %s: %v, mode %v; want 0700", deadScratch, err, st.Mode().Perm())
	}

	if err := dead.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = dead.Wait()
	// The harness could not clean up: its run is still there (its children
	// die with it, by PR_SET_PDEATHSIG).
	if inv, _ := Leftovers(ctx, ExecRunner{}, deadID); len(inv.Netns) == 0 {
		t.Fatalf("nothing left after SIGKILL? %s", inv)
	}

	rep, err := CleanupOrphans(ctx, CleanupOptions{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cleanup: %s", rep)
	if !slices.Contains(rep.Runs, deadID) || !slices.Contains(rep.Dirs, deadScratch) || !slices.Contains(rep.DeadOwners, dead.Process.Pid) {
		t.Errorf("cleanup report %s: want run %s, directory %s of dead owner %d removed", rep, deadID, deadScratch, dead.Process.Pid)
	}
	assertNothingLeft(t, deadID)
	if _, err := os.Stat(deadScratch); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dead run's credentials directory %s still there: %v", deadScratch, err)
	}
	owners, _ := filepath.Glob(filepath.Join(OwnerDir(), fmt.Sprintf("%d-*", dead.Process.Pid)))
	if len(owners) != 0 {
		t.Errorf("dead owner's file still there: %v", owners)
	}

	// The live run of the other process is untouched.
	if !slices.Contains(rep.LiveRuns, liveID) || slices.Contains(rep.Runs, liveID) {
		t.Errorf("cleanup report %s: want live run %s left alone", rep, liveID)
	}
	after, err := Leftovers(ctx, ExecRunner{}, liveID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Netns) != 7 || len(after.Processes) != 4 || len(after.WorkDirs) != 1 {
		t.Errorf("live run after cleanup: %s", after)
	}
	if _, err := os.Stat(liveScratch); err != nil {
		t.Errorf("live run's scratch directory: %v", err)
	}

	// Killed too, the next harness start removes it before building its own.
	_ = live.Process.Signal(syscall.SIGKILL)
	_ = live.Wait()
	b := newTestLocal(t, testCommander(t), nil)
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := b.Setup(sctx, testPlan()); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, liveID)
	if _, err := os.Stat(liveScratch); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second run's credentials directory %s still there: %v", liveScratch, err)
	}
	if err := b.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, b.RunID())
}
