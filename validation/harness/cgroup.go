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
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CgroupMode says how per-process CPU and memory are measured.
type CgroupMode string

// Measurement sources.
const (
	CgroupV1   CgroupMode = "cgroup-v1" // cpuacct.usage, memory.max_usage_in_bytes
	CgroupV2   CgroupMode = "cgroup-v2" // cpu.stat usage_usec, memory.peak
	CgroupNone CgroupMode = "proc"      // /proc/<pid>/stat and status, rusage on exit
	// KubeletSummary is the kind backend's source: the kubelet's
	// /stats/summary (container CPU, working-set memory sampled at the
	// start and end of a Run, so the peak is a lower bound).
	KubeletSummary CgroupMode = "kubelet-summary"
)

// cgroupRoot is where cgroup file systems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cgroupSet is one run's cgroup parent directories, one per hierarchy (one
// for v2, cpuacct and memory for v1). They are created under the harness's
// own cgroup, so limits and accounting already applied to the harness still
// apply to what it starts.
type cgroupSet struct {
	mode    CgroupMode
	cpuDir  string // parent for CPU accounting
	memDir  string // parent for memory (== cpuDir on v2)
	memPeak bool   // v2: memory.peak is present
}

// detectCgroups decides the mode from the mounted hierarchies and
// /proc/self/cgroup. It creates nothing.
func detectCgroups(root, selfCgroup string, runID string) (*cgroupSet, error) {
	paths, err := parseSelfCgroup(selfCgroup)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		return &cgroupSet{
			mode:   CgroupV2,
			cpuDir: filepath.Join(root, paths[""], CgroupName(runID)),
			memDir: filepath.Join(root, paths[""], CgroupName(runID)),
		}, nil
	}
	cpu, mem := filepath.Join(root, "cpuacct"), filepath.Join(root, "memory")
	if isDir(cpu) && isDir(mem) {
		cpuPath, ok1 := paths["cpuacct"]
		memPath, ok2 := paths["memory"]
		if ok1 && ok2 {
			return &cgroupSet{
				mode:   CgroupV1,
				cpuDir: filepath.Join(cpu, cpuPath, CgroupName(runID)),
				memDir: filepath.Join(mem, memPath, CgroupName(runID)),
			}, nil
		}
	}
	return &cgroupSet{mode: CgroupNone}, nil
}

// parseSelfCgroup reads /proc/self/cgroup: "ID:controllers:path" lines.
// The v2 line has empty controllers and maps to key "". A v1 line with
// several controllers ("4:cpu,cpuacct:/x") maps each of them.
func parseSelfCgroup(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// create makes the parent directories and records them in j.
func (c *cgroupSet) create(j *Journal) error {
	if c.mode == CgroupNone {
		return nil
	}
	dirs := []string{c.cpuDir}
	if c.memDir != c.cpuDir {
		dirs = append(dirs, c.memDir)
	}
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("create cgroup %s: %w", d, err)
		}
		j.Add("cgroup "+d, func(ctx context.Context) error { return removeCgroup(ctx, d) })
	}
	if c.mode == CgroupV2 {
		// Without the memory controller delegated there is no memory.peak;
		// CPU (cpu.stat usage_usec) is always there. Failing to enable is
		// not fatal: memory then comes from /proc.
		_ = os.WriteFile(filepath.Join(c.cpuDir, "cgroup.subtree_control"), []byte("+memory"), 0o644)
		_ = os.WriteFile(filepath.Join(c.cpuDir, "cgroup.subtree_control"), []byte("+cpu"), 0o644)
	}
	return nil
}

// procCgroup is one process's cgroup directories.
type procCgroup struct {
	mode   CgroupMode
	cpuDir string
	memDir string
}

