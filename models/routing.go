package models

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Routing: each call of an edge is one request of the edge's mix
// (EdgeConfig.Requests), drawn by weight from the stream
// "requests/<edge>". The L7 proxy that routes the edge — the source's
// sidecar, an ingress gateway (its Gateway's routes), or the waypoint that
// serves the addressed Service for an ambient source — decides what
// happens to it with topology's route table (Topology.RouteTable, matched
// once per request class when the mesh is built): the rule it matches, the
// weighted backends, mirrors, rewrites, the timeout and the retry policy.
// Paths without an L7 proxy (ambient without a waypoint, out-of-mesh
// sources) do not route: every request goes to the addressed Service.
//
// The weighted backend is drawn once per request (stream
// "backend/<edge>") and kept for the proxy's retries, as Envoy's
// weighted_clusters are picked once per request and retries re-pick hosts
// only within that cluster; a client retry is a new request and draws
// again. A request no rule matches is answered 404 by the routing proxy, a
// backend share whose reference resolves to no Service 500, a subset no
// DestinationRule defines 503 (NC), a redirect with its 3xx.

// RequestClass is one request of an edge's mix.
type RequestClass struct {
	Name    string            // label in results; "" = "METHOD path"
	Weight  float64           // relative share; <= 0 counts as 1
	Method  string            // default GET
	Path    string            // path with an optional ?query, default /
	Host    string            // Host / :authority; default the addressed Service's cluster-local name
	Headers map[string]string // request headers (matched case-insensitively)
	// Token: the request carries a valid JWT. Where a RequestAuthentication
	// applies (at the waypoint or the destination sidecar) the request gets
	// that issuer's request principal; without it, requestPrincipals rules
	// do not match.
	Token bool
}

// label is the request's name in results.
func (r *RequestClass) label() string {
	if r.Name != "" {
		return r.Name
	}
	m := r.Method
	if m == "" {
		m = "GET"
	}
	p := r.Path
	if p == "" {
		p = "/"
	}
	return m + " " + p
}

// Where an edge's requests are routed.
const (
	routerNone     uint8 = iota // no L7 proxy: the addressed Service
	routerSidecar               // the source's sidecar (or an ingress gateway without a Gateway API Gateway)
	routerGateway               // an ingress gateway's Gateway routes
	routerWaypoint              // the addressed Service's waypoint
)

// routeRT is one request class of an edge, routed.
type routeRT struct {
	// What each call reads and counts, first.
	// status is the outcome when the routing proxy answers the request
	// itself (outOK: it forwards); redirect marks a 3xx answer.
	status   uint8
	token    bool
	redirect int
	timeout  sim.Time // the route's request timeout, 0 = none
	perTry   sim.Time // the retry policy's per-try timeout, 0 = none (pertry.go)
	total    int
	backs    []routeBack
	mirrors  []mirrorRT
	// Measured counts (the window).
	calls, failed []int64 // per backend
	answered      int64   // answered by the routing proxy
	mirrored      int64
	weight        float64

	name string
	// req is what the routing proxy (and the waypoint's policies) see;
	// fwd what proxies after it see: rewritten, header modifiers applied.
	req, fwd topology.Request
	retry    retryRT
	route    string // Kind/ns/name of the matched route, "" = none
	rule     int
	match    int
}

// routeBack is one weighted backend of a request class.
type routeBack struct {
	ti     int16 // target, or -1 when the share is answered by the proxy
	weight int
	status uint8 // outOK, or what the proxy answers for this share
	name   string
}

// mirrorRT is a RequestMirror: a copy of the request to the pods of a
// Service, whose response the proxy drops.
type mirrorRT struct {
	pods    []int32
	percent float64
}

// retryRT is the retry policy of the routing proxy on a route.
type retryRT struct {
	attempts int8
	on       [nOutcomes]bool // outcomes retried
	// avoidTried: a retry's host selection avoids the hosts this request
	// was already sent to (Envoy's previous_hosts predicate, which Istio
	// sets on every retry policy; pickEndpoint).
	avoidTried bool
	backoff    sim.Time // base interval, 0 = Envoy's 25 ms
}

