package calibrate

import (
	"fmt"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/harness/dataplane"
)

// Path is one request path the design exercises, each from a load
// generator on node-b to a server on node-a (two nodes, one zone).
type Path string

// Paths of the calibration plan.
const (
	PathPlain    Path = "plain"    // out of mesh, cross node: the baseline
	PathPlainSN  Path = "plain-sn" // out of mesh, same node
	PathL4       Path = "l4"       // ambient L4: node proxy → node proxy (pod-addressed)
	PathL4SN     Path = "l4-sn"    // ambient L4, same node: one node proxy plays both sides
	PathWaypoint Path = "waypoint" // ambient through the service's waypoint
	PathSidecar  Path = "sidecar"  // sidecar → sidecar over mTLS
)

// Step is one micro-experiment: one load on one path.
type Step struct {
	Path    Path    `json:"path"`
	Rate    float64 `json:"rate_rps"`             // requests per second (open loop)
	Payload int     `json:"payload_bytes"`        // request body bytes (the echo answers 1 KiB)
	PerConn bool    `json:"new_conn_per_request"` // a new connection per request (else keep-alive)
	Conns   int     `json:"connections"`
	// Unpooled runs on node proxies whose HBONE connections carry one
	// stream each (--pool-max-streams 1), so with a new connection per
	// request every request pays an mTLS handshake: this is what makes
	// handshake CPU identifiable.
	Unpooled bool `json:"unpooled_hbone,omitempty"`
}

// Name is the step's experiment name, e.g. "l4-500rps-1024B-ka".
func (s Step) Name() string {
	c := "ka"
	if s.PerConn {
		c = "new"
	}
	if s.Unpooled {
		c += "-unpooled"
	}
	return fmt.Sprintf("%s-%grps-%dB-%s", s.Path, s.Rate, s.Payload, c)
}

// Design is a set of steps and how long each runs.
type Design struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration_ns"`
	Steps    []Step        `json:"steps"`
	// HostCores is the CPU count of the machine the measurement ran on
	// (every node of Plan() shares it); Run sets it. The simulator mirrors
	// declare the nodes one host of that many cores (crosscheck.MirrorOn),
	// so the activity model sees the cores the processes shared. 0 (a
	// record from before it existed): no host.
	HostCores int `json:"host_cores,omitempty"`
}

// Size selects a design.
type Size string

// Design sizes.
const (
	SizeFull  Size = "full"  // 4 s per step, 28 steps (~2.5 min on a 2-core machine)
	SizeQuick Size = "quick" // 2 s per step, 16 steps (~50 s)
	SizeTiny  Size = "tiny"  // 1 s per step, 14 steps: for end-to-end tests only
)

