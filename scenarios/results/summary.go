package results

import "fmt"

// SchemaVersion is bumped when a field changes meaning.
const SchemaVersion = 1

// Summary is the content of summary.json: one simulation run of a scenario,
// possibly in several dataplane modes on identical traffic.
type Summary struct {
	SchemaVersion int     `json:"schema_version"`
	Scenario      string  `json:"scenario"`           // scenario name
	Description   string  `json:"description"`        // what the scenario is about
	Question      string  `json:"question,omitempty"` // the review question it answers
	InputsHash    string  `json:"inputs_hash"`        // sha256 of scenario + manifests + profile
	Seed          uint64  `json:"seed"`
	ToolVersion   string  `json:"tool_version"`
	Command       string  `json:"command"` // the command line that regenerates this result
	Profile       Profile `json:"profile"`

	DurationS float64 `json:"duration_s"` // simulated time measured, after warm-up
	WarmupS   float64 `json:"warmup_s"`   // simulated time discarded at the start

	// SLO is the scenario's own service-level objective (its `slo:`
	// section); absent when the scenario sets none.
	SLO *SLO `json:"slo,omitempty"`

	Topology   TopologySummary `json:"topology"`
	Paths      PathReport      `json:"paths"`
	Modes      []ModeResult    `json:"modes"`      // in scenario order
	Comparison []CompareRow    `json:"comparison"` // side-by-side table across modes
	Failures   []FailureResult `json:"failures,omitempty"`
	WhatIf     []WhatIfResult  `json:"what_if,omitempty"`
	// Capacity is the largest load each mode's path sustains within the
	// scenario's latency bound (its `capacity:` section).
	Capacity []CapacityResult `json:"capacity,omitempty"`

	// Observed compares predicted and observed rates and latencies per
	// edge when the scenario has an `observed:` section.
	Observed *Observed `json:"observed,omitempty"`

	// Readiness is the ambient production checklist evaluated on the topology.
	Readiness []ReadinessCheck `json:"readiness"`

	Assumptions []string `json:"assumptions"` // modelling assumptions a reviewer must know
}

// SLO is a scenario's service-level objective. A zero field is not part of
// the objective.
type SLO struct {
	// LatencyMs: a call slower than this counts as bad in blast-radius
	// results (failures, what-ifs).
	LatencyMs float64 `json:"latency_ms,omitempty"`
	// P99Ms bounds the p99 end-to-end latency of successful requests.
	P99Ms float64 `json:"p99_ms,omitempty"`
	// MaxErrorRatio bounds failed / offered external requests.
	MaxErrorRatio float64 `json:"max_error_ratio,omitempty"`
}

// ReadinessCheck is one item of the ambient rollout checklist.
type ReadinessCheck struct {
	Name     string   `json:"name"`
	Status   string   `json:"status"` // pass | fail | cannot-tell
	Evidence []string `json:"evidence"`
	// Fix says what to change (fail), or which input would decide the
	// check (cannot-tell).
	Fix string `json:"fix,omitempty"`
}

// Profile identifies the cost profile used and where its numbers come from.
type Profile struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	Source     string `json:"source"`     // e.g. "Istio 1.24 Performance and Scalability docs"
	Date       string `json:"date"`       // when the numbers were obtained
	Provenance string `json:"provenance"` // "published" or "calibrated on <machine>"
	// Calibration holds the key facts of a calibrated profile's
	// calibration section; absent for a published profile.
	Calibration *ProfileCalibration `json:"calibration,omitempty"`
}

// ProfileCalibration is where and how well a calibrated profile was
// measured (from the profile's calibration section).
type ProfileCalibration struct {
	Machine  string `json:"machine"`             // e.g. "2 × AMD EPYC 7B13, Linux 6.1"
	Date     string `json:"date"`                // RFC 3339 date or date-time of the measurement
	Revision string `json:"revision"`            // data-plane git revision
	Design   string `json:"design,omitempty"`    // calibration design name
	WorstFit string `json:"worst_fit,omitempty"` // the fit with the lowest R²
	// WorstR2 is that fit's R² (absent when no fit has one).
	WorstR2 *float64 `json:"worst_r2,omitempty"`
}

