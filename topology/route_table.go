package topology

import (
	"regexp"
	"sort"
	"strings"
	"time"
)

// RouteTable compiles the routes attached to parent. For a Service parent
// (mesh routing, which only its waypoint applies in ambient) these are the
// HTTPRoutes and GRPCRoutes whose parentRefs name the Service (and the
// port, when the ref has one) on HTTP or sniffed ports, the TCPRoutes and
// TLSRoutes on TCP ports (TLS first, as listener_waypoint.go
// getWaypointTCPRoutes does), then the VirtualServices for the Service's
// host in its namespace or its waypoint's (getVirtualServiceForWaypoint;
// alpha in Istio). With nothing attached, every request goes to the Service
// itself with Istio's default retry policy. For a Gateway parent these are
// the routes accepted on it (RouteStatuses); with none, every request is a
// 404.
func (t *Topology) RouteTable(parent RouteParent) *RouteTable {
	t.index()
	rt := &RouteTable{Parent: parent, HTTP: true}
	switch parent.Kind {
	case "Service", "":
		rt.Parent.Kind = "Service"
		t.serviceRouteTable(rt)
	case "Gateway":
		t.gatewayRouteTable(rt)
	default:
		rt.noRoute = true
	}
	return rt
}

func (t *Topology) serviceRouteTable(rt *RouteTable) {
	p := rt.Parent
	svc := t.Service(p.Namespace, p.Name)
	if svc == nil {
		rt.noRoute = true
		return
	}
	port := p.Port
	if port == 0 {
		port = firstPort(svc)
	}
	sp, _ := svc.Port(port)
	rt.Protocol = sp.ProtocolName()
	rt.HTTP = !sp.IsTCP() && rt.Protocol != ProtoUDP
	rt.def = RouteDecision{Rule: -1, Match: -1, Retry: DefaultRetryPolicy(),
		Backends: []WeightedBackend{{Ref: BackendRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name, Port: port, Weight: 1}, Service: svc, Weight: 1, Pods: t.EndpointsOf(svc)}}, TotalWeight: 1}
	if !rt.HTTP {
		rt.Retry0()
	}
	var gw, vs []*Route
	for _, r := range t.sortedRoutes() {
		if r.Kind == KindVirtualService {
			if t.vsAppliesTo(r, svc) {
				vs = append(vs, r)
			}
			continue
		}
		if !routeParentsService(r, svc, port) {
			continue
		}
		if rt.HTTP != (r.Kind == KindHTTPRoute || r.Kind == KindGRPCRoute) {
			continue // an HTTP route on a TCP port (or the reverse) is not applied
		}
		gw = append(gw, r)
	}
	if !rt.HTTP {
		t.tcpRoutes(rt, gw, vs, port)
		return
	}
	for _, r := range gw {
		rt.addRoute(t, r, port, nil, false)
	}
	for _, r := range vs {
		rt.addRoute(t, r, port, nil, true)
	}
	rt.sortEntries()
}

// Retry0 clears the retry policy of the default decision: TCP proxies do
// not retry requests.
func (rt *RouteTable) Retry0() { rt.def.Retry = RetryPolicy{} }

// tcpRoutes picks the TCP routing of a TCP port: the first TLSRoute, else
// the first TCPRoute (oldest first), else the first VirtualService tls/tcp
// rule matching the port.
func (t *Topology) tcpRoutes(rt *RouteTable, gw, vs []*Route, port int) {
	pick := func(r *Route, rule int) {
		d := t.ruleDecision(r, rule, -1, port)
		d.Retry = RetryPolicy{}
		rt.tcp = &d
		rt.Sources = append(rt.Sources, r.Ref())
	}
	for _, kind := range []string{KindTLSRoute, KindTCPRoute} {
		for _, r := range gw {
			if r.Kind == kind && len(r.Rules) > 0 {
				pick(r, 0)
				return
			}
		}
	}
	for _, r := range vs {
		for i, rule := range r.Rules {
			if !rule.tcp {
				continue
			}
			if len(rule.Matches) == 0 {
				pick(r, i)
				return
			}
			for _, m := range rule.Matches {
				if m.Port == 0 || m.Port == port {
					pick(r, i)
					return
				}
			}
		}
	}
}

