package scenariorun

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/sim"
)

// Options apply to every run of a sweep.
type Options struct {
	// Duration overrides the scenario's measured simulated time (0: the
	// scenario's).
	Duration sim.Time
	// Command is recorded in each run's summary.
	Command string
	// ToolVersion is the binary's version, recorded in the plan (shards
	// of different versions do not merge) and in each run's summary.
	ToolVersion string
	// BatchInterval is the batch width of the latency series each run
	// reports for MSER-5 (sweep warm-up rule "mser5"); 0 means
	// DefaultBatchInterval.
	BatchInterval sim.Time
}

// DefaultBatchInterval is the batch width of the runs' latency series: 100
// ms gives MSER-5 120 batches (24 groups of 5) on a 2 s + 10 s run.
const DefaultBatchInterval = 100 * sim.Millisecond

// Runner runs sweep points as scenario runs. It is safe for concurrent use;
// each call parses its own copy of the scenario.
type Runner struct {
	study *Study
	opt   Options
}

// NewRunner returns a Runner for the study.
func NewRunner(s *Study, o Options) (*Runner, error) {
	if o.BatchInterval <= 0 {
		o.BatchInterval = DefaultBatchInterval
	}
	return &Runner{study: s, opt: o}, nil
}

// Close releases the runner's resources (there are none left since worker
// threads are tuned in memory; kept so callers need not change).
func (r *Runner) Close() error { return nil }

// RunPoint implements sweep.Runner. The run stops promptly (within one
// simulated second) when ctx is cancelled.
func (r *Runner) RunPoint(ctx context.Context, p sweep.Point, seed uint64) (*sweep.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc, err := r.Scenario(p)
	if err != nil {
		return nil, err
	}
	opt := scenarios.Options{Seed: &seed, Duration: r.opt.Duration, Command: r.opt.Command, ToolVersion: r.opt.ToolVersion}
	if p.WorkerThreads > 0 {
		opt.Tune = WorkerThreads(p.WorkerThreads)
	}
	mser := r.study.Spec.Warmup == "mser5"
	if mser {
		opt.BatchInterval = r.opt.BatchInterval
	}
	run, err := scenarios.ExecuteContext(ctx, sc, opt)
	if err != nil {
		return nil, err
	}
	out := &sweep.Outcome{Summary: run.Summary}
	if mser {
		for _, m := range run.Summary.Modes {
			out.Series = append(out.Series, sweep.ModeSeries{Mode: m.Mode, BatchS: r.opt.BatchInterval.Seconds(), LatencyMs: run.Series[m.Mode]})
		}
	}
	return out, nil
}

// WorkerThreads returns a profile tuning that sets the ztunnel worker
// threads (the sweep parameter workerThreads).
func WorkerThreads(n int) func(*models.Profile) {
	return func(p *models.Profile) {
		p.Ztunnel.WorkerThreads.Value = float64(n)
		p.Ztunnel.WorkerThreads.Derivation = "set by the sweep parameter workerThreads"
	}
}

// Scenario returns the study's scenario with the point's parameters
// applied (every parameter but workerThreads, which lives in the profile).
func (r *Runner) Scenario(p sweep.Point) (*scenarios.Scenario, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(r.study.Raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", r.study.File, err)
	}
	root := doc.Content[0]
	del(root, "sweep") // each run is a plain scenario
	if err := apply(root, p); err != nil {
		return nil, fmt.Errorf("%s: applying %s: %w", r.study.File, p, err)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", r.study.File, err)
	}
	sc, err := scenarios.Parse(r.study.File, buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("scenario with %s: %w", p, err)
	}
	return sc, nil
}

// apply writes the point's parameters into the scenario document.
func apply(root *yaml.Node, p sweep.Point) error {
	if len(p.Modes) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, m := range p.Modes {
			seq.Content = append(seq.Content, scalar(m))
		}
		set(root, "modes", seq)
	}
	if p.Profile != "" {
		set(root, "profile", scalar(p.Profile))
	}
	spec := get(get(root, "topology"), "spec")
	needSpec := func(param string) error {
		if spec == nil || spec.Kind != yaml.MappingNode {
			return fmt.Errorf("%s needs a generative topology.spec; this scenario's topology is manifests", param)
		}
		return nil
	}
	if p.Load > 0 {
		scale := func(n *yaml.Node) error {
			if n == nil {
				return nil
			}
			v, err := strconv.ParseFloat(n.Value, 64)
			if err != nil {
				return fmt.Errorf("line %d: rate %q is not a number", n.Line, n.Value)
			}
			*n = *scalar(strconv.FormatFloat(v*p.Load, 'g', -1, 64))
			return nil
		}
		traffic := get(root, "traffic")
		if err := scale(get(get(traffic, "defaults"), "rate")); err != nil {
			return err
		}
		for _, e := range items(get(traffic, "edges")) {
			if err := scale(get(e, "rate")); err != nil {
				return err
			}
		}
		for _, c := range items(get(spec, "calls")) {
			if err := scale(get(c, "rate")); err != nil {
				return err
			}
		}
	}
	if p.Nodes > 0 {
		if err := needSpec("nodes"); err != nil {
			return err
		}
		nodes := get(spec, "nodes")
		if nodes == nil {
			nodes = &yaml.Node{Kind: yaml.MappingNode}
			set(spec, "nodes", nodes)
		}
		if l := get(nodes, "list"); l != nil && len(l.Content) > 0 {
			return fmt.Errorf("nodes cannot be swept: topology.spec.nodes has an explicit list; use nodes.count")
		}
		set(nodes, "count", scalar(strconv.Itoa(p.Nodes)))
	}
	if p.PodsPerService > 0 {
		if err := needSpec("podsPerService"); err != nil {
			return err
		}
		for _, ns := range items(get(spec, "namespaces")) {
			for _, s := range items(get(ns, "services")) {
				set(s, "replicas", scalar(strconv.Itoa(p.PodsPerService)))
			}
		}
	}
	if p.WaypointScope != "" {
		if err := needSpec("waypointScope"); err != nil {
			return err
		}
		for _, ns := range items(get(spec, "namespaces")) {
			if len(items(get(ns, "services"))) == 0 {
				continue
			}
			wp := get(ns, "waypoint")
			if wp == nil || wp.Kind != yaml.MappingNode {
				wp = &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
				set(ns, "waypoint", wp)
			}
			set(wp, "scope", scalar(p.WaypointScope))
		}
	}
	if p.WaypointReplicas > 0 {
		n := strconv.Itoa(p.WaypointReplicas)
		mesh := get(root, "mesh")
		if mesh == nil {
			mesh = &yaml.Node{Kind: yaml.MappingNode}
			set(root, "mesh", mesh)
		}
		set(mesh, "waypoint_replicas", scalar(n))
		for _, ns := range items(get(spec, "namespaces")) {
			if wp := get(ns, "waypoint"); wp != nil && wp.Kind == yaml.MappingNode {
				set(wp, "replicas", scalar(n))
			}
			for _, wp := range items(get(ns, "waypoints")) {
				set(wp, "replicas", scalar(n))
			}
		}
	}
	return nil
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

// get returns the value of key in mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// set replaces or adds key in mapping m.
func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, scalar(key), v)
}

// del removes key from mapping m.
func del(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// items returns the elements of a sequence, or nil.
func items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}