// TopologySummary is what the report draws as the cluster picture.
type TopologySummary struct {
	Nodes     []NodeInfo     `json:"nodes"`
	Services  []ServiceInfo  `json:"services"`
	Waypoints []WaypointInfo `json:"waypoints"`
	Calls     []CallEdge     `json:"calls"` // the call graph
}

type NodeInfo struct {
	Name string `json:"name"`
	Zone string `json:"zone"`
	Pods int    `json:"pods"`
}

type ServiceInfo struct {
	Name     string `json:"name"` // ns/name
	Mode     string `json:"mode"` // out-of-mesh | ambient | ambient-waypoint | sidecar
	Pods     int    `json:"pods"`
	Waypoint string `json:"waypoint,omitempty"` // ns/name of the waypoint serving it
}

type WaypointInfo struct {
	Name     string   `json:"name"`  // ns/name
	Scope    string   `json:"scope"` // namespace | service | service-account | dedicated
	For      string   `json:"for"`   // service | workload | all | none
	Replicas int      `json:"replicas"`
	Serves   []string `json:"serves"` // ns/service names
}

type CallEdge struct {
	Source      string  `json:"source"`      // ns/workload
	Destination string  `json:"destination"` // ns/service
	RateRPS     float64 `json:"rate_rps"`    // offered rate on this edge (external arrivals + fan-out)
}

// PathReport is the request-path matrix and the policy findings, in the JSON
// shape `ambientsim paths --format json` prints.
type PathReport struct {
	Pairs    []PathPair `json:"pairs"`
	Findings []Finding  `json:"findings"`
	// Placements says where each policy is enforced; summary.json has it,
	// `paths --format json` leaves it out to keep its documented shape.
	Placements []Placement `json:"placements,omitempty"`
	// Status is the Gateway and route status istiod would set (Accepted,
	// ResolvedRefs, ...), absent when the topology has neither.
	Status []ObjectStatus `json:"status,omitempty"`
	// View is "classes" when the matrix is too large to list (`paths`
	// without --expand above 1,000 rows, or --classes): pairs is then null,
	// Classes describes every row, and each finding stands for Count
	// findings of alike sources and destinations. Absent when every row
	// and finding is listed.
	View    string       `json:"view,omitempty"`
	Classes *PathClasses `json:"classes,omitempty"`
	// Readiness is the rollout checklist (`paths` prints it; summary.json
	// has it at the top level).
	Readiness []ReadinessCheck `json:"readiness,omitempty"`
}

// PathClasses is the path matrix in equivalence classes: sources every
// proxy and policy treats alike, destination ports every source class
// reaches alike, the distinct path shapes, and the cells.
type PathClasses struct {
	Rows               int64              `json:"rows"`
	SourceClasses      []SourceClass      `json:"source_classes"`
	DestinationClasses []DestinationClass `json:"destination_classes"`
	Shapes             []PathShape        `json:"shapes"`
	Cells              []PathCell         `json:"cells"`
}

// SourceClass is one class of sources.
type SourceClass struct {
	ID      string   `json:"id"`   // S1, S2, ... (largest first)
	Mode    string   `json:"mode"` // out-of-mesh | ambient | sidecar | ingress gateway | outside the cluster
	Sources int      `json:"sources"`
	Members []string `json:"members"` // ns/workload, sorted; at most 20
	Traits  []string `json:"traits"`  // the policy predicates that hold for it
}

// DestinationClass is one class of destination ports.
type DestinationClass struct {
	ID      string   `json:"id"` // D1, D2, ...
	Ports   int      `json:"ports"`
	Members []string `json:"members"` // ns/service:port, sorted; at most 20
	Traits  []string `json:"traits"`  // mode, waypoint, protocol, policies of the first
}

