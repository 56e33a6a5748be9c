package results

import (
	"strconv"
	"strings"
)

// The content of sweep.json: the output contract of a sweep (the study
// engine scenarios/sweep produces it; plots reads it).

// SweepFile is the file name of a sweep's result.
const SweepFile = "sweep.json"

// SweepFormat names the format of sweep.json.
const SweepFormat = "ambientsim-sweep/1"

// Sweep is the content of sweep.json: every point of a sweep with the
// mean and confidence interval of each figure per mode, and the answers
// (SLO search, sizing, cost table). It is self-describing: Parameters and
// Metrics name and give the unit of everything a chart needs, and every
// slice is in a fixed order, so the same sweep gives a byte-identical file
// however it was split into workers and shards.
type Sweep struct {
	Format       string  `json:"format"`
	Scenario     string  `json:"scenario"`
	Description  string  `json:"description,omitempty"` // the scenario's description
	Question     string  `json:"question,omitempty"`    // the review question the sweep answers
	Profile      string  `json:"profile,omitempty"`     // the scenario's cost profile (name or file)
	Command      string  `json:"command,omitempty"`     // the command line that regenerates this sweep
	ScenarioHash string  `json:"scenario_hash,omitempty"`
	ToolVersion  string  `json:"tool_version,omitempty"`
	RunDurationS float64 `json:"run_duration_s,omitempty"` // measured simulated seconds per run, after warm-up
	WarmupS      float64 `json:"warmup_s,omitempty"`       // simulated seconds each run discards first
	BaseSeed     uint64  `json:"base_seed"`
	Replications int     `json:"replications"`
	Confidence   float64 `json:"confidence"` // level of every interval, e.g. 0.95
	// Interval says how every ci_half_width was computed.
	Interval   string             `json:"interval"`
	Warmup     WarmupRule         `json:"warmup"`
	SeedRule   string             `json:"seed_rule"`
	Parameters []SweepParameter   `json:"parameters"` // the swept parameters, in canonical order
	Metrics    []SweepMetric      `json:"metrics"`    // the figures of SweepModeStats, with units
	SLO        *SweepSLO          `json:"slo,omitempty"`
	Points     []SweepPointResult `json:"points"`
	Searches   []SLOSearchResult  `json:"slo_search,omitempty"`
	Sizing     []SizingResult     `json:"sizing,omitempty"`
	Cost       *CostTable         `json:"cost,omitempty"`
}

// WarmupRule states how the transient was removed.
type WarmupRule struct {
	Rule        string `json:"rule"` // mser5 | scenario
	Description string `json:"description"`
}

// SweepMetric names one figure of SweepModeStats.
type SweepMetric struct {
	Name        string `json:"name"` // the JSON field in SweepModeStats
	Unit        string `json:"unit"`
	Description string `json:"description"`
}

// SweepPointResult is one design point.
type SweepPointResult struct {
	Index int              `json:"index"`
	Point SweepPoint       `json:"params"`
	Key   string           `json:"key"`   // canonical parameters, the seed's input
	Seeds []uint64         `json:"seeds"` // one per replication, shared by all modes
	Modes []SweepModeStats `json:"modes"`
	// Differences are paired (mode − first mode) per replication: with
	// common random numbers their intervals are much narrower than the
	// difference of two independent intervals.
	Differences []ModeDiff `json:"differences,omitempty"`
}

// SweepModeStats are one mode's figures at one point, over the replications.
type SweepModeStats struct {
	Mode          string           `json:"mode"`
	P50Ms         Estimate         `json:"p50_ms"`
	P90Ms         Estimate         `json:"p90_ms"`
	P99Ms         Estimate         `json:"p99_ms"`
	P999Ms        Estimate         `json:"p999_ms"`
	MeanMs        Estimate         `json:"mean_ms"`
	ThroughputRPS Estimate         `json:"throughput_rps"`
	ErrorRate     Estimate         `json:"error_rate"`
	MeshCPUCores  Estimate         `json:"mesh_cpu_cores"`
	MeshMemoryGiB Estimate         `json:"mesh_memory_gib"`
	Components    []SweepKindStats `json:"components"` // by kind: ztunnel, waypoint, sidecar, app
	SLO           *SLOCheck        `json:"slo,omitempty"`
	// Saturated counts replications that could not keep up with the
	// offered load (see Figures.Saturated).
	Saturated int          `json:"saturated_runs,omitempty"`
	Warmup    *WarmupCheck `json:"warmup,omitempty"`
}