// NewDesign returns the design of a size. Every design varies the load
// (rate steps), the payload (1 KiB / 16 KiB), connection reuse (keep-alive
// vs one connection per request, on the L4 path where the model has a
// per-stream cost; and new connections over unpooled HBONE, one mTLS
// handshake per request, for the handshake cost) and the number of proxy hops (plain, ambient L4 = two
// node proxies, waypoint = two node proxies + the waypoint, sidecar = two
// sidecars), so each cost parameter has runs that move it independently.
// Per-request connections on the sidecar and waypoint paths are left out:
// the profile schema has no per-connection cost for an Envoy proxy, so
// those runs would bias its per-request cost.
func NewDesign(size Size) (Design, error) {
	ka := func(p Path, rate float64, payload int) Step {
		return Step{Path: p, Rate: rate, Payload: payload, Conns: 4}
	}
	nc := func(p Path, rate float64, payload int) Step {
		return Step{Path: p, Rate: rate, Payload: payload, PerConn: true, Conns: 4}
	}
	up := func(p Path, rate float64, payload int) Step {
		return Step{Path: p, Rate: rate, Payload: payload, PerConn: true, Conns: 4, Unpooled: true}
	}
	switch size {
	case SizeFull, "":
		return Design{Name: string(SizeFull), Duration: 4 * time.Second, Steps: []Step{
			ka(PathPlain, 200, 1024), ka(PathPlain, 1000, 1024), ka(PathPlain, 500, 16384), ka(PathPlainSN, 500, 1024),
			ka(PathL4, 200, 1024), ka(PathL4, 500, 1024), ka(PathL4, 1000, 1024), ka(PathL4, 500, 16384), nc(PathL4, 500, 1024), nc(PathL4, 200, 16384),
			ka(PathWaypoint, 200, 1024), ka(PathWaypoint, 500, 1024), ka(PathWaypoint, 1000, 1024), ka(PathWaypoint, 500, 16384),
			ka(PathSidecar, 200, 1024), ka(PathSidecar, 500, 1024), ka(PathSidecar, 1000, 1024), ka(PathSidecar, 500, 16384),
			ka(PathL4, 1000, 16384), ka(PathWaypoint, 1000, 16384), ka(PathSidecar, 1000, 16384),
			up(PathL4, 150, 1024), up(PathL4, 300, 1024),
			// High rates, where wake-ups are rare: they pin the per-request
			// costs apart from the wake-up costs (at ≤ 1000 rps most
			// requests still find a proxy partly asleep).
			ka(PathL4, 2000, 1024), ka(PathWaypoint, 1500, 1024), ka(PathSidecar, 1500, 1024),
			// Same node: the node proxy's legs stay on loopback, which
			// separates the cross-node message cost from the per-message one.
			ka(PathL4SN, 500, 1024), ka(PathL4SN, 1000, 1024),
		}}, nil
	case SizeQuick:
		return Design{Name: string(SizeQuick), Duration: 2 * time.Second, Steps: []Step{
			ka(PathPlain, 500, 1024), ka(PathPlainSN, 500, 1024),
			ka(PathL4, 200, 1024), ka(PathL4, 1000, 1024), ka(PathL4, 500, 16384), nc(PathL4, 500, 1024),
			ka(PathWaypoint, 200, 1024), ka(PathWaypoint, 1000, 1024), ka(PathWaypoint, 500, 16384),
			ka(PathSidecar, 200, 1024), ka(PathSidecar, 1000, 1024), ka(PathSidecar, 500, 16384),
			ka(PathPlain, 200, 16384), nc(PathL4, 200, 16384),
			up(PathL4, 300, 1024), ka(PathL4SN, 500, 1024),
		}}, nil
	case SizeTiny:
		return Design{Name: string(SizeTiny), Duration: time.Second, Steps: []Step{
			ka(PathPlain, 400, 1024), ka(PathPlainSN, 400, 1024),
			ka(PathL4, 300, 1024), ka(PathL4, 900, 1024), ka(PathL4, 400, 16384), nc(PathL4, 400, 1024),
			ka(PathWaypoint, 300, 1024), ka(PathWaypoint, 900, 1024), ka(PathWaypoint, 400, 16384),
			ka(PathSidecar, 300, 1024), ka(PathSidecar, 900, 1024), ka(PathSidecar, 400, 16384),
			up(PathL4, 300, 1024), ka(PathL4SN, 400, 1024),
		}}, nil
	}
	return Design{}, fmt.Errorf("calibrate: design size %q: want %q, %q or %q", size, SizeFull, SizeQuick, SizeTiny)
}

// Plan is the calibration cluster: TwoNodeSidecar's pods (ambient
// server-a behind service "echo" and clients on both nodes, a sidecar
// pair) with a waypoint on node-b in front of "echo", plus out-of-mesh
// pods (server "plain-server" behind service "plain" on node-a, clients
// "plain-a" and "plain-b"). Both nodes are in one zone: without sch_netem
// the harness cannot make a zone boundary cost anything.
func Plan() *harness.Plan {
	p := dataplane.TwoNodeSidecar()
	for i := range p.Nodes {
		p.Nodes[i].Zone = "zone-1"
	}
	p.Waypoints = []harness.Waypoint{{Name: "waypoint", Node: "node-b", Services: []string{"echo"}}}
	p.Pods = append(p.Pods,
		harness.Pod{Name: "plain-server", Node: "node-a", ServiceAccount: "plain", Service: "plain", Roles: []harness.Role{harness.RoleEcho}, Mode: harness.ModeNone},
		harness.Pod{Name: "plain-a", Node: "node-a", ServiceAccount: "plain-client", Roles: []harness.Role{harness.RoleLoadGen}, Mode: harness.ModeNone},
		harness.Pod{Name: "plain-b", Node: "node-b", ServiceAccount: "plain-client", Roles: []harness.Role{harness.RoleLoadGen}, Mode: harness.ModeNone},
	)
	return p
}

// Experiment is the harness experiment of one step on Plan().
func (s Step) Experiment(d time.Duration) *harness.Experiment {
	from, target := "client-b", "server-a"
	switch s.Path {
	case PathPlain:
		from, target = "plain-b", "plain-server"
	case PathL4SN:
		from = "client-a"
	case PathPlainSN:
		from, target = "plain-a", "plain-server"
	case PathWaypoint:
		target = "echo"
	case PathSidecar:
		from, target = "sc-client", "sc-echo"
	}
	mode := harness.ConnPersistent
	if s.PerConn {
		mode = harness.ConnPerRequest
	}
	return &harness.Experiment{
		Name: s.Name(),
		Loads: []harness.Load{{From: from, Target: target, Protocol: "http", RatePerSec: s.Rate, Duration: d,
			PayloadBytes: s.Payload, Connections: s.Conns, Mode: mode}},
		Settle: 200 * time.Millisecond,
	}
}