func (t *Topology) gatewayRouteTable(rt *RouteTable) {
	p := rt.Parent
	g := t.Gateway(p.Namespace, p.Name)
	if g == nil {
		rt.noRoute = true
		return
	}
	rt.Protocol = ProtoHTTP
	for _, l := range g.Listeners {
		if p.Port == 0 || l.Port == p.Port {
			rt.Protocol = l.Protocol
			break
		}
	}
	rt.HTTP = rt.Protocol == "HTTP" || rt.Protocol == "HTTPS" || rt.Protocol == ""
	rt.noRoute = true
	var accepted []*Route
	for _, r := range t.sortedRoutes() {
		if r.Kind == KindVirtualService {
			continue
		}
		for _, a := range t.RouteAttachments(r) {
			if a.Gateway == g && a.Accepted && (p.Port == 0 || a.Listener.Port == p.Port) {
				accepted = append(accepted, r)
				break
			}
		}
	}
	if !rt.HTTP {
		t.tcpRoutes(rt, accepted, nil, p.Port)
		return
	}
	for _, r := range accepted {
		if r.Kind != KindHTTPRoute && r.Kind != KindGRPCRoute {
			continue
		}
		hosts := r.Hostnames
		if len(hosts) == 0 {
			hosts = []string{""}
		}
		rt.addRoute(t, r, 0, hosts, false)
	}
	rt.sortEntries()
}

// sortedRoutes returns the routes oldest first, then by namespace/name
// (conversion.go sortRoutesByCreationTime; a missing timestamp sorts
// first, as the zero time does).
func (t *Topology) sortedRoutes() []*Route {
	rs := append([]*Route(nil), t.Routes...)
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.Created != b.Created {
			return a.Created < b.Created
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Kind < b.Kind
	})
	return rs
}

func routeParentsService(r *Route, s *Service, port int) bool {
	for _, p := range r.ParentRefs {
		if p.Kind != "Service" || (p.Group != "" && p.Group != "core") {
			continue
		}
		if refNS(p.Namespace, r.Namespace) == s.Namespace && p.Name == s.Name && (p.Port == 0 || port == 0 || p.Port == port) {
			return true
		}
	}
	return false
}

// vsAppliesTo: a VirtualService for the Service's host, in the Service's
// namespace or its waypoint's, bound to the mesh (no gateways, or "mesh").
func (t *Topology) vsAppliesTo(r *Route, s *Service) bool {
	if r.Namespace != s.Namespace && (s.Waypoint == nil || r.Namespace != s.Waypoint.Namespace) {
		return false
	}
	if len(r.ParentRefs) > 0 {
		return false // bound to gateways only (see decodeVirtualServiceRoutes)
	}
	for _, h := range r.Hostnames {
		if hs := t.resolveHost(h, r.Namespace); hs == s {
			return true
		}
	}
	return false
}

// addRoute adds one entry per (rule, match) of r.
func (rt *RouteTable) addRoute(t *Topology, r *Route, port int, hosts []string, vs bool) {
	added := false
	for ri, rule := range r.Rules {
		if rule.tcp {
			continue
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []RouteMatch{{}}
		}
		for mi, m := range matches {
			if vs && len(m.SourceLabels) > 0 {
				continue // waypoints drop source-label matches (listener_waypoint.go, istio#51565)
			}
			if vs && len(m.Gateways) > 0 && !contains(m.Gateways, "mesh") {
				continue
			}
			e := routeEntry{m: m, hosts: hosts, created: r.Created, id: r.ID(), order: len(rt.entries), vs: vs}
			if r.Kind == KindGRPCRoute {
				e.m = grpcToHTTPMatch(m)
			}
			e.plainPfx = vs
			if len(rule.Matches) == 0 {
				mi = -1
			}
			e.decision = t.ruleDecision(r, ri, mi, port)
			if e.compile() != nil {
				continue // invalid expressions were reported when decoding
			}
			rt.entries = append(rt.entries, e)
			added = true
		}
	}
	if added {
		rt.Sources = append(rt.Sources, r.Ref())
	}
}