// SweepKindStats are one component kind's totals.
type SweepKindStats struct {
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
	Reference   SweepPoint    `json:"reference"` // the run the per-instance usage comes from
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

// SearchStep is one evaluated load of an SLO search.
type SearchStep struct {
	Load          float64  `json:"load"`
	Value         Estimate `json:"value"` // the SLO metric (ms, or a fraction for error_rate)
	Verdict       string   `json:"verdict"`
	Saturated     int      `json:"saturated_runs,omitempty"` // replications that could not keep up
	ThroughputRPS Estimate `json:"throughput_rps"`
}

// SLOSearchResult is the largest load at which one mode meets the SLO.
type SLOSearchResult struct {
	Mode string     `json:"mode"`
	At   SweepPoint `json:"at"` // the other parameters
	// Status: "found" (a bracket [MaxLoad, MinViolatingLoad] within the
	// tolerance), "holds-at-max" (the SLO holds at the highest load
	// searched), "violated-at-min" (it fails at the lowest).
	Status string `json:"status"`
	// MaxLoad is the largest evaluated load whose mean meets the SLO
	// (0 when none did).
	MaxLoad float64 `json:"max_load"`
	// MinViolatingLoad is the smallest evaluated load whose mean misses it
	// (0 when none did).
	MinViolatingLoad float64 `json:"min_violating_load"`
	// ConfidentMaxLoad is the largest evaluated load below MinViolatingLoad
	// whose whole interval meets the SLO (0 when none).
	ConfidentMaxLoad float64 `json:"confident_max_load"`
	// Uncertain is true when the interval at MaxLoad or MinViolatingLoad
	// straddles the threshold: more replications would be needed to be
	// sure of the answer to the tolerance.
	Uncertain bool `json:"uncertain"`
	// ThroughputRPS is the throughput measured at MaxLoad.
	ThroughputRPS Estimate     `json:"throughput_rps"`
	Note          string       `json:"note"` // the answer in one sentence
	Steps         []SearchStep `json:"steps"`
}

// SizingStep is one evaluated size.
type SizingStep struct {
	Value     int      `json:"value"`
	SLOValue  Estimate `json:"slo_value"`
	Verdict   string   `json:"verdict"`
	Saturated int      `json:"saturated_runs,omitempty"`
}

// SizingResult is the smallest value of one parameter at which one mode
// meets the SLO at the sizing load.
type SizingResult struct {
	Mode      string     `json:"mode"`
	Parameter string     `json:"parameter"` // waypointReplicas | workerThreads
	Load      float64    `json:"load"`
	At        SweepPoint `json:"at"`
	// Status: "found", or "not-met" when even sizing.max misses the SLO.
	Status  string `json:"status"`
	Minimal int    `json:"minimal,omitempty"`
	// Verdict at Minimal: holds, or uncertain when its interval straddles
	// the SLO (the next size up is then the confident answer).
	Verdict string `json:"verdict,omitempty"`
	// ZtunnelCPURequestCores is the ztunnel CPU request matching Minimal
	// worker threads (one core per worker thread).
	ZtunnelCPURequestCores float64      `json:"ztunnel_cpu_request_cores,omitempty"`
	Note                   string       `json:"note"`
	Steps                  []SizingStep `json:"steps"`
}

// Estimate is the mean of one figure over independent replications with a
// Student-t confidence interval: the true mean lies in Mean ± HalfWidth
// with the sweep's confidence (0.95 unless stated).
type Estimate struct {
	Mean      float64 `json:"mean"`
	HalfWidth float64 `json:"ci_half_width"`
	N         int     `json:"n"` // replications behind the estimate
}

// Lo is the lower end of the confidence interval.
func (e Estimate) Lo() float64 { return e.Mean - e.HalfWidth }

// Hi is the upper end of the confidence interval.
func (e Estimate) Hi() float64 { return e.Mean + e.HalfWidth }

// SweepParameter describes one sweepable parameter; sweep.json lists the ones a
// sweep uses so that a reader needs nothing else to label axes.
type SweepParameter struct {
	Name        string   `json:"name"`
	Unit        string   `json:"unit,omitempty"`
	Description string   `json:"description"`
	Values      []string `json:"values,omitempty"` // the values the design uses, in design order
}

// SweepPoint is one design point: the scenario with some parameters overridden.
// Zero values mean "as in the scenario".
type SweepPoint struct {
	Load             float64 `json:"load,omitempty"`
	Nodes            int     `json:"nodes,omitempty"`
	PodsPerService   int     `json:"podsPerService,omitempty"`
	WaypointReplicas int     `json:"waypointReplicas,omitempty"`
	WaypointScope    string  `json:"waypointScope,omitempty"`
	WorkerThreads    int     `json:"workerThreads,omitempty"`
	InstanceType     string  `json:"instanceType,omitempty"`
	Profile          string  `json:"profile,omitempty"`
	// Modes are run together, on the same seed, in one replication. Empty
	// means the scenario's own modes.
	Modes []string `json:"modes,omitempty"`
}

// SweepParameterNames are the sweepable parameters in canonical order: the
// order of a point's key and of sweep.json's parameters.
var SweepParameterNames = []string{"load", "nodes", "podsPerService", "waypointReplicas", "waypointScope", "workerThreads", "instanceType", "profile", "mode"}

// Get returns the canonical text of the named parameter, "" when unset
// (numbers with at most 12 significant digits, modes joined with "/").
func (p SweepPoint) Get(name string) string {
	num := func(v float64) string {
		if v == 0 {
			return ""
		}
		return FormatNumber(v)
	}
	switch name {
	case "load":
		return num(p.Load)
	case "nodes":
		return num(float64(p.Nodes))
	case "podsPerService":
		return num(float64(p.PodsPerService))
	case "waypointReplicas":
		return num(float64(p.WaypointReplicas))
	case "waypointScope":
		return p.WaypointScope
	case "workerThreads":
		return num(float64(p.WorkerThreads))
	case "instanceType":
		return p.InstanceType
	case "profile":
		return p.Profile
	case "mode":
		return strings.Join(p.Modes, "/")
	}
	return ""
}

// Key is the canonical text of the point's parameters without its modes,
// e.g. "load=1.5,nodes=3". A replication's seed derives from it, so every
// mode of a replication sees the same traffic and a point keeps its seeds
// wherever it appears in the design, whichever shard or worker runs it.
func (p SweepPoint) Key() string {
	var b strings.Builder
	for _, name := range SweepParameterNames {
		if name == "mode" {
			continue
		}
		if v := p.Get(name); v != "" {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(name)
			b.WriteByte('=')
			b.WriteString(v)
		}
	}
	return b.String()
}

// String is Key plus the modes, for messages.
func (p SweepPoint) String() string {
	k := p.Key()
	if len(p.Modes) > 0 {
		if k != "" {
			k += ","
		}
		k += "mode=" + strings.Join(p.Modes, "/")
	}
	if k == "" {
		return "(scenario as written)"
	}
	return k
}

// FormatNumber prints v with at most 12 significant digits, so that ranges
// built by repeated addition print as 0.3, not 0.30000000000000004.
func FormatNumber(v float64) string {
	return strconv.FormatFloat(v, 'g', 12, 64)
}

// SweepSLO is the sweep's service-level objective as sweep.json records it.
type SweepSLO struct {
	Metric    string         `json:"metric,omitempty"`   // p50 | p90 | p99 | p999 (ms) | error_rate (fraction)
	Category  string         `json:"category,omitempty"` // latency row; "" = all
	Threshold float64        `json:"threshold,omitempty"`
	Search    *SLOSearchSpec `json:"search,omitempty"`
}

// SLOSearchSpec bounds the SLO bisection over the load multiplier.
type SLOSearchSpec struct {
	From      float64         `json:"from,omitempty"`
	To        float64         `json:"to,omitempty"`
	Tolerance float64         `json:"tolerance,omitempty"`
	MaxSteps  int             `json:"maxSteps,omitempty"`
	At        *SweepPointSpec `json:"at,omitempty"` // the other parameters the search runs at
}

// SweepPointSpec is a point as written in the sweep section.
type SweepPointSpec struct {
	Point SweepPoint `json:"point"`
}
