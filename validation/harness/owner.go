package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Ownership of what the harness creates.
//
// Every resource of a run is named after its run ID (see Sweep). Which
// process owns a run is recorded in an owner file, one per process, in
// OwnerDir: "<pid>-<start time>.owner". The process holds an exclusive
// flock(2) on it for as long as it lives and appends one line per claim:
//
//	run <run ID>        a harness run (its namespaces, links, cgroups, processes, work directory)
//	dir <path>          a temporary directory (scratch with the data plane's credentials)
//	-run <run ID>       released (torn down normally)
//	-dir <path>
//
// The kernel drops the lock when the process dies, however it dies
// (SIGKILL included), so a lock that can be taken marks a dead owner:
// everything its file still claims is an orphan. CleanupOrphans removes
// such orphans and never touches what a live owner claims. Local.Setup runs
// it before building anything; `ambientsim validate --cleanup` and
// `ambientsim calibrate --cleanup` run it on demand.

// OwnerDirEnv overrides OwnerDir (tests use a private directory).
const OwnerDirEnv = "AMBIENTSIM_OWNER_DIR"

// OwnerEnv is the environment variable every process of a run carries,
// with the owning harness's PID as value (beside RunEnv).
const OwnerEnv = "AMBIENTSIM_HARNESS_OWNER"

// OwnerDir is where owner files live: /run/ambientsim/owners (a tmpfs, like
// the /run/netns it describes), or $AMBIENTSIM_OWNER_DIR.
func OwnerDir() string {
	if d := os.Getenv(OwnerDirEnv); d != "" {
		return d
	}
	return "/run/ambientsim/owners"
}

// self is this process's owner file, created on its first claim.
var self struct {
	mu     sync.Mutex
	f      *os.File
	path   string
	claims map[string]bool // "run X" / "dir P"
}

// ClaimRun records that this process owns run id. Call it before creating
// anything of the run.
func ClaimRun(id string) error {
	if !ValidRunID(id) {
		return fmt.Errorf("claim run %q: not a run ID", id)
	}
	return claim("run " + id)
}

// ReleaseRun records that run id was torn down.
func ReleaseRun(id string) error { return release("run " + id) }

// MakeOwnedTempDir creates a temporary directory (mode 0700, name
// "ambientsim-<what>-<random>") owned by this process, for files that must
// not outlive it, such as the data plane's credentials. remove deletes it
// and releases the claim; call it on every exit path (it is idempotent).
// If the process is killed first, the next CleanupOrphans removes it.
func MakeOwnedTempDir(what string) (dir string, remove func() error, err error) {
	dir, err = os.MkdirTemp("", "ambientsim-"+what+"-")
	if err != nil {
		return "", nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	if err := claim("dir " + dir); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	var once sync.Once
	var rerr error
	return dir, func() error {
		once.Do(func() {
			rerr = os.RemoveAll(dir)
			if err := release("dir " + dir); rerr == nil {
				rerr = err
			}
		})
		return rerr
	}, nil
}

func claim(line string) error {
	self.mu.Lock()
	defer self.mu.Unlock()
	if self.f == nil {
		if err := openOwnerFileLocked(); err != nil {
			return err
		}
	}
	if _, err := self.f.WriteString(line + "\n"); err != nil {
		return fmt.Errorf("owner file %s: %w", self.path, err)
	}
	self.claims[line] = true
	return nil
}

func release(line string) error {
	self.mu.Lock()
	defer self.mu.Unlock()
	if self.f == nil || !self.claims[line] {
		return nil
	}
	delete(self.claims, line)
	if len(self.claims) == 0 {
		// Nothing owned any more: the file goes, lock and all.
		err := os.Remove(self.path)
		_ = self.f.Close()
		self.f = nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("owner file: %w", err)
		}
		return nil
	}
	if _, err := self.f.WriteString("-" + line + "\n"); err != nil {
		return fmt.Errorf("owner file %s: %w", self.path, err)
	}
	return nil
}

func openOwnerFileLocked() error {
	dir := OwnerDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("owner directory: %w", err)
	}
	start, err := procStartTime(os.Getpid())
	if err != nil {
		return err
	}
	path := filepath.Join(dir, fmt.Sprintf("%d-%d.owner", os.Getpid(), start))
	// Locked before it gets its name: a cleanup never sees an owner file
	// whose owner has not locked it yet.
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("owner file: %w", err)
	}
	fail := func(err error) error {
		f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("owner file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fail(err)
	}
	if _, err := fmt.Fprintf(f, "pid %d\nstart %d\n", os.Getpid(), start); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	self.f, self.path, self.claims = f, path, map[string]bool{}
	return nil
}

// procStartTime is a process's start time in clock ticks since boot
// (/proc/<pid>/stat field 22): with the PID it names one process for good.
func procStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// ownerRecord is what an owner file says.
type ownerRecord struct {
	path string
	pid  int
	runs []string
	dirs []string
}