// grpcToHTTPMatch maps a GRPCRoute method match onto the path, as
// conversion.go createGRPCURIMatch does: service and method exact → exact
// "/svc/method"; service only → prefix "/svc/"; method only → regex.
func grpcToHTTPMatch(m RouteMatch) RouteMatch {
	out := RouteMatch{Headers: m.Headers}
	regex := m.GRPCType == "RegularExpression"
	switch {
	case m.GRPCService == "" && m.GRPCMethod == "":
	case m.GRPCMethod == "" && !regex:
		out.PathType, out.Path = "PathPrefix", "/"+m.GRPCService+"/"
	case m.GRPCMethod == "":
		out.PathType, out.Path = "RegularExpression", "/"+m.GRPCService+"/.+"
	case m.GRPCService == "":
		out.PathType, out.Path = "RegularExpression", "/[^/]+/"+m.GRPCMethod
	case regex:
		out.PathType, out.Path = "RegularExpression", "/"+m.GRPCService+"/"+m.GRPCMethod
	default:
		out.PathType, out.Path = "Exact", "/"+m.GRPCService+"/"+m.GRPCMethod
	}
	return out
}

func (e *routeEntry) compile() error {
	var err error
	switch e.m.PathType {
	case "RegularExpression":
		if e.pathRe, err = compileRouteRegex(e.m.Path); err != nil {
			return err
		}
		e.rank, e.length = 1, len(e.m.Path)
	case "Exact":
		e.rank, e.length = 3, len(e.m.Path)
	case "PathPrefix":
		p := e.m.Path
		if p != "/" && !e.plainPfx {
			p = strings.TrimSuffix(p, "/")
			e.m.Path = p
		}
		e.rank, e.length = 2, len(p)
	default:
		e.rank = -1
	}
	e.headerRe = make([]*regexp.Regexp, len(e.m.Headers))
	for i, h := range e.m.Headers {
		if h.Type == "RegularExpression" {
			if e.headerRe[i], err = compileRouteRegex(h.Value); err != nil {
				return err
			}
		}
	}
	e.queryRe = make([]*regexp.Regexp, len(e.m.QueryParams))
	for i, q := range e.m.QueryParams {
		if q.Type == "RegularExpression" {
			if e.queryRe[i], err = compileRouteRegex(q.Value); err != nil {
				return err
			}
		}
	}
	e.hasMethod = e.m.Method != ""
	e.nHeaders, e.nQuery = len(e.m.Headers), len(e.m.QueryParams)
	return nil
}

// sortEntries orders Gateway API entries by precedence (stable: input order
// is route age/name, rule, match); VirtualService entries keep list order
// after them.
func (rt *RouteTable) sortEntries() {
	n := 0
	for n < len(rt.entries) && !rt.entries[n].vs {
		n++
	}
	gw := rt.entries[:n]
	sort.SliceStable(gw, func(i, j int) bool {
		a, b := &gw[i], &gw[j]
		switch {
		case a.rank != b.rank:
			return a.rank > b.rank
		case a.length != b.length:
			return a.length > b.length
		case a.hasMethod != b.hasMethod:
			return a.hasMethod
		case a.nHeaders != b.nHeaders:
			return a.nHeaders > b.nHeaders
		}
		return a.nQuery > b.nQuery
	})
}

