package topology

import (
	"fmt"
	"sort"
	"strings"
)

// This file computes the status conditions Istio writes on Gateway API
// objects, so `paths` can show them and rollouts can gate on them (after
// pilot/pkg/config/kube/gateway/conversion.go referenceAllowed and
// buildDestination, conditions.go createRouteStatus, and
// pilot/pkg/serviceregistry/ambient/waypoints.go for waypoint attachment).

// StatusCondition is one status condition.
type StatusCondition struct {
	Type    string // Accepted | ResolvedRefs | ResolvedWaypoints | Programmed
	Status  bool
	Reason  string
	Message string
}

// ObjectStatus is the status Istio would write for one object and parent
// (a route's parentRef; "" for a Gateway's own status).
type ObjectStatus struct {
	Kind       string // HTTPRoute | GRPCRoute | TCPRoute | TLSRoute | Gateway
	Object     string // ns/name
	Parent     string // Kind/ns/name[:port][/section] of the parentRef, "" for a Gateway
	Conditions []StatusCondition
	Note       string // why Istio writes no status here, when Conditions is empty
}

// istioClasses are the GatewayClasses istiod's controller owns
// (istio.io/gateway-controller and istio.io/mesh-controller).
var istioClasses = map[string]bool{"istio": true, waypointClass: true, "istio-remote": true, "istio-east-west": true}

// RouteAttachment is one route's attachment to one parent.
type RouteAttachment struct {
	Route    *Route
	Ref      ParentRef
	Gateway  *Gateway // Gateway parents
	Listener Listener // the listener that accepted it (or was tried last)
	Service  *Service // Service parents
	Accepted bool
	Reason   string // Accepted (when accepted) | NoMatchingParent | NotAllowedByListeners | NoMatchingListenerHostname
	Message  string
	Ignored  bool // a parent Istio does not own (missing Gateway, another class): no status is written
}

// routeKindsForProtocol are the route kinds a listener accepts by default.
func routeKindsForProtocol(proto string) []string {
	switch proto {
	case "HTTP", "HTTPS":
		return []string{KindHTTPRoute, KindGRPCRoute}
	case "TLS":
		return []string{KindTLSRoute, KindTCPRoute}
	case "TCP":
		return []string{KindTCPRoute}
	}
	return nil
}

// RouteAttachments resolves every parentRef of r.
func (t *Topology) RouteAttachments(r *Route) []RouteAttachment {
	var out []RouteAttachment
	for _, pr := range r.ParentRefs {
		out = append(out, t.attach(r, pr))
	}
	return out
}

