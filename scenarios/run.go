package scenarios

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Options override a scenario's settings for one run.
type Options struct {
	Seed     *uint64  // overrides the scenario seed
	Profile  string   // overrides the scenario profile (name or path)
	Duration sim.Time // overrides the measured duration
	Command  string   // the command line, recorded in the summary
	// ToolVersion is the binary's version, recorded in the summary; ""
	// records "dev" (a build that was given none).
	ToolVersion string
	// Progress, if set, is called with the mode being run and the fraction
	// of its simulated time done.
	Progress func(mode string, frac float64)
	// BatchInterval, if > 0, records each mode's mean end-to-end latency
	// of successful requests per interval of simulated time from t = 0,
	// warm-up included, in Run.Series (for MSER-5 warm-up detection).
	BatchInterval sim.Time
	// MaxEvents is the event budget of each simulation the run makes (0:
	// DefaultMaxEvents): one estimated above it is refused before it
	// starts with a *BudgetError, one reaching it is stopped.
	MaxEvents uint64
	// MetricsDetail is how finely metrics.prom and metrics.om split the
	// Istio metrics: "workload" (the default, "" too: Istio's standard
	// labels) or "pod" (a pod label naming each reporting proxy's pod;
	// models.Config.MetricsDetail). summary.json does not depend on it.
	MetricsDetail string
}

// MetricsDetails are the values Options.MetricsDetail accepts.
var MetricsDetails = []string{models.MetricsByWorkload, models.MetricsByPod}

// Run is one scenario run: the summary and, per mode, the raw results.
type Run struct {
	Scenario *Scenario
	Summary  *results.Summary
	Modes    []*models.RunResult
	Profile  *models.Profile
	// Designs are the what-if designs' runs under all failures, in the
	// order of Summary.WhatIf after its first row (the scenario's own).
	Designs []*models.RunResult
	// Series maps each mode to its batch means of end-to-end latency in ms
	// (Options.BatchInterval apart, from t = 0, warm-up included); nil
	// without a BatchInterval.
	Series map[string][]float64
}

// Execute runs every mode of the scenario on identical random streams.
func Execute(sc *Scenario, opt Options) (*Run, error) {
	return ExecuteContext(context.Background(), sc, opt)
}

// ExecuteContext is Execute stopping promptly when ctx is done: every
// simulation checks ctx once per simulated second and the run returns an
// error wrapping ctx.Err().
func ExecuteContext(ctx context.Context, sc *Scenario, opt Options) (*Run, error) {
	if opt.MetricsDetail != "" && !slices.Contains(MetricsDetails, opt.MetricsDetail) {
		return nil, fmt.Errorf("metrics detail %q: want one of %v", opt.MetricsDetail, MetricsDetails)
	}
	prof, err := sc.loadProfile(opt.Profile)
	if err != nil {
		return nil, err
	}
	x := &execution{ctx: ctx, sc: sc, opt: opt, seed: sc.Seed, dur: sc.Duration.T(), warm: sc.Warmup.T(),
		byFailure: make([][]results.FailureResult, len(sc.Failures))}
	if opt.Seed != nil {
		x.seed = *opt.Seed
	}
	if opt.Duration > 0 {
		x.dur = opt.Duration
	}
	sum, err := x.newSummary(prof)
	if err != nil {
		return nil, err
	}
	x.run = &Run{Scenario: sc, Summary: sum, Profile: prof}
	x.prof = sc.designProfile(prof)
	for _, mode := range sc.Modes {
		if err := x.runMode(mode); err != nil {
			return nil, err
		}
	}
	if err := x.finish(); err != nil {
		return nil, err
	}
	return x.run, nil
}

// execution is one Execute in progress: the settings every mode shares
// and what the modes have produced so far.
type execution struct {
	ctx         context.Context
	sc          *Scenario
	opt         Options
	prof        *models.Profile // with the scenario's design changes (certificate TTL)
	seed        uint64
	dur, warm   sim.Time
	run         *Run
	shown       *topology.Topology        // the topology the summary shows: the first with waypoints, else the first
	byFailure   [][]results.FailureResult // per scenario failure, one result per mode
	cycles      []string                  // call-graph cycles the admission estimate found
	firstDesign *designRun                // the first mode's run, the what-if table's first row
}

