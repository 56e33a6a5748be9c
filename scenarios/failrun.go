package scenarios

import (
	"context"
	"fmt"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// blastResults runs the design without failures and, when there are
// several, with each failure alone, and returns every failure's blast
// radius in the design. all is the run with every failure.
func (sc *Scenario) blastResults(ctx context.Context, design string, top *topology.Topology, cfg models.Config, all *models.RunResult) ([]results.FailureResult, error) {
	if len(sc.Failures) == 0 {
		return nil, nil
	}
	var base *models.RunResult
	run := func(c models.Config) (*models.RunResult, error) {
		c.Progress = nil
		mesh, err := models.NewMesh(c)
		if err != nil {
			return nil, fmt.Errorf("design %s: %w", design, err)
		}
		res, err := mesh.Run(ctx)
		if err != nil {
			return nil, fmt.Errorf("design %s: %w", design, err)
		}
		return res, nil
	}
	if sc.hasSimFailures() {
		c := cfg
		c.Failures = nil
		var err error
		if base, err = run(c); err != nil {
			return nil, err
		}
	}
	nSim := len(cfg.Failures)
	var out []results.FailureResult
	k := 0 // index among simulated failures
	for i := range sc.Failures {
		f := &sc.Failures[i]
		if f.Kind == FailNodeCompromise {
			out = append(out, compromise(f, top, design))
			continue
		}
		fail := all
		if nSim > 1 {
			c := cfg
			c.Failures = []models.Failure{cfg.Failures[k]}
			var err error
			if fail, err = run(c); err != nil {
				return nil, err
			}
		}
		im := fail.Failures[0] // alone, or the only simulated one
		out = append(out, blastRadius(blastInput{spec: f, design: design, top: top, base: base, fail: fail, impact: im,
			slo: sc.sloLatency()}))
		k++
	}
	return out, nil
}

func (sc *Scenario) sloLatency() sim.Time {
	if sc.SLO == nil {
		return 0
	}
	return sc.SLO.Latency.T()
}

// designProfile applies the scenario's certificate TTL to the profile.
func (sc *Scenario) designProfile(prof *models.Profile) *models.Profile {
	if sc.Mesh.CertTTL <= 0 {
		return prof
	}
	p := *prof
	p.ControlPlane.CertTTL.Value = sc.Mesh.CertTTL.T().Seconds() / 3600
	return &p
}

// designRun is one design's run under all failures and its per-failure
// blast radius.
type designRun struct {
	name, mode string
	res        *models.RunResult
	failures   []results.FailureResult
}

// BuildDesign builds the topology of a what-if design: its mode, then its
// waypoint scope and replicas.
func (sc *Scenario) BuildDesign(w WhatIfSpec) (*topology.Topology, string, error) {
	mode := w.Mode
	if mode == "" {
		mode = sc.Modes[0]
	}
	if sc.spec == nil {
		t, err := sc.BuildTopology(mode)
		return t, mode, err
	}
	sp, err := sc.decodeSpec()
	if err != nil {
		return nil, "", err
	}
	reps := sc.Mesh.WaypointReplicas
	if w.WaypointReplicas > 0 {
		reps = w.WaypointReplicas
	}
	applyMode(sp, mode, reps)
	for i := range sp.Namespaces {
		ns := &sp.Namespaces[i]
		if w.WaypointScope != "" && (ns.Waypoint != nil || len(ns.Waypoints) > 0) {
			r := max(reps, 1)
			if ns.Waypoint != nil && ns.Waypoint.Replicas > 0 && w.WaypointReplicas == 0 {
				r = ns.Waypoint.Replicas
			}
			ns.Waypoint = &topology.WaypointSpec{Scope: w.WaypointScope, Replicas: r}
			ns.Waypoints = nil
			for j := range ns.Services {
				ns.Services[j].Waypoint = ""
			}
			for j := range ns.Workloads {
				ns.Workloads[j].Waypoint = ""
			}
		} else if w.WaypointReplicas > 0 {
			if ns.Waypoint != nil {
				ns.Waypoint.Replicas = w.WaypointReplicas
			}
			for j := range ns.Waypoints {
				ns.Waypoints[j].Replicas = w.WaypointReplicas
			}
		}
	}
	as := sc.Mesh.WaypointAutoscale
	if w.WaypointAutoscale != nil {
		as = w.WaypointAutoscale
	}
	autoscaleSpec(sp, as)
	t, err := sp.Build()
	if err != nil {
		return nil, "", specErr(sc.file, err)
	}
	return t, mode, sc.addTrafficCalls(t)
}

// whatIfs runs every what-if design under the scenario's failures and
// lines them up after the scenario's own first mode.
func (sc *Scenario) whatIfs(ctx context.Context, first *designRun, prof *models.Profile, seed uint64, dur, warm sim.Time, maxEvents uint64) ([]results.WhatIfResult, []*models.RunResult, error) {
	var out []results.WhatIfResult
	var runs []*models.RunResult
	if first != nil {
		out = append(out, whatIfRow(first))
	}
	for _, w := range sc.WhatIf {
		top, mode, err := sc.BuildDesign(w)
		if err != nil {
			return nil, nil, fmt.Errorf("what-if %s: %w", w.Name, err)
		}
		cfg, err := sc.compileDesign(w, top, prof, mode, seed, dur, warm)
		if err != nil {
			return nil, nil, err
		}
		if _, err := sc.admit(&cfg, maxEvents); err != nil {
			return nil, nil, fmt.Errorf("what-if %s: %w", w.Name, err)
		}
		mesh, err := models.NewMesh(cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("what-if %s: %w", w.Name, err)
		}
		res, err := mesh.Run(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("what-if %s: %w", w.Name, err)
		}
		frs, err := sc.blastResults(ctx, w.Name, top, cfg, res)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, whatIfRow(&designRun{name: w.Name, mode: mode, res: res, failures: frs}))
		runs = append(runs, res)
	}
	return out, runs, nil
}

func whatIfRow(d *designRun) results.WhatIfResult {
	r := results.WhatIfResult{Design: d.name, Mode: d.mode, Failures: d.failures, Workloads: []string{}}
	for _, l := range d.res.Measured.Latency {
		if l.Category == "all" {
			r.P99Ms = l.P99Ms
		}
	}
	r.CPUCores = d.res.Measured.Totals.CPUCores
	seen := map[string]bool{}
	r.DetectS, r.RecoverS = -1, 0
	for _, f := range d.failures {
		r.Failed += f.FailedRequests
		r.Unprotected += f.Unprotected
		r.Identities += len(f.Identities)
		r.Reachable += len(f.Reachable)
		for _, a := range f.Transitive {
			seen[a.Workload] = true
		}
		if f.DetectS >= 0 && (r.DetectS < 0 || f.DetectS < r.DetectS) {
			r.DetectS = f.DetectS
		}
		if f.RecoverS < 0 || r.RecoverS < 0 {
			r.RecoverS = -1
		} else if f.RecoverS > r.RecoverS {
			r.RecoverS = f.RecoverS
		}
	}
	r.Workloads = sortedKeys(seen)
	r.Affected = len(r.Workloads)
	return r
}