// PathShape is a path with the member-specific hops as roles
// (ztunnel/<source node>, sidecar/<destination pod>, external/<host>).
type PathShape struct {
	ID       string   `json:"id"` // P1, P2, ... (most rows first)
	Rows     int64    `json:"rows"`
	Category string   `json:"category"`
	Bypass   bool     `json:"bypass"`
	Hops     []string `json:"hops"`
	Denied   string   `json:"denied,omitempty"`
	DeniedBy string   `json:"denied_by,omitempty"`
}

// PathCell is the rows from one source class to one destination class.
type PathCell struct {
	Source      string `json:"source"`      // S<n>
	Destination string `json:"destination"` // D<n>
	Shape       string `json:"shape"`       // P<n>
	Rows        int64  `json:"rows"`
}

// Placement is one policy's enforcement points ("nowhere" when By is empty).
type Placement struct {
	Kind   string   `json:"kind"`   // AuthorizationPolicy | PeerAuthentication | NetworkPolicy
	Policy string   `json:"policy"` // ns/name
	By     []string `json:"by"`     // ztunnel / waypoint/<ns>/<name> / sidecar / CNI
	Note   string   `json:"note,omitempty"`
}

type PathPair struct {
	Source      string   `json:"source"`      // ns/workload
	Destination string   `json:"destination"` // ns/service
	Port        int      `json:"port"`
	Category    string   `json:"category"` // out-of-mesh | ambient-l4 | ambient-waypoint | sidecar | mixed
	Bypass      bool     `json:"bypass"`   // a waypoint serves the destination but this path skips it
	Hops        []string `json:"hops"`     // ztunnel/<node>, waypoint/<ns>/<name>, sidecar/<ns>/<pod>, gateway/<ns>/<pod>
	// Denied says why every connection on this path is refused (a
	// NetworkPolicy, ztunnel's L4 policy, STRICT mTLS, a waypoint's policy
	// on a TCP port); absent when the path admits traffic.
	Denied   string `json:"denied,omitempty"`
	DeniedBy string `json:"denied_by,omitempty"` // the proxy (and policy) that refuses it
}

// ObjectStatus is the status istiod would write on a Gateway API object
// for one parent (routes) or for itself (Gateways).
type ObjectStatus struct {
	Kind       string            `json:"kind"`   // HTTPRoute | GRPCRoute | TCPRoute | TLSRoute | Gateway
	Object     string            `json:"object"` // ns/name
	Parent     string            `json:"parent,omitempty"`
	Conditions []StatusCondition `json:"conditions"`
	Note       string            `json:"note,omitempty"` // why no status is written
}

// StatusCondition is one status condition.
type StatusCondition struct {
	Type    string `json:"type"`
	Status  bool   `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

type Finding struct {
	Code        string `json:"code"`
	Severity    string `json:"severity,omitempty"` // high | medium | low | info
	Policy      string `json:"policy,omitempty"`   // ns/name (or kind/ns/name)
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination,omitempty"`
	Message     string `json:"message"`
	Proof       string `json:"proof,omitempty"` // the concrete path that shows it
	Fix         string `json:"fix"`
	// Count is how many findings this entry stands for in the class view
	// (alike sources and destinations; the text is the first one's),
	// absent when it is one finding.
	Count        int      `json:"count,omitempty"`
	Sources      []string `json:"sources,omitempty"`      // up to 3 of them, in the class view
	Destinations []string `json:"destinations,omitempty"` // up to 3 of them, in the class view
}

