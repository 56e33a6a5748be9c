package harness

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// LocalOptions configures the local backend.
type LocalOptions struct {
	// RunID names everything the run creates; "" picks NewRunID().
	RunID string
	// Commander knows the data plane's command lines. Required.
	Commander Commander
	// WorkDir holds logs and load-generator results. "" makes a temporary
	// directory that Teardown removes; a given directory is kept.
	WorkDir string
	// ReadyTimeout bounds the wait for one process to accept connections
	// on its ReadyAddr (default 20 s).
	ReadyTimeout time.Duration
	// StopGrace is how long a process may take to exit after SIGTERM
	// before it is killed (default 3 s).
	StopGrace time.Duration
	// LoadGrace is how long a load generator may run past its Duration
	// before it is killed and its load counted as failed (default 30 s).
	LoadGrace time.Duration
	// ScrapeTimeout bounds one metrics scrape (default 5 s).
	ScrapeTimeout time.Duration
	// Runner runs ip, tc and sysctl; nil runs them for real.
	Runner Runner
	// NoCgroups measures through /proc and rusage even where cgroups are
	// available (they are preferred: they count every thread and child
	// from the first instruction, and keep the numbers after exit).
	NoCgroups bool
	// Logf, if set, receives one line per step.
	Logf func(format string, args ...any)
}

// Local is the local backend: every node is a Linux network namespace
// with a bridge, every pod a namespace wired to its node's bridge by a
// veth pair, the nodes joined by a "fabric" namespace's bridge, and every
// process of the data plane a real process in its namespace and its own
// cgroup. It needs root.
type Local struct {
	opts    LocalOptions
	runner  Runner
	runID   string
	journal Journal

	mu          sync.Mutex
	plan        *Plan
	layout      *Layout
	workDir     string
	cgroups     *cgroupSet
	netem       bool
	notEmulated []string
	procs       []*process // long-running, in start order
	runs        int
}

// NewLocal returns a local backend. It creates nothing until Setup.
func NewLocal(opts LocalOptions) (*Local, error) {
	if opts.Commander == nil {
		return nil, errors.New("local backend: no Commander: the harness needs one to know the data plane's command lines")
	}
	if opts.RunID == "" {
		opts.RunID = NewRunID()
	}
	if !ValidRunID(opts.RunID) {
		return nil, fmt.Errorf("local backend: run ID %q: want 6 characters of [a-z0-9]", opts.RunID)
	}
	setDefault := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	setDefault(&opts.ReadyTimeout, 20*time.Second)
	setDefault(&opts.StopGrace, 3*time.Second)
	setDefault(&opts.LoadGrace, 30*time.Second)
	setDefault(&opts.ScrapeTimeout, 5*time.Second)
	r := opts.Runner
	if r == nil {
		r = ExecRunner{}
	}
	b := &Local{opts: opts, runner: r, runID: opts.RunID}
	b.journal.Logf = opts.Logf
	return b, nil
}

// Name returns "local".
func (b *Local) Name() string { return "local" }

// RunID returns the run ID naming everything this backend creates.
func (b *Local) RunID() string { return b.runID }

// Layout returns the resolved plan (nil before Setup).
func (b *Local) Layout() *Layout {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.layout
}

// NotEmulated lists the plan's wishes that this machine cannot honour.
func (b *Local) NotEmulated() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.notEmulated...)
}

// Journal returns what is currently created, oldest first.
func (b *Local) Journal() []string { return b.journal.Entries() }

// WorkDir returns the directory holding logs and results ("" before Setup).
func (b *Local) WorkDir() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.workDir
}

func (b *Local) logf(format string, args ...any) {
	if b.opts.Logf != nil {
		b.opts.Logf(format, args...)
	}
}

// CheckPrerequisites reports what the local backend lacks on this machine:
// root, and the ip, tc and sh programs.
func CheckPrerequisites() error {
	if os.Geteuid() != 0 {
		return ErrNeedsRoot
	}
	var missing []string
	for _, tool := range []string{"ip", "tc", "sysctl", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the local backend needs %s in PATH (Debian: apt-get install iproute2 procps)", strings.Join(missing, ", "))
	}
	return nil
}