// loadProfile loads the run's cost profile (override: --profile, relative
// to the working directory) with the sweep point's tuning. A profile file
// named in the scenario is relative to the scenario file.
func (sc *Scenario) loadProfile(override string) (*models.Profile, error) {
	profName := sc.Profile
	if isFile(profName) && !filepath.IsAbs(profName) && sc.file != "" && !sc.embedded {
		profName = filepath.Join(filepath.Dir(sc.file), profName)
	}
	if override != "" {
		profName = override
	}
	prof, err := models.LoadProfile(profName)
	if err != nil {
		return nil, err
	}
	if err := sc.tuneProfile(prof); err != nil {
		return nil, err
	}
	return prof, nil
}

// newSummary starts summary.json: what was run, with which inputs.
func (x *execution) newSummary(prof *models.Profile) (*results.Summary, error) {
	sc, opt := x.sc, x.opt
	sum := &results.Summary{
		SchemaVersion: results.SchemaVersion, Scenario: sc.Name, Description: sc.Description, Question: sc.Question,
		Seed: x.seed, ToolVersion: ToolVersionOf(opt.ToolVersion), Command: opt.Command,
		Profile:   results.Profile{Name: prof.Name, Version: prof.Version, Source: prof.Source, Date: prof.Date, Provenance: prof.Provenance, Calibration: profileCalibration(prof)},
		DurationS: x.dur.Seconds(), WarmupS: x.warm.Seconds(), SLO: sc.SLO.result(),
		Readiness: []results.ReadinessCheck{},
	}
	hash, err := inputsHash(sc, prof)
	if err != nil {
		return nil, err
	}
	sum.InputsHash = hash
	return sum, nil
}

// runMode simulates one dataplane mode, then each failure's blast radius
// in it.
func (x *execution) runMode(mode string) error {
	sc, opt, run := x.sc, x.opt, x.run
	top, err := sc.BuildTopology(mode)
	if err != nil {
		return fmt.Errorf("mode %s: %w", mode, err)
	}
	if x.shown == nil || (len(x.shown.Waypoints) == 0 && len(top.Waypoints) > 0) {
		x.shown = top
	}
	cfg, err := sc.compile(top, x.prof, mode, x.seed, x.dur, x.warm)
	if err != nil {
		return err
	}
	cfg.MetricsDetail = opt.MetricsDetail
	est, err := sc.admit(&cfg, opt.MaxEvents)
	if err != nil {
		return err
	}
	x.cycles = append(x.cycles, est.Cycles...)
	if opt.Progress != nil {
		cfg.Progress = func(now, end sim.Time) { opt.Progress(mode, float64(now)/float64(max(end, 1))) }
	}
	mcfg := cfg
	mcfg.BatchInterval = opt.BatchInterval
	mesh, err := models.NewMesh(mcfg)
	if err != nil {
		return fmt.Errorf("mode %s: %w", mode, err)
	}
	res, err := mesh.Run(x.ctx)
	if err != nil {
		return fmt.Errorf("mode %s: %w", mode, err)
	}
	if opt.BatchInterval > 0 {
		if run.Series == nil {
			run.Series = map[string][]float64{}
		}
		run.Series[mode] = res.Batches
	}
	run.Modes = append(run.Modes, res)
	run.Summary.Modes = append(run.Summary.Modes, modeResult(res))
	frs, err := sc.blastResults(x.ctx, mode, top, cfg, res)
	if err != nil {
		return err
	}
	for i := range frs {
		x.byFailure[i] = append(x.byFailure[i], frs[i])
	}
	if x.firstDesign == nil {
		x.firstDesign = &designRun{name: "scenario (" + mode + ")", mode: mode, res: res, failures: frs}
	}
	return nil
}

