package sweep

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// paramKind is the value type of a sweep parameter.
type paramKind int

const (
	kindFloat paramKind = iota
	kindInt
	kindString
)

// ParamInfo describes one sweepable parameter; sweep.json lists the ones a
// sweep uses so that a reader needs nothing else to label axes.
type ParamInfo struct {
	Name        string   `json:"name"`
	Unit        string   `json:"unit,omitempty"`
	Description string   `json:"description"`
	Values      []string `json:"values,omitempty"` // the values the design uses, in design order
}

type paramDef struct {
	name    string
	unit    string
	desc    string
	kind    paramKind
	allowed []string // for kindString; empty = any non-empty string
	min     float64  // smallest allowed numeric value
	exclMin bool     // min itself is not allowed
}

// paramDefs is the canonical order of parameters: point keys, CSV columns and
// sweep.json follow it.
var paramDefs = []paramDef{
	{name: "load", unit: "x", desc: "multiplier applied to every offered request rate of the scenario (1 = as written)", kind: kindFloat, min: 0, exclMin: true},
	{name: "nodes", unit: "nodes", desc: "number of cluster nodes", kind: kindInt, min: 1},
	{name: "podsPerService", unit: "pods", desc: "replicas of every service", kind: kindInt, min: 1},
	{name: "waypointReplicas", unit: "replicas", desc: "replicas of every waypoint", kind: kindInt, min: 1},
	{name: "waypointScope", desc: "scope of the namespaces' waypoints", kind: kindString, allowed: []string{"namespace", "per-service", "service-account"}},
	{name: "workerThreads", unit: "threads", desc: "ztunnel worker threads per node (the ztunnel CPU request in cores)", kind: kindInt, min: 1},
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
		return formatNumber(v), nil
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
		if c := closest(s, d.allowed); c != "" {
			return "", fmt.Errorf("%s (did you mean %q?)", msg, c)
		}
		return "", fmt.Errorf("%s (valid: %s)", msg, strings.Join(d.allowed, ", "))
	}
}

// formatNumber prints v with at most 12 significant digits, so that ranges
// built by repeated addition print as 0.3, not 0.30000000000000004.
func formatNumber(v float64) string {
	return strconv.FormatFloat(v, 'g', 12, 64)
}

// Point is one design point: the scenario with some parameters overridden.
// Zero values mean "as in the scenario".
type Point struct {
	Load             float64 `json:"load,omitempty"`
	Nodes            int     `json:"nodes,omitempty"`
	PodsPerService   int     `json:"podsPerService,omitempty"`
	WaypointReplicas int     `json:"waypointReplicas,omitempty"`
	WaypointScope    string  `json:"waypointScope,omitempty"`
	WorkerThreads    int     `json:"workerThreads,omitempty"`
	Profile          string  `json:"profile,omitempty"`
	// Modes are run together, on the same seed, in one replication. Empty
	// means the scenario's own modes.
	Modes []string `json:"modes,omitempty"`
}

// set assigns a canonical value (from parseValue) to the named field.
func (p *Point) set(name, v string) {
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
	case "profile":
		p.Profile = v
	case "mode":
		p.Modes = append(p.Modes, v)
	}
}

// get returns the canonical text of the named field, "" when unset.
func (p Point) get(name string) string {
	num := func(v float64) string {
		if v == 0 {
			return ""
		}
		return formatNumber(v)
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
func (p Point) Key() string {
	var b strings.Builder
	for _, d := range paramDefs {
		if d.name == "mode" {
			continue
		}
		if v := p.get(d.name); v != "" {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(d.name)
			b.WriteByte('=')
			b.WriteString(v)
		}
	}
	return b.String()
}

// String is Key plus the modes, for messages.
func (p Point) String() string {
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

// with returns a copy of p whose slices are not shared.
func (p Point) clone() Point {
	p.Modes = append([]string(nil), p.Modes...)
	return p
}

// ParameterInfos describes every sweepable parameter in canonical order
// (name, unit, description), e.g. for a JSON Schema of the sweep section.
func ParameterInfos() []ParamInfo {
	out := make([]ParamInfo, len(paramDefs))
	for i, d := range paramDefs {
		out[i] = ParamInfo{Name: d.name, Unit: d.unit, Description: d.desc}
		if d.kind == kindString {
			out[i].Values = append([]string(nil), d.allowed...)
		}
	}
	return out
}
