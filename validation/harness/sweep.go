package harness

import (
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
	"syscall"
	"time"
)

// Inventory lists what exists on the machine for a run-ID prefix.
type Inventory struct {
	Netns     []string // network namespace names
	Links     []string // interface names in the host namespace
	Cgroups   []string // cgroup directories
	Processes []int    // PIDs carrying RunEnv=<matching id>
	WorkDirs  []string // temporary work directories (logs, results)
}

// Empty reports whether nothing was found.
func (i *Inventory) Empty() bool {
	return len(i.Netns)+len(i.Links)+len(i.Cgroups)+len(i.Processes)+len(i.WorkDirs) == 0
}

func (i *Inventory) String() string {
	return fmt.Sprintf("netns %v, links %v, cgroups %v, processes %v, work directories %v", i.Netns, i.Links, i.Cgroups, i.Processes, i.WorkDirs)
}

// Leftovers lists the namespaces, host interfaces, cgroups and processes
// of every run whose ID starts with idPrefix ("" = every run).
func Leftovers(ctx context.Context, r Runner, idPrefix string) (*Inventory, error) {
	inv := &Inventory{}
	out, err := r.Run(ctx, "ip", "netns", "list")
	if err != nil {
		return nil, fmt.Errorf("list network namespaces: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], NetnsPrefix(idPrefix)) {
			inv.Netns = append(inv.Netns, f[0])
		}
	}
	out, err = r.Run(ctx, "ip", "-o", "link", "show")
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		// "12: asab12cdv0@if3: <...>"
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if strings.HasPrefix(name, LinkPrefix(idPrefix)) {
			inv.Links = append(inv.Links, name)
		}
	}
	inv.Cgroups = findCgroupDirs(cgroupRoot, CgroupName(idPrefix))
	inv.Processes = findRunProcesses(idPrefix)
	inv.WorkDirs = findWorkDirs(os.TempDir(), idPrefix)
	sort.Strings(inv.Netns)
	sort.Strings(inv.Links)
	return inv, nil
}

// findCgroupDirs finds directories named prefix* under root, at most a few
// levels deep (the harness nests them under its own cgroup).
func findCgroupDirs(root, prefix string) []string {
	var out []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), prefix) {
			out = append(out, p)
			return fs.SkipDir
		}
		if strings.Count(strings.TrimPrefix(p, root), "/") >= 4 {
			return fs.SkipDir
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// workDirPattern is the name os.MkdirTemp gives a run's temporary work
// directory ("ambientsim-<run ID>-<random digits>").
var workDirPattern = regexp.MustCompile(`^ambientsim-([a-z0-9]{6})-[0-9]+$`)

// findWorkDirs finds the temporary work directories of runs whose ID
// starts with idPrefix.
func findWorkDirs(dir, idPrefix string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		m := workDirPattern.FindStringSubmatch(e.Name())
		if e.IsDir() && m != nil && strings.HasPrefix(m[1], idPrefix) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// findRunProcesses finds processes whose initial environment carries
// RunEnv with a value starting with idPrefix.
func findRunProcesses(idPrefix string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	needle := []byte(RunEnv + "=" + idPrefix)
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.HasPrefix(kv, needle) {
				// A zombie (already dead, waiting for its parent to reap it)
				// holds nothing; skip it.
				if !isZombie(pid) {
					pids = append(pids, pid)
				}
				break
			}
		}
	}
	sort.Ints(pids)
	return pids
}

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(data, ')')
	return i >= 0 && i+2 < len(data) && (data[i+2] == 'Z' || data[i+2] == 'X')
}

// Sweep removes the leftovers of crashed or killed runs whose ID starts
// with idPrefix: it kills their processes, deletes their network
// namespaces and host interfaces, removes their cgroups and temporary work
// directories. Pass "" to
// sweep every ambientsim run on the machine. It returns what it found.
func Sweep(ctx context.Context, r Runner, idPrefix string) (*Inventory, error) {
	inv, err := Leftovers(ctx, r, idPrefix)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, pid := range inv.Processes {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("kill %d: %w", pid, err))
		}
	}
	for _, ns := range inv.Netns {
		if err := deleteNetns(ctx, r, ns); err != nil {
			errs = append(errs, err)
		}
	}
	for _, link := range inv.Links {
		if _, err := r.Run(ctx, "ip", "link", "del", link); err != nil && !isNotFound(err) {
			errs = append(errs, err)
		}
	}
	for _, d := range inv.WorkDirs {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	// Deepest first: process cgroups before their run's parent.
	for i := len(inv.Cgroups) - 1; i >= 0; i-- {
		dir := inv.Cgroups[i]
		var subs []string
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				subs = append(subs, p)
			}
			return nil
		})
		for j := len(subs) - 1; j >= 0; j-- {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := removeCgroup(cctx, subs[j]); err != nil {
				errs = append(errs, err)
			}
			cancel()
		}
	}
	return inv, errors.Join(errs...)
}

// deleteNetns kills every process still inside namespace ns, then deletes
// it. A process left inside would keep the namespace (and its interfaces)
// alive after the name is gone.
func deleteNetns(ctx context.Context, r Runner, ns string) error {
	if out, err := r.Run(ctx, "ip", "netns", "pids", ns); err == nil {
		for _, f := range strings.Fields(string(out)) {
			// Never ourselves: a thread of ours may be visiting the namespace.
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if _, err := r.Run(ctx, "ip", "netns", "del", ns); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete network namespace %s: %w", ns, err)
	}
	return nil
}

// isNotFound reports whether a failed ip/tc command failed because the
// object is already gone.
func isNotFound(err error) bool {
	var ce *CommandError
	if !errors.As(err, &ce) {
		return false
	}
	s := ce.Stderr
	return strings.Contains(s, "Cannot find device") || strings.Contains(s, "No such file") ||
		strings.Contains(s, "does not exist") ||
		strings.Contains(s, "Cannot open network namespace")
}