// finish runs the what-if designs and completes the summary: failures,
// topology, paths, readiness, comparison, observed figures, assumptions.
func (x *execution) finish() error {
	sc, run, sum := x.sc, x.run, x.run.Summary
	for _, frs := range x.byFailure {
		sum.Failures = append(sum.Failures, frs...)
	}
	if len(sc.WhatIf) > 0 {
		wi, designs, err := sc.whatIfs(x.ctx, x.firstDesign, x.prof, x.seed, x.dur, x.warm, x.opt.MaxEvents)
		if err != nil {
			return err
		}
		sum.WhatIf = wi
		run.Designs = designs
	}
	if sc.Capacity != nil {
		cr, err := sc.capacity(x.ctx, x.prof, x.seed, x.dur, x.warm, x.opt.MaxEvents)
		if err != nil {
			return err
		}
		sum.Capacity = cr
	}
	shown := x.shown
	sum.Topology = TopologySummaryResult(shown.Summary(), edgeRates(run))
	report := shown.Paths()
	sum.Paths = PathReportResult(report, shown.Placements())
	// The run's own modes decide the checklist's before/after performance
	// and waypoint-path checks.
	sum.Readiness = ReadinessResults(topology.ReadinessOf(shown, shown.FindingGroups(),
		topology.ReadinessInputs{Run: RunEvidenceResult(*sum, "this run")}))
	sum.Comparison = comparison(sum.Modes)
	var err error
	if sum.Observed, err = observedResults(sc, run); err != nil {
		return err
	}
	sum.Assumptions = append(assumptions(sc, x.prof), cycleNotes(x.cycles)...)
	return nil
}

