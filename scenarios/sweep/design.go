package sweep

import (
	"fmt"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// maxPoints bounds a design so a typo cannot queue a week of simulation.
const maxPoints = 100000

func (s *Spec) designSize() int {
	if s.Design == "list" {
		return len(s.Points)
	}
	n := 1
	for _, a := range s.Parameters {
		if a.Name == "mode" {
			continue
		}
		n *= len(a.Values)
		if n > maxPoints {
			return n
		}
	}
	return n
}

// Points expands the design into its points, in a fixed order: for a
// cartesian design the last written parameter varies fastest; a listed
// design keeps its order. The mode parameter is not an axis of the product:
// every point runs all listed modes on the same seeds.
func (s *Spec) Expand() ([]Point, error) {
	if s.Design == "list" {
		out := make([]Point, 0, len(s.Points))
		seen := map[string]int{}
		for i, ps := range s.Points {
			k := ps.Point.String()
			if j, ok := seen[k]; ok {
				return nil, &FieldError{File: s.file, Line: ps.Line, Field: fmt.Sprintf("points[%d]", i), Msg: fmt.Sprintf("same point as points[%d]", j)}
			}
			seen[k] = i
			out = append(out, clonePoint(ps.Point))
		}
		return out, nil
	}
	var modes []string
	var axes []Axis
	for _, a := range s.Parameters {
		if a.Name == "mode" {
			modes = a.Values
			continue
		}
		axes = append(axes, a)
	}
	out := []Point{{Modes: append([]string(nil), modes...)}}
	for _, a := range axes {
		next := make([]Point, 0, len(out)*len(a.Values))
		for _, p := range out {
			for _, v := range a.Values {
				q := clonePoint(p)
				setParam(&q, a.Name, v)
				next = append(next, q)
			}
		}
		out = next
	}
	return out, nil
}

// modes returns the modes the design names, in first-appearance order.
func designModes(points []Point) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range points {
		for _, m := range p.Modes {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// groups returns the distinct points with the named parameters cleared and
// no modes, in first-appearance order: the settings an SLO search or a
// sizing search runs at.
func groups(points []Point, clear ...string) []Point {
	var out []Point
	seen := map[string]bool{}
	for _, p := range points {
		q := clonePoint(p)
		q.Modes = nil
		for _, c := range clear {
			switch c {
			case "load":
				q.Load = 0
			case "waypointReplicas":
				q.WaypointReplicas = 0
			case "workerThreads":
				q.WorkerThreads = 0
			}
		}
		if k := q.Key(); !seen[k] {
			seen[k] = true
			out = append(out, q)
		}
	}
	return out
}

// axisInfo lists the parameters the design uses with their values.
func (s *Spec) axisInfo(points []Point) []results.SweepParameter {
	var out []results.SweepParameter
	for _, d := range paramDefs {
		var vals []string
		seen := map[string]bool{}
		for _, p := range points {
			var vs []string
			if d.name == "mode" {
				vs = p.Modes
			} else if v := p.Get(d.name); v != "" {
				vs = []string{v}
			}
			for _, v := range vs {
				if !seen[v] {
					seen[v] = true
					vals = append(vals, v)
				}
			}
		}
		if len(vals) > 0 {
			out = append(out, results.SweepParameter{Name: d.name, Unit: d.unit, Description: d.desc, Values: vals})
		}
	}
	return out
}
