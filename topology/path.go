package topology

// PathFrom returns the path a request from src to Service dst on service
// port takes, decided as the source's proxy decides it. The hops run from
// the source's own proxy up to and including the destination-side proxy of a
// representative endpoint: the first pod the Service selects, in topology
// order (the real endpoint is picked per request by load balancing; only the
// node of the last ztunnel hop depends on it). src nil means a client outside
// the cluster. Path.Endpoint is nil when the Service selects no pods.
func (t *Topology) PathFrom(src *Pod, dst *Service, port int) Path {
	var ep *Pod
	if eps := t.EndpointsOf(dst); len(eps) > 0 {
		ep = eps[0]
	}
	return t.resolvePath(src, ep, dst)
}

// PathToPod returns the concrete path from src to the chosen endpoint dst.
// viaService is the Service the request was addressed to, or nil for
// pod-addressed traffic (which uses only a workload waypoint: for
// workload/all).
func (t *Topology) PathToPod(src *Pod, dst *Pod, viaService *Service, port int) Path {
	return t.resolvePath(src, dst, viaService)
}

// Reasons a path takes or skips a waypoint.
const (
	reasonViaWaypoint   = "the source ztunnel sends service traffic to the service's waypoint"
	reasonViaWLWaypoint = "the source ztunnel sends pod-addressed traffic to the workload's waypoint"
	reasonOutOfMesh     = "an out-of-mesh source knows nothing of waypoints and connects straight to the pod"
	reasonOutside       = "a client outside the cluster connects straight to the pod"
	reasonSidecar       = "sidecars do not use waypoints; they send straight to the destination pod"
	reasonIngress       = "ingress gateways skip the waypoint unless the Service or Namespace has istio.io/ingress-use-waypoint=true"
	reasonIngressWP     = "istio.io/ingress-use-waypoint=true sends ingress traffic through the waypoint"
	reasonNoWaypoint    = "no waypoint serves the destination"
)

func (t *Topology) resolvePath(src, dst *Pod, svc *Service) Path {
	t.index()
	srcMode := OutOfMesh
	ingress := false
	if src != nil {
		srcMode = src.Mode
		ingress = src.Workload != nil && src.Workload.Ingress
	}
	dstMode := OutOfMesh
	if dst != nil {
		dstMode = dst.Mode
	} else if svc != nil {
		if ns := t.Namespace(svc.Namespace); ns != nil {
			dstMode = ns.Mode
		}
	}
	var served *Waypoint
	pr := Path{Endpoint: dst, Reason: reasonNoWaypoint}
	workloadAddressed := false
	if svc != nil {
		served = svc.Waypoint
	} else if dst != nil {
		served = dst.Waypoint
		workloadAddressed = true
	}
	var wp *Waypoint
	if served != nil {
		switch {
		case src == nil:
			pr.Reason = reasonOutside
		case ingress:
			if svc != nil && svc.IngressUseWaypoint {
				wp, pr.Reason = served, reasonIngressWP
			} else {
				pr.Reason = reasonIngress
			}
		case srcMode == Ambient:
			wp, pr.Reason = served, reasonViaWaypoint
			if workloadAddressed {
				pr.Reason = reasonViaWLWaypoint
			}
		case srcMode == Sidecar:
			pr.Reason = reasonSidecar
		default:
			pr.Reason = reasonOutOfMesh
		}
		pr.Bypass = wp == nil
	}
	pr.Waypoint = wp
	hops := make([]Hop, 0, 3)
	if src != nil {
		switch {
		case ingress:
			hops = append(hops, Hop{Kind: HopGateway, Instance: "gateway/" + src.Namespace + "/" + src.Name})
		case srcMode == Ambient:
			hops = append(hops, Hop{Kind: HopZtunnel, Instance: "ztunnel/" + src.Node})
		case srcMode == Sidecar:
			hops = append(hops, Hop{Kind: HopSidecar, Instance: "sidecar/" + src.Namespace + "/" + src.Name})
		}
	}
	if wp != nil {
		hops = append(hops, Hop{Kind: HopWaypoint, Instance: wp.Instance()})
	}
	if dst != nil {
		switch {
		case dst.Workload != nil && (dst.Workload.Ingress || dst.Workload.Egress):
			hops = append(hops, Hop{Kind: HopGateway, Instance: "gateway/" + dst.Namespace + "/" + dst.Name})
		case dstMode == Ambient:
			hops = append(hops, Hop{Kind: HopZtunnel, Instance: "ztunnel/" + dst.Node})
		case dstMode == Sidecar:
			hops = append(hops, Hop{Kind: HopSidecar, Instance: "sidecar/" + dst.Namespace + "/" + dst.Name})
		}
	}
	pr.Hops = hops
	effSrc := srcMode
	if ingress {
		effSrc = Sidecar
	}
	pr.Category = categorize(effSrc, dstMode, wp != nil)
	return pr
}

// categorize combines source and destination modes; see doc.go for the table.
func categorize(src, dst Mode, viaWaypoint bool) Category {
	if viaWaypoint {
		if dst == Sidecar {
			return CatMixed
		}
		return CatAmbientWaypoint
	}
	switch {
	case src == OutOfMesh || dst == OutOfMesh:
		return CatOutOfMesh
	case src == Ambient && dst == Ambient:
		return CatAmbientL4
	case src == Sidecar && dst == Sidecar:
		return CatSidecar
	}
	return CatMixed
}

// String renders the hops as "a -> b -> c" ("direct" when empty).
func (p Path) String() string {
	if len(p.Hops) == 0 {
		return "direct"
	}
	s := ""
	for i, h := range p.Hops {
		if i > 0 {
			s += " -> "
		}
		s += h.Instance
	}
	return s
}

// HopStrings returns the hop instances.
func (p Path) HopStrings() []string {
	out := make([]string, len(p.Hops))
	for i, h := range p.Hops {
		out[i] = h.Instance
	}
	return out
}