func (t *Topology) attach(r *Route, pr ParentRef) RouteAttachment {
	ns := refNS(pr.Namespace, r.Namespace)
	a := RouteAttachment{Route: r, Ref: pr}
	switch pr.Kind {
	case "Service":
		a.Service = t.Service(ns, pr.Name)
		if a.Service == nil {
			a.Reason, a.Message = "NoMatchingParent", fmt.Sprintf("parent service: %q not found", pr.Name)
			return a
		}
		a.Accepted, a.Reason, a.Message = true, "Accepted", "Route was valid"
		return a
	case "Gateway", "":
	default:
		a.Ignored, a.Message = true, fmt.Sprintf("parent kind %s is not one Istio implements", pr.Kind)
		return a
	}
	g := t.Gateway(ns, pr.Name)
	if g == nil {
		a.Ignored, a.Message = true, fmt.Sprintf("Gateway %s/%s does not exist: Istio writes no status for it and the route is not programmed", ns, pr.Name)
		return a
	}
	a.Gateway = g
	if !istioClasses[g.Class] {
		a.Ignored, a.Message = true, fmt.Sprintf("Gateway %s has gatewayClassName %q, which istiod does not own", g.ID(), g.Class)
		return a
	}
	a.Reason, a.Message = "NoMatchingParent", "no listener"
	if pr.Port != 0 {
		a.Message = fmt.Sprintf("port %d not found", pr.Port)
	}
	if pr.SectionName != "" {
		a.Message = fmt.Sprintf("sectionName %q not found", pr.SectionName)
	}
	rank := 0 // most informative failure wins: NoMatchingParent < hostname < namespace/kind
	for _, l := range g.Listeners {
		if (pr.Port != 0 && pr.Port != l.Port) || (pr.SectionName != "" && pr.SectionName != l.Name) {
			continue
		}
		a.Listener = l
		if l.Hostname != "" && !routeHostnamesMatch(r.Hostnames, l.Hostname) {
			if rank < 1 {
				rank = 1
				a.Reason, a.Message = "NoMatchingListenerHostname", fmt.Sprintf("no hostnames matched parent hostname %q", l.Hostname)
			}
			continue
		}
		if !t.listenerAllowsNamespace(g, l, r.Namespace) {
			if rank < 2 {
				rank = 2
				h := l.Hostname
				if h == "" {
					h = "*"
				}
				a.Reason, a.Message = "NotAllowedByListeners", fmt.Sprintf("hostnames matched parent hostname %q, but namespace %q is not allowed by the parent", h, r.Namespace)
			}
			continue
		}
		kinds := l.Kinds
		if len(kinds) == 0 {
			kinds = routeKindsForProtocol(l.Protocol)
		}
		if !contains(kinds, r.Kind) {
			if rank < 2 {
				rank = 2
				a.Reason, a.Message = "NotAllowedByListeners", fmt.Sprintf("kind %s is not allowed", r.Kind)
			}
			continue
		}
		a.Accepted, a.Reason, a.Message = true, "Accepted", "Route was valid"
		return a
	}
	return a
}

// listenerAllowsNamespace applies allowedRoutes.namespaces.
func (t *Topology) listenerAllowsNamespace(g *Gateway, l Listener, ns string) bool {
	switch l.AllowedFrom {
	case "All":
		return true
	case "Selector":
		n := t.Namespace(ns)
		var labels map[string]string
		if n != nil {
			labels = n.Labels
		}
		return l.Selector != nil && nsSelectorMatches(l.Selector, ns, labels)
	case "None":
		return false
	}
	return ns == g.Namespace
}

// routeHostnamesMatch: a route without hostnames matches any listener; a
// route hostname matches the listener's (either may be a wildcard).
func routeHostnamesMatch(routeHosts []string, listener string) bool {
	if len(routeHosts) == 0 {
		return true
	}
	for _, h := range routeHosts {
		if hostnameMatchesAny([]string{listener}, h) || hostnameMatchesAny([]string{h}, strings.TrimPrefix(listener, "*.")) || h == listener {
			return true
		}
	}
	return false
}

// WaypointAllowsNamespace reports whether a waypoint admits a Service or
// workload from namespace ns: its HBONE listener (port 15008)'s
// allowedRoutes; a waypoint without one allows only its own namespace
// (waypoints.go makeAllowedRoutes, AllowsAttachmentFromNamespace).
func (t *Topology) WaypointAllowsNamespace(wp *Waypoint, ns string) bool {
	g := t.Gateway(wp.Namespace, wp.Name)
	if g == nil {
		return ns == wp.Namespace
	}
	for _, l := range g.Listeners {
		if l.Protocol == "HBONE" && l.Port == hbonePort {
			return t.listenerAllowsNamespace(g, l, ns)
		}
	}
	return ns == wp.Namespace
}