// routeEdge routes every request class of edge e and builds the targets
// they reach. Target 0 is always the addressed Service itself (what the
// proxy reports for requests it answers).
func (m *Mesh) routeEdge(e *edgeRT, ec *EdgeConfig, ztKeys map[[2]int32]int32, upKeys map[[3]int32]int32) error {
	call := ec.Call
	var srcPod *topology.Pod
	if len(e.src) > 0 {
		srcPod = m.pods[e.src[0]].p
	}
	parent := m.top.PathFrom(srcPod, call.To, e.port)
	se := call.To.Entry()
	if se != nil {
		parent = m.top.EgressPathPort(srcPod, se, e.port) // egress.go
	}
	e.router = routerNone
	var rt *topology.RouteTable
	switch {
	case srcPod == nil:
	case srcPod.Workload != nil && srcPod.Workload.Ingress:
		e.router = routerSidecar
		for _, g := range m.top.Gateways {
			if g.Deployed == srcPod.Workload {
				e.router = routerGateway
				rt = m.top.RouteTable(topology.RouteParent{Kind: "Gateway", Namespace: g.Namespace, Name: g.Name})
				break
			}
		}
	case srcPod.Mode == topology.Sidecar:
		e.router = routerSidecar
	case parent.Waypoint != nil:
		e.router = routerWaypoint
	}
	if se != nil {
		// Egress: the path (egress waypoint, egress gateway) is the
		// routing paths reports; no route table is applied to the host.
		rt = nil
	} else if rt == nil && e.router != routerNone {
		rt = m.top.RouteTable(topology.RouteParent{Kind: "Service", Namespace: call.To.Namespace, Name: call.To.Name, Port: e.port})
	}
	// Target 0: the addressed Service.
	var pods0 []int32
	if se == nil {
		pods0 = m.svcs[m.svcIdx[call.To]].pods
	}
	tg0, err := m.buildTarget(e, call.To, pods0, e.port, parent, ztKeys, upKeys)
	if err != nil {
		return err
	}
	e.tgts = append(e.tgts, tg0)
	type tkey struct {
		svc    *topology.Service
		subset string
		port   int
	}
	tgtOf := map[tkey]int16{{call.To, "", e.port}: 0}
	classes := ec.Requests
	if len(classes) == 0 {
		classes = []RequestClass{{Method: ec.Method, Path: ec.Path}}
	}
	fqdn := call.To.Name + "." + call.To.Namespace + ".svc.cluster.local"
	if se != nil {
		fqdn = call.To.Name // the external host itself
	}
	for _, rc := range classes {
		r := routeRT{name: rc.label(), weight: rc.Weight, token: rc.Token, rule: -1, match: -1}
		if r.weight <= 0 {
			r.weight = 1
		}
		method, path := rc.Method, rc.Path
		if method == "" {
			method = "GET"
		}
		if path == "" {
			path = "/"
		}
		host := rc.Host
		if host == "" {
			host = fqdn
			if e.router == routerGateway {
				host = m.gatewayHost(rt, call.To)
			}
		}
		// Authorization policies match the path without its query
		// (Envoy's url_path matcher).
		polPath, _, _ := strings.Cut(path, "?")
		r.req = topology.Request{Method: method, Path: polPath, Host: host, Headers: rc.Headers, Service: call.To}
		r.fwd = r.req
		var d topology.RouteDecision
		routed := rt != nil && (rt.HTTP == (ec.Protocol != TCP))
		if routed {
			d = rt.Match(topology.RouteRequest{Method: method, Path: path, Host: host, Headers: rc.Headers, Port: e.port})
		} else {
			d = topology.RouteDecision{Rule: -1, Match: -1, TotalWeight: 1,
				Backends: []topology.WeightedBackend{{Ref: topology.BackendRef{Name: call.To.Name, Namespace: call.To.Namespace, Port: e.port, Weight: 1}, Service: call.To, Weight: 1}}}
			if e.router != routerNone && ec.Protocol != TCP {
				d.Retry = topology.DefaultRetryPolicy()
			}
		}
		r.route, r.rule, r.match = d.Route, d.Rule, d.Match
		switch {
		case d.Status == topology.RouteStatusNotFound:
			r.status = outNotFound
		case d.Status == topology.RouteStatusNoBackends:
			r.status = outBadBackend
		case d.Redirect != nil:
			r.redirect = d.Status
		}
		r.fwd = rewritten(r.req, d)
		if r.status == outOK && r.redirect == 0 {
			for _, wb := range d.Backends {
				if wb.Weight <= 0 {
					continue
				}
				b := routeBack{ti: -1, weight: wb.Weight, name: backendName(wb)}
				switch {
				case wb.Service == nil:
					b.status = outBadBackend
				case wb.SubsetMissing:
					b.status = outNoCluster
				default:
					port := wb.Ref.Port
					if port == 0 {
						port = e.port
					}
					k := tkey{wb.Service, wb.Ref.Subset, port}
					ti, ok := tgtOf[k]
					if !ok {
						pods := m.svcs[m.svcIdx[wb.Service]].pods
						if wb.Ref.Subset != "" {
							pods = pods[:0:0]
							for _, p := range wb.Pods {
								pods = append(pods, m.podIdx[p])
							}
						}
						tg, err := m.buildTarget(e, wb.Service, pods, port, parent, ztKeys, upKeys)
						if err != nil {
							return err
						}
						ti = int16(len(e.tgts))
						e.tgts = append(e.tgts, tg)
						tgtOf[k] = ti
					}
					b.ti = ti
				}
				r.backs = append(r.backs, b)
				r.total += wb.Weight
			}
			if r.total == 0 {
				r.status = outBadBackend
			}
		}
		if e.router != routerNone {
			r.timeout = sim.Time(d.Timeout)
			r.retry = m.retryOf(d.Retry)
			r.perTry = perTryOf(d, r.timeout, ec.Protocol == TCP)
			for _, mf := range d.Mirrors {
				if s := m.mirrorService(mf.Backend, d.Route, call.To); s != nil {
					r.mirrors = append(r.mirrors, mirrorRT{pods: m.svcs[m.svcIdx[s]].pods, percent: mf.Percent})
				}
			}
		}
		// Both counts in one allocation: a call touches one line of them.
		nb := len(r.backs)
		cnt := make([]int64, 2*nb)
		r.calls, r.failed = cnt[:nb:nb], cnt[nb:]
		e.routes = append(e.routes, r)
	}
	for i := range e.routes {
		e.rqCum += e.routes[i].weight
	}
	e.rqR = m.strm.Rand("requests/" + e.id)
	e.beR = m.strm.Rand("backend/" + e.id)
	e.mirR = m.strm.Rand("mirror/" + e.id)
	n := len(e.routes)
	for i := range e.tgts {
		tg := &e.tgts[i]
		tg.decisions = make([]uint8, n*len(e.src)*int(tg.nDst()))
		tg.allowAll = m.noPolicyFor(tg)
	}
	return nil
}