// Setup builds the plan: namespaces, links, routes, shaping, cgroups, and
// the long-running processes (node proxies, waypoints, sidecars, echo
// apps), each waited for until ready. On any failure, and when ctx is
// cancelled, it removes what it created before returning.
func (b *Local) Setup(ctx context.Context, plan *Plan) (err error) {
	if err := CheckPrerequisites(); err != nil {
		return err
	}
	if b.Layout() != nil {
		return errors.New("local backend: already set up; call Teardown first")
	}
	// A harness start removes what killed runs left behind (their owner
	// process is gone); live runs are left alone.
	if rep, err := CleanupOrphans(ctx, CleanupOptions{Runner: b.runner, Logf: b.opts.Logf}); err != nil {
		b.logf("removing orphans of dead runs: %v", err)
	} else if len(rep.Runs)+len(rep.Dirs) > 0 {
		b.logf("removed orphans of dead runs: %s", rep)
	}
	// Claimed before anything of the run exists, released after all of it
	// is gone (the journal unwinds newest first).
	if err := ClaimRun(b.runID); err != nil {
		return fmt.Errorf("local backend: %w", err)
	}
	b.journal.Add("owner claim on run "+b.runID, func(context.Context) error { return ReleaseRun(b.runID) })
	return b.setup(ctx, plan, true)
}

func (b *Local) setup(ctx context.Context, plan *Plan, processes bool) (err error) {
	b.mu.Lock()
	if b.layout != nil {
		b.mu.Unlock()
		return errors.New("local backend: already set up; call Teardown first")
	}
	b.mu.Unlock()
	layout, err := NewLayout(plan, b.runID)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.plan, b.layout = plan, layout
	b.mu.Unlock()
	defer func() {
		if err != nil {
			if uerr := b.Teardown(ctx); uerr != nil {
				err = errors.Join(err, fmt.Errorf("cleanup after failed setup: %w", uerr))
			}
		}
	}()
	if err := b.makeWorkDir(); err != nil {
		return err
	}
	if err := b.buildNetwork(ctx); err != nil {
		return err
	}
	if !processes {
		return nil
	}
	cg, err := detectCgroups(cgroupRoot, "/proc/self/cgroup", b.runID)
	if err != nil {
		return err
	}
	if b.opts.NoCgroups {
		cg = &cgroupSet{mode: CgroupNone}
	}
	if err := cg.create(&b.journal); err != nil {
		// Measuring through /proc is worse but still a measurement.
		b.logf("cgroups unavailable (%v); measuring CPU and memory through /proc", err)
		cg = &cgroupSet{mode: CgroupNone}
	}
	b.mu.Lock()
	b.cgroups = cg
	b.mu.Unlock()
	return b.startLongRunning(ctx)
}

func (b *Local) makeWorkDir() error {
	dir := b.opts.WorkDir
	if dir == "" {
		d, err := os.MkdirTemp("", "ambientsim-"+b.runID+"-")
		if err != nil {
			return fmt.Errorf("local backend: work directory: %w", err)
		}
		dir = d
		b.journal.Add("work directory "+dir, func(context.Context) error { return os.RemoveAll(dir) })
	}
	for _, sub := range []string{"logs", "results", "proc"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("local backend: work directory: %w", err)
		}
	}
	b.mu.Lock()
	b.workDir = dir
	b.mu.Unlock()
	return nil
}

// run runs one system command under ctx.
func (b *Local) run(ctx context.Context, args ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := b.runner.Run(ctx, args[0], args[1:]...)
	return err
}

// addNetns creates a namespace with loopback up, and journals its removal.
func (b *Local) addNetns(ctx context.Context, ns string) error {
	if err := b.run(ctx, "ip", "netns", "add", ns); err != nil {
		return err
	}
	b.journal.Add("netns "+ns, func(ctx context.Context) error { return deleteNetns(ctx, b.runner, ns) })
	return b.run(ctx, "ip", "-n", ns, "link", "set", "lo", "up")
}

// addLink creates an interface with `ip -n ns link add name ...rest` and
// journals its removal (a veth's removal takes its peer along).
func (b *Local) addLink(ctx context.Context, ns, name string, rest ...string) error {
	args := append([]string{"ip", "-n", ns, "link", "add", name}, rest...)
	if err := b.run(ctx, args...); err != nil {
		return err
	}
	b.journal.Add("link "+name+" in "+ns, func(ctx context.Context) error {
		if _, err := b.runner.Run(ctx, "ip", "-n", ns, "link", "del", name); err != nil && !isNotFound(err) {
			return err
		}
		return nil
	})
	return nil
}

