package scenarios

import (
	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/topology"
)

// This file is the one place where topology's own types become the output
// contract (scenarios/results): the path report of `ambientsim paths
// --format json` and summary.json's topology, paths and readiness sections.

// PathReportResult converts a path report, and the placements of the same
// topology, to the results shape. Placements may be nil (`paths --format
// json` leaves them out to keep its documented shape).
func PathReportResult(r topology.PathReport, placements []topology.Placement) results.PathReport {
	out := results.PathReport{Pairs: make([]results.PathPair, 0, len(r.Pairs)), Findings: FindingResults(r.Findings)}
	for _, p := range r.Pairs {
		out.Pairs = append(out.Pairs, results.PathPair{Source: p.Source.ID(), Destination: p.Destination.ID(), Port: p.Port,
			Category: string(p.Path.Category), Bypass: p.Path.Bypass, Hops: p.Path.HopStrings(),
			Denied: p.Path.Denied, DeniedBy: p.Path.DeniedBy})
	}
	for _, st := range r.Status {
		os := results.ObjectStatus{Kind: st.Kind, Object: st.Object, Parent: st.Parent, Note: st.Note, Conditions: []results.StatusCondition{}}
		for _, c := range st.Conditions {
			os.Conditions = append(os.Conditions, results.StatusCondition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message})
		}
		out.Status = append(out.Status, os)
	}
	if placements != nil {
		out.Placements = PlacementResults(placements)
	}
	return out
}

// FindingResults converts audit findings.
func FindingResults(fs []topology.Finding) []results.Finding {
	out := make([]results.Finding, 0, len(fs))
	for _, f := range fs {
		out = append(out, results.Finding{Code: f.Code, Severity: f.Severity, Policy: f.Policy, Source: f.Source,
			Destination: f.Destination, Message: f.Message, Proof: f.Proof, Fix: f.Fix})
	}
	return out
}

// PlacementResults converts policy placements ("nowhere" is an empty By).
func PlacementResults(ps []topology.Placement) []results.Placement {
	out := make([]results.Placement, 0, len(ps))
	for _, p := range ps {
		by := p.By
		if by == nil {
			by = []string{}
		}
		out = append(out, results.Placement{Kind: p.Kind, Policy: p.Policy, By: by, Note: p.Note})
	}
	return out
}

// ReadinessResults converts the readiness checklist.
func ReadinessResults(cs []topology.ReadinessCheck) []results.ReadinessCheck {
	out := make([]results.ReadinessCheck, 0, len(cs))
	for _, c := range cs {
		ev := c.Evidence
		if ev == nil {
			ev = []string{}
		}
		out = append(out, results.ReadinessCheck{Name: c.Name, Status: c.Status, Evidence: ev, Fix: c.Fix})
	}
	return out
}

// TopologySummaryResult converts the cluster picture. rates holds the
// measured calls per second per edge ("ns/workload->ns/service"); an edge
// without a measured rate shows its configured one. A node's pod count is
// its application and gateway pods; a Service with a waypoint shows as
// ambient-waypoint, one without shows its endpoints' mode.
func TopologySummaryResult(s topology.ClusterSummary, rates map[string]float64) results.TopologySummary {
	ts := results.TopologySummary{Nodes: []results.NodeInfo{}, Services: []results.ServiceInfo{}, Waypoints: []results.WaypointInfo{}, Calls: []results.CallEdge{}}
	for _, n := range s.Nodes {
		ts.Nodes = append(ts.Nodes, results.NodeInfo{Name: n.Name, Zone: n.Zone, Pods: n.Pods})
	}
	for _, sv := range s.Services {
		mode := string(topology.OutOfMesh)
		if sv.EndpointMode != "" {
			mode = string(sv.EndpointMode)
		}
		if sv.Waypoint != "" {
			mode = string(topology.CatAmbientWaypoint)
		}
		ts.Services = append(ts.Services, results.ServiceInfo{Name: sv.Name, Mode: mode, Pods: sv.Pods, Waypoint: sv.Waypoint})
	}
	for _, w := range s.Waypoints {
		ts.Waypoints = append(ts.Waypoints, results.WaypointInfo{Name: w.Name, Scope: w.Scope, For: w.For, Replicas: w.Replicas, Serves: w.Serves})
	}
	for _, c := range s.Calls {
		r := rates[c.Source+"->"+c.Destination]
		if r == 0 {
			r = c.RateRPS
		}
		ts.Calls = append(ts.Calls, results.CallEdge{Source: c.Source, Destination: c.Destination, RateRPS: r})
	}
	return ts
}