// gatewayHost is the Host an ingress request carries by default: a
// hostname of a route on the gateway that sends to svc (the first, in
// precedence order), else the Service's cluster-local name.
func (m *Mesh) gatewayHost(rt *topology.RouteTable, svc *topology.Service) string {
	if rt != nil {
		for _, ref := range rt.Sources {
			for _, r := range m.top.Routes {
				if r.Ref() != ref || len(r.Hostnames) == 0 {
					continue
				}
				for _, rule := range r.Rules {
					for _, b := range rule.BackendRefs {
						ns := b.Namespace
						if ns == "" {
							ns = r.Namespace
						}
						if b.Name == svc.Name && ns == svc.Namespace && !strings.Contains(r.Hostnames[0], "*") {
							return r.Hostnames[0]
						}
					}
				}
			}
		}
	}
	return svc.Name + "." + svc.Namespace + ".svc.cluster.local"
}

// mirrorService resolves a mirror's backend (namespace defaults to the
// route's, or the addressed Service's for a default route).
func (m *Mesh) mirrorService(b topology.BackendRef, route string, to *topology.Service) *topology.Service {
	if b.Kind != "" && b.Kind != "Service" {
		return nil
	}
	ns := b.Namespace
	if ns == "" {
		ns = to.Namespace
		if parts := strings.Split(route, "/"); len(parts) == 3 {
			ns = parts[1]
		}
	}
	return m.top.Service(ns, b.Name)
}

func backendName(wb topology.WeightedBackend) string {
	ns := wb.Ref.Namespace
	if wb.Service != nil {
		ns = wb.Service.Namespace
	}
	s := ns + "/" + wb.Ref.Name
	if ns == "" {
		s = wb.Ref.Name
	}
	if wb.Ref.Subset != "" {
		s += "#" + wb.Ref.Subset
	}
	return s
}

