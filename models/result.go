package models

import (
	"maps"
	"slices"
)

// The measured outcome of one run, in the model's own terms. The scenarios
// package maps these into the output contract (scenarios/results); models
// knows nothing of summary.json.

// Measurement is what one run measured in its window: request accounting,
// latency per path category, errors by cause, per-component usage, the
// mesh's cost, which Istio metrics the mode produces and per-edge stats.
type Measurement struct {
	Requests   RequestCounts
	Latency    []LatencyRow     // "all" (end to end) first, then one per path category seen
	Errors     []ErrorCount     // by cause, sorted by cause
	Components []ComponentUsage // sorted by kind, then instance
	Totals     MeshCost
	// ControlPlane is istiod's work (zero when no proxy connects to it:
	// ControlPlane.Active() is false).
	ControlPlane ControlPlaneUsage
	Telemetry    TelemetrySplit
	Edges        []EdgeStats // sorted by source, then destination
	// Machines is how busy each machine's cores were (a node's own, or a
	// host several nodes share), sorted by name.
	Machines []MachineUsage
}

// MachineUsage is how much of a machine's CPU every container on it (apps,
// load generators, proxies) used over the window.
type MachineUsage struct {
	Name        string
	Type        string   // instance type, "reference-8" or "custom"
	Nodes       []string // sorted
	Cores       float64  // vCPUs
	Speed       float64  // per-vCPU speed relative to the reference core
	CPUCores    float64  // mean vCPUs its containers used
	Utilisation float64  // CPUCores / Cores
}

// RequestCounts reconciles: Offered = Succeeded + Failed + InFlight
// (external requests started in the window).
type RequestCounts struct {
	Offered       int64
	Succeeded     int64
	Failed        int64
	InFlight      int64
	ThroughputRPS float64 // succeeded per simulated second of the window
}

// LatencyRow is the latency distribution of one path category (or "all":
// successful external requests end to end), in milliseconds.
type LatencyRow struct {
	Category string
	Count    int64
	MeanMs   float64
	P50Ms    float64
	P90Ms    float64
	P99Ms    float64
	P999Ms   float64
	MaxMs    float64
	CDF      []CDFPoint // down-sampled cumulative distribution
}

// CDFPoint is one point of a cumulative latency distribution.
type CDFPoint struct {
	Ms       float64
	Fraction float64
}

// ErrorCount is how many requests failed for one cause (e.g. l4_denied,
// l7_denied_403, timeout, queue_full, no_healthy_upstream).
type ErrorCount struct {
	Cause string
	Count int64
}

// ComponentUsage is one proxy or app instance's resource use over the
// window.
type ComponentUsage struct {
	Kind         string // ztunnel | waypoint | sidecar | app | istiod
	Instance     string // ztunnel/<node>, waypoint/<ns>/<name>/<replica>, sidecar/<ns>/<pod>, …
	Node         string
	CPUCores     float64 // mean cores used
	Utilisation  float64 // busy fraction of its worker threads
	QueueWaitMs  float64 // mean wait for a worker
	MemoryMiB    float64
	Connections  int64 // HBONE/mTLS connections opened
	Handshakes   int64
	RequestsSeen int64
	ThrottledS   float64 // seconds its CPU limit throttled it (CFS)
}

// MeshCost totals the mesh's own overhead (apps excluded), defined once and
// named the same everywhere (CLI, summary.json, report):
//
//   - data plane: the proxies (DataPlaneKinds: ztunnel, waypoint, sidecar —
//     ingress gateway Envoys count as sidecars);
//   - control plane: istiod (ControlPlaneKind);
//   - mesh total (CPUCores, MemoryGiB): data plane + control plane.
type MeshCost struct {
	CPUCores     float64 // mesh total
	MemoryGiB    float64 // mesh total
	DataPlane    Cost
	ControlPlane Cost
	ByKind       map[string]KindCost // ztunnel / waypoint / sidecar / istiod
}

// Cost is CPU and memory used.
type Cost struct {
	CPUCores  float64
	MemoryGiB float64
}

// DataPlaneKinds are the component kinds whose totals make the data plane.
var DataPlaneKinds = []string{"ztunnel", "waypoint", "sidecar"}

