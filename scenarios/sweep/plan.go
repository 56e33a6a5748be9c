package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// Plan is a sweep resolved against its scenario: every point, every search
// task and every setting that the numbers depend on. Each shard result
// carries it, so `sweep merge` needs nothing but the shard files and can
// check that they belong to one sweep.
type Plan struct {
	Scenario     string                   `json:"scenario"`
	Description  string                   `json:"description,omitempty"`    // the scenario's, for the report
	Question     string                   `json:"question,omitempty"`       // the scenario's, for the report
	Profile      string                   `json:"profile,omitempty"`        // the scenario's cost profile
	WarmupS      float64                  `json:"warmup_s,omitempty"`       // warm-up each run discards
	ScenarioHash string                   `json:"scenario_hash,omitempty"`  // inputs hash of the scenario
	ToolVersion  string                   `json:"tool_version,omitempty"`   // shards of different versions do not merge
	RunDurationS float64                  `json:"run_duration_s,omitempty"` // measured simulated seconds per run
	BaseSeed     uint64                   `json:"base_seed"`
	Replications int                      `json:"replications"`
	Confidence   float64                  `json:"confidence"`
	Warmup       string                   `json:"warmup"`
	Parameters   []results.SweepParameter `json:"parameters"`
	Points       []Point                  `json:"points"`
	// Modes are the modes the searches run; the design's, else the
	// scenario's.
	Modes  []string    `json:"modes,omitempty"`
	SLO    *SLOSpec    `json:"slo,omitempty"`
	Sizing *SizingSpec `json:"sizing,omitempty"`
	Cost   *CostSpec   `json:"cost,omitempty"`
	Tasks  []Task      `json:"tasks,omitempty"`
	// Command regenerates the whole sweep (no shard flags). Shards of one
	// sweep may be started differently, so Hash leaves it out.
	Command string `json:"command,omitempty"`
}

// Task is a unit of work that is not a plain design point: an SLO search,
// a sizing search, or the reference run of the cost table.
type Task struct {
	Kind      string `json:"kind"`                // slo-search | sizing | cost-reference
	Mode      string `json:"mode,omitempty"`      // slo-search, sizing
	Parameter string `json:"parameter,omitempty"` // sizing: waypointReplicas | workerThreads
	At        Point  `json:"at"`                  // the other parameters
}

// PlanOptions are what the scenario contributes to a plan.
type PlanOptions struct {
	Scenario     string
	Description  string
	Question     string
	Profile      string
	WarmupS      float64 // simulated time each run discards first
	ScenarioHash string
	ToolVersion  string
	RunDurationS float64  // measured simulated time of each run
	Seed         uint64   // the scenario's seed; the base seed unless the sweep sets one
	Modes        []string // the scenario's modes
}

// Plan expands the spec into a Plan.
func (s *Spec) Plan(o PlanOptions) (*Plan, error) {
	points, err := s.Expand()
	if err != nil {
		return nil, err
	}
	p := &Plan{
		Scenario:     o.Scenario,
		Description:  o.Description,
		Question:     o.Question,
		Profile:      o.Profile,
		WarmupS:      o.WarmupS,
		ScenarioHash: o.ScenarioHash,
		ToolVersion:  o.ToolVersion,
		RunDurationS: o.RunDurationS,
		BaseSeed:     o.Seed,
		Replications: s.Replications,
		Confidence:   s.Confidence,
		Warmup:       s.Warmup,
		Parameters:   s.axisInfo(points),
		Points:       points,
		SLO:          s.SLO,
		Sizing:       s.Sizing,
		Cost:         s.Cost,
	}
	if s.Seed != nil {
		p.BaseSeed = *s.Seed
	}
	p.Modes = designModes(points)
	if len(p.Modes) == 0 {
		p.Modes = append([]string(nil), o.Modes...)
	}
	needModes := (s.SLO != nil && s.SLO.Search != nil) || s.Sizing != nil
	if needModes && len(p.Modes) == 0 {
		return nil, &FieldError{File: s.file, Field: "parameters.mode", Msg: "SLO and sizing searches run per mode: list the modes (mode: [sidecar, ambient])"}
	}
	if s.SLO != nil && s.SLO.Search != nil {
		gs := groups(points, "load")
		if at := s.SLO.Search.At; at != nil {
			gs = []Point{clonePoint(at.Point)}
		}
		for _, g := range gs {
			for _, m := range p.Modes {
				p.Tasks = append(p.Tasks, Task{Kind: "slo-search", Mode: m, At: g})
			}
		}
	}
	if z := s.Sizing; z != nil {
		for _, param := range z.Parameters {
			gs := groups(points, "load", param)
			if z.At != nil {
				gs = []Point{clonePoint(z.At.Point)}
			}
			for _, g := range gs {
				g.Load = z.Load
				for _, m := range p.Modes {
					if sizes(param, m) {
						p.Tasks = append(p.Tasks, Task{Kind: "sizing", Mode: m, Parameter: param, At: g})
					}
				}
			}
		}
	}
	if s.Cost != nil {
		if ref := p.costRef(); p.costPoint(ref) < 0 {
			p.Tasks = append(p.Tasks, Task{Kind: "cost-reference", At: ref})
		}
	}
	return p, nil
}

// sizes reports whether sizing param can change mode's figures: waypoint
// replicas matter only where waypoints are, ztunnel threads only where
// ztunnels are.
func sizes(param, mode string) bool {
	switch param {
	case "waypointReplicas":
		return mode == "ambient+waypoint" || mode == "as-manifests"
	case "workerThreads":
		return mode == "ambient" || mode == "ambient+waypoint" || mode == "as-manifests"
	}
	return false
}

// costRef is the point of the cost table's reference run.
func (p *Plan) costRef() Point {
	ref := clonePoint(p.Points[0])
	if p.Cost.At != nil {
		ref = clonePoint(p.Cost.At.Point)
		ref.Load = p.Points[0].Load
	}
	switch {
	case p.Cost.Load > 0:
		ref.Load = p.Cost.Load
	case p.Sizing != nil:
		ref.Load = p.Sizing.Load
	}
	ref.Modes = p.Modes
	return ref
}

// costPoint returns the index of a design point that can serve as the cost
// reference run ref (same parameters, all of its modes), or -1.
func (p *Plan) costPoint(ref Point) int {
	for i, q := range p.Points {
		if q.Key() == ref.Key() && slices.Equal(q.Modes, ref.Modes) {
			return i
		}
	}
	return -1
}

// Units is the number of work units: points, then tasks.
func (p *Plan) Units() int { return len(p.Points) + len(p.Tasks) }

// InShard reports whether work unit u belongs to shard i of n: units are
// dealt round-robin, which balances uneven costs better than blocks.
func InShard(u, i, n int) bool { return n <= 1 || u%n == i }

// Hash identifies the plan: shards merge only when their hashes agree.
func (p *Plan) Hash() string {
	// A plan holds only validated, finite plain data, so Marshal cannot
	// fail; were it to, the empty input still yields a stable hash.
	q := *p
	q.Command = ""
	b, _ := json.Marshal(&q)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