// rewritten is the request as proxies after the router see it: URL
// rewrite (host, full path or prefix) and the request header modifier.
// Only their effect on later L7 policy is modelled.
func rewritten(req topology.Request, d topology.RouteDecision) topology.Request {
	out := req
	if rw := d.Rewrite; rw != nil {
		if rw.Hostname != "" {
			out.Host = rw.Hostname
		}
		switch rw.PathType {
		case "ReplaceFullPath":
			out.Path = rw.Path
		case "ReplacePrefixMatch":
			// The matched prefix is replaced; the engine does not return
			// it, so the first path segment stands in for it.
			rest := ""
			if i := strings.IndexByte(strings.TrimPrefix(req.Path, "/"), '/'); i >= 0 {
				rest = req.Path[i+1:]
			}
			out.Path = strings.TrimSuffix(rw.Path, "/") + rest
			if out.Path == "" {
				out.Path = "/"
			}
		}
	}
	if hm := d.RequestHeaders; hm != nil {
		h := make(map[string]string, len(req.Headers)+len(hm.Set)+len(hm.Add))
		for k, v := range req.Headers {
			h[strings.ToLower(k)] = v
		}
		for _, x := range hm.Set {
			h[strings.ToLower(x.Name)] = x.Value
		}
		for _, x := range hm.Add {
			k := strings.ToLower(x.Name)
			if v, ok := h[k]; ok {
				h[k] = v + "," + x.Value
			} else {
				h[k] = x.Value
			}
		}
		for _, name := range hm.Remove {
			delete(h, strings.ToLower(name))
		}
		out.Headers = h
	}
	return out
}

// retryOf maps a route's retry policy onto the model's outcomes (Envoy
// retry_on conditions, x-envoy-retry-on in Envoy's router filter docs):
//   - connect-failure: connection refused, connect timeout;
//   - refused-stream: the upstream refused the stream (a proxy that is down);
//   - reset: a reset or no response at all (crash mid-request, per-try
//     timeout);
//   - 5xx: any 5xx from upstream plus reset; gateway-error: 502/503/504
//     plus reset (so both retry a per-try timeout);
//   - retriable-status-codes: the listed codes as upstream answers (500 =
//     a dependency failure upstream, 503, 403). A per-try timeout is not an
//     upstream answer but the router's own reset of the try (Envoy's
//     Filter::onPerTryTimeoutCommon retries it through maybeRetryReset, and
//     RetryStateImpl retries a reset only on reset, 5xx or gateway-error),
//     so a listed 504 does not retry it; the model has no other 504 from
//     upstream (decision 073).
//
// The default policy (no retry stanza: 2 retries on connect-failure,
// refused-stream, unavailable, cancelled, retriable-status-codes without
// codes — Istio pilot/pkg/networking/core/route/retry/retry.go) retries
// Config.ProxyRetries times.
func (m *Mesh) retryOf(p topology.RetryPolicy) retryRT {
	var r retryRT
	attempts := p.Attempts
	if isDefaultRetry(p) {
		attempts = m.cfg.ProxyRetries
	}
	if attempts <= 0 {
		return r
	}
	r.attempts = int8(min(attempts, 100))
	r.backoff = sim.Time(p.Backoff)
	r.avoidTried = !p.RetryPreviousHosts
	codes := func(code int) {
		switch code {
		case 500:
			r.on[outDependency] = true
		case 502, 503:
			r.on[outRefused], r.on[outConnTimeout], r.on[outReset] = true, true, true
		case 403:
			r.on[outL7Denied] = true
		}
	}
	for _, on := range p.RetryOn {
		switch strings.TrimSpace(on) {
		case "connect-failure":
			r.on[outRefused], r.on[outConnTimeout] = true, true
		case "refused-stream":
			r.on[outRefused] = true
		case "reset":
			r.on[outReset], r.on[outTimeout] = true, true
		case "5xx":
			r.on[outRefused], r.on[outConnTimeout], r.on[outReset], r.on[outTimeout], r.on[outDependency] = true, true, true, true, true
		case "gateway-error":
			codes(502)
			r.on[outTimeout] = true
		case "retriable-status-codes":
			for _, c := range p.Codes {
				codes(c)
			}
		}
	}
	return r
}

func isDefaultRetry(p topology.RetryPolicy) bool {
	d := topology.DefaultRetryPolicy()
	return p.Attempts == d.Attempts && slices.Equal(p.RetryOn, d.RetryOn) && len(p.Codes) == 0 && p.PerTryTimeout == 0 && p.Backoff == 0
}