// ruleDecision precomputes what the proxy does on rule ri (match mi) of r.
func (t *Topology) ruleDecision(r *Route, ri, mi int, port int) RouteDecision {
	rule := r.Rules[ri]
	d := RouteDecision{Route: r.Ref(), Rule: ri, RuleName: rule.Name, Match: mi}
	for _, b := range rule.BackendRefs {
		wb := WeightedBackend{Ref: b, Weight: b.Weight}
		if b.Port == 0 {
			wb.Ref.Port = port
		}
		if b.Kind == "" || b.Kind == "Service" {
			wb.Service = t.Service(refNS(b.Namespace, r.Namespace), b.Name)
		}
		if wb.Service != nil {
			wb.Pods, wb.SubsetMissing = t.subsetPods(wb.Service, b.Subset)
		}
		d.Backends = append(d.Backends, wb)
		d.TotalWeight += b.Weight
	}
	for _, f := range rule.Filters {
		switch f.Type {
		case FilterRequestHeaderModifier:
			d.RequestHeaders = f.Headers
		case FilterResponseHeaderModifier:
			d.ResponseHeaders = f.Headers
		case FilterRequestMirror:
			if f.Mirror != nil {
				d.Mirrors = append(d.Mirrors, *f.Mirror)
			}
		case FilterRequestRedirect:
			d.Redirect = f.Redirect
		case FilterURLRewrite:
			d.Rewrite = f.Rewrite
		}
	}
	switch {
	case d.Redirect != nil:
		d.Status = d.Redirect.StatusCode
	case d.TotalWeight == 0:
		d.Status = RouteStatusNoBackends
	}
	d.Retry, d.Timeout = routeRetryAndTimeout(r.Kind, rule)
	return d
}

// routeRetryAndTimeout applies Istio's conversion of a rule's retry and
// timeouts (conversion.go convertHTTPRoute; retry.go ConvertPolicy):
//   - no retry stanza: the default policy (DefaultRetryPolicy);
//   - HTTPRoute retry: connect-failure, refused-stream, unavailable,
//     cancelled, plus retriable-status-codes with the codes; attempts
//     default 2; 0 attempts disables retries;
//   - timeouts.request is the route timeout; timeouts.backendRequest is the
//     per-try timeout when a retry stanza exists, else it replaces the
//     route timeout.
func routeRetryAndTimeout(kind string, rule RouteRule) (RetryPolicy, time.Duration) {
	timeout, _ := parseRouteDuration(rule.Timeout)
	backend, _ := parseRouteDuration(rule.BackendTimeout)
	rp := DefaultRetryPolicy()
	if rule.Retry != nil {
		rr := rule.Retry
		attempts := rr.Attempts
		if attempts < 0 {
			attempts = 2
		}
		if attempts == 0 {
			rp = RetryPolicy{}
		} else if kind == KindVirtualService {
			rp.Attempts = attempts
			if len(rr.RetryOn) > 0 || len(rr.Codes) > 0 {
				rp.RetryOn = append([]string(nil), rr.RetryOn...)
				rp.Codes = rr.Codes
				if len(rr.Codes) > 0 && !contains(rp.RetryOn, "retriable-status-codes") {
					rp.RetryOn = append(rp.RetryOn, "retriable-status-codes")
				}
			}
		} else {
			rp = RetryPolicy{Attempts: attempts, RetryOn: []string{"connect-failure", "refused-stream", "unavailable", "cancelled"}, Codes: rr.Codes}
			if len(rr.Codes) > 0 {
				rp.RetryOn = append(rp.RetryOn, "retriable-status-codes")
			}
		}
		if rp.Attempts > 0 {
			rp.Backoff, _ = parseRouteDuration(rr.Backoff)
			rp.RetryPreviousHosts = rr.KeepPreviousHosts
		}
	}
	if backend > 0 {
		if rule.Retry != nil && rp.Attempts > 0 || kind == KindVirtualService {
			rp.PerTryTimeout = backend
		} else if rule.Retry == nil {
			timeout = backend
		}
	}
	return rp, timeout
}

// gatewayAPIRoutes returns the Gateway API routes (no VirtualService), by ID.
func (t *Topology) gatewayAPIRoutes() []*Route {
	var out []*Route
	for _, r := range t.Routes {
		if r.Kind != KindVirtualService {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}
