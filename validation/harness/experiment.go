package harness

import (
	"errors"
	"fmt"
	"time"
)

// ConnMode says how a load generator uses connections.
type ConnMode string

// Connection modes.
const (
	// ConnPersistent keeps Connections connections open and sends every
	// request on one of them (HTTP keep-alive, or a long TCP stream).
	ConnPersistent ConnMode = "persistent"
	// ConnPerRequest opens a new connection for every request, so each
	// request pays the handshake (and, in the mesh, a new HBONE stream).
	ConnPerRequest ConnMode = "per-request"
)

// Experiment is one measured run on a set-up Plan.
type Experiment struct {
	Name     string
	Loads    []Load
	Failures []FailureAction
	// Settle is how long to wait after the loads end before reading the
	// counters, so proxies flush their metrics. 0 means no wait.
	Settle time.Duration
}

// Load is one load generator: which pod sends, to where, how much.
type Load struct {
	// From is the pod (with RoleLoadGen) the load generator runs in.
	From string
	// Target is what it dials: a pod name, a service name, or a literal
	// "ip:port". The Commander resolves names into addresses and mesh
	// paths.
	Target string
	// Protocol is "http" or "tcp"; "" means "http".
	Protocol string
	// RatePerSec is the request rate summed over all connections; 0 means
	// as fast as the connections allow (closed loop).
	RatePerSec float64
	// Duration is how long the load runs.
	Duration time.Duration
	// PayloadBytes is the request body (http) or message (tcp) size.
	PayloadBytes int
	// Connections is the number of concurrent connections (workers).
	Connections int
	Mode        ConnMode
}

// FailureAction is something done to a running process during a Run.
type FailureAction struct {
	// At is the offset from the start of the loads.
	At time.Duration
	// Action is what to do.
	Action FailureKind
	// Target names the process: "nodeproxy/<node>", "waypoint/<name>",
	// "echo/<pod>" or "sidecar/<pod>" (see ProcessName).
	Target string
}

// FailureKind is a kind of failure injected into a process.
type FailureKind string

// Failure kinds.
const (
	FailKill      FailureKind = "kill"          // SIGKILL: crash, no draining
	FailStop      FailureKind = "stop"          // SIGTERM: graceful shutdown
	FailRestart   FailureKind = "restart"       // SIGTERM, then start the same command again
	FailKillAndUp FailureKind = "crash-restart" // SIGKILL, then start it again
)

// Validate checks the experiment against the plan it will run on.
func (e *Experiment) Validate(p *Plan) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(e.Loads) == 0 {
		bad("experiment %q: loads: at least one load is required", e.Name)
	}
	for i, l := range e.Loads {
		field := fmt.Sprintf("experiment %q: loads[%d]", e.Name, i)
		pod, ok := p.PodByName(l.From)
		switch {
		case !ok:
			bad("%s.from %q: no such pod", field, l.From)
		case !pod.HasRole(RoleLoadGen):
			bad("%s.from %q: the pod has no %q role", field, l.From, RoleLoadGen)
		}
		if l.Target == "" {
			bad("%s.target: empty; give a pod, a service or ip:port", field)
		}
		switch l.Protocol {
		case "", "http", "tcp":
		default:
			bad("%s.protocol %q: want \"http\" or \"tcp\"", field, l.Protocol)
		}
		if l.Duration <= 0 {
			bad("%s.duration %v: must be positive (e.g. 5s)", field, l.Duration)
		}
		if l.RatePerSec < 0 || l.PayloadBytes < 0 || l.Connections < 0 {
			bad("%s: rate, payload and connections must not be negative", field)
		}
		switch l.Mode {
		case "", ConnPersistent, ConnPerRequest:
		default:
			bad("%s.mode %q: want %q or %q", field, l.Mode, ConnPersistent, ConnPerRequest)
		}
	}
	procs := map[string]bool{}
	if p.ControlPlane != "" {
		procs[ProcessName(KindControlPlane, p.ControlPlane)] = true
	}
	for _, n := range p.NodeProxies {
		procs[ProcessName(KindNodeProxy, n.Node)] = true
	}
	for _, w := range p.Waypoints {
		procs[ProcessName(KindWaypoint, w.Name)] = true
	}
	for _, pod := range p.Pods {
		if pod.HasRole(RoleEcho) {
			procs[ProcessName(KindEcho, pod.Name)] = true
		}
		if pod.HasRole(RoleSidecar) {
			procs[ProcessName(KindSidecar, pod.Name)] = true
		}
	}
	for i, f := range e.Failures {
		field := fmt.Sprintf("experiment %q: failures[%d]", e.Name, i)
		if !procs[f.Target] {
			bad("%s.target %q: no such long-running process (want e.g. %q)", field, f.Target, "nodeproxy/node-a")
		}
		switch f.Action {
		case FailKill, FailStop, FailRestart, FailKillAndUp:
		default:
			bad("%s.action %q: want %q, %q, %q or %q", field, f.Action, FailKill, FailStop, FailRestart, FailKillAndUp)
		}
		if f.At < 0 {
			bad("%s.at %v: must not be negative", field, f.At)
		}
	}
	return errors.Join(errs...)
}

// Longest returns the duration of the longest load.
func (e *Experiment) Longest() time.Duration {
	var d time.Duration
	for _, l := range e.Loads {
		d = max(d, l.Duration)
	}
	return d
}