// pickRequest draws the request class of a new call on e.
func (e *edgeRT) pickRequest() int16 {
	if len(e.routes) <= 1 {
		return 0
	}
	x := e.rqR.Float64() * e.rqCum
	for i := range e.routes {
		x -= e.routes[i].weight
		if x < 0 {
			return int16(i)
		}
	}
	return int16(len(e.routes) - 1)
}

// pickBackend draws the backend of request class rq once per request: the
// target and what the routing proxy answers (outOK: forward to it).
func (e *edgeRT) pickBackend(rq int16) (bi int16, ti int16, status uint8) {
	r := &e.routes[rq]
	if r.status != outOK || r.redirect != 0 || len(r.backs) == 0 {
		return -1, 0, r.status
	}
	b := 0
	if len(r.backs) > 1 {
		x := e.beR.IntN(r.total)
		for b = 0; b < len(r.backs)-1 && x >= r.backs[b].weight; b++ {
			x -= r.backs[b].weight
		}
	}
	bk := &r.backs[b]
	if bk.status != outOK {
		return int16(b), 0, bk.status
	}
	return int16(b), bk.ti, outOK
}

// l7Routed reports whether an L7 proxy routes e's requests (HTTP through
// a waypoint, the source's sidecar or a gateway): it then answers a request
// for a backend with no endpoint itself, 503 UH (answerAttempt).
func (e *edgeRT) l7Routed() bool { return e.router != routerNone && !e.tcp }

// routedAt returns the visit index of the proxy that routes c's edge, or
// -1 when no proxy on the laid-out path routes it.
func (m *Mesh) routedAt(c *call, e *edgeRT) int8 {
	want := vScSrc
	if e.router == routerWaypoint {
		want = vWP
	} else if e.router == routerNone {
		return -1
	}
	for i := int8(0); i < c.n; i++ {
		if c.kinds[i] == want {
			return i
		}
	}
	return -1
}

// mirror sends the mirrored copies of c's request from the routing proxy
// at visit i: the proxy spends a request's CPU on each copy and the mirror
// backend's pod (and its inbound proxy) serve it; the response is dropped
// and nothing waits for it.
func (m *Mesh) mirror(c *call, e *edgeRT, i int8, now sim.Time) {
	r := &e.routes[c.rq]
	for k := range r.mirrors {
		mr := &r.mirrors[k]
		if len(mr.pods) == 0 || (mr.percent < 100 && e.mirR.Float64()*100 >= mr.percent) {
			continue
		}
		if now >= m.measure {
			r.mirrored++
		}
		var d sim.Time
		if c.kinds[i] == vWP {
			d = 2*m.c.wp.reqHalf + bytesCost(m.c.wp.byteNs, c.reqB+c.respB)
		} else {
			d = 2*m.c.sc.reqHalf + bytesCost(m.c.sc.byteNs, c.reqB+c.respB)
		}
		m.spend(c.sts[i], d)
		pi := mr.pods[e.mirR.IntN(len(mr.pods))]
		p := &m.pods[pi]
		k := uint32(e.mirR.Uint64())
		switch p.mode {
		case topology.Ambient:
			m.spend(m.nodes[p.node].zt.pick(k), 2*m.c.ztMsg+bytesCost(m.c.ztByteNs, c.reqB+c.respB))
		case topology.Sidecar:
			if p.sc != nil {
				m.spend(p.sc.pick(k), 2*(m.c.sc.reqHalf+m.c.sc.inHalf)+bytesCost(m.c.sc.byteNs, c.reqB+c.respB))
			}
		}
		m.spend(p.app.pick(k), max(sim.Time(m.serviceTime(pi)), 0))
	}
}

// spend puts demand ns of work on st now; nothing waits for it (the
// mirrored copy's path delays are not modelled: its work is charged when
// the copy leaves the router).
func (m *Mesh) spend(st *sim.Station, demand sim.Time) { st.Submit(demand, nil, sim.Event{}) }