// PathPairResult converts one row of the path matrix.
func PathPairResult(p topology.PathPair) results.PathPair {
	return results.PathPair{Source: p.Source.ID(), Destination: p.Destination.ID(), Port: p.Port,
		Category: string(p.Path.Category), Bypass: p.Path.Bypass, Hops: p.Path.HopStrings(),
		Denied: p.Path.Denied, DeniedBy: p.Path.DeniedBy}
}

// maxClassMembers caps the members listed per class in JSON.
const maxClassMembers = 20

// PathClassesResult converts the class view of the path matrix.
func PathClassesResult(m *topology.Matrix) *results.PathClasses {
	out := &results.PathClasses{Rows: m.Rows, SourceClasses: []results.SourceClass{}, DestinationClasses: []results.DestinationClass{},
		Shapes: []results.PathShape{}, Cells: []results.PathCell{}}
	for _, c := range m.SourceClasses {
		sc := results.SourceClass{ID: c.ID, Mode: c.ModeText(), Sources: len(c.Members), Members: []string{}, Traits: append([]string{}, c.Traits...)}
		for _, w := range c.Members[:min(maxClassMembers, len(c.Members))] {
			sc.Members = append(sc.Members, w.ID())
		}
		out.SourceClasses = append(out.SourceClasses, sc)
	}
	for _, d := range m.DestClasses {
		dc := results.DestinationClass{ID: d.ID, Ports: len(d.Units), Members: []string{}, Traits: append([]string{}, d.Traits...)}
		for _, u := range d.Units[:min(maxClassMembers, len(d.Units))] {
			dc.Members = append(dc.Members, u.String())
		}
		out.DestinationClasses = append(out.DestinationClasses, dc)
	}
	for _, sh := range m.Shapes {
		ps := results.PathShape{ID: sh.ID, Rows: sh.Rows, Category: string(sh.Category), Bypass: sh.Bypass, Hops: []string{}, Denied: sh.Denied}
		for _, h := range sh.Hops {
			ps.Hops = append(ps.Hops, h.String())
		}
		if sh.Denied != "" {
			ps.DeniedBy = sh.DeniedByString()
		}
		out.Shapes = append(out.Shapes, ps)
	}
	for _, c := range m.Cells {
		out.Cells = append(out.Cells, results.PathCell{Source: c.Source.ID, Destination: c.Dest.ID, Shape: c.Shape.ID, Rows: c.Rows})
	}
	return out
}

// FindingFamilyResults converts the class view's findings: one entry per
// family, with its count and sample sources and destinations.
func FindingFamilyResults(fams []topology.FindingFamily) []results.Finding {
	out := make([]results.Finding, 0, len(fams))
	for _, f := range fams {
		r := results.Finding{Code: f.Code, Severity: f.Severity, Policy: f.Policy, Source: f.Source,
			Destination: f.Destination, Message: f.Message, Proof: f.Proof, Fix: f.Fix}
		if f.Count > 1 {
			r.Count, r.Sources, r.Destinations = f.Count, f.SampleSources, f.SampleDestinations
		}
		out = append(out, r)
	}
	return out
}

// RunEvidenceResult turns a run's summary.json into what topology's
// readiness checklist reads (before/after performance, calls that skipped
// a waypoint). source names the file for the evidence lines.
func RunEvidenceResult(s results.Summary, source string) *topology.RunEvidence {
	ev := &topology.RunEvidence{Source: source, Scenario: s.Scenario}
	if s.SLO != nil {
		ev.SLOP99Ms = s.SLO.P99Ms
	}
	for _, m := range s.Modes {
		me := topology.ModeEvidence{Mode: m.Mode, Requests: m.Requests.Succeeded + m.Requests.Failed, Failed: m.Requests.Failed,
			ProxyCPUCores: m.Totals.CPUCores, ProxyMemoryGiB: m.Totals.MemoryGiB}
		for _, l := range m.Latency {
			if l.Category == "all" {
				me.P50Ms, me.P99Ms = l.P50Ms, l.P99Ms
			}
		}
		for _, e := range m.Edges {
			me.Bypassed += e.Bypassed
		}
		ev.Modes = append(ev.Modes, me)
	}
	return ev
}