// parseOwnerFile reads claims minus releases; a last line without its
// newline (the owner died writing it) is ignored.
func parseOwnerFile(path string, data []byte) ownerRecord {
	rec := ownerRecord{path: path}
	claims := map[string]bool{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	complete := bytes.HasSuffix(data, []byte("\n"))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if !complete && len(lines) > 0 {
		lines = lines[:len(lines)-1]
	}
	for _, line := range lines {
		if v, ok := strings.CutPrefix(line, "pid "); ok {
			rec.pid, _ = strconv.Atoi(v)
			continue
		}
		if v, ok := strings.CutPrefix(line, "-"); ok {
			delete(claims, v)
			continue
		}
		if strings.HasPrefix(line, "run ") || strings.HasPrefix(line, "dir ") {
			if !claims[line] {
				order = append(order, line)
			}
			claims[line] = true
		}
	}
	for _, line := range order {
		if !claims[line] {
			continue
		}
		kind, v, _ := strings.Cut(line, " ")
		switch kind {
		case "run":
			if ValidRunID(v) {
				rec.runs = append(rec.runs, v)
			}
		case "dir":
			if safeOwnedDir(v) {
				rec.dirs = append(rec.dirs, v)
			}
		}
	}
	return rec
}

// safeOwnedDir accepts only what MakeOwnedTempDir creates: an absolute,
// clean path whose last element starts with "ambientsim-". A damaged owner
// file can never make cleanup remove anything else.
func safeOwnedDir(p string) bool {
	return filepath.IsAbs(p) && filepath.Clean(p) == p && strings.HasPrefix(filepath.Base(p), "ambientsim-") &&
		filepath.Dir(p) != p
}

// CleanupOptions configure CleanupOrphans.
type CleanupOptions struct {
	// Runner runs ip; nil runs it for real.
	Runner Runner
	// Unowned also removes resources no owner file claims (left by a
	// harness older than owner files, or by hand) once they look abandoned:
	// no process of the run is alive and its namespaces are older than
	// UnownedMinAge. The same goes for unclaimed ambientsim-validate-,
	// -calibrate- and -refit- temporary directories older than UnownedMinAge.
	Unowned bool
	// UnownedMinAge defaults to one hour.
	UnownedMinAge time.Duration
	// Logf, if set, gets one line per removed run or directory.
	Logf func(format string, args ...any)
}

// CleanupReport says what CleanupOrphans did.
type CleanupReport struct {
	DeadOwners []int      // PIDs of dead owners whose orphans were removed
	Runs       []string   // run IDs removed
	Dirs       []string   // temporary directories removed
	Removed    *Inventory // everything removed of those runs
	LiveRuns   []string   // run IDs of live owners, left alone
	Unowned    []string   // run IDs no owner claims, left alone (Unowned unset, or not abandoned)
}

func (r *CleanupReport) String() string {
	return fmt.Sprintf("dead owners %v: removed runs %v (%s) and directories %v; live runs %v left alone; unowned runs %v left",
		r.DeadOwners, r.Runs, r.Removed, r.Dirs, r.LiveRuns, r.Unowned)
}

// CleanupOrphans removes the orphans of dead harness runs: everything the
// owner files of dead processes still claim (see MakeOwnedTempDir and
// ClaimRun). Runs of live owners are never touched.
func CleanupOrphans(ctx context.Context, o CleanupOptions) (*CleanupReport, error) {
	r := o.Runner
	if r == nil {
		r = ExecRunner{}
	}
	if o.UnownedMinAge <= 0 {
		o.UnownedMinAge = time.Hour
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	rep := &CleanupReport{Removed: &Inventory{}}
	owned := map[string]bool{} // runs any owner file claims, live or dead
	ownedDirs := map[string]bool{}
	var errs []error
	// Owner files that never got their name: their process died creating them.
	stale, _ := filepath.Glob(filepath.Join(OwnerDir(), "*.owner.new"))
	for _, path := range stale {
		if f, err := os.Open(path); err == nil {
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				_ = os.Remove(path)
			}
			f.Close()
		}
	}
	files, _ := filepath.Glob(filepath.Join(OwnerDir(), "*.owner"))
	sort.Strings(files)
	for _, path := range files {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			continue // removed meanwhile
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			// Locked: its owner is alive (or another cleanup holds it).
			data, _ := os.ReadFile(path)
			rec := parseOwnerFile(path, data)
			for _, id := range rec.runs {
				owned[id] = true
				rep.LiveRuns = append(rep.LiveRuns, id)
			}
			for _, d := range rec.dirs {
				ownedDirs[d] = true
			}
			f.Close()
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			f.Close()
			errs = append(errs, err)
			continue
		}
		rec := parseOwnerFile(path, data)
		rep.DeadOwners = append(rep.DeadOwners, rec.pid)
		var ferrs []error
		for _, id := range rec.runs {
			owned[id] = true
			inv, err := Sweep(ctx, r, id)
			if inv != nil {
				rep.Removed.add(inv)
			}
			if err != nil {
				ferrs = append(ferrs, fmt.Errorf("run %s of dead owner %d: %w", id, rec.pid, err))
				continue
			}
			rep.Runs = append(rep.Runs, id)
			logf("removed run %s of dead owner pid %d: %s", id, rec.pid, inv)
		}
		for _, d := range rec.dirs {
			ownedDirs[d] = true
			if err := os.RemoveAll(d); err != nil {
				ferrs = append(ferrs, err)
				continue
			}
			rep.Dirs = append(rep.Dirs, d)
			logf("removed directory %s of dead owner pid %d", d, rec.pid)
		}
		if len(ferrs) == 0 {
			// Only once all of it is gone: a failed removal is retried next time.
			_ = os.Remove(path)
		}
		f.Close()
		errs = append(errs, ferrs...)
	}
	unowned, err := unownedRuns(ctx, r, owned)
	if err != nil {
		errs = append(errs, err)
	}
	for _, id := range unowned {
		if !o.Unowned || !abandoned(id, o.UnownedMinAge) {
			rep.Unowned = append(rep.Unowned, id)
			continue
		}
		inv, err := Sweep(ctx, r, id)
		if inv != nil {
			rep.Removed.add(inv)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("unowned run %s: %w", id, err))
			continue
		}
		rep.Runs = append(rep.Runs, id)
		logf("removed abandoned unowned run %s: %s", id, inv)
	}
	if o.Unowned {
		for _, d := range unownedScratchDirs(os.TempDir(), ownedDirs, o.UnownedMinAge) {
			if err := os.RemoveAll(d); err != nil {
				errs = append(errs, err)
				continue
			}
			rep.Dirs = append(rep.Dirs, d)
			logf("removed abandoned directory %s", d)
		}
	}
	return rep, errors.Join(errs...)
}