// RouteStats is what one request class of an edge did in the measured
// window: the route rule it matched and the calls per backend.
type RouteStats struct {
	Request  string // the request's name
	Route    string // Kind/ns/name of the matched route, "" = none (the addressed Service)
	Rule     int    // rule index, -1 = none
	Match    int    // match index, -1 = none
	Answered string // what the routing proxy answers itself ("" = it forwards): "404", "500", "503 NC", "30x"
	// AnsweredCalls are the calls the proxy answered itself; calls a
	// waypoint's policies refused before routing (403) are not among them.
	AnsweredCalls int64
	Backends      []BackendStats
	Mirrored      int64 // mirrored copies sent
}

// BackendStats is the calls one weighted backend received.
type BackendStats struct {
	Backend string // ns/name (#subset)
	Weight  int
	Calls   int64
	Failed  int64
}

func (m *Mesh) routeStats(e *edgeRT) []RouteStats {
	if e.router == routerNone && len(e.routes) == 1 && len(e.routes[0].backs) == 1 {
		return nil
	}
	out := make([]RouteStats, 0, len(e.routes))
	for i := range e.routes {
		r := &e.routes[i]
		rs := RouteStats{Request: r.name, Route: r.route, Rule: r.rule, Match: r.match, AnsweredCalls: r.answered, Mirrored: r.mirrored}
		switch {
		case r.redirect != 0:
			rs.Answered = fmt.Sprint(r.redirect)
		case r.status != outOK:
			rs.Answered = answerLabel(r.status)
		}
		for b := range r.backs {
			bk := &r.backs[b]
			bs := BackendStats{Backend: bk.name, Weight: bk.weight, Calls: r.calls[b], Failed: r.failed[b]}
			rs.Backends = append(rs.Backends, bs)
		}
		out = append(out, rs)
	}
	return out
}

func answerLabel(o uint8) string {
	switch o {
	case outNotFound:
		return "404"
	case outBadBackend:
		return "500"
	case outNoCluster:
		return "503 NC"
	}
	return outcomeCause[o]
}

// mayRetry reports whether a failed attempt is retried, and after how
// long. The routing proxy retries first, by its route's retry policy, when
// the failure happened beyond it (the backend stays: c.repick unset); then
// the client retries (EdgeConfig.Retries) anything but a policy denial, a
// dependency's 500 or a 404, as a new request. Both count against the
// edge's retry budget.
func (m *Mesh) mayRetry(c *call, e *edgeRT, tg *target) (bool, sim.Time) {
	proxy := m.routerRetries(c, e)
	r := &e.routes[c.rq]
	if !proxy {
		switch c.outcome {
		case outL7Denied, outDependency, outNotFound:
			return false, 0
		}
		if int(c.clientTries) > e.cfg.Retries {
			return false, 0
		}
	}
	if b := m.cfg.RetryBudget; b > 0 && c.attemptStart >= m.measure {
		if float64(m.retries[c.ei]) >= b*float64(e.started)+3 {
			return false, 0
		}
		m.retries[c.ei]++
	}
	if !proxy {
		c.repick = true
		return true, 0
	}
	// Envoy's exponential back-off with full jitter: uniform in
	// [0, (2^k - 1) × base) before retry k (base 25 ms unless the route
	// sets one).
	base := r.retry.backoff
	if base <= 0 {
		base = 25 * sim.Millisecond
	}
	k := min(int(c.tries), 10)
	return true, sim.Time(e.beR.Float64() * float64((int64(1)<<k)-1) * float64(base))
}

// routerRetries reports whether c's routing proxy retries its failed
// attempt by the route's retry policy (the retry budget aside).
func (m *Mesh) routerRetries(c *call, e *edgeRT) bool {
	r := &e.routes[c.rq]
	return !c.answer && c.routeAt >= 0 && r.retry.on[c.outcome] && int(c.tries) <= int(r.retry.attempts) && m.pastRouter(c)
}

// pastRouter reports whether c's attempt failed beyond its routing proxy
// (what that proxy sees as an upstream failure and may retry).
func (m *Mesh) pastRouter(c *call) bool {
	switch {
	case failureOutcome(c.outcome) || c.outcome == outTLS:
		return c.failAt > c.routeAt
	case c.outcome == outDependency, c.outcome == outTimeout:
		return true
	case c.outcome == outL7Denied:
		return c.denyAt > c.routeAt
	}
	return false
}

