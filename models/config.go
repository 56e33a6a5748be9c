package models

import (
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Protocol is an edge's application protocol.
type Protocol uint8

const (
	HTTP1 Protocol = iota // HTTP/1.1: one request at a time per connection
	HTTP2                 // HTTP/2: requests multiplexed over the connections
	GRPC                  // gRPC (HTTP/2); metrics say request_protocol=grpc
	TCP                   // raw TCP: an exchange of bytes, no L7 anywhere
)

// String returns the Istio request_protocol label value.
func (p Protocol) String() string {
	switch p {
	case HTTP2:
		return "http"
	case GRPC:
		return "grpc"
	case TCP:
		return "tcp"
	}
	return "http"
}

// Load-balancing policies for L7 proxies (sidecars, waypoints). L4 paths
// (kube-proxy, ztunnel) always pick an endpoint at random per connection, as
// the real ones do.
const (
	LBRoundRobin   = "round-robin"
	LBLeastRequest = "least-request"
	LBRandom       = "random"
)

// Arrival processes.
const (
	ArrivalPoisson  = "poisson"
	ArrivalConstant = "constant"
	ArrivalOnOff    = "on-off"
)

// Config is everything one simulated run needs, already resolved against the
// topology: the scenarios package builds it from a scenario file.
type Config struct {
	Topology *topology.Topology
	Profile  *Profile
	Mode     string // label for results: out-of-mesh | ambient | ambient+waypoint | sidecar | as-manifests
	Seed     uint64
	Duration sim.Time // measured window, after Warmup
	Warmup   sim.Time
	Edges    []EdgeConfig // one per call-graph edge
	// Apps gives per-workload app behaviour; workloads missing from it use
	// the profile's app defaults.
	Apps map[*topology.Workload]AppConfig
	// External gives the servers outside the cluster behind ServiceEntry
	// hosts (calls whose To is a ServiceEntry's AsService view) their
	// service time and round trip; hosts missing from it use
	// DefaultExternalRTT and the profile's app service time.
	External map[*topology.ServiceEntry]ExternalConfig
	// SidecarScope is what a sidecar's config contains: "mesh" (every
	// service, the default), "namespace" (its own namespace) or "calls"
	// (only the services its workload calls, as a tight Sidecar resource).
	SidecarScope string
	// ConfigChangesPerMinute drives istiod full pushes to every proxy.
	ConfigChangesPerMinute float64
	// Churn is pod churn (scaling and rollouts): it drives istiod's
	// incremental pushes and certificate signing (churn.go).
	Churn Churn
	// SnapshotInterval, if > 0, records the metrics every interval of
	// simulated time (for the OpenMetrics file with timestamps).
	SnapshotInterval sim.Time
	// MetricsDetail is how finely the Istio metrics are split:
	// MetricsByWorkload (the default, "" too) keeps Istio's standard
	// labels, one series per workload pair, reporter and outcome;
	// MetricsByPod adds a "pod" label naming the reporting proxy's pod
	// (the sidecar's pod, the waypoint replica, or ztunnel-<node>), one
	// series per reporting instance, as a real Prometheus scraping every
	// proxy records them.
	MetricsDetail string
	// Progress, if set, is called about every 1/100 of the run with the
	// simulated time reached.
	Progress func(now, end sim.Time)
	// Failures are scheduled component failures (see Failure). None: the
	// run pays one branch per request for the feature.
	Failures []Failure
	// Series, if true, records every measured call's outcome and latency
	// in 1-second buckets per edge (RunResult.Series), for blast-radius
	// time series and detection.
	Series bool
	// BatchInterval, if > 0, records the mean end-to-end latency of the
	// successful external requests finishing in each interval of simulated
	// time from t = 0, warm-up included (RunResult.Batches), for warm-up
	// detection (MSER-5) by sweeps.
	BatchInterval sim.Time
	// ProxyRetries is how often an L7 proxy (waypoint, client sidecar)
	// retries an attempt that failed on a connection failure, reset or
	// refusal (Istio's default retry policy: 2, on connect-failure,
	// refused-stream, reset). Applies to failure-caused outcomes only.
	ProxyRetries int
	// RetryBudget caps retries per edge at this fraction of the calls
	// started on it (plus 3), like a client or Envoy retry budget; 0 = no
	// cap.
	RetryBudget float64
	// WaypointAutoscale, if set, scales waypoints out HPA-like (see
	// Autoscale); the topology's replica count is the maximum.
	WaypointAutoscale *Autoscale
	// PreferClose applies Kubernetes trafficDistribution: PreferClose to
	// every Service: ztunnel, waypoints and sidecars pick an endpoint in
	// the picking proxy's zone when there is one.
	PreferClose bool
	// MaxEvents, if > 0, stops the run with an *EventBudgetError once it
	// has handled this many events (checked every CheckEvents events, when
	// Run's context is checked too). 0 means no limit.
	MaxEvents uint64
	// Machines puts nodes on machines: every container of a node (apps,
	// load generators, sidecars, ztunnel, waypoint replicas) runs on its
	// machine's cores. A machine listing several nodes is a host they
	// share (a kind cluster, the local validation harness). A node no
	// entry lists gets DefaultMachine to itself.
	Machines []MachineConfig
	// Ztunnel, Waypoint and Sidecar override the profile's container CPU
	// resources and worker threads.
	Ztunnel, Waypoint, Sidecar ProxyConfig
}

// MachineConfig is one machine and the topology nodes on it.
type MachineConfig struct {
	Name    string // for errors and reports ("" = named after its node)
	Machine Machine
	// NICGbps is each of its nodes' NIC bandwidth (0: the profile's
	// network.nic_bandwidth).
	NICGbps float64
	Nodes   []string
}

// DefaultMachine is the machine of a node the scenario gives none: eight
// cores of the profile's reference speed, no SMT.
var DefaultMachine = Machine{Type: "reference-8", Cores: 8, Speed: 1, SMT: 1, Source: "default: 8 cores of the profile's reference speed"}

// ProxyConfig overrides a proxy kind's container resources and workers.
type ProxyConfig struct {
	// Resources, if set, replace the profile's cpu_request and cpu_limit.
	Resources *Resources
	// Workers, if > 0, is the worker thread count (ztunnel worker
	// threads, Envoy concurrency). Otherwise the profile's
	// worker_threads, except that an Envoy with a CPU limit runs
	// ceil(limit) workers, as pilot-agent sets concurrency from
	// ISTIO_CPU_LIMIT.
	Workers int
}

// EdgeConfig is one call-graph edge's traffic.
type EdgeConfig struct {
	Call *topology.Call
	// Rate is the external (open-loop) arrival rate in requests/s generated
	// by the source workload's pods; 0 means the edge only carries fan-out.
	Rate    float64
	Arrival string   // poisson (default) | constant | on-off
	On, Off sim.Time // on-off: mean on and off period lengths (exponential)
	// ArrivalStream, if set, names the random stream of the arrivals
	// instead of the edge: edges with the same ArrivalStream see identical
	// arrival sequences (common random numbers across edges).
	ArrivalStream string
	FanOut        float64 // calls per request the source serves: floor always, fraction as a probability
	Protocol      Protocol
	// KeepAlive keeps Pool connections per client pod open and reuses them;
	// otherwise every request opens a new connection.
	KeepAlive bool
	Pool      int
	ReqSize   sim.DistSpec // bytes
	RespSize  sim.DistSpec // bytes
	LB        string       // round-robin | least-request | random (L7 proxies)
	Timeout   sim.Time     // 0 = none (an HTTPRoute timeout applies at an L7 proxy)
	Retries   int          // retries on reset/503/timeout by the client side
	Method    string       // the request when Requests is empty (default GET)
	Path      string       // the request when Requests is empty (default /)
	// Requests is the edge's request mix: each call is one of them, drawn
	// by weight, and routed by the L7 proxy that routes the edge
	// (routing.go). Empty: one request, Method and Path.
	Requests []RequestClass
	// Generator, if set, replaces the open-loop arrivals at Rate by a
	// load generator's (closed-loop connections, an external client).
	Generator *Generator
}

// Generator is a load generator as users run one (fortio, oha, iperf): N
// connections, each sending its next request when the previous one is
// answered (closed loop), at a target rate or as fast as it can.
type Generator struct {
	// Connections is the number of connections (fortio/oha -c, iperf -P);
	// each has Window requests outstanding at most.
	Connections int
	// Window is the requests in flight per connection (1 for HTTP/1.1
	// load; a bulk stream keeps its TCP window of chunks in flight).
	Window int
	// QPS is the total target rate (fortio -qps, oha -q), spread evenly
	// over the connections; a connection that falls behind sends its next
	// request at once. 0 = as fast as responses allow (fortio -qps 0).
	QPS float64
	// External puts the client outside the cluster: it uses no node CPU
	// and every request pays RTT on top of the path.
	External bool
	RTT      sim.Time
}

// ExternalConfig is a server outside the cluster (a ServiceEntry host):
// it answers after its service time, a round trip away from the proxy
// (or pod) that sends to it. It has no CPU the model accounts for and no
// concurrency limit (its capacity is not ours to simulate).
type ExternalConfig struct {
	ServiceTime sim.DistSpec // ns the server takes to answer; zero Kind: the profile's app service time
	RTT         sim.Time     // ns round trip between the cluster and the server; 0: DefaultExternalRTT
}

// DefaultExternalRTT is the round trip to an external host a scenario does
// not describe: 20 ms, a nearby region over the internet.
const DefaultExternalRTT = 20 * sim.Millisecond

// AppConfig is one workload's application behaviour.
type AppConfig struct {
	ServiceTime sim.DistSpec // ns a worker thread holds a request
	Concurrency int          // worker threads per pod
	// CPUFraction, if set, is the share of the service time computed on
	// the node's CPU (the rest is waiting without a core); default the
	// profile's app.cpu_fraction.
	CPUFraction *float64
	// Resources, if set, are the app container's CPU request and limit;
	// default the profile's app.cpu_request and no limit.
	Resources *Resources
}
