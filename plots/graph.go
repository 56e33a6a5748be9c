package plots

import (
	"fmt"
	"math"
	"sort"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// maxForceNodes is the largest graph drawn with a force layout.
const maxForceNodes = 40

// vertexKind says what a call-graph vertex stands for.
type vertexKind int

const (
	vertexService  vertexKind = iota // a Service (ns/name)
	vertexClient                     // a calling workload with no Service of the same name
	vertexWaypoint                   // a waypoint (ns/name)
)

// vertex is a call-graph vertex before classification.
type vertex struct {
	id      string
	name    string // ns/name as in the summary
	kind    vertexKind
	service *results.ServiceInfo
	traffic float64 // rps in + out, used to keep the busiest vertices
}

// classifier picks a vertex's category name and tooltip text.
type classifier func(v vertex) (category, detail string)

// vertexSet holds the call graph's vertices by id, in the order they were
// first seen.
type vertexSet struct {
	byID  map[string]*vertex
	order []*vertex
}

// add returns the vertex for name, adding it (of kind) when it is new.
func (vs *vertexSet) add(name string, kind vertexKind) *vertex {
	id := name
	if kind == vertexWaypoint {
		id = "waypoint " + name
	}
	if v, ok := vs.byID[id]; ok {
		return v
	}
	v := &vertex{id: id, name: name, kind: kind}
	vs.byID[id] = v
	vs.order = append(vs.order, v)
	return v
}

// callGraph draws services, calling workloads and waypoints with the call
// edges between them. When there are more than MaxGraphNodes services and
// clients, it keeps the busiest (by offered rps in + out) and says so in the
// returned note. categories fixes the legend order; classifier may return
// other names, which are appended.
func (b *builder) callGraph(categories []GraphCategory, classify classifier) (*Graph, string) {
	t := b.s.Topology
	vs := callVertices(t)
	keep, total := keepBusiest(vs.order, b.opts.MaxGraphNodes)
	wpLinks := waypointLinks(vs, t.Waypoints, keep)
	g := &Graph{Categories: append([]GraphCategory(nil), categories...)}
	addGraphNodes(g, vs.order, keep, classify)
	for _, c := range t.Calls {
		src := c.Source
		if !keep[src] || !keep[c.Destination] {
			continue
		}
		g.Links = append(g.Links, GraphLink{
			Source: src, Target: c.Destination,
			Label: fixed(c.RateRPS, 1) + " rps",
			Width: round(math.Min(1+math.Log1p(finite(math.Max(c.RateRPS, 0))), 8)),
		})
	}
	g.Links = append(g.Links, wpLinks...)
	g.Categories = usedCategories(g)
	g.Layout = "force"
	if len(g.Nodes) > maxForceNodes {
		g.Layout = "circular"
	}

	var n string
	if total > b.opts.MaxGraphNodes {
		n = fmt.Sprintf("The graph shows the %s busiest of %s services and calling workloads (by offered requests per second in and out) and the waypoints that serve them; the tables list the rest.",
			counti(b.opts.MaxGraphNodes), counti(total))
	}
	return g, n
}

// callVertices are the services and the calling workloads, each with the
// offered rps of its calls in and out.
func callVertices(t results.TopologySummary) *vertexSet {
	vs := &vertexSet{byID: map[string]*vertex{}}
	for i := range t.Services {
		v := vs.add(t.Services[i].Name, vertexService)
		v.service = &t.Services[i]
	}
	for _, c := range t.Calls {
		src := vs.byID[c.Source]
		if src == nil {
			src = vs.add(c.Source, vertexClient)
		}
		dst := vs.byID[c.Destination]
		if dst == nil {
			dst = vs.add(c.Destination, vertexService)
		}
		src.traffic += finite(c.RateRPS)
		dst.traffic += finite(c.RateRPS)
	}
	return vs
}

// keepBusiest keeps the limit busiest services and clients, ties by name for
// determinism; total is how many there were.
func keepBusiest(order []*vertex, limit int) (keep map[string]bool, total int) {
	var candidates []*vertex
	for _, v := range order {
		if v.kind != vertexWaypoint {
			candidates = append(candidates, v)
		}
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		if candidates[i].traffic != candidates[j].traffic {
			return candidates[i].traffic > candidates[j].traffic
		}
		return candidates[i].id < candidates[j].id
	})
	keep = make(map[string]bool)
	for i, v := range candidates {
		if i == limit {
			break
		}
		keep[v.id] = true
	}
	return keep, len(candidates)
}

// waypointLinks adds the waypoints that serve a kept service (and keeps
// them), with a dashed "serves" link to each such service.
func waypointLinks(vs *vertexSet, waypoints []results.WaypointInfo, keep map[string]bool) []GraphLink {
	var links []GraphLink
	for _, w := range waypoints {
		wv := vs.add(w.Name, vertexWaypoint)
		for _, svc := range w.Serves {
			if keep[svc] {
				keep[wv.id] = true
				links = append(links, GraphLink{Source: wv.id, Target: svc, Label: "serves", Dashed: true, Width: 1})
			}
		}
	}
	return links
}

// addGraphNodes adds the kept vertices to g, sized by pods, each in the
// category classify gives it (new categories appended to the legend).
func addGraphNodes(g *Graph, order []*vertex, keep map[string]bool, classify classifier) {
	catIndex := make(map[string]int)
	for i, c := range g.Categories {
		catIndex[c.Name] = i
	}
	for _, v := range order {
		if !keep[v.id] {
			continue
		}
		cat, detail := classify(*v)
		idx, ok := catIndex[cat]
		if !ok {
			idx = len(g.Categories)
			g.Categories = append(g.Categories, GraphCategory{Name: cat, Color: colorFor(cat, idx)})
			catIndex[cat] = idx
		}
		pods := 1
		if v.service != nil && v.service.Pods > 0 {
			pods = v.service.Pods
		}
		g.Nodes = append(g.Nodes, GraphNode{ID: v.id, Category: idx, SizePx: round(math.Min(12+4*math.Sqrt(float64(pods)), 44)), Detail: detail})
	}
}

// serviceDetail is the tooltip of a vertex in the topology graph.
func serviceDetail(v vertex) string {
	switch v.kind {
	case vertexWaypoint:
		return "waypoint"
	case vertexClient:
		return fmt.Sprintf("calling workload, %s rps out", fixed(v.traffic, 1))
	}
	if v.service == nil {
		return "service (not in the topology summary)"
	}
	d := fmt.Sprintf("%s, %s", v.service.Mode, plural(v.service.Pods, "pod"))
	if v.service.Waypoint != "" {
		d += ", waypoint " + v.service.Waypoint
	}
	return d
}

// usedCategories drops legend entries no node uses and renumbers the
// nodes' categories, keeping the legend's order.
func usedCategories(g *Graph) []GraphCategory {
	used := make([]bool, len(g.Categories))
	for _, n := range g.Nodes {
		used[n.Category] = true
	}
	remap := make([]int, len(g.Categories))
	var cats []GraphCategory
	for i, c := range g.Categories {
		if used[i] {
			remap[i] = len(cats)
			cats = append(cats, c)
		}
	}
	for i := range g.Nodes {
		g.Nodes[i].Category = remap[g.Nodes[i].Category]
	}
	return cats
}