// RouteStatuses returns, for every route and parentRef, the Accepted and
// ResolvedRefs conditions Istio sets (and ResolvedWaypoints on Service
// parents, which ambient adds), sorted by kind, route and parent.
func (t *Topology) RouteStatuses() []ObjectStatus {
	t.index()
	var out []ObjectStatus
	for _, r := range t.sortedRoutes() {
		if r.Kind == KindVirtualService {
			continue
		}
		resolved := t.resolvedRefs(r)
		for _, a := range t.RouteAttachments(r) {
			st := ObjectStatus{Kind: r.Kind, Object: r.ID(), Parent: parentString(a.Ref, r.Namespace)}
			if a.Ignored {
				st.Note = a.Message
				out = append(out, st)
				continue
			}
			st.Conditions = append(st.Conditions, StatusCondition{Type: "Accepted", Status: a.Accepted, Reason: a.Reason, Message: a.Message})
			rc := resolved
			if a.Gateway != nil {
				rc = t.resolvedRefsFor(r, true)
			}
			st.Conditions = append(st.Conditions, rc)
			if a.Service != nil {
				st.Conditions = append(st.Conditions, t.resolvedWaypoints(a.Service))
			}
			out = append(out, st)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		if out[i].Object != out[j].Object {
			return out[i].Object < out[j].Object
		}
		return out[i].Parent < out[j].Parent
	})
	return out
}

func parentString(p ParentRef, routeNS string) string {
	kind := p.Kind
	if kind == "" {
		kind = "Gateway"
	}
	s := kind + "/" + refNS(p.Namespace, routeNS) + "/" + p.Name
	if p.Port != 0 {
		s += fmt.Sprintf(":%d", p.Port)
	}
	if p.SectionName != "" {
		s += "/" + p.SectionName
	}
	return s
}

func (t *Topology) resolvedRefs(r *Route) StatusCondition { return t.resolvedRefsFor(r, false) }

// resolvedRefsFor checks every backendRef (and mirror backend): a Service
// that exists; for Gateway (non-mesh) parents a cross-namespace reference
// needs a ReferenceGrant (conversion.go buildDestination, enforceRefGrant).
func (t *Topology) resolvedRefsFor(r *Route, gateway bool) StatusCondition {
	check := func(b BackendRef) (string, string) {
		ns := refNS(b.Namespace, r.Namespace)
		if b.Kind != "" && b.Kind != "Service" {
			if b.Kind == "ServiceEntry" || b.Kind == "Hostname" {
				if t.ServiceEntry(ns, b.Name) != nil || b.Kind == "Hostname" {
					return "", ""
				}
			}
			return "InvalidKind", fmt.Sprintf("referencing unsupported backendRef: group %q kind %q", b.Group, b.Kind)
		}
		if gateway && ns != r.Namespace && !t.referenceGranted(r, ns, b.Name) {
			return "RefNotPermitted", fmt.Sprintf("backendRef %s/%s not accessible to a %s in namespace %q (missing a ReferenceGrant?)", b.Name, ns, r.Kind, r.Namespace)
		}
		if t.Service(ns, b.Name) == nil {
			return "BackendNotFound", fmt.Sprintf("backend(%s.%s.svc.%s) not found", b.Name, ns, t.clusterDomain())
		}
		return "", ""
	}
	for _, rule := range r.Rules {
		refs := append([]BackendRef(nil), rule.BackendRefs...)
		for _, f := range rule.Filters {
			if f.Mirror != nil {
				refs = append(refs, f.Mirror.Backend)
			}
		}
		for _, b := range refs {
			if reason, msg := check(b); reason != "" {
				return StatusCondition{Type: "ResolvedRefs", Reason: reason, Message: msg}
			}
		}
	}
	return StatusCondition{Type: "ResolvedRefs", Status: true, Reason: "ResolvedRefs", Message: "All references resolved"}
}

// referenceGranted: a ReferenceGrant in the target namespace admits routes
// of r's kind from r's namespace to Services (all, or the named one).
func (t *Topology) referenceGranted(r *Route, toNS, name string) bool {
	for _, g := range t.ReferenceGrants {
		if g.Namespace != toNS {
			continue
		}
		from := false
		for _, f := range g.From {
			if f.Kind == r.Kind && f.Namespace == r.Namespace {
				from = true
			}
		}
		if !from {
			continue
		}
		for _, to := range g.To {
			if (to.Kind == "Service" || to.Kind == "") && (to.Name == "" || to.Name == name) {
				return true
			}
		}
	}
	return false
}

