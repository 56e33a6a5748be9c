package sweep

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

// paramKind is the value type of a sweep parameter.
type paramKind int

const (
	kindFloat paramKind = iota
	kindInt
	kindString
)

type paramDef struct {
	name    string
	unit    string
	desc    string
	kind    paramKind
	allowed []string // for kindString; empty = any non-empty string
	min     float64  // smallest allowed numeric value
	exclMin bool     // min itself is not allowed
	max     float64  // largest allowed numeric value (docs/limits.md)
}

// paramDefs is the canonical order of parameters: point keys, CSV columns and
// sweep.json follow it.
var paramDefs = []paramDef{
	{name: "load", unit: "x", desc: "multiplier applied to every offered request rate of the scenario (1 = as written)", kind: kindFloat, min: 0, exclMin: true, max: 1e6},
	{name: "nodes", unit: "nodes", desc: "number of cluster nodes", kind: kindInt, min: 1, max: 100000},
	{name: "podsPerService", unit: "pods", desc: "replicas of every service", kind: kindInt, min: 1, max: 200000},
	{name: "waypointReplicas", unit: "replicas", desc: "replicas of every waypoint", kind: kindInt, min: 1, max: 1000},
	{name: "waypointScope", desc: "scope of the namespaces' waypoints", kind: kindString, allowed: []string{"namespace", "per-service", "service-account"}},
	{name: "workerThreads", unit: "threads", desc: "ztunnel worker threads per node (the ztunnel CPU request in cores)", kind: kindInt, min: 1, max: 1024},
	{name: "instanceType", desc: "machine of every node (an instance type of the built-in table, e.g. m5.2xlarge)", kind: kindString},
	{name: "profile", desc: "cost profile name", kind: kindString},
	{name: "mode", desc: "dataplane mode; all modes of a replication run on identical traffic (common random numbers)", kind: kindString, allowed: Modes},
}

// Modes are the dataplane modes a sweep may compare.
var Modes = []string{"out-of-mesh", "ambient", "ambient+waypoint", "sidecar", "as-manifests"}

func paramNames() []string {
	names := make([]string, len(paramDefs))
	for i, d := range paramDefs {
		names[i] = d.name
	}
	return names
}

func lookupParam(name string) (paramDef, bool) {
	for _, d := range paramDefs {
		if d.name == name {
			return d, true
		}
	}
	return paramDef{}, false
}

// parseValue checks one scalar against the parameter's type and bounds and
// returns it in canonical text form ("1.5", "3", "ambient").
func (d paramDef) parseValue(s string) (string, error) {
	switch d.kind {
	case kindFloat, kindInt:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("%s must be a finite number, got %q", d.name, s)
		}
		if d.kind == kindInt && v != float64(int64(v)) {
			return "", fmt.Errorf("%s must be a whole number, got %s", d.name, s)
		}
		if v < d.min || (d.exclMin && v == d.min) {
			op := ">="
			if d.exclMin {
				op = ">"
			}
			return "", fmt.Errorf("%s must be %s %g, got %s", d.name, op, d.min, s)
		}
		if v > d.max {
			return "", fmt.Errorf("%s must be at most %g (docs/limits.md), got %s", d.name, d.max, s)
		}
		return results.FormatNumber(v), nil
	default:
		if s == "" {
			return "", fmt.Errorf("%s must not be empty", d.name)
		}
		if len(d.allowed) == 0 {
			return s, nil
		}
		for _, a := range d.allowed {
			if a == s {
				return s, nil
			}
		}
		msg := fmt.Sprintf("%s: unknown value %q", d.name, s)
		if c := yamlcheck.DidYouMean(s, d.allowed); c != "" {
			return "", fmt.Errorf("%s%s", msg, c)
		}
		return "", fmt.Errorf("%s (valid: %s)", msg, strings.Join(d.allowed, ", "))
	}
}

// set assigns a canonical value (from parseValue) to the named field.
func setParam(p *Point, name, v string) {
	f, _ := strconv.ParseFloat(v, 64)
	switch name {
	case "load":
		p.Load = f
	case "nodes":
		p.Nodes = int(f)
	case "podsPerService":
		p.PodsPerService = int(f)
	case "waypointReplicas":
		p.WaypointReplicas = int(f)
	case "waypointScope":
		p.WaypointScope = v
	case "workerThreads":
		p.WorkerThreads = int(f)
	case "instanceType":
		p.InstanceType = v
	case "profile":
		p.Profile = v
	case "mode":
		p.Modes = append(p.Modes, v)
	}
}

// clonePoint returns a copy of p whose slices are not shared.
func clonePoint(p Point) Point {
	p.Modes = append([]string(nil), p.Modes...)
	return p
}

// ParameterInfos describes every sweepable parameter in canonical order
// (name, unit, description), e.g. for a JSON Schema of the sweep section.
func ParameterInfos() []results.SweepParameter {
	out := make([]results.SweepParameter, len(paramDefs))
	for i, d := range paramDefs {
		out[i] = results.SweepParameter{Name: d.name, Unit: d.unit, Description: d.desc}
		if d.kind == kindString {
			out[i].Values = append([]string(nil), d.allowed...)
		}
	}
	return out
}