// buildNetwork creates the fabric, node and pod namespaces, wires them and
// applies the link shaping.
func (b *Local) buildNetwork(ctx context.Context) error {
	l := b.layout
	b.logf("run %s: building %d nodes and %d pods", l.RunID, len(l.Nodes), len(l.Sandboxes))
	// The fabric: one bridge all node uplinks plug into.
	if err := b.addNetns(ctx, l.Fabric); err != nil {
		return err
	}
	if err := b.addLink(ctx, l.Fabric, l.FabricBridge, "type", "bridge"); err != nil {
		return err
	}
	if err := b.run(ctx, "ip", "-n", l.Fabric, "link", "set", l.FabricBridge, "up"); err != nil {
		return err
	}
	b.netem = detectNetem(ctx, b.runner, l.Fabric)

	fabricBits := l.FabricPrefix.Bits()
	for _, n := range l.Nodes {
		// The node routes between its pods too (they are /32s behind its
		// bridge), so it must not tell them to talk directly (redirects).
		steps := [][]string{
			{"ip", "netns", "exec", n.Netns, "sysctl", "-qw", "net.ipv4.ip_forward=1",
				"net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0",
				"net.ipv4.conf." + n.Bridge + ".send_redirects=0"},
		}
		if err := b.addNetns(ctx, n.Netns); err != nil {
			return err
		}
		if err := b.addLink(ctx, n.Netns, n.Bridge, "type", "bridge"); err != nil {
			return err
		}
		if err := b.addLink(ctx, n.Netns, n.Uplink, "type", "veth", "peer", "name", n.FabricPort, "netns", l.Fabric); err != nil {
			return err
		}
		steps = append(steps,
			[]string{"ip", "-n", n.Netns, "addr", "add", prefixOf(n.Gateway, n.PodCIDR.Bits()), "dev", n.Bridge},
			[]string{"ip", "-n", n.Netns, "link", "set", n.Bridge, "up"},
			[]string{"ip", "-n", n.Netns, "addr", "add", prefixOf(n.IP, fabricBits), "dev", n.Uplink},
			[]string{"ip", "-n", n.Netns, "link", "set", n.Uplink, "up"},
			[]string{"ip", "-n", l.Fabric, "link", "set", n.FabricPort, "master", l.FabricBridge},
			[]string{"ip", "-n", l.Fabric, "link", "set", n.FabricPort, "up"},
		)
		for _, s := range steps {
			if err := b.run(ctx, s...); err != nil {
				return err
			}
		}
	}
	// Routes: every node reaches every other node's pods via that node.
	for _, n := range l.Nodes {
		for _, peer := range l.Nodes {
			if peer.Name == n.Name {
				continue
			}
			if err := b.run(ctx, "ip", "-n", n.Netns, "route", "add", peer.PodCIDR.String(), "via", peer.IP.String(), "dev", n.Uplink); err != nil {
				return err
			}
		}
	}
	for _, s := range l.Sandboxes {
		node, _ := l.Node(s.Node)
		if err := b.addNetns(ctx, s.Netns); err != nil {
			return err
		}
		if err := b.addLink(ctx, node.Netns, s.NodePort, "type", "veth", "peer", "name", PodInterface, "netns", s.Netns); err != nil {
			return err
		}
		for _, step := range [][]string{
			{"ip", "-n", node.Netns, "link", "set", s.NodePort, "master", node.Bridge},
			{"ip", "-n", node.Netns, "link", "set", s.NodePort, "up"},
			// A /32 with the gateway on-link, as Calico does: every packet,
			// also to a pod on the same node, passes the node's IP layer,
			// where the node proxy captures it.
			{"ip", "-n", s.Netns, "addr", "add", prefixOf(s.IP, 32), "dev", PodInterface},
			{"ip", "-n", s.Netns, "link", "set", PodInterface, "up"},
			{"ip", "-n", s.Netns, "route", "add", node.Gateway.String(), "dev", PodInterface, "scope", "link"},
			{"ip", "-n", s.Netns, "route", "add", "default", "via", node.Gateway.String(), "dev", PodInterface},
		} {
			if err := b.run(ctx, step...); err != nil {
				return err
			}
		}
	}
	for _, c := range captureCommands(l, b.plan.CapturePorts) {
		if err := b.run(ctx, c...); err != nil {
			return fmt.Errorf("traffic capture: %w", err)
		}
	}
	cmds, notEmulated := shapingCommands(l, b.plan.Network, b.netem)
	for _, c := range cmds {
		if err := b.run(ctx, c...); err != nil {
			return fmt.Errorf("link shaping: %w", err)
		}
	}
	b.mu.Lock()
	b.notEmulated = notEmulated
	b.mu.Unlock()
	for _, ne := range notEmulated {
		b.logf("not emulated: %s", ne)
	}
	return nil
}

func prefixOf(a netip.Addr, bits int) string { return netip.PrefixFrom(a, bits).String() }

