package sweep

// ResultFormat names the format of sweep.json.
const ResultFormat = "ambientsim-sweep/1"

// Result is the content of sweep.json: every point of a sweep with the
// mean and confidence interval of each figure per mode, and the answers
// (SLO search, sizing, cost table). It is self-describing: Parameters and
// Metrics name and give the unit of everything a chart needs, and every
// slice is in a fixed order, so the same sweep gives a byte-identical file
// however it was split into workers and shards.
type Result struct {
	Format       string  `json:"format"`
	Scenario     string  `json:"scenario"`
	ScenarioHash string  `json:"scenario_hash,omitempty"`
	ToolVersion  string  `json:"tool_version,omitempty"`
	RunDurationS float64 `json:"run_duration_s,omitempty"` // measured simulated seconds per run, after warm-up
	BaseSeed     uint64  `json:"base_seed"`
	Replications int     `json:"replications"`
	Confidence   float64 `json:"confidence"` // level of every interval, e.g. 0.95
	// Interval says how every ci_half_width was computed.
	Interval   string         `json:"interval"`
	Warmup     WarmupRule     `json:"warmup"`
	SeedRule   string         `json:"seed_rule"`
	Parameters []ParamInfo    `json:"parameters"` // the swept parameters, in canonical order
	Metrics    []MetricInfo   `json:"metrics"`    // the figures of ModeStats, with units
	SLO        *SLOSpec       `json:"slo,omitempty"`
	Points     []PointResult  `json:"points"`
	Searches   []SearchResult `json:"slo_search,omitempty"`
	Sizing     []SizingResult `json:"sizing,omitempty"`
	Cost       *CostTable     `json:"cost,omitempty"`
}

// WarmupRule states how the transient was removed.
type WarmupRule struct {
	Rule        string `json:"rule"` // mser5 | scenario
	Description string `json:"description"`
}

// MetricInfo names one figure of ModeStats.
type MetricInfo struct {
	Name        string `json:"name"` // the JSON field in ModeStats
	Unit        string `json:"unit"`
	Description string `json:"description"`
}

// PointResult is one design point.
type PointResult struct {
	Index int         `json:"index"`
	Point Point       `json:"params"`
	Key   string      `json:"key"`   // canonical parameters, the seed's input
	Seeds []uint64    `json:"seeds"` // one per replication, shared by all modes
	Modes []ModeStats `json:"modes"`
	// Differences are paired (mode − first mode) per replication: with
	// common random numbers their intervals are much narrower than the
	// difference of two independent intervals.
	Differences []ModeDiff `json:"differences,omitempty"`
}

// ModeStats are one mode's figures at one point, over the replications.
type ModeStats struct {
	Mode          string      `json:"mode"`
	P50Ms         Estimate    `json:"p50_ms"`
	P90Ms         Estimate    `json:"p90_ms"`
	P99Ms         Estimate    `json:"p99_ms"`
	P999Ms        Estimate    `json:"p999_ms"`
	MeanMs        Estimate    `json:"mean_ms"`
	ThroughputRPS Estimate    `json:"throughput_rps"`
	ErrorRate     Estimate    `json:"error_rate"`
	MeshCPUCores  Estimate    `json:"mesh_cpu_cores"`
	MeshMemoryGiB Estimate    `json:"mesh_memory_gib"`
	Components    []KindStats `json:"components"` // by kind: ztunnel, waypoint, sidecar, app
	SLO           *SLOCheck   `json:"slo,omitempty"`
	// Saturated counts replications that could not keep up with the
	// offered load (see Figures.Saturated).
	Saturated int          `json:"saturated_runs,omitempty"`
	Warmup    *WarmupCheck `json:"warmup,omitempty"`
}

// KindStats are one component kind's totals.
type KindStats struct {
	Kind      string   `json:"kind"`
	Instances Estimate `json:"instances"`
	CPUCores  Estimate `json:"cpu_cores"`
	MemoryGiB Estimate `json:"memory_gib"`
}

// SLOCheck judges the point against the SLO.
type SLOCheck struct {
	Value   Estimate `json:"value"`
	Verdict string   `json:"verdict"` // holds | violated | uncertain
	// Saturated counts replications that left more than 5% of their
	// offered requests unfinished; any makes the verdict "violated".
	Saturated int `json:"saturated_runs,omitempty"`
}

// WarmupCheck compares the scenario's warm-up with what MSER-5 finds.
type WarmupCheck struct {
	ScenarioWarmupS float64  `json:"scenario_warmup_s"`
	MSERTruncateS   Estimate `json:"mser_truncate_s"`
	// Covered counts replications whose MSER-5 truncation lies within the
	// scenario's warm-up; ShortRuns those where MSER-5 found the run too
	// short (its minimum in the second half).
	Covered   int `json:"covered"`
	ShortRuns int `json:"short_runs"`
}

// ModeDiff is a paired comparison of a mode with the baseline mode.
type ModeDiff struct {
	Mode          string   `json:"mode"`
	Baseline      string   `json:"baseline"`
	P99Ms         Estimate `json:"p99_ms"`
	MeshCPUCores  Estimate `json:"mesh_cpu_cores"`
	MeshMemoryGiB Estimate `json:"mesh_memory_gib"`
}

// CostTable is the cluster cost per mode across cluster sizes.
type CostTable struct {
	Headroom    float64       `json:"headroom"`
	Reference   Point         `json:"reference"` // the run the per-instance usage comes from
	PodsPerNode float64       `json:"pods_per_node"`
	Requests    []KindRequest `json:"requests"`
	Method      string        `json:"method"`
	Rows        []CostRow     `json:"rows"` // by pods, then mode in plan order
}

// KindRequest is the resource request assumed for one proxy kind.
type KindRequest struct {
	Kind      string  `json:"kind"`
	CPUCores  float64 `json:"cpu_cores"`
	MemoryGiB float64 `json:"memory_gib"`
}

// CostRow is one mode at one cluster size.
type CostRow struct {
	Pods          int         `json:"pods"`
	Mode          string      `json:"mode"`
	Nodes         int         `json:"nodes"`
	Instances     []KindCount `json:"instances"`
	CPUCores      Estimate    `json:"cpu_cores"`      // provisioned mesh cores: Σ max(request, used × headroom)
	MemoryGiB     Estimate    `json:"memory_gib"`     // provisioned mesh memory
	UsedCPUCores  Estimate    `json:"used_cpu_cores"` // used, no headroom, no request floor
	UsedMemoryGiB Estimate    `json:"used_memory_gib"`
}

// KindCount is the number of instances of one proxy kind.
type KindCount struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

// metricInfos documents the figures of ModeStats.
var metricInfos = []MetricInfo{
	{"p50_ms", "ms", "median end-to-end request latency, all path categories"},
	{"p90_ms", "ms", "90th percentile end-to-end request latency"},
	{"p99_ms", "ms", "99th percentile end-to-end request latency"},
	{"p999_ms", "ms", "99.9th percentile end-to-end request latency"},
	{"mean_ms", "ms", "mean end-to-end request latency"},
	{"throughput_rps", "requests/s", "completed requests per simulated second after warm-up"},
	{"error_rate", "fraction", "failed / (succeeded + failed) requests"},
	{"mesh_cpu_cores", "cores", "mean CPU used by all mesh proxies (ztunnel, waypoint, sidecar)"},
	{"mesh_memory_gib", "GiB", "memory of all mesh proxies"},
	{"components[].cpu_cores", "cores", "mean CPU used by all instances of one component kind"},
	{"components[].memory_gib", "GiB", "memory of all instances of one component kind"},
	{"components[].instances", "instances", "number of instances of one component kind"},
}