// resolvedWaypoints is ambient's extra condition on Service parents: the
// route is only applied when the Service (or its namespace) uses a
// waypoint (conditions.go WaypointErrorMsgMissingLabel).
func (t *Topology) resolvedWaypoints(s *Service) StatusCondition {
	ns := t.Namespace(s.Namespace)
	if s.Labels[lblUseWaypoint] == "" && (ns == nil || ns.Labels[lblUseWaypoint] == "") {
		return StatusCondition{Type: "ResolvedWaypoints", Status: true, Reason: "MissingUseWaypointLabel",
			Message: "istio.io/use-waypoint label missing from parent and parent namespace; in ambient mode, route will not be respected"}
	}
	return StatusCondition{Type: "ResolvedWaypoints", Status: true, Reason: "ResolvedWaypoints", Message: "All waypoints resolved"}
}

// GatewayStatuses returns the status of every Gateway istiod owns:
// Accepted, Programmed (with the Service it is assigned to), and per
// listener the attached route count; Gateways of other classes get a note.
func (t *Topology) GatewayStatuses() []ObjectStatus {
	t.index()
	attached := map[*Gateway]map[string]int{}
	for _, r := range t.Routes {
		if r.Kind == KindVirtualService {
			continue
		}
		for _, a := range t.RouteAttachments(r) {
			if a.Gateway != nil && a.Accepted {
				if attached[a.Gateway] == nil {
					attached[a.Gateway] = map[string]int{}
				}
				attached[a.Gateway][a.Listener.Name]++
			}
		}
	}
	gws := append([]*Gateway(nil), t.Gateways...)
	sort.Slice(gws, func(i, j int) bool { return gws[i].ID() < gws[j].ID() })
	var out []ObjectStatus
	for _, g := range gws {
		st := ObjectStatus{Kind: "Gateway", Object: g.ID()}
		if !istioClasses[g.Class] {
			st.Note = fmt.Sprintf("gatewayClassName %q is not owned by istiod", g.Class)
			out = append(out, st)
			continue
		}
		st.Conditions = append(st.Conditions, StatusCondition{Type: "Accepted", Status: true, Reason: "Accepted", Message: "Resource accepted"})
		prog := StatusCondition{Type: "Programmed", Status: true, Reason: "Programmed"}
		switch {
		case g.Service != nil:
			prog.Message = fmt.Sprintf("Resource programmed, assigned to service(s) %s.%s.svc.%s", g.Service.Name, g.Service.Namespace, t.clusterDomain())
		case t.Waypoint(g.Namespace, g.Name) != nil:
			prog.Message = fmt.Sprintf("Resource programmed, assigned to service(s) %s.%s.svc.%s", g.Name, g.Namespace, t.clusterDomain())
		default:
			prog = StatusCondition{Type: "Programmed", Reason: "AddressNotAssigned", Message: "no Service for the gateway's proxy in the input"}
		}
		st.Conditions = append(st.Conditions, prog)
		for _, l := range g.Listeners {
			ok := true
			reason, msg := "Accepted", fmt.Sprintf("%d attached routes", attached[g][l.Name])
			switch l.Protocol {
			case "HTTP", "HTTPS", "TLS", "TCP", "HBONE":
			default:
				ok, reason, msg = false, "UnsupportedProtocol", fmt.Sprintf("protocol %q is unsupported", l.Protocol)
			}
			st.Conditions = append(st.Conditions, StatusCondition{Type: "Listener " + l.Name + " Accepted", Status: ok, Reason: reason, Message: msg})
		}
		out = append(out, st)
	}
	return out
}