// ModeResult is one dataplane mode's run.
type ModeResult struct {
	Mode       string           `json:"mode"` // out-of-mesh | ambient | ambient+waypoint | sidecar | as-manifests
	Requests   RequestCounts    `json:"requests"`
	Latency    []LatencyRow     `json:"latency"` // one per path category, plus "all" first
	Errors     []ErrorCount     `json:"errors"`  // by cause, sorted by cause
	Components []ComponentUsage `json:"components"`
	Totals     ClusterCost      `json:"totals"`
	// ControlPlane is what istiod did: xDS clients, pushes, certificates
	// (absent when no proxy runs).
	ControlPlane *ControlPlaneUsage `json:"control_plane,omitempty"`
	Telemetry    TelemetrySplit     `json:"telemetry"`
	// Edges is one row per call-graph edge (source workload → destination
	// service), sorted by source then destination.
	Edges []EdgeResult `json:"edges,omitempty"`
	// Machines is one row per machine the nodes run on (a node's own, or a
	// host several nodes share), sorted by name: how busy its cores were.
	Machines []MachineUsage `json:"machines,omitempty"`
}

// MachineUsage is how much of a machine's CPU every container on it (apps,
// load generators, proxies) used.
type MachineUsage struct {
	Name  string   `json:"name"`
	Type  string   `json:"type"` // instance type, "reference-8" or "custom"
	Nodes []string `json:"nodes"`
	// Cores are its vCPUs and Speed their per-vCPU speed relative to the
	// reference core (before SMT sharing).
	Cores float64 `json:"cores"`
	Speed float64 `json:"speed"`
	// CPUCores is the mean CPU its containers used (vCPUs) and
	// Utilisation that over Cores.
	CPUCores    float64 `json:"cpu_cores"`
	Utilisation float64 `json:"utilisation"`
}