// count records a finished measured call of this request class; answered:
// the routing proxy answered it (a waypoint's policy refusal before routing
// is not an answer of the route: Envoy's router never saw it).
func (r *routeRT) count(bi int16, answered bool, out uint8) {
	if answered {
		r.answered++
	}
	if bi >= 0 && int(bi) < len(r.calls) {
		r.calls[bi]++
		if out != outOK {
			r.failed[bi]++
		}
	}
}

// evaluate decides a request of class rq from src to dst (through via):
// the waypoint's policies see the request as the client sent it, the
// destination's as the router forwarded it (rewritten, headers modified);
// a request with a valid token carries the request principal of the
// RequestAuthentication that applies.
func (m *Mesh) evaluate(e *edgeRT, rq int16, src, dst *topology.Pod, via *topology.Waypoint, port int) topology.Decision {
	r := &e.routes[rq]
	req, fwd := r.req, r.fwd
	req.RequestPrincipal = m.requestPrincipal(e, r, via, dst)
	fwd.RequestPrincipal = req.RequestPrincipal
	dec := m.top.Evaluate(src, dst, via, port, req)
	if !dec.Allow || !r.rewrites() {
		return dec
	}
	// The router changed what the destination sees: its own check runs
	// on the forwarded request (the waypoint's verdict above stands).
	if d2 := m.top.Evaluate(src, dst, via, port, fwd); !d2.Allow && !hasPrefix(d2.By, "waypoint/") {
		return d2
	}
	return dec
}

// requestPrincipal is the request principal a request of class r carries
// at via (the waypoint, or nil) and dst (nil when no endpoint is known): the
// issuer of the RequestAuthentication that applies, "" for none or no token.
func (m *Mesh) requestPrincipal(e *edgeRT, r *routeRT, via *topology.Waypoint, dst *topology.Pod) string {
	if !r.token {
		return ""
	}
	if iss := m.top.JWTIssuer(via, e.cfg.Call.To, dst); iss != "" {
		return iss + "/" + jwtSubject
	}
	return ""
}

// jwtSubject is the subject of the tokens simulated requests carry.
const jwtSubject = "ambientsim-client"

// routerDecision is the decision of the waypoint that routes e on a request
// of class rq from source srcL that it answers itself (404, 500, 503 NC, a
// redirect): Envoy's RBAC filter runs before its router filter (Istio
// builds the waypoint's HTTP chain with the authorization filters first and
// the router last: listener_waypoint.go, buildWaypointInboundHTTPFilters),
// so the waypoint's policies decide first and a refused request gets 403,
// not the route's answer. Cached per (request class, source pod) on the
// edge, allocated on first use; no AuthorizationPolicy, no evaluation.
func (m *Mesh) routerDecision(e *edgeRT, tg *target, rq int16, srcL int32) uint8 {
	if tg.allowAll || tg.ext >= 0 || len(m.top.AuthorizationPolicies) == 0 {
		return decAllow
	}
	if e.wpDec == nil {
		e.wpDec = make([]uint8, len(e.routes)*len(e.src))
	}
	k := int32(rq)*int32(len(e.src)) + srcL
	if d := e.wpDec[k]; d != decUnknown {
		return d
	}
	r := &e.routes[rq]
	via := m.wps[tg.wp].w
	req := r.req
	req.RequestPrincipal = m.requestPrincipal(e, r, via, nil)
	d := decAllow
	if dec := m.top.EvaluateWaypoint(m.pods[e.src[srcL]].p, via, m.svcs[tg.svc].s.TargetPort(tg.port), req); !dec.Allow {
		d = decDenyWaypoint
	}
	e.wpDec[k] = d
	return d
}

// rewrites reports whether the router changes the request policies see.
func (r *routeRT) rewrites() bool {
	return r.fwd.Path != r.req.Path || r.fwd.Host != r.req.Host || len(r.fwd.Headers) != len(r.req.Headers) || !maps.Equal(r.fwd.Headers, r.req.Headers)
}

