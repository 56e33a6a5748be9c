package plots

import (
	"sort"
	"strings"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// modeCategories is the legend of the topology graph, coloured by dataplane
// mode.
func modeCategories() []GraphCategory {
	names := []string{"out-of-mesh", "ambient", "ambient-waypoint", "sidecar", "waypoint", "client"}
	c := make([]GraphCategory, len(names))
	for i, n := range names {
		c[i] = GraphCategory{Name: n, Color: colorFor(n, i)}
	}
	return c
}

// topology is section 2: nodes, ztunnels, waypoints and their scope,
// services and the call graph coloured by dataplane mode.
func (b *builder) topology() []Block {
	t := b.s.Topology
	if len(t.Nodes)+len(t.Services)+len(t.Waypoints)+len(t.Calls) == 0 {
		return nil // e.g. a report of a sweep alone
	}
	out := []Block{clusterGlance(t)}
	out = append(out, b.topologyGraph()...)
	out = append(out, modeTable(t))
	out = append(out, heading("Nodes and ztunnels"), b.nodesTable())
	if len(t.Nodes) > b.opts.TopN {
		out = append(out, note("There are "+counti(len(t.Nodes))+" nodes, so they are totalled per zone."))
	}
	out = append(out, heading("Waypoints"), b.waypointsBlock())
	out = append(out, heading("Services"), b.servicesTable())
	return out
}

// clusterGlance is the one-row table of the cluster's counts.
func clusterGlance(t results.TopologySummary) Block {
	pods := 0
	zones := map[string]bool{}
	for _, n := range t.Nodes {
		pods += n.Pods
		zones[n.Zone] = true
	}
	return table(&Table{
		Caption: "The cluster at a glance",
		Columns: numeric(cols("Nodes", "Zones", "Pods", "Services", "Waypoints", "Call edges"), 0, 1, 2, 3, 4, 5),
		Rows: []Row{{Cells: []string{counti(len(t.Nodes)), counti(len(zones)), counti(pods), counti(len(t.Services)),
			counti(len(t.Waypoints)), counti(len(t.Calls))}}},
	})
}

// topologyGraph is the call graph coloured by dataplane mode, with its
// note when it was cut down; nothing when there are no services or calls.
func (b *builder) topologyGraph() []Block {
	t := b.s.Topology
	if len(t.Services) == 0 && len(t.Calls) == 0 {
		return nil
	}
	g, gnote := b.callGraph(modeCategories(), func(v vertex) (string, string) {
		switch v.kind {
		case vertexWaypoint:
			return "waypoint", serviceDetail(v)
		case vertexClient:
			return "client", serviceDetail(v)
		}
		if v.service == nil {
			return "out-of-mesh", serviceDetail(v)
		}
		return v.service.Mode, serviceDetail(v)
	})
	out := []Block{chart(&Chart{
		ID: chartID("topology", "callgraph"), Kind: ChartGraph, HeightPx: 560,
		Title:   "Services and call graph, coloured by dataplane mode",
		Caption: "Arrows are calls (width grows with offered rps); dashed lines join a waypoint to the services it serves. Look for ambient-waypoint services called from out-of-mesh or sidecar clients: those paths skip the waypoint.",
		Graph:   g,
	})}
	if gnote != "" {
		out = append(out, note(gnote))
	}
	return out
}

// modeTable counts services and pods per dataplane mode.
func modeTable(t results.TopologySummary) Block {
	modeCount := map[string]int{}
	modePods := map[string]int{}
	var modes []string
	for _, svc := range t.Services {
		if _, ok := modeCount[svc.Mode]; !ok {
			modes = append(modes, svc.Mode)
		}
		modeCount[svc.Mode]++
		modePods[svc.Mode] += svc.Pods
	}
	sort.SliceStable(modes, func(i, j int) bool { return modes[i] < modes[j] })
	mt := &Table{Caption: "Services per dataplane mode", Columns: numeric(cols("Mode", "Services", "Pods"), 1, 2)}
	for _, m := range modes {
		mt.Rows = append(mt.Rows, Row{Cells: []string{orDash(m), counti(modeCount[m]), counti(modePods[m])}})
	}
	return table(mt)
}

// nodesTable lists the nodes and their ztunnels, or totals them per zone
// when there are more than TopN.
func (b *builder) nodesTable() Block {
	t := b.s.Topology
	ztunnels := b.ztunnelNodes()
	if len(t.Nodes) <= b.opts.TopN {
		nt := &Table{Caption: "Nodes (ambient runs one ztunnel per node)", Columns: numeric(cols("Node", "Zone", "Pods", "ztunnel"), 2)}
		for _, n := range t.Nodes {
			z := "—"
			if ztunnels[n.Name] {
				z = "ztunnel/" + n.Name
			}
			nt.Rows = append(nt.Rows, Row{Cells: []string{n.Name, orDash(n.Zone), counti(n.Pods), z}})
		}
		return table(nt)
	}
	type zoneAgg struct{ nodes, pods, zt int }
	agg := map[string]*zoneAgg{}
	var zs []string
	for _, n := range t.Nodes {
		a := agg[n.Zone]
		if a == nil {
			a = &zoneAgg{}
			agg[n.Zone] = a
			zs = append(zs, n.Zone)
		}
		a.nodes++
		a.pods += n.Pods
		if ztunnels[n.Name] {
			a.zt++
		}
	}
	sort.Strings(zs)
	zt := &Table{Caption: "Nodes per zone", Columns: numeric(cols("Zone", "Nodes", "Pods", "ztunnels"), 1, 2, 3)}
	for _, z := range zs {
		a := agg[z]
		zt.Rows = append(zt.Rows, Row{Cells: []string{orDash(z), counti(a.nodes), counti(a.pods), counti(a.zt)}})
	}
	return table(zt)
}

// waypointsBlock lists the waypoints, their scope and what they serve (the
// first TopN).
func (b *builder) waypointsBlock() Block {
	t := b.s.Topology
	if len(t.Waypoints) == 0 {
		return text("No waypoints: every ambient path is L4 only (ztunnel to ztunnel).")
	}
	wt := &Table{Caption: "Waypoints, their scope and the services they serve", Columns: numeric(cols("Waypoint", "Scope", "For", "Replicas", "Serves"), 3)}
	for i, w := range t.Waypoints {
		if i == b.opts.TopN {
			wt.Omitted = len(t.Waypoints) - i
			break
		}
		wt.Rows = append(wt.Rows, Row{Cells: []string{w.Name, orDash(w.Scope), orDash(w.For), counti(w.Replicas), listCapped(w.Serves, 10)}})
	}
	return table(wt)
}

// servicesTable lists the services (the first TopN).
func (b *builder) servicesTable() Block {
	t := b.s.Topology
	st := &Table{Caption: "Services", Columns: numeric(cols("Service", "Mode", "Pods", "Waypoint"), 2)}
	for i, svc := range t.Services {
		if i == b.opts.TopN {
			st.Omitted = len(t.Services) - i
			break
		}
		st.Rows = append(st.Rows, Row{Cells: []string{svc.Name, orDash(svc.Mode), counti(svc.Pods), orDash(svc.Waypoint)}})
	}
	return table(st)
}

// ztunnelNodes returns the nodes on which any mode ran a ztunnel.
func (b *builder) ztunnelNodes() map[string]bool {
	z := map[string]bool{}
	for _, m := range b.s.Modes {
		for _, c := range m.Components {
			if c.Kind == "ztunnel" {
				node := c.Node
				if node == "" {
					node = strings.TrimPrefix(c.Instance, "ztunnel/")
				}
				z[node] = true
			}
		}
	}
	return z
}

// listCapped joins up to n names and says how many more there are.
func listCapped(names []string, n int) string {
	if len(names) == 0 {
		return "—"
	}
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + ", +" + counti(len(names)-n) + " more"
}