// longRunning lists the processes Setup starts, in start order: the
// control plane, node proxies, waypoints, sidecars, then the apps.
func (b *Local) longRunning() []ProcessSpec {
	l, p := b.layout, b.plan
	var specs []ProcessSpec
	if p.ControlPlane != "" {
		n, _ := l.Node(p.ControlPlane)
		specs = append(specs, ProcessSpec{Kind: KindControlPlane, Owner: n.Name, Node: n.Name, IP: n.IP})
	}
	for _, np := range p.NodeProxies {
		n, _ := l.Node(np.Node)
		specs = append(specs, ProcessSpec{Kind: KindNodeProxy, Owner: n.Name, Node: n.Name, IP: n.IP})
	}
	for _, w := range p.Waypoints {
		s, _ := l.Sandbox(w.Name)
		specs = append(specs, ProcessSpec{Kind: KindWaypoint, Owner: w.Name, Node: w.Node, IP: s.IP})
	}
	for _, kind := range []struct {
		role Role
		kind ProcessKind
	}{{RoleSidecar, KindSidecar}, {RoleEcho, KindEcho}} {
		for _, pod := range p.Pods {
			if pod.HasRole(kind.role) {
				s, _ := l.Sandbox(pod.Name)
				specs = append(specs, ProcessSpec{Kind: kind.kind, Owner: pod.Name, Node: pod.Node, IP: s.IP})
			}
		}
	}
	return specs
}

// netnsOf is the namespace a process runs in.
func (b *Local) netnsOf(spec ProcessSpec) string {
	if spec.Kind == KindNodeProxy || spec.Kind == KindControlPlane {
		n, _ := b.layout.Node(spec.Owner)
		return n.Netns
	}
	s, _ := b.layout.Sandbox(spec.Owner)
	return s.Netns
}

// newProcess asks the Commander for the command line, makes the process's
// cgroup and scratch directory, and starts it.
func (b *Local) newProcess(ctx context.Context, spec ProcessSpec, netns string) (*process, error) {
	spec.Name = ProcessName(spec.Kind, spec.Owner)
	spec.Backend, spec.Plan, spec.Layout = b.Name(), b.plan, b.layout
	leaf := strings.NewReplacer("/", "-").Replace(spec.Name)
	spec.Dir = filepath.Join(b.workDir, "proc", leaf)
	if err := os.MkdirAll(spec.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	cmd, err := b.opts.Commander.Command(spec)
	if err != nil {
		return nil, fmt.Errorf("start %s: command: %w", spec.Name, err)
	}
	if cmd.Path == "" {
		return nil, fmt.Errorf("start %s: the Commander gave no program path", spec.Name)
	}
	cg, err := b.cgroups.newProc(&b.journal, spec.Name)
	if err != nil {
		return nil, err
	}
	p := &process{
		spec:    spec,
		command: cmd,
		netns:   netns,
		cg:      cg,
		logPath: filepath.Join(b.workDir, "logs", leaf+".log"),
		runID:   b.runID,
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := p.start(); err != nil {
		return nil, err
	}
	b.journal.Add("process "+spec.Name, func(ctx context.Context) error { return p.stop(ctx, b.opts.StopGrace) })
	b.logf("started %s (pid %d) in %s", spec.Name, p.pid(), p.netns)
	return p, nil
}

func (b *Local) startLongRunning(ctx context.Context) error {
	for _, spec := range b.longRunning() {
		p, err := b.newProcess(ctx, spec, b.netnsOf(spec))
		if err != nil {
			return err
		}
		b.mu.Lock()
		b.procs = append(b.procs, p)
		b.mu.Unlock()
		if err := b.waitReady(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// waitReady dials the process's ReadyAddr from inside its namespace until
// it accepts, the process exits, ReadyTimeout passes or ctx ends.
func (b *Local) waitReady(ctx context.Context, p *process) error {
	if p.command.ReadyAddr == "" {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, b.opts.ReadyTimeout)
	defer cancel()
	var last error
	for {
		if p.exited() {
			return fmt.Errorf("%s exited before it was ready (%v); log tail:\n%s", p.spec.Name, p.wait(ctx), p.logTail(2000))
		}
		dctx, dcancel := context.WithTimeout(rctx, time.Second)
		conn, err := DialInNetns(dctx, p.netns, "tcp", p.command.ReadyAddr)
		dcancel()
		if err == nil {
			_ = conn.Close()
			return nil
		}
		last = err
		select {
		case <-rctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s not ready on %s within %v: %v; log tail:\n%s", p.spec.Name, p.command.ReadyAddr, b.opts.ReadyTimeout, last, p.logTail(2000))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Teardown stops every process and removes every namespace, interface,
// cgroup and (temporary) file the backend created, newest first. It is
// idempotent and keeps going past failures, returning them all.
func (b *Local) Teardown(ctx context.Context) error {
	err := b.journal.Unwind(ctx)
	b.mu.Lock()
	b.plan, b.layout, b.procs, b.cgroups, b.workDir = nil, nil, nil, nil, ""
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("local backend teardown of run %s: %w", b.runID, err)
	}
	return nil
}
