package scenarios

import (
	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

// This file is the one place where a run's measurement (models' own
// types) becomes the output contract: summary.json's per-mode rows.

// modeResult converts one run's measurement to its summary.json row.
func modeResult(r *models.RunResult) results.ModeResult {
	m := &r.Measured
	out := results.ModeResult{
		Mode:       r.Mode,
		Requests:   results.RequestCounts(m.Requests),
		Latency:    latencyRows(m.Latency),
		Errors:     convertAll(m.Errors, func(e models.ErrorCount) results.ErrorCount { return results.ErrorCount(e) }),
		Components: convertAll(m.Components, func(c models.ComponentUsage) results.ComponentUsage { return results.ComponentUsage(c) }),
		Totals:     clusterCost(m.Totals),
		Telemetry:  results.TelemetrySplit(m.Telemetry),
		Edges:      convertAll(m.Edges, edgeResult),
		Machines:   convertAll(m.Machines, func(u models.MachineUsage) results.MachineUsage { return results.MachineUsage(u) }),
	}
	if c := m.ControlPlane; c.Active() {
		out.ControlPlane = &results.ControlPlaneUsage{XDSClients: results.XDSClients(c.XDSClients),
			ConfigChangesPerSec: c.ConfigChangesPerSec, PodEventsPerSec: c.PodEventsPerSec,
			FullPushesPerSec: c.FullPushesPerSec, IncrementalPushesPerSec: c.IncrementalPushesPerSec,
			ProxyPushesPerSec: c.ProxyPushesPerSec, ResourcesPerSec: c.ResourcesPerSec,
			CertificatesPerSec: c.CertificatesPerSec, CPUCores: c.CPUCores, MemoryMiB: c.MemoryMiB}
	}
	return out
}

func edgeResult(e models.EdgeStats) results.EdgeResult {
	return results.EdgeResult{Source: e.Source, Destination: e.Destination, Category: e.Category, Calls: e.Calls, Failed: e.Failed,
		RateRPS: e.RateRPS, MeanMs: e.MeanMs, P50Ms: e.P50Ms, P99Ms: e.P99Ms, ConnectionsOpened: e.ConnectionsOpened,
		Handshakes: e.Handshakes, HandshakeCPUMs: e.HandshakeCPUMs, Bypassed: e.Bypassed, ThroughputMbps: e.ThroughputMbps,
		Routes: convertAll(e.Routes, func(r models.RouteStats) results.RouteResult {
			return results.RouteResult{Request: r.Request, Route: r.Route, Rule: r.Rule, Match: r.Match, Answered: r.Answered,
				AnsweredCalls: r.AnsweredCalls, Mirrored: r.Mirrored,
				Backends: convertAll(r.Backends, func(b models.BackendStats) results.BackendResult { return results.BackendResult(b) })}
		})}
}

func latencyRows(rows []models.LatencyRow) []results.LatencyRow {
	return convertAll(rows, func(l models.LatencyRow) results.LatencyRow {
		return results.LatencyRow{Category: l.Category, Count: l.Count, MeanMs: l.MeanMs, P50Ms: l.P50Ms, P90Ms: l.P90Ms,
			P99Ms: l.P99Ms, P999Ms: l.P999Ms, MaxMs: l.MaxMs,
			CDF: convertAll(l.CDF, func(p models.CDFPoint) results.CDFPoint { return results.CDFPoint(p) })}
	})
}

func clusterCost(c models.MeshCost) results.ClusterCost {
	out := results.ClusterCost{CPUCores: c.CPUCores, MemoryGiB: c.MemoryGiB,
		DataPlane: results.Cost(c.DataPlane), ControlPlane: results.Cost(c.ControlPlane)}
	if c.ByKind != nil {
		out.ByKind = make(map[string]results.KindCost, len(c.ByKind))
		for k, v := range c.ByKind {
			out.ByKind[k] = results.KindCost(v)
		}
	}
	return out
}

// convertAll maps a slice element by element, keeping nil nil and empty
// empty (summary.json tells `null` from `[]`).
func convertAll[T, U any](in []T, f func(T) U) []U {
	if in == nil {
		return nil
	}
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