// answerAttempt lays out the path of a request the routing proxy answers
// itself: the source's proxy, up to the router (no destination). A waypoint
// checks its policies before it routes (routerDecision): c.dec says whether
// it refuses the request instead. A source's sidecar that routes checks
// nothing first: its outbound chain has no RBAC filter (policies apply
// inbound, at the destination), so its answer stands.
func (m *Mesh) answerAttempt(c *call, e *edgeRT, tg *target, srcPod, srcNode int32, now sim.Time) {
	n := int8(0)
	c.locs[0] = srcNode
	c.dstL = -1
	c.dec = decAllow
	if tg.src != 255 {
		m.sourceVisit(c, tg, srcPod, srcNode, n)
		n++
	}
	if e.router == routerWaypoint && tg.wp >= 0 {
		r := m.wps[tg.wp].reps[c.repL]
		c.kinds[n], c.sts[n] = vWP, nil
		c.locs[n+1] = m.reps[r].node
		n++
		c.dec = m.routerDecision(e, tg, c.rq, c.srcL)
	}
	c.locs[n+1] = c.locs[n]
	c.n, c.i, c.dir = n, 0, dirReq
	c.routeAt = m.routedAt(c, e)
	c.denyAt = c.routeAt
	if c.routeAt < 0 {
		c.n = 0
		c.outcome = c.ans
		m.complete(c, now+m.c.sameNode)
		return
	}
	c.respB = 0
	for j := int8(0); j < n; j++ {
		c.respDem[j] = m.respDemand(c, j, 0)
	}
	m.s.At(now+m.c.sameNode, m, sim.Event{Kind: kVisit, P: c})
}

// answerVisit: the routing proxy answers c itself (404, 500, 503 NC, a
// redirect, 503 UH for a backend with no endpoint, or a waypoint's 403) after parsing and routing it; answered
// continues when its worker has done that work, and the answer goes back.
func (m *Mesh) answerVisit(c *call, e *edgeRT, tg *target, now sim.Time) {
	i := c.i
	measured := now >= m.measure
	var demand sim.Time
	if c.kinds[i] == vWP {
		c.wpAt = now
		demand = m.c.wp.reqHalf + bytesCost(m.c.wp.byteNs, c.reqB)
		rep := &m.reps[m.wps[tg.wp].reps[c.repL]]
		if c.leg1New {
			demand += m.c.wp.hs
			rep.conns++
			rep.maxC = max(rep.maxC, rep.conns)
			if measured {
				rep.hs++
			}
		}
		if measured {
			rep.reqs++
		}
		c.sts[i] = rep.st.pick(c.wpWk)
	} else {
		demand = m.c.sc.reqHalf + bytesCost(m.c.sc.byteNs, c.reqB)
		if measured {
			m.pods[e.src[c.srcL]].scReqs++
		}
	}
	c.sts[i].Submit(demand, m, sim.Event{Kind: kCPU, A: c.stamp, P: c})
}

// answered sends the routing proxy's own answer back from visit c.i: the
// route's, or the waypoint's 403 when its policies refused the request
// before routing (deniedAt: the RBAC body and the response's CPU).
func (m *Mesh) answered(c *call, fin sim.Time) {
	if c.dec == decDenyWaypoint {
		e := &m.edges[c.ei]
		m.deniedAt(c, e, &e.tgts[c.ti], c.i, fin)
		return
	}
	c.outcome = c.ans
	if c.ans == outNoUpstream {
		c.respB = noHealthyBody
		for j := int8(0); j < c.i; j++ {
			c.respDem[j] = m.respDemand(c, j, c.respB)
		}
	}
	m.turnAround(c, fin, c.i)
}

// noHealthyBody is the body of Envoy's 503 UH: "no healthy upstream".
const noHealthyBody = int32(len("no healthy upstream"))

// routesOf returns the indices in Topology.Routes of the routes a proxy
// compiles for Service si (its route table's sources), for configuration
// sizes; computed once per Service.
func (m *Mesh) routesOf(si int32) []int {
	if len(m.top.Routes) == 0 {
		return nil
	}
	if m.svcRoutes == nil {
		m.svcRoutes = make([][]int, len(m.svcs))
		m.svcRoutesDone = make([]bool, len(m.svcs))
		m.routeIdx = make(map[string]int, len(m.top.Routes))
		for i, r := range m.top.Routes {
			m.routeIdx[r.Ref()] = i
		}
	}
	if !m.svcRoutesDone[si] {
		s := m.svcs[si].s
		rt := m.top.RouteTable(topology.RouteParent{Kind: "Service", Namespace: s.Namespace, Name: s.Name})
		for _, ref := range rt.Sources {
			if i, ok := m.routeIdx[ref]; ok {
				m.svcRoutes[si] = append(m.svcRoutes[si], i)
			}
		}
		m.svcRoutesDone[si] = true
	}
	return m.svcRoutes[si]
}