// inputsHash is the sha256 of the scenario, its manifests and the profile.
func inputsHash(sc *Scenario, prof *models.Profile) (string, error) {
	h := sha256.New()
	h.Write(sc.raw)
	h.Write([]byte{0})
	if sc.embedded && len(sc.Topology.Manifests) > 0 {
		data, files, err := libraryManifests(sc.Topology.Manifests)
		if err != nil {
			return "", fmt.Errorf("hashing inputs: %w", err)
		}
		h.Write([]byte(strings.Join(files, "\n")))
		h.Write(data)
	}
	budget := yamlcheck.NewBudget(yamlcheck.MaxTotalBytes, yamlcheck.MaxFileBytes)
	for _, m := range sc.Topology.Manifests {
		if sc.embedded {
			break
		}
		p := sc.resolve(m)
		var files []string
		_ = filepath.WalkDir(p, func(f string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, f)
			}
			return nil
		})
		sort.Strings(files)
		for _, f := range files {
			data, err := budget.ReadFile(f)
			if err != nil {
				return "", fmt.Errorf("hashing inputs: %w", err)
			}
			h.Write([]byte(filepath.ToSlash(f)))
			h.Write(data)
		}
	}
	h.Write(prof.Raw)
	if k := sc.point.String(); sc.point.Key() != "" || len(sc.point.Modes) > 0 {
		h.Write([]byte{0})
		h.Write([]byte(k)) // a sweep point's changes are not in the file
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (sc *Scenario) resolve(p string) string {
	if filepath.IsAbs(p) || sc.file == "" {
		return p
	}
	return filepath.Join(filepath.Dir(sc.file), p)
}

// BuildTopology builds the cluster for one mode: the spec with every
// namespace switched to the mode (ambient+waypoint adds a namespace
// waypoint where a namespace with services has none), or the manifests as
// they are.
func (sc *Scenario) BuildTopology(mode string) (*topology.Topology, error) {
	if sc.spec == nil && sc.embedded {
		// A built-in scenario's manifests come from the embedded library,
		// whatever the working directory.
		data, files, err := libraryManifests(sc.Topology.Manifests)
		if err != nil {
			return nil, err
		}
		name := strings.Join(files, "+")
		t, _, err := topology.ParseManifests(name, data, topology.LoadOptions{})
		if err != nil {
			return nil, err
		}
		return t, sc.addTrafficCalls(t)
	}
	if sc.spec == nil {
		paths := make([]string, len(sc.Topology.Manifests))
		for i, m := range sc.Topology.Manifests {
			paths[i] = sc.resolve(m)
		}
		t, _, err := topology.LoadManifests(paths, topology.LoadOptions{})
		if err != nil {
			return nil, err
		}
		return t, sc.addTrafficCalls(t)
	}
	sp, err := sc.decodeSpec()
	if err != nil {
		return nil, err
	}
	applyMode(sp, mode, sc.Mesh.WaypointReplicas)
	autoscaleSpec(sp, sc.Mesh.WaypointAutoscale)
	t, err := sp.Build()
	if err != nil {
		return nil, specErr(sc.file, err)
	}
	return t, sc.addTrafficCalls(t)
}

// addTrafficCalls adds a call-graph edge for every traffic edge that names
// one workload and one service exactly and has a rate, when the topology
// has no such call (manifests carry no call graph).
func (sc *Scenario) addTrafficCalls(t *topology.Topology) error {
	for i, e := range sc.Traffic.Edges {
		if e.Rate == nil || e.From == "" || e.To == "" || strings.ContainsAny(e.From+e.To, "*?[") {
			continue
		}
		var from *topology.Workload
		for _, w := range t.Workloads {
			if w.ID() == e.From {
				from = w
			}
		}
		var to *topology.Service
		for _, s := range t.Services {
			if s.ID() == e.To {
				to = s
			}
		}
		if topology.IsHostRef(e.To) {
			ns, host, _ := strings.Cut(e.To, "/")
			to = t.ServiceEntryHost(ns, host)
		}
		field := fmt.Sprintf("traffic.edges[%d]", i)
		if from == nil {
			return &FieldError{File: sc.file, Field: field + ".from", Msg: fmt.Sprintf("no workload %q in the topology", e.From)}
		}
		if to == nil {
			what := "service"
			if topology.IsHostRef(e.To) {
				what = "ServiceEntry host (namespace/host)"
			}
			var doc yaml.Node
			_ = yaml.Unmarshal(sc.raw, &doc) // it parsed once already
			return &FieldError{File: sc.file, Line: lineOf(&doc, field+".to"), Field: field + ".to", Msg: fmt.Sprintf("no %s %q in the topology", what, e.To)}
		}
		exists := false
		for _, c := range t.Calls {
			exists = exists || (c.From == from && c.To == to)
		}
		if exists {
			continue
		}
		port := 0
		if len(to.Ports) > 0 {
			port = to.Ports[0].Port
		}
		// The rate stays the scenario's: compile gives it to the model.
		t.Calls = append(t.Calls, &topology.Call{From: from, To: to, Port: port})
	}
	return nil
}

func applyMode(sp *topology.Spec, mode string, wpReplicas int) {
	if mode == ModeAsManifests {
		return
	}
	m := topology.Mode(mode)
	if mode == ModeAmbientWaypoint {
		m = topology.Ambient
	}
	for i := range sp.Namespaces {
		ns := &sp.Namespaces[i]
		ns.Mode = m
		for j := range ns.Services {
			ns.Services[j].Mode = ""
		}
		for j := range ns.Workloads {
			if !ns.Workloads[j].Ingress {
				ns.Workloads[j].Mode = ""
			}
		}
		if mode != ModeAmbientWaypoint {
			ns.Waypoint, ns.Waypoints = nil, nil
			for j := range ns.Services {
				ns.Services[j].Waypoint = ""
			}
			for j := range ns.Workloads {
				ns.Workloads[j].Waypoint = ""
			}
			continue
		}
		if ns.Waypoint == nil && len(ns.Waypoints) == 0 && len(ns.Services) > 0 {
			ns.Waypoint = &topology.WaypointSpec{Scope: "namespace", Replicas: max(wpReplicas, 1)}
		}
	}
}

// OpenMetricsEnabled reports whether metrics.om is written.
func (sc *Scenario) OpenMetricsEnabled() bool {
	return sc.Outputs.OpenMetrics == nil || *sc.Outputs.OpenMetrics
}

// MetricsEnabled reports whether metrics.prom is written.
func (sc *Scenario) MetricsEnabled() bool { return sc.Outputs.Metrics == nil || *sc.Outputs.Metrics }

// Interval is the metrics.om sampling interval.
func (sc *Scenario) Interval() sim.Time {
	if sc.Outputs.Interval > 0 {
		return sc.Outputs.Interval.T()
	}
	return 10 * sim.Second
}

// comparison builds the side-by-side table across modes.
func comparison(modes []results.ModeResult) []results.CompareRow {
	row := func(metric, unit string, f func(m *results.ModeResult) float64) results.CompareRow {
		r := results.CompareRow{Metric: metric, Unit: unit}
		for i := range modes {
			r.Values = append(r.Values, f(&modes[i]))
		}
		return r
	}
	lat := func(m *results.ModeResult) *results.LatencyRow {
		for i := range m.Latency {
			if m.Latency[i].Category == "all" {
				return &m.Latency[i]
			}
		}
		return &results.LatencyRow{}
	}
	kind := func(k string, cores bool) func(m *results.ModeResult) float64 {
		return func(m *results.ModeResult) float64 {
			if cores {
				return m.Totals.ByKind[k].CPUCores
			}
			return m.Totals.ByKind[k].MemoryGiB
		}
	}
	return []results.CompareRow{
		row("throughput", "rps", func(m *results.ModeResult) float64 { return m.Requests.ThroughputRPS }),
		row("latency p50", "ms", func(m *results.ModeResult) float64 { return lat(m).P50Ms }),
		row("latency p90", "ms", func(m *results.ModeResult) float64 { return lat(m).P90Ms }),
		row("latency p99", "ms", func(m *results.ModeResult) float64 { return lat(m).P99Ms }),
		row("latency p99.9", "ms", func(m *results.ModeResult) float64 { return lat(m).P999Ms }),
		row("failed requests", "requests", func(m *results.ModeResult) float64 { return float64(m.Requests.Failed) }),
		row("mesh CPU", "cores", func(m *results.ModeResult) float64 { return m.Totals.CPUCores }),
		row("mesh memory", "GiB", func(m *results.ModeResult) float64 { return m.Totals.MemoryGiB }),
		row("ztunnel CPU", "cores", kind("ztunnel", true)),
		row("waypoint CPU", "cores", kind("waypoint", true)),
		row("sidecar CPU", "cores", kind("sidecar", true)),
		row("ztunnel memory", "GiB", kind("ztunnel", false)),
		row("waypoint memory", "GiB", kind("waypoint", false)),
		row("sidecar memory", "GiB", kind("sidecar", false)),
		row("mTLS handshakes", "handshakes", func(m *results.ModeResult) float64 {
			var n int64
			for _, c := range m.Components {
				n += c.Handshakes
			}
			return float64(n)
		}),
	}
}

func assumptions(sc *Scenario, prof *models.Profile) []string {
	a := []string{
		"Costs come from profile " + prof.Name + " (" + prof.Provenance + "); parameters marked 'assumed' in it are placeholders until calibration.",
		"Latency row 'all' is the end-to-end latency of successful external requests; the per-category rows are per-call latencies on paths of that category.",
		"Every namespace is switched to the mode under test (ambient+waypoint adds one namespace waypoint where a namespace with services has none); as-manifests runs the topology as written.",
		"Apps release their worker after their own service time and call downstream services in parallel; a failed downstream call fails the request (500).",
		"L4 paths (kube-proxy, ztunnel) pick an endpoint at random per connection, so keep-alive connections stay on one pod; sidecars and waypoints balance per request.",
		"HBONE pools follow ztunnel: per source pod and next hop, at most min(100, peer limit) streams per connection, one dial per key, idle release after 5 minutes.",
		"Every container (apps, proxies, load generators) draws CPU from its node's cores: the machine type's cores at its speed over the profile's reference speed, shared by CPU request, CPU limits throttled in 100 ms CFS periods; a connection stays on one proxy worker (docs/capacity.md).",
		"Each node's NIC is a FIFO transmit queue: a cross-node message pays serialisation and waits behind the node's earlier messages; traffic between pods of one node never touches it.",
		"L7 proxies (sidecar, waypoint, ingress gateway) route each request with the mesh's route tables; a weighted backend is drawn once per request and kept across the proxy's retries, which follow the route's retry policy or Istio's defaults.",
		"Memory and istiod load are closed-form laws of counts (docs/capacity.md): ztunnel memory grows with every workload and service cluster-wide, sidecar memory with its configuration scope; istiod CPU with connected proxies, debounced pushes for config changes and pod churn, and certificates; churn loads the control plane only (the simulated pods stay).",
		"A service's destination_workload label is its first endpoint's workload.",
	}
	if c := calibrationAssumption(prof); c != "" {
		a = append(a[:1], append([]string{c}, a[1:]...)...)
	}
	return a
}

// isFile reports whether a profile reference is a file path rather than a
// built-in name.
func isFile(name string) bool {
	return strings.ContainsAny(name, `/\`) || strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// edgeRates is the measured calls per second per call-graph edge in the
// first mode ("ns/workload->ns/service"), empty before any mode ran.
func edgeRates(run *Run) map[string]float64 {
	if len(run.Modes) == 0 {
		return map[string]float64{}
	}
	return run.Modes[0].EdgeRates()
}

// ToolVersionOf is the version a result records: v, or "dev" for a build
// that was given none.
func ToolVersionOf(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}