// EdgeResult is one call-graph edge's outcome in one mode: its latency and
// what its connections cost (the pooling view).
type EdgeResult struct {
	Source      string  `json:"source"`      // ns/workload
	Destination string  `json:"destination"` // ns/service
	Category    string  `json:"category"`    // path category of its first backend
	Calls       int64   `json:"calls"`       // calls finished in the window
	Failed      int64   `json:"failed"`
	RateRPS     float64 `json:"rate_rps"` // calls started per second
	MeanMs      float64 `json:"mean_ms"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	// ConnectionsOpened counts app connections the calls opened (each is
	// one HBONE stream in ambient).
	ConnectionsOpened int64 `json:"connections_opened"`
	// Handshakes counts mTLS connections dialled for these calls (HBONE
	// or sidecar mTLS), and HandshakeCPUMs the CPU both sides spent on them.
	Handshakes     int64   `json:"handshakes"`
	HandshakeCPUMs float64 `json:"handshake_cpu_ms"`
	// Bypassed counts calls that succeeded on a path skipping the waypoint
	// serving their destination (an out-of-mesh or sidecar source, an
	// ingress gateway without ingress-use-waypoint): no waypoint policy
	// checked them.
	Bypassed int64 `json:"bypassed,omitempty"`
	// ThroughputMbps is the payload (request + response bytes) of the
	// calls that succeeded, per second (Mbit/s): a bulk stream's goodput.
	ThroughputMbps float64 `json:"throughput_mbps,omitempty"`
	// Routes says what each request of the edge's mix did at the L7 proxy
	// that routes the edge (sidecar, waypoint or ingress gateway): the
	// route rule it matched and the calls each weighted backend received.
	// Absent when no L7 proxy routes the edge and it has one request.
	Routes []RouteResult `json:"routes,omitempty"`
}

// RouteResult is one request of an edge's mix, routed.
type RouteResult struct {
	Request string `json:"request"` // the request's name (default "METHOD path")
	// Route is the matched route as Kind/namespace/name; empty when no route
	// is attached and the request goes to the addressed Service.
	Route string `json:"route,omitempty"`
	Rule  int    `json:"rule"`  // index of the matched rule, -1 = none
	Match int    `json:"match"` // index of the matched match, -1 = none
	// Answered is what the routing proxy answers itself instead of
	// forwarding: "404" (no rule matches), "500" (no valid backend),
	// "503 NC" (undefined subset) or a redirect's status; empty when it
	// forwards. AnsweredCalls are the calls it answered itself; a
	// waypoint's policy refusal (403 before routing) is not one of them.
	Answered      string `json:"answered,omitempty"`
	AnsweredCalls int64  `json:"answered_calls,omitempty"`
	// Backends are the rule's weighted backends with the calls each got
	// (the backend is drawn once per request and kept for retries).
	Backends []BackendResult `json:"backends,omitempty"`
	Mirrored int64           `json:"mirrored,omitempty"` // mirrored copies sent (responses dropped)
}

// BackendResult is the calls one weighted backend of a route received.
type BackendResult struct {
	Backend string `json:"backend"` // namespace/service, "#subset" appended for a subset
	Weight  int    `json:"weight"`
	Calls   int64  `json:"calls"`
	Failed  int64  `json:"failed"`
}

// RequestCounts reconciles: Offered = Succeeded + Failed + InFlight.
type RequestCounts struct {
	Offered       int64   `json:"offered"`
	Succeeded     int64   `json:"succeeded"`
	Failed        int64   `json:"failed"`
	InFlight      int64   `json:"in_flight"`
	ThroughputRPS float64 `json:"throughput_rps"`
}

// LatencyRow holds end-to-end latency percentiles for one path category.
type LatencyRow struct {
	Category string  `json:"category"` // all | out-of-mesh | ambient-l4 | ambient-waypoint | sidecar | mixed
	Count    int64   `json:"count"`
	MeanMs   float64 `json:"mean_ms"`
	P50Ms    float64 `json:"p50_ms"`
	P90Ms    float64 `json:"p90_ms"`
	P99Ms    float64 `json:"p99_ms"`
	P999Ms   float64 `json:"p999_ms"`
	MaxMs    float64 `json:"max_ms"`
	// CDF is a down-sampled cumulative distribution for charts.
	CDF []CDFPoint `json:"cdf"`
}

type CDFPoint struct {
	Ms       float64 `json:"ms"`
	Fraction float64 `json:"fraction"`
}

type ErrorCount struct {
	Cause string `json:"cause"` // e.g. l4_denied (reset), l7_denied_403, timeout, queue_full, no_healthy_upstream
	Count int64  `json:"count"`
}

// ComponentUsage is one proxy or app instance's resource use over the run.
type ComponentUsage struct {
	Kind         string  `json:"kind"`     // ztunnel | waypoint | sidecar | app
	Instance     string  `json:"instance"` // ztunnel/<node>, waypoint/<ns>/<name>/<replica>, sidecar/<ns>/<pod>
	Node         string  `json:"node,omitempty"`
	CPUCores     float64 `json:"cpu_cores"`   // mean cores used
	Utilisation  float64 `json:"utilisation"` // busy fraction of its worker threads
	QueueWaitMs  float64 `json:"queue_wait_ms"`
	MemoryMiB    float64 `json:"memory_mib"`
	Connections  int64   `json:"connections,omitempty"` // HBONE/mTLS connections opened
	Handshakes   int64   `json:"handshakes,omitempty"`
	RequestsSeen int64   `json:"requests_seen,omitempty"`
	// ThrottledS is how long its CPU limit throttled it (CFS periods it
	// waited out; cpu.stat throttled_time) in the window, in seconds.
	ThrottledS float64 `json:"throttled_s,omitempty"`
}

// ClusterCost totals the mesh's own overhead (apps excluded), defined once
// and named the same in the CLI, summary.json and the report:
//
//   - data plane: the proxies (ztunnel, waypoint, sidecar, ingress gateway
//     Envoys counted as sidecars);
//   - control plane: istiod;
//   - mesh total (CPUCores, MemoryGiB): data plane + control plane.
type ClusterCost struct {
	CPUCores     float64             `json:"cpu_cores"`     // mesh total = data_plane + control_plane
	MemoryGiB    float64             `json:"memory_gib"`    // mesh total = data_plane + control_plane
	DataPlane    Cost                `json:"data_plane"`    // ztunnel + waypoint + sidecar
	ControlPlane Cost                `json:"control_plane"` // istiod
	ByKind       map[string]KindCost `json:"by_kind"`       // ztunnel / waypoint / sidecar / istiod
}

// Cost is CPU and memory used.
type Cost struct {
	CPUCores  float64 `json:"cpu_cores"`
	MemoryGiB float64 `json:"memory_gib"`
}

// CostLine is the one-line statement of a mode's totals the CLI prints and
// the report shows: "data plane … · control plane … · mesh total …", with
// cores to 3 decimals and GiB to 3 decimals.
func (c ClusterCost) CostLine() string {
	f := func(x Cost) string { return fmt.Sprintf("%.3f cores %.3f GiB", x.CPUCores, x.MemoryGiB) }
	return "data plane " + f(c.DataPlane) + " · control plane " + f(c.ControlPlane) +
		" · mesh total " + f(Cost{CPUCores: c.CPUCores, MemoryGiB: c.MemoryGiB})
}

// ControlPlaneKind is the control plane's component kind (by_kind key);
// every other proxy kind is data plane.
const ControlPlaneKind = "istiod"

// ControlPlaneUsage is istiod's work over the measured window, as rates
// (per second) from the counts and the scenario's churn and config changes.
type ControlPlaneUsage struct {
	XDSClients              XDSClients `json:"xds_clients"`
	ConfigChangesPerSec     float64    `json:"config_changes_per_second"`
	PodEventsPerSec         float64    `json:"pod_events_per_second"`         // churn: pods created or deleted
	FullPushesPerSec        float64    `json:"full_pushes_per_second"`        // after debouncing
	IncrementalPushesPerSec float64    `json:"incremental_pushes_per_second"` // endpoint/workload updates, after debouncing
	// ProxyPushesPerSec is pushes × the proxies each reaches, per kind:
	// churn reaches every ztunnel (WDS) but only the sidecars whose scope
	// holds the changed service (EDS).
	ProxyPushesPerSec  map[string]float64 `json:"proxy_pushes_per_second"`
	ResourcesPerSec    float64            `json:"resources_pushed_per_second"`
	CertificatesPerSec float64            `json:"certificates_signed_per_second"` // renewals + new identities
	// CPUCores splits istiod's CPU by cause: base, connected proxies,
	// full pushes, incremental pushes, certificates.
	CPUCores map[string]float64 `json:"cpu_cores_by_cause"`
	// MemoryMiB splits istiod's memory by what it holds.
	MemoryMiB map[string]float64 `json:"memory_mib_by_cause"`
}

// XDSClients counts the proxies connected to istiod, by kind.
type XDSClients struct {
	Ztunnels  int `json:"ztunnels"`
	Waypoints int `json:"waypoints"`
	Sidecars  int `json:"sidecars"`
}

type KindCost struct {
	Instances int     `json:"instances"`
	CPUCores  float64 `json:"cpu_cores"`
	MemoryGiB float64 `json:"memory_gib"`
}

// TelemetrySplit states which Istio metrics this mode produces, per path
// category: L4-only paths have TCP metrics and no HTTP status codes.
type TelemetrySplit struct {
	HTTPMetrics []string `json:"http_metrics"` // reporters producing istio_requests_total
	TCPMetrics  []string `json:"tcp_metrics"`  // reporters producing istio_tcp_*
	Notes       []string `json:"notes"`
}

// CompareRow is one line of the side-by-side table: a metric across modes,
// values in the order of Summary.Modes.
type CompareRow struct {
	Metric string    `json:"metric"`
	Unit   string    `json:"unit"`
	Values []float64 `json:"values"`
}

// FailureResult is the blast radius of one scheduled failure (failure issue).
type FailureResult struct {
	Name        string        `json:"name"`
	Kind        string        `json:"kind"`
	Target      string        `json:"target"`
	AtS         float64       `json:"at_s"`
	DurationS   float64       `json:"duration_s"`
	Nodes       []string      `json:"nodes"`
	Instances   []string      `json:"instances"`
	Pods        []string      `json:"pods"`
	Services    []string      `json:"services"`
	Transitive  []Affected    `json:"transitive"`
	Series      []SeriesPoint `json:"series"`
	DetectS     float64       `json:"detect_s"`
	RecoverS    float64       `json:"recover_s"`
	Unprotected int64         `json:"unprotected_requests"` // crossed without mTLS or bypassed an enforcing proxy

	// Mode is the dataplane mode (or what-if design) the failure ran in.
	Mode string `json:"mode,omitempty"`
	// FailedRequests is how many more external requests failed than in
	// the same run without the failure (same random streams).
	FailedRequests int64 `json:"failed_requests"`
	// PolicyBypassed counts unprotected requests that a policy in force
	// would have denied.
	PolicyBypassed int64 `json:"policy_bypassed_requests"`
	// Note says when the failure hits nothing in this design, or how a
	// static result was computed.
	Note string `json:"note,omitempty"`
	// Identities and Reachable are the static security blast radius of a
	// node compromise: SPIFFE identities usable from the node, and the
	// services (ns/name) those identities may call under the policies.
	Identities []string `json:"identities,omitempty"`
	Reachable  []string `json:"reachable_services,omitempty"`
}

type Affected struct {
	Workload        string   `json:"workload"`
	FailureFraction float64  `json:"failure_fraction"`
	Chain           []string `json:"chain,omitempty"`
}

// SeriesPoint is one 1-second bucket for one service around a failure.
type SeriesPoint struct {
	Service   string  `json:"service"`
	TS        float64 `json:"t_s"`
	RateRPS   float64 `json:"rate_rps"`
	ErrorRate float64 `json:"error_rate"`
	P99Ms     float64 `json:"p99_ms"`
}

// WhatIfResult compares one design alternative under the same failures.
type WhatIfResult struct {
	Design   string  `json:"design"`
	Failed   int64   `json:"failed"`
	Affected int     `json:"affected_workloads"`
	P99Ms    float64 `json:"p99_ms"`
	CPUCores float64 `json:"cpu_cores"`

	Mode        string   `json:"mode,omitempty"`      // dataplane mode of the design
	Workloads   []string `json:"workloads,omitempty"` // the affected workloads (ns/name)
	Unprotected int64    `json:"unprotected_requests"`
	// DetectS and RecoverS are the worst over the failures (see FailureResult).
	DetectS  float64 `json:"detect_s"`
	RecoverS float64 `json:"recover_s"`
	// Identities and Reachable count a node compromise's security blast
	// radius in this design (0 without one).
	Identities int `json:"identities,omitempty"`
	Reachable  int `json:"reachable_services,omitempty"`
	// Failures are the per-failure results in this design.
	Failures []FailureResult `json:"failures,omitempty"`
}

// CapacityResult is the largest load one mode sustains on an edge with its
// latency quantile within a bound, found by bisection over the edge's
// offered rate (each point a full run on the same random streams).
type CapacityResult struct {
	Mode        string  `json:"mode"`
	Source      string  `json:"source"`      // ns/workload
	Destination string  `json:"destination"` // ns/service
	Quantile    string  `json:"quantile"`    // p50 | p90 | p99 | p999
	BoundMs     float64 `json:"bound_ms"`
	// MaxQPS is the largest offered rate (requests/s) that met the bound;
	// 0 when even the lowest tried did not.
	MaxQPS float64 `json:"max_qps"`
	// LatencyMs is the quantile at MaxQPS, and ThroughputRPS the calls
	// per second that succeeded there.
	LatencyMs     float64 `json:"latency_ms"`
	ThroughputRPS float64 `json:"throughput_rps"`
	// Runs is the number of simulations the search made.
	Runs int `json:"runs"`
}
