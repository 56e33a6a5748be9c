package topology

import (
	"sort"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// ServiceMode is how a Service appears in the cluster picture:
// out-of-mesh, ambient, ambient-waypoint or sidecar (by its endpoints' mode).
func (t *Topology) ServiceMode(s *Service) string {
	mode := OutOfMesh
	if eps := t.EndpointsOf(s); len(eps) > 0 {
		mode = eps[0].Mode
	} else if ns := t.Namespace(s.Namespace); ns != nil {
		mode = ns.Mode
	}
	if mode == Ambient && s.Waypoint != nil {
		return "ambient-waypoint"
	}
	return string(mode)
}

// Summary returns the cluster picture in the results shape: nodes with pod
// counts, services with mode and waypoint, waypoints with what they serve,
// and the call graph with each edge's configured rate.
func (t *Topology) Summary() results.TopologySummary {
	t.index()
	out := results.TopologySummary{Nodes: []results.NodeInfo{}, Services: []results.ServiceInfo{},
		Waypoints: []results.WaypointInfo{}, Calls: []results.CallEdge{}}
	perNode := map[string]int{}
	for _, p := range t.Pods {
		perNode[p.Node]++
	}
	for _, wp := range t.Waypoints {
		for _, p := range wp.Pods {
			perNode[p.Node]++
		}
	}
	for _, n := range t.Nodes {
		out.Nodes = append(out.Nodes, results.NodeInfo{Name: n.Name, Zone: n.Zone, Pods: perNode[n.Name]})
	}
	for _, s := range t.Services {
		si := results.ServiceInfo{Name: s.ID(), Mode: t.ServiceMode(s), Pods: len(t.EndpointsOf(s))}
		if s.Waypoint != nil {
			si.Waypoint = s.Waypoint.ID()
		}
		out.Services = append(out.Services, si)
	}
	sort.Slice(out.Services, func(i, j int) bool { return out.Services[i].Name < out.Services[j].Name })
	for _, wp := range t.Waypoints {
		wi := results.WaypointInfo{Name: wp.ID(), Scope: wp.Scope, For: wp.For, Replicas: wp.Replicas, Serves: []string{}}
		for _, s := range wp.Serves {
			wi.Serves = append(wi.Serves, s.ID())
		}
		sort.Strings(wi.Serves)
		out.Waypoints = append(out.Waypoints, wi)
	}
	sort.Slice(out.Waypoints, func(i, j int) bool { return out.Waypoints[i].Name < out.Waypoints[j].Name })
	for _, c := range t.Calls {
		out.Calls = append(out.Calls, results.CallEdge{Source: c.From.ID(), Destination: c.To.ID(), RateRPS: c.RateRPS})
	}
	return out
}