// newProc makes the cgroup for one process, records it in j and returns it.
func (c *cgroupSet) newProc(j *Journal, name string) (*procCgroup, error) {
	if c.mode == CgroupNone {
		return &procCgroup{mode: CgroupNone}, nil
	}
	leaf := strings.NewReplacer("/", "-", ".", "-").Replace(name)
	pc := &procCgroup{mode: c.mode, cpuDir: filepath.Join(c.cpuDir, leaf), memDir: filepath.Join(c.memDir, leaf)}
	dirs := []string{pc.cpuDir}
	if pc.memDir != pc.cpuDir {
		dirs = append(dirs, pc.memDir)
	}
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, fmt.Errorf("create cgroup for %s: %w", name, err)
		}
		j.Add("cgroup "+d, func(ctx context.Context) error { return removeCgroup(ctx, d) })
	}
	if c.mode == CgroupV2 && !fileExists(filepath.Join(pc.memDir, "memory.peak")) {
		pc.memDir = "" // memory controller not delegated: fall back to /proc
	}
	return pc, nil
}

// procsFiles are the cgroup.procs files a new process must be written to.
func (pc *procCgroup) procsFiles() []string {
	switch pc.mode {
	case CgroupV1:
		return []string{filepath.Join(pc.cpuDir, "cgroup.procs"), filepath.Join(pc.memDir, "cgroup.procs")}
	case CgroupV2:
		return []string{filepath.Join(pc.cpuDir, "cgroup.procs")}
	}
	return nil
}

// cpuSeconds is the CPU time used by everything that ran in the cgroup.
func (pc *procCgroup) cpuSeconds() (float64, error) {
	switch pc.mode {
	case CgroupV1:
		ns, err := readInt(filepath.Join(pc.cpuDir, "cpuacct.usage"))
		return float64(ns) / 1e9, err
	case CgroupV2:
		us, err := readKeyed(filepath.Join(pc.cpuDir, "cpu.stat"), "usage_usec")
		return float64(us) / 1e6, err
	}
	return 0, errors.New("no cgroup")
}

// peakMemoryBytes is the cgroup's high-water memory mark. ok is false when
// the cgroup cannot say (v2 without the memory controller).
func (pc *procCgroup) peakMemoryBytes() (n int64, ok bool, err error) {
	switch pc.mode {
	case CgroupV1:
		n, err = readInt(filepath.Join(pc.memDir, "memory.max_usage_in_bytes"))
		return n, err == nil, err
	case CgroupV2:
		if pc.memDir == "" {
			return 0, false, nil
		}
		n, err = readInt(filepath.Join(pc.memDir, "memory.peak"))
		return n, err == nil, err
	}
	return 0, false, nil
}

// removeCgroup kills whatever still runs in dir and removes it, retrying
// while the kernel still reports it busy.
func removeCgroup(ctx context.Context, dir string) error {
	for {
		err := syscall.Rmdir(dir)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("rmdir %s: %w", dir, err)
		}
		for _, pid := range cgroupPids(dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("rmdir %s: still busy: %w", dir, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// cgroupPids lists the processes in dir and all its sub-cgroups.
func cgroupPids(dir string) []int {
	var pids []int
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return nil
		}
		data, _ := os.ReadFile(p)
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func readInt(p string) (int64, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	return n, nil
}

// readKeyed reads "key value" lines (cpu.stat, memory.stat) and returns key's.
func readKeyed(p, key string) (int64, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == key {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %q line", p, key)
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; it is 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procCPUSeconds reads utime+stime of a running process from /proc.
func procCPUSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after the last ')'
	// are space separated: state is field 3, utime 14, stime 15.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return float64(ut+st) / clockTicks, nil
}

// procPeakRSSBytes reads VmHWM (peak resident set) of a running process.
func procPeakRSSBytes(pid int) (int64, error) {
	kb, err := readKeyedColon(fmt.Sprintf("/proc/%d/status", pid), "VmHWM")
	return kb * 1024, err
}

func readKeyedColon(p, key string) (int64, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && k == key {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s line", p, key)
}