// ControlPlaneKind is the control plane's component kind.
const ControlPlaneKind = "istiod"

// Sum rounds each kind's totals to 6 decimals and fills the data plane,
// the control plane and the mesh total from them, adding in a fixed order
// so the sums are reproducible.
func (c *MeshCost) Sum() {
	var dp, cp Cost
	for _, k := range slices.Sorted(maps.Keys(c.ByKind)) {
		v := c.ByKind[k]
		v.CPUCores, v.MemoryGiB = round6(v.CPUCores), round6(v.MemoryGiB)
		c.ByKind[k] = v
		switch {
		case k == ControlPlaneKind:
			cp.CPUCores += v.CPUCores
			cp.MemoryGiB += v.MemoryGiB
		case slices.Contains(DataPlaneKinds, k):
			dp.CPUCores += v.CPUCores
			dp.MemoryGiB += v.MemoryGiB
		}
	}
	c.DataPlane = Cost{CPUCores: round6(dp.CPUCores), MemoryGiB: round6(dp.MemoryGiB)}
	c.ControlPlane = Cost{CPUCores: round6(cp.CPUCores), MemoryGiB: round6(cp.MemoryGiB)}
	c.CPUCores = round6(c.DataPlane.CPUCores + c.ControlPlane.CPUCores)
	c.MemoryGiB = round6(c.DataPlane.MemoryGiB + c.ControlPlane.MemoryGiB)
}

// ControlPlaneUsage is istiod's work over the measured window, as rates
// per second (istiod.go states the laws).
type ControlPlaneUsage struct {
	XDSClients              XDSClients
	ConfigChangesPerSec     float64
	PodEventsPerSec         float64 // churn: pods created or deleted
	FullPushesPerSec        float64 // after debouncing
	IncrementalPushesPerSec float64 // endpoint / workload updates, after debouncing
	// ProxyPushesPerSec is pushes × the proxies each reaches, by proxy
	// kind: churn reaches every ztunnel (WDS), but only the sidecars whose
	// scope holds the changed service (EDS).
	ProxyPushesPerSec  map[string]float64
	ResourcesPerSec    float64            // xDS resources sent
	CertificatesPerSec float64            // renewals + new identities
	CPUCores           map[string]float64 // by cause: base, connected_proxies, full_pushes, incremental_pushes, certificates
	MemoryMiB          map[string]float64 // by what istiod holds
}

// Active reports whether istiod had any proxy to serve.
func (u ControlPlaneUsage) Active() bool {
	return u.XDSClients.Ztunnels+u.XDSClients.Waypoints+u.XDSClients.Sidecars > 0
}

// XDSClients counts the proxies connected to istiod, by kind.
type XDSClients struct {
	Ztunnels  int
	Waypoints int
	Sidecars  int
}

// KindCost is one component kind's share of MeshCost.
type KindCost struct {
	Instances int
	CPUCores  float64
	MemoryGiB float64
}

// TelemetrySplit states which Istio metrics a mode produces: the reporters
// of istio_requests_total and of istio_tcp_*, and a note per path category
// seen.
type TelemetrySplit struct {
	HTTPMetrics []string
	TCPMetrics  []string
	Notes       []string
}

// EdgeStats is one call-graph edge's outcome: its latency and what its
// connections cost (the pooling view).
type EdgeStats struct {
	Source            string // ns/workload
	Destination       string // ns/service
	Category          string // path category of its first backend
	Calls             int64  // calls finished in the window
	Failed            int64
	RateRPS           float64 // calls started per second
	MeanMs            float64
	P50Ms             float64
	P99Ms             float64
	ConnectionsOpened int64   // app connections opened (HBONE streams in ambient)
	Handshakes        int64   // mTLS connections dialled for these calls
	HandshakeCPUMs    float64 // CPU both sides spent on those handshakes
	Bypassed          int64   // successful calls that skipped the waypoint serving their destination
	ThroughputMbps    float64 // payload of the successful calls per second, Mbit/s
	// Routes is what each request of the edge's mix did: the route rule it
	// matched and the calls per weighted backend (routing.go). Nil when
	// no L7 proxy routes the edge and it has a single request.
	Routes []RouteStats
}
