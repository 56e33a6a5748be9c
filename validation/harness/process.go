package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one running (or finished) harness process: the command, its
// namespace, its cgroup and its log.
type process struct {
	spec    ProcessSpec
	command Command
	netns   string
	cg      *procCgroup
	logPath string
	runID   string

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{} // closed when the current incarnation exits
	waitErr  error
	state    *os.ProcessState
	restarts int
	// cpuPrev accumulates the CPU of earlier incarnations in /proc mode,
	// where the numbers die with the process.
	cpuPrev float64
	peakMem int64
}

// cgroupJoinScript moves the shell into each cgroup.procs file given (the
// count comes first), then execs the rest of its arguments, so the process
// is accounted from its first instruction. Arguments travel as "$@", never
// through the shell's parser.
const cgroupJoinScript = `n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"`

// argv is the full command line: sh (cgroup join) → ip netns exec → binary.
func (p *process) argv() []string {
	files := p.cg.procsFiles()
	argv := []string{"/bin/sh", "-c", cgroupJoinScript, "sh", fmt.Sprint(len(files))}
	argv = append(argv, files...)
	argv = append(argv, "ip", "netns", "exec", p.netns, p.command.Path)
	return append(argv, p.command.Args...)
}

// start launches the process. Its output goes to logPath (appended, so a
// restart keeps the earlier incarnation's log).
func (p *process) start() error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.spec.Name, err)
	}
	defer logf.Close()
	argv := p.argv()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		RunEnv + "=" + p.runID,
		OwnerEnv + "=" + strconv.Itoa(os.Getpid()),
		"AMBIENTSIM_PROCESS=" + p.spec.Name,
	}, p.command.Env...)
	cmd.SysProcAttr = childAttr()
	if err := spawn(cmd); err != nil {
		return fmt.Errorf("start %s: %w", p.spec.Name, err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done, p.waitErr, p.state = cmd, done, nil, nil
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr, p.state = err, cmd.ProcessState
		if p.cg.mode == CgroupNone && cmd.ProcessState != nil {
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				p.cpuPrev += tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
				p.peakMem = max(p.peakMem, ru.Maxrss*1024)
			}
		}
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

func tvSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

// exited reports whether the current incarnation has ended.
func (p *process) exited() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// wait blocks until the current incarnation exits or ctx ends.
func (p *process) wait(ctx context.Context) error {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.waitErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// signal sends sig to the process group.
func (p *process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil || p.exited() {
		return nil
	}
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %v to %s: %w", sig, p.spec.Name, err)
	}
	return nil
}

// stop asks the process to end (SIGTERM), and kills it (SIGKILL) if it has
// not within grace. It returns once the process has exited.
func (p *process) stop(ctx context.Context, grace time.Duration) error {
	if p.exited() {
		return nil
	}
	if err := p.signal(syscall.SIGTERM); err != nil {
		return err
	}
	gctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	if err := p.wait(gctx); err == nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return nil
	}
	return p.kill(ctx)
}

// kill sends SIGKILL and waits for the exit.
func (p *process) kill(ctx context.Context) error {
	if err := p.signal(syscall.SIGKILL); err != nil {
		return err
	}
	err := p.wait(ctx)
	if err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return fmt.Errorf("%s did not exit after SIGKILL: %w", p.spec.Name, err)
	}
	return nil
}

// pid is the current incarnation's process ID (0 if none).
func (p *process) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// usage reads the CPU seconds and peak memory so far.
func (p *process) usage() (cpu float64, peak int64, source CgroupMode, err error) {
	if p.cg.mode != CgroupNone {
		cpu, err = p.cg.cpuSeconds()
		if err != nil {
			return 0, 0, p.cg.mode, fmt.Errorf("%s: %w", p.spec.Name, err)
		}
		if n, ok, err := p.cg.peakMemoryBytes(); ok && err == nil {
			return cpu, n, p.cg.mode, nil
		}
		// v2 without memory controller: memory from /proc below.
		_, peak, _, _ = p.procUsage()
		return cpu, peak, p.cg.mode, nil
	}
	return p.procUsage()
}

// peakRSS is VmHWM of the running process, 0 if it has exited.
func (p *process) peakRSS() int64 {
	pid := p.pid()
	if pid == 0 || p.exited() {
		return 0
	}
	n, err := procPeakRSSBytes(pid)
	if err != nil {
		return 0
	}
	return n
}

// procUsage is the /proc + rusage fallback.
func (p *process) procUsage() (cpu float64, peak int64, source CgroupMode, err error) {
	p.mu.Lock()
	cpu, peak = p.cpuPrev, p.peakMem
	p.mu.Unlock()
	if pid := p.pid(); pid != 0 && !p.exited() {
		if c, err := procCPUSeconds(pid); err == nil {
			cpu += c
		}
		if m, err := procPeakRSSBytes(pid); err == nil {
			peak = max(peak, m)
		}
	}
	return cpu, peak, CgroupNone, nil
}

// logTail returns the last n bytes of the process log, for error messages.
func (p *process) logTail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return strings.TrimSpace(string(data))
}
