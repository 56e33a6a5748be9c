package harness

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Backend builds a Plan somewhere real, runs Experiments on it and removes
// it again. Setup and Teardown bracket any number of Runs.
//
// Contract: after Setup returns (even with an error) the caller must call
// Teardown; Teardown is idempotent and removes everything Setup and Run
// created, also when their context was cancelled half way.
type Backend interface {
	// Name is the backend's name as given to --backend ("local", "kind").
	Name() string
	// Setup builds the plan's nodes, pods and long-running processes (node
	// proxies, waypoints, echo apps, sidecars) and waits until they are
	// ready.
	Setup(ctx context.Context, plan *Plan) error
	// Run starts the experiment's load generators, injects its failures,
	// waits for the loads to end and returns what was measured.
	Run(ctx context.Context, exp *Experiment) (*Measurement, error)
	// Teardown removes everything created, in reverse order of creation.
	Teardown(ctx context.Context) error
}

// ProcessKind is what a harness-started process is.
type ProcessKind string

// Process kinds.
const (
	KindControlPlane ProcessKind = "controlplane"
	KindNodeProxy    ProcessKind = "nodeproxy"
	KindWaypoint     ProcessKind = "waypoint"
	KindEcho         ProcessKind = "echo"
	KindSidecar      ProcessKind = "sidecar"
	KindLoadGen      ProcessKind = "loadgen"
)

// ProcessName is the harness name of a process: "<kind>/<owner>", where
// owner is the node (node proxies), waypoint or pod name.
func ProcessName(kind ProcessKind, owner string) string { return string(kind) + "/" + owner }

// ProcessSpec describes a process the harness is about to start; a
// Commander turns it into a command line.
type ProcessSpec struct {
	// Backend is the backend asking: "local" (addresses are IPs in
	// Layout) or "kind" (Layout is nil; use Kubernetes names and the
	// POD_IP, HOST_IP and NODE_NAME environment variables, which the
	// manifests set and Kubernetes expands as $(VAR) in Args).
	Backend string
	Kind    ProcessKind
	Name    string // ProcessName(Kind, Owner)
	// Owner is the node name (node proxies, control plane) or the
	// pod/waypoint name.
	Owner string
	Node  string
	// IP is the process's own address: the node's fabric IP for a node
	// proxy or the control plane, the pod IP otherwise.
	IP netip.Addr
	// Plan and Layout describe the whole run, for resolving peers.
	Plan   *Plan
	Layout *Layout
	// Load is set for KindLoadGen.
	Load *Load
	// ResultPath is where a load generator must write its fortio-style
	// JSON result (set for KindLoadGen).
	ResultPath string
	// Dir is a private scratch directory for the process (certificates,
	// config files).
	Dir string
}

// Command is how to start a process, and how to tell it is up.
type Command struct {
	Path string
	Args []string
	Env  []string // added to a minimal environment
	// ReadyAddr is an "ip:port" that accepts TCP connections, from inside
	// the process's namespace, once the process is ready; "" means do not
	// wait.
	ReadyAddr string
	// MetricsURL is the process's Prometheus endpoint as seen from inside
	// its namespace, e.g. "http://100.70.1.1:15020/metrics"; "" = none.
	MetricsURL string
}

// Commander turns process specs into commands: it knows the data plane's
// binaries and flags, which the harness does not.
type Commander interface {
	Command(spec ProcessSpec) (Command, error)
}

// CommanderFunc adapts a function to Commander.
type CommanderFunc func(spec ProcessSpec) (Command, error)

// Command calls f.
func (f CommanderFunc) Command(spec ProcessSpec) (Command, error) { return f(spec) }

// ErrNeedsRoot is returned by the local backend when it lacks the
// privileges to create network namespaces.
var ErrNeedsRoot = errors.New("the local backend needs root to create network namespaces; run as root or use --backend kind")

// Session runs one experiment on a fresh environment: Setup, Run,
// Teardown. Teardown always happens — after an error, and when ctx is
// cancelled or the process gets SIGINT or SIGTERM (Ctrl-C) — with its own
// deadline of teardownTimeout, so a cancelled ctx cannot stop the cleanup.
func Session(ctx context.Context, b Backend, plan *Plan, exp *Experiment, teardownTimeout time.Duration) (m *Measurement, err error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
		defer cancel()
		if terr := b.Teardown(tctx); terr != nil {
			err = errors.Join(err, fmt.Errorf("%s backend: teardown: %w", b.Name(), terr))
		}
	}()
	if err := b.Setup(ctx, plan); err != nil {
		return nil, fmt.Errorf("%s backend: setup: %w", b.Name(), err)
	}
	m, err = b.Run(ctx, exp)
	if err != nil {
		return m, fmt.Errorf("%s backend: run %q: %w", b.Name(), exp.Name, err)
	}
	return m, nil
}
