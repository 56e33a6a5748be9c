package topology

import "sort"

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

// ClusterSummary is the cluster picture: nodes with their pods, services
// with mode and waypoint, waypoints with what they serve, and the call
// graph. Lists are in topology order (deterministic for a given input).
type ClusterSummary struct {
	Nodes     []NodeSummary
	Services  []ServiceSummary
	Waypoints []WaypointSummary
	Calls     []CallSummary
}

// NodeSummary is one node and what runs on it.
type NodeSummary struct {
	Name         string
	Zone         string
	Pods         int // application and gateway pods
	WaypointPods int // waypoint replicas placed on the node
}

// ServiceSummary is one Service.
type ServiceSummary struct {
	Name         string // ns/name
	Mode         string // ServiceMode: out-of-mesh | ambient | ambient-waypoint | sidecar
	EndpointMode Mode   // mode of its first endpoint, "" when it selects no pod
	Pods         int    // endpoints
	Waypoint     string // ns/name of the waypoint serving it, "" if none
}

// WaypointSummary is one waypoint.
type WaypointSummary struct {
	Name     string // ns/name
	Scope    string // namespace | service | service-account | dedicated
	For      string // service | workload | all | none
	Replicas int
	Serves   []string // ns/service, sorted
}

// CallSummary is one call-graph edge with its configured rate.
type CallSummary struct {
	Source      string // ns/workload
	Destination string // ns/service
	RateRPS     float64
}

// Summary returns the cluster picture: nodes with pod counts, services
// with mode and waypoint, waypoints with what they serve, and the call
// graph with each edge's configured rate.
func (t *Topology) Summary() ClusterSummary {
	t.index()
	out := ClusterSummary{Nodes: []NodeSummary{}, Services: []ServiceSummary{},
		Waypoints: []WaypointSummary{}, Calls: []CallSummary{}}
	perNode := map[string]int{}
	wpNode := map[string]int{}
	for _, p := range t.Pods {
		perNode[p.Node]++
	}
	for _, wp := range t.Waypoints {
		for _, p := range wp.Pods {
			wpNode[p.Node]++
		}
	}
	for _, n := range t.Nodes {
		out.Nodes = append(out.Nodes, NodeSummary{Name: n.Name, Zone: n.Zone, Pods: perNode[n.Name], WaypointPods: wpNode[n.Name]})
	}
	for _, s := range t.Services {
		eps := t.EndpointsOf(s)
		si := ServiceSummary{Name: s.ID(), Mode: t.ServiceMode(s), Pods: len(eps)}
		if len(eps) > 0 {
			si.EndpointMode = eps[0].Mode
		}
		if s.Waypoint != nil {
			si.Waypoint = s.Waypoint.ID()
		}
		out.Services = append(out.Services, si)
	}
	for _, wp := range t.Waypoints {
		wi := WaypointSummary{Name: wp.ID(), Scope: wp.Scope, For: wp.For, Replicas: max(wp.Replicas, len(wp.Pods)), Serves: []string{}}
		for _, s := range wp.Serves {
			wi.Serves = append(wi.Serves, s.ID())
		}
		sort.Strings(wi.Serves)
		out.Waypoints = append(out.Waypoints, wi)
	}
	for _, c := range t.Calls {
		out.Calls = append(out.Calls, CallSummary{Source: c.From.ID(), Destination: c.To.ID(), RateRPS: c.RateRPS})
	}
	return out
}