func (i *Inventory) add(o *Inventory) {
	i.Netns = append(i.Netns, o.Netns...)
	i.Links = append(i.Links, o.Links...)
	i.Cgroups = append(i.Cgroups, o.Cgroups...)
	i.Processes = append(i.Processes, o.Processes...)
	i.WorkDirs = append(i.WorkDirs, o.WorkDirs...)
}

// unownedRuns lists the run IDs of every harness resource on the machine
// that no owner file claims.
func unownedRuns(ctx context.Context, r Runner, owned map[string]bool) ([]string, error) {
	inv, err := Leftovers(ctx, r, "")
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	add := func(name, prefix string) {
		if rest, ok := strings.CutPrefix(name, prefix); ok && len(rest) >= 6 && ValidRunID(rest[:6]) {
			ids[rest[:6]] = true
		}
	}
	for _, n := range inv.Netns {
		add(n, NetnsPrefix(""))
	}
	for _, l := range inv.Links {
		add(l, LinkPrefix(""))
	}
	for _, c := range inv.Cgroups {
		add(filepath.Base(c), CgroupName(""))
	}
	for _, d := range inv.WorkDirs {
		if m := workDirPattern.FindStringSubmatch(filepath.Base(d)); m != nil {
			ids[m[1]] = true
		}
	}
	for _, pid := range inv.Processes {
		if id := processRunID(pid); id != "" {
			ids[id] = true
		}
	}
	var out []string
	for id := range ids {
		if !owned[id] {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}

// processRunID is the RunEnv value of a process ("" if none).
func processRunID(pid int) string {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return ""
	}
	for _, kv := range bytes.Split(env, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte(RunEnv+"=")); ok {
			return string(v)
		}
	}
	return ""
}

// abandoned reports whether an unowned run looks dead: none of its
// processes runs and its namespaces were created over minAge ago (a run of
// an older harness still building its network has no processes yet).
func abandoned(id string, minAge time.Duration) bool {
	if len(findRunProcesses(id)) > 0 {
		return false
	}
	nss, _ := filepath.Glob(filepath.Join(netnsDir(), NetnsPrefix(id)+"-*"))
	for _, ns := range nss {
		if st, err := os.Lstat(ns); err == nil && time.Since(st.ModTime()) < minAge {
			return false
		}
	}
	return true
}

// scratchPattern names the temporary directories validate and calibrate
// made before they were owned (ambientsim-validate-123, -calibrate-, -refit-).
var scratchPattern = regexp.MustCompile(`^ambientsim-(validate|calibrate|refit)-[0-9]+$`)

func unownedScratchDirs(tmp string, owned map[string]bool, minAge time.Duration) []string {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		p := filepath.Join(tmp, e.Name())
		if !e.IsDir() || !scratchPattern.MatchString(e.Name()) || owned[p] {
			continue
		}
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) >= minAge {
			out = append(out, p)
		}
	}
	return out
}
