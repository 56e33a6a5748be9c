package topology

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// This file is the authorization engine: AuthorizationPolicy compiled once
// per enforcement point (destination ztunnel, waypoint, sidecar), then
// matched without allocation per request.

type matchKind uint8

const (
	matchExact matchKind = iota
	matchPrefix
	matchSuffix
	matchAny // "*": presence
)

type strMatch struct {
	kind matchKind
	s    string
}

func compileStr(v string, stripSpiffe bool) strMatch {
	if stripSpiffe {
		v = strings.TrimPrefix(v, "spiffe://")
	}
	switch {
	case v == "*":
		return strMatch{kind: matchAny}
	case strings.HasPrefix(v, "*"):
		return strMatch{kind: matchSuffix, s: v[1:]}
	case strings.HasSuffix(v, "*"):
		return strMatch{kind: matchPrefix, s: v[:len(v)-1]}
	}
	return strMatch{kind: matchExact, s: v}
}

func (m strMatch) match(v string, present bool) bool {
	if !present {
		return false
	}
	switch m.kind {
	case matchAny:
		return true
	case matchPrefix:
		return strings.HasPrefix(v, m.s)
	case matchSuffix:
		return strings.HasSuffix(v, m.s)
	}
	return v == m.s
}

func anyStr(ms []strMatch, v string, present bool) bool {
	for _, m := range ms {
		if m.match(v, present) {
			return true
		}
	}
	return false
}

func compileStrs(vs []string, strip bool) []strMatch {
	if len(vs) == 0 {
		return nil
	}
	out := make([]strMatch, len(vs))
	for i, v := range vs {
		out[i] = compileStr(v, strip)
	}
	return out
}

func compilePrefixes(vs []string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range vs {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(v); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

func anyPrefix(ps []netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func compilePorts(vs []string) []int {
	out := make([]int, 0, len(vs))
	for _, v := range vs {
		if n, err := strconv.Atoi(v); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

type cSource struct {
	principals, notPrincipals   []strMatch
	namespaces, notNamespaces   []strMatch
	sas, notSAs                 []string // ns/sa
	ipBlocks, notIPBlocks       []netip.Prefix
	remoteIPs, notRemoteIPs     []netip.Prefix
	reqPrincipals, notReqPrinc  []strMatch
	hasPrincipals, hasNotPrinc  bool
	hasNS, hasNotNS             bool
	hasSA, hasNotSA             bool
	hasIP, hasNotIP             bool
	hasRemote, hasNotRemote     bool
	hasReqPrinc, hasNotReqPrinc bool
}

type cOp struct {
	hosts, notHosts     []strMatch
	ports, notPorts     []int
	methods, notMethods []string
	paths, notPaths     []strMatch
	hasHosts, hasNotH   bool
	hasPorts, hasNotP   bool
	hasMeth, hasNotM    bool
	hasPaths, hasNotPa  bool
}

type cCond struct {
	key       string
	header    string // for request.headers[...]
	values    []strMatch
	notValues []strMatch
}

type cRule struct {
	from []cSource
	to   []cOp
	when []cCond
}

// cPolicy is one AuthorizationPolicy compiled for one enforcement point.
type cPolicy struct {
	p      *AuthorizationPolicy
	id     string
	action string
	rules  []cRule
}

// l4WhenKeys are the when keys ztunnel understands.
var l4WhenKeys = map[string]bool{
	"source.ip": true, "source.namespace": true, "source.principal": true,
	"destination.ip": true, "destination.port": true,
}

// L7Fields lists the HTTP-only fields a policy uses (sorted, unique).
func (p *AuthorizationPolicy) L7Fields() []string {
	set := map[string]bool{}
	for _, r := range p.Rules {
		for _, f := range ruleL7Fields(r) {
			set[f] = true
		}
	}
	return sortedKeys(set)
}

func ruleL7Fields(r Rule) []string {
	var out []string
	add := func(cond bool, name string) {
		if cond && !contains(out, name) {
			out = append(out, name)
		}
	}
	for _, s := range r.From {
		add(len(s.RequestPrincipals) > 0, "requestPrincipals")
		add(len(s.NotRequestPrincipals) > 0, "notRequestPrincipals")
		add(len(s.RemoteIPBlocks) > 0, "remoteIpBlocks")
		add(len(s.NotRemoteIPBlocks) > 0, "notRemoteIpBlocks")
	}
	for _, o := range r.To {
		add(len(o.Hosts) > 0, "hosts")
		add(len(o.NotHosts) > 0, "notHosts")
		add(len(o.Methods) > 0, "methods")
		add(len(o.NotMethods) > 0, "notMethods")
		add(len(o.Paths) > 0, "paths")
		add(len(o.NotPaths) > 0, "notPaths")
	}
	for _, c := range r.When {
		add(!l4WhenKeys[c.Key], "when "+c.Key)
	}
	return out
}

// HasL7 reports whether any rule uses an HTTP-only field.
func (p *AuthorizationPolicy) HasL7() bool {
	for _, r := range p.Rules {
		if len(ruleL7Fields(r)) > 0 {
			return true
		}
	}
	return false
}

// compilePolicy compiles p. With ztunnel set it applies istiod's conversion
// for ztunnel: ALLOW rules with any L7 field are dropped; DENY rules have
// their L7 fields removed, and a rule left with nothing enforceable is
// dropped. ok is false when the policy is not sent to ztunnel at all.
func compilePolicy(p *AuthorizationPolicy, ztunnel bool) (cp *cPolicy, ok bool) {
	if ztunnel && (p.Action == ActionCustom || p.Action == ActionAudit || len(p.TargetRefs) > 0) {
		return nil, false
	}
	return compileRules(p, ztunnel), true
}

// compileTCP compiles p for an Envoy TCP filter chain (a waypoint or
// sidecar port whose protocol is TCP): HTTP fields do not exist there, so
// ALLOW rules using them never match and DENY rules lose them, as for
// ztunnel (pilot/pkg/security/authz/builder: rules with HTTP-only fields
// are skipped for TCP in ALLOW, trimmed in DENY).
func compileTCP(p *AuthorizationPolicy) *cPolicy { return compileRules(p, true) }

func compileRules(p *AuthorizationPolicy, ztunnel bool) *cPolicy {
	cp := &cPolicy{p: p, id: p.ID(), action: p.Action}
	for _, r := range p.Rules {
		l7 := len(ruleL7Fields(r)) > 0
		if ztunnel && l7 && p.Action == ActionAllow {
			continue
		}
		var cr cRule
		for _, s := range r.From {
			cs := cSource{
				principals: compileStrs(s.Principals, true), notPrincipals: compileStrs(s.NotPrincipals, true),
				namespaces: compileStrs(s.Namespaces, false), notNamespaces: compileStrs(s.NotNamespaces, false),
				ipBlocks: compilePrefixes(s.IPBlocks), notIPBlocks: compilePrefixes(s.NotIPBlocks),
				hasPrincipals: len(s.Principals) > 0, hasNotPrinc: len(s.NotPrincipals) > 0,
				hasNS: len(s.Namespaces) > 0, hasNotNS: len(s.NotNamespaces) > 0,
				hasSA: len(s.ServiceAccounts) > 0, hasNotSA: len(s.NotServiceAccounts) > 0,
				hasIP: len(s.IPBlocks) > 0, hasNotIP: len(s.NotIPBlocks) > 0,
			}
			for _, sa := range s.ServiceAccounts {
				cs.sas = append(cs.sas, qualifySA(sa, p.Namespace))
			}
			for _, sa := range s.NotServiceAccounts {
				cs.notSAs = append(cs.notSAs, qualifySA(sa, p.Namespace))
			}
			if !ztunnel {
				cs.remoteIPs, cs.notRemoteIPs = compilePrefixes(s.RemoteIPBlocks), compilePrefixes(s.NotRemoteIPBlocks)
				cs.reqPrincipals, cs.notReqPrinc = compileStrs(s.RequestPrincipals, false), compileStrs(s.NotRequestPrincipals, false)
				cs.hasRemote, cs.hasNotRemote = len(s.RemoteIPBlocks) > 0, len(s.NotRemoteIPBlocks) > 0
				cs.hasReqPrinc, cs.hasNotReqPrinc = len(s.RequestPrincipals) > 0, len(s.NotRequestPrincipals) > 0
			}
			if ztunnel && !(cs.hasPrincipals || cs.hasNotPrinc || cs.hasNS || cs.hasNotNS || cs.hasSA || cs.hasNotSA || cs.hasIP || cs.hasNotIP) {
				continue // only L7 fields: stripped
			}
			cr.from = append(cr.from, cs)
		}
		for _, o := range r.To {
			co := cOp{ports: compilePorts(o.Ports), notPorts: compilePorts(o.NotPorts),
				hasPorts: len(o.Ports) > 0, hasNotP: len(o.NotPorts) > 0}
			if !ztunnel {
				co.hosts, co.notHosts = compileStrs(lowerAll(o.Hosts), false), compileStrs(lowerAll(o.NotHosts), false)
				co.methods, co.notMethods = o.Methods, o.NotMethods
				co.paths, co.notPaths = compileStrs(o.Paths, false), compileStrs(o.NotPaths, false)
				co.hasHosts, co.hasNotH = len(o.Hosts) > 0, len(o.NotHosts) > 0
				co.hasMeth, co.hasNotM = len(o.Methods) > 0, len(o.NotMethods) > 0
				co.hasPaths, co.hasNotPa = len(o.Paths) > 0, len(o.NotPaths) > 0
			}
			if ztunnel && !(co.hasPorts || co.hasNotP) {
				continue
			}
			cr.to = append(cr.to, co)
		}
		for _, c := range r.When {
			if ztunnel && !l4WhenKeys[c.Key] {
				continue
			}
			cc := cCond{key: c.Key, values: compileStrs(c.Values, c.Key == "source.principal"),
				notValues: compileStrs(c.NotValues, c.Key == "source.principal")}
			if strings.HasPrefix(c.Key, "request.headers[") && strings.HasSuffix(c.Key, "]") {
				cc.header = strings.ToLower(strings.Trim(c.Key[len("request.headers["):len(c.Key)-1], `"'`))
			}
			cr.when = append(cr.when, cc)
		}
		if ztunnel && l7 && len(cr.from) == 0 && len(cr.to) == 0 && len(cr.when) == 0 {
			continue // DENY rule with nothing enforceable left: no effect
		}
		cp.rules = append(cp.rules, cr)
	}
	return cp
}

func lowerAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.ToLower(v)
	}
	return out
}

func qualifySA(sa, ns string) string {
	if strings.Contains(sa, "/") {
		return sa
	}
	return ns + "/" + sa
}

// peer is what the enforcing proxy knows about the connection.
type peer struct {
	principal string // without spiffe://
	ns, sa    string
	hasID     bool
	ip        netip.Addr
	dstIP     netip.Addr
	port      int
	req       *Request
}

func (c *cPolicy) matches(pr *peer) bool {
	for i := range c.rules {
		if c.rules[i].matches(pr) {
			return true
		}
	}
	return false
}

func (r *cRule) matches(pr *peer) bool {
	if len(r.from) > 0 {
		ok := false
		for i := range r.from {
			if r.from[i].matches(pr) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.to) > 0 {
		ok := false
		for i := range r.to {
			if r.to[i].matches(pr) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for i := range r.when {
		if !r.when[i].matches(pr) {
			return false
		}
	}
	return true
}

func (s *cSource) matches(pr *peer) bool {
	if s.hasPrincipals && !anyStr(s.principals, pr.principal, pr.hasID) {
		return false
	}
	if s.hasNotPrinc && anyStr(s.notPrincipals, pr.principal, pr.hasID) {
		return false
	}
	if s.hasNS && !anyStr(s.namespaces, pr.ns, pr.hasID) {
		return false
	}
	if s.hasNotNS && anyStr(s.notNamespaces, pr.ns, pr.hasID) {
		return false
	}
	if s.hasSA && !(pr.hasID && saIn(s.sas, pr.ns, pr.sa)) {
		return false
	}
	if s.hasNotSA && pr.hasID && saIn(s.notSAs, pr.ns, pr.sa) {
		return false
	}
	if s.hasIP && !anyPrefix(s.ipBlocks, pr.ip) {
		return false
	}
	if s.hasNotIP && anyPrefix(s.notIPBlocks, pr.ip) {
		return false
	}
	if s.hasRemote && !anyPrefix(s.remoteIPs, pr.ip) {
		return false
	}
	if s.hasNotRemote && anyPrefix(s.notRemoteIPs, pr.ip) {
		return false
	}
	rp := ""
	if pr.req != nil {
		rp = pr.req.RequestPrincipal
	}
	if s.hasReqPrinc && !anyStr(s.reqPrincipals, rp, rp != "") {
		return false
	}
	if s.hasNotReqPrinc && anyStr(s.notReqPrinc, rp, rp != "") {
		return false
	}
	return true
}

func saIn(list []string, ns, sa string) bool {
	for _, q := range list {
		if len(q) == len(ns)+1+len(sa) && strings.HasPrefix(q, ns) && q[len(ns)] == '/' && strings.HasSuffix(q, sa) {
			return true
		}
	}
	return false
}

func (o *cOp) matches(pr *peer) bool {
	if o.hasPorts && !containsInt(o.ports, pr.port) {
		return false
	}
	if o.hasNotP && containsInt(o.notPorts, pr.port) {
		return false
	}
	var method, path, host string
	hasReq := pr.req != nil
	if hasReq {
		method, path, host = pr.req.Method, pr.req.Path, pr.req.Host
		if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
			host = host[:i]
		}
	}
	if o.hasHosts && !anyStrFold(o.hosts, host, hasReq) {
		return false
	}
	if o.hasNotH && anyStrFold(o.notHosts, host, hasReq) {
		return false
	}
	if o.hasMeth && !(hasReq && (contains(o.methods, method) || contains(o.methods, "*"))) {
		return false
	}
	if o.hasNotM && hasReq && contains(o.notMethods, method) {
		return false
	}
	if o.hasPaths && !anyStr(o.paths, path, hasReq) {
		return false
	}
	if o.hasNotPa && anyStr(o.notPaths, path, hasReq) {
		return false
	}
	return true
}

func anyStrFold(ms []strMatch, v string, present bool) bool {
	for _, m := range ms {
		if len(v) == len(m.s) && m.kind == matchExact {
			if strings.EqualFold(v, m.s) {
				return true
			}
			continue
		}
		if m.match(v, present) {
			return true
		}
	}
	return false
}

func (c *cCond) matches(pr *peer) bool {
	var v string
	present := true
	switch c.key {
	case "source.ip":
		if !pr.ip.IsValid() {
			present = false
		}
		return matchIPCond(c, pr.ip)
	case "destination.ip":
		return matchIPCond(c, pr.dstIP)
	case "source.namespace":
		v, present = pr.ns, pr.hasID
	case "source.principal":
		v, present = pr.principal, pr.hasID
	case "destination.port":
		v = strconv.Itoa(pr.port)
	case "request.auth.principal":
		if pr.req == nil {
			return false
		}
		v = pr.req.RequestPrincipal
		present = v != ""
	default:
		if c.header == "" || pr.req == nil {
			return false // unsupported key: never matches
		}
		v, present = pr.req.Headers[c.header]
		if !present {
			for k, hv := range pr.req.Headers {
				if strings.EqualFold(k, c.header) {
					v, present = hv, true
					break
				}
			}
		}
	}
	if len(c.values) > 0 && !anyStr(c.values, v, present) {
		return false
	}
	if len(c.notValues) > 0 && anyStr(c.notValues, v, present) {
		return false
	}
	return true
}

func matchIPCond(c *cCond, a netip.Addr) bool {
	match := func(ms []strMatch) bool {
		for _, m := range ms {
			if m.kind == matchAny && a.IsValid() {
				return true
			}
			if anyPrefix(compilePrefixesCached(m.s), a) {
				return true
			}
		}
		return false
	}
	if len(c.values) > 0 && !match(c.values) {
		return false
	}
	if len(c.notValues) > 0 && match(c.notValues) {
		return false
	}
	return true
}

// compilePrefixesCached parses one CIDR or address; when conditions on IPs
// are rare enough that parsing per match (allocation-free) is fine.
func compilePrefixesCached(v string) []netip.Prefix {
	if p, err := netip.ParsePrefix(v); err == nil {
		return []netip.Prefix{p.Masked()}
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}
	}
	return nil
}

// podPolicies are the policies that apply to one pod at its own proxy.
type podPolicies struct {
	ztDeny, ztAllow []*cPolicy // converted for ztunnel
	scDeny, scAllow []*cPolicy // full, for a sidecar (ALLOW/DENY; CUSTOM/AUDIT noted only)
	scCustom        []*cPolicy
	mtls            *PeerAuthentication // effective (most specific) PeerAuthentication, nil = PERMISSIVE default
	mtlsMode        string
	netpols         []*NetworkPolicy // ingress-isolating NetworkPolicies selecting the pod
	ztBy, scBy      string           // "ztunnel/<node>", "sidecar/<ns>/<pod>", built once
}

type policyIndex struct {
	full      []*cPolicy                  // every AuthorizationPolicy compiled in full (Envoy form), by position
	byPod     []podPolicies               // by Pod.idx
	waypoint  map[*Waypoint]*waypointPols // targetRefs policies per waypoint
	nsByName  map[string]*Namespace
	wpPodNode map[*Pod]bool
}

type waypointPols struct {
	by  string                         // waypoint/<ns>/<name>
	gw  [2]svcWPPolicies               // targetRefs Gateway (and GatewayClass): [HTTP chain, TCP chain]
	svc map[*Service]*[2]svcWPPolicies // targetRefs Service
}

type svcWPPolicies struct {
	deny, allow, custom []*cPolicy
}

func (w *svcWPPolicies) empty() bool { return len(w.deny)+len(w.allow)+len(w.custom) == 0 }

func (t *Topology) buildPolicyIndex(ix *index) *policyIndex {
	pi := &policyIndex{byPod: make([]podPolicies, len(t.Pods)), waypoint: map[*Waypoint]*waypointPols{}, nsByName: ix.namespaces}
	root := t.RootNamespace
	// Compile each policy once per form.
	type compiled struct{ zt, full, tcp *cPolicy }
	comp := make([]compiled, len(t.AuthorizationPolicies))
	byNS := map[string][]int{}
	for i, p := range t.AuthorizationPolicies {
		if zt, ok := compilePolicy(p, true); ok {
			comp[i].zt = zt
		}
		comp[i].full, _ = compilePolicy(p, false)
		comp[i].tcp = compileTCP(p)
		pi.full = append(pi.full, comp[i].full)
		if len(p.TargetRefs) == 0 {
			byNS[p.Namespace] = append(byNS[p.Namespace], i)
		}
	}
	podsByNS := map[string][]*Pod{}
	for _, p := range t.Pods {
		podsByNS[p.Namespace] = append(podsByNS[p.Namespace], p)
	}
	add := func(pp *podPolicies, c compiled) {
		if c.zt != nil {
			switch c.zt.action {
			case ActionDeny:
				pp.ztDeny = append(pp.ztDeny, c.zt)
			case ActionAllow:
				pp.ztAllow = append(pp.ztAllow, c.zt)
			}
		}
		switch c.full.action {
		case ActionDeny:
			pp.scDeny = append(pp.scDeny, c.full)
		case ActionAllow:
			pp.scAllow = append(pp.scAllow, c.full)
		case ActionCustom:
			pp.scCustom = append(pp.scCustom, c.full)
		}
	}
	for ns, pods := range podsByNS {
		for _, p := range pods {
			pp := &pi.byPod[p.idx]
			pp.ztBy = "ztunnel/" + p.Node
			pp.scBy = "sidecar/" + p.Namespace + "/" + p.Name
			if ns != root {
				// Root-namespace policies apply mesh-wide; with a selector,
				// to matching pods in every namespace.
				for _, i := range byNS[root] {
					if sel := t.AuthorizationPolicies[i].Selector; sel == nil || labelsMatch(sel, p.Labels) {
						add(pp, comp[i])
					}
				}
			}
			for _, i := range byNS[ns] {
				ap := t.AuthorizationPolicies[i]
				if ap.Selector == nil || labelsMatch(ap.Selector, p.Labels) {
					add(pp, comp[i])
				}
			}
			pp.mtls, pp.mtlsMode = t.effectivePeerAuth(p)
			for _, np := range t.NetworkPolicies {
				if np.Namespace == p.Namespace && np.AffectsIngress() && np.PodSelector.Matches(p.Labels) {
					pp.netpols = append(pp.netpols, np)
				}
			}
		}
	}
	// Waypoint-attached (targetRefs) policies.
	for _, wp := range t.Waypoints {
		pi.waypoint[wp] = &waypointPols{by: wp.Instance(), svc: map[*Service]*[2]svcWPPolicies{}}
	}
	addBoth := func(set *[2]svcWPPolicies, c compiled) {
		appendByAction(&set[0].deny, &set[0].allow, &set[0].custom, c.full)
		appendByAction(&set[1].deny, &set[1].allow, &set[1].custom, c.tcp)
	}
	for i, ap := range t.AuthorizationPolicies {
		for _, ref := range ap.TargetRefs {
			ns := ref.Namespace
			if ns == "" {
				ns = ap.Namespace
			}
			c := comp[i]
			switch ref.Kind {
			case "Gateway":
				if wp := ix.waypoints[ns+"/"+ref.Name]; wp != nil {
					addBoth(&pi.waypoint[wp].gw, c)
				}
			case "GatewayClass":
				if ap.Namespace == root && ref.Name == waypointClass {
					for _, wp := range t.Waypoints {
						addBoth(&pi.waypoint[wp].gw, c)
					}
				}
			case "Service", "ServiceEntry":
				s := ix.services[ns+"/"+ref.Name]
				if ref.Kind == "ServiceEntry" {
					s = nil
					if se := t.ServiceEntry(ns, ref.Name); se != nil {
						s = se.AsService()
					}
				}
				if s == nil || s.Waypoint == nil {
					continue
				}
				w := pi.waypoint[s.Waypoint]
				sp := w.svc[s]
				if sp == nil {
					sp = &[2]svcWPPolicies{}
					w.svc[s] = sp
				}
				addBoth(sp, c)
			}
		}
	}
	return pi
}

func appendByAction(deny, allow, custom *[]*cPolicy, c *cPolicy) {
	switch c.action {
	case ActionDeny:
		*deny = append(*deny, c)
	case ActionAllow:
		*allow = append(*allow, c)
	case ActionCustom:
		*custom = append(*custom, c)
	}
}

// effectivePeerAuth returns the most specific PeerAuthentication for a pod
// (workload selector > namespace > mesh-wide) and its mode; UNSET inherits.
func (t *Topology) effectivePeerAuth(p *Pod) (*PeerAuthentication, string) {
	var wl, ns, mesh *PeerAuthentication
	for _, pa := range t.PeerAuthentications {
		switch {
		case pa.Namespace == p.Namespace && pa.Selector != nil && labelsMatch(pa.Selector, p.Labels):
			if wl == nil || pa.Name < wl.Name {
				wl = pa
			}
		case pa.Namespace == p.Namespace && pa.Selector == nil:
			if ns == nil || pa.Name < ns.Name {
				ns = pa
			}
		case pa.Namespace == t.RootNamespace && pa.Selector == nil:
			if mesh == nil || pa.Name < mesh.Name {
				mesh = pa
			}
		}
	}
	for _, pa := range []*PeerAuthentication{wl, ns, mesh} {
		if pa != nil && pa.Mode != "" && pa.Mode != MTLSUnset {
			return pa, pa.Mode
		}
	}
	if wl != nil && len(wl.PortModes) > 0 {
		return wl, MTLSPermissive
	}
	return nil, MTLSPermissive
}

// mtlsModeFor returns the effective mode for a pod and target port.
func (pp *podPolicies) mtlsModeFor(port int) (string, *PeerAuthentication) {
	if pp.mtls != nil {
		if m, ok := pp.mtls.PortModes[port]; ok && m != MTLSUnset {
			return m, pp.mtls
		}
	}
	return pp.mtlsMode, pp.mtls
}

// PeerAuthMode returns the effective PeerAuthentication mode (STRICT,
// PERMISSIVE or DISABLE) for a pod's target port, and the policy deciding it.
func (t *Topology) PeerAuthMode(p *Pod, port int) (string, *PeerAuthentication) {
	pi := t.index().pol
	if p.idx < 0 || p.idx >= len(pi.byPod) || t.Pods[p.idx] != p {
		return MTLSPermissive, nil
	}
	return pi.byPod[p.idx].mtlsModeFor(port)
}

// hboneport is where ztunnel (and HBONE-capable sidecars) receive mesh
// traffic; NetworkPolicies on ambient pods must admit it.
const hbonePort = 15008

// Evaluate decides whether a request from src (nil = a client outside the
// cluster) to the pod dst on dst's target port is allowed, in the order the
// proxies see it: the waypoint (when viaWaypoint is set: its targetRefs
// policies, full L7, with the client's identity), then the Kubernetes
// NetworkPolicy on the connection that reaches dst (the waypoint's or the
// client's; port 15008 for HBONE), then dst's own proxy: the destination
// ztunnel (ambient: selector and namespace policies converted to L4, STRICT
// PeerAuthentication as a deny of identity-less traffic) or the sidecar
// (sidecar: full L7). Within one proxy: any matching DENY denies; no ALLOW
// policies allows; else an ALLOW must match. The common case allocates
// nothing.
func (t *Topology) Evaluate(src *Pod, dst *Pod, viaWaypoint *Waypoint, port int, req Request) Decision {
	ix := t.index()
	if dst == nil {
		return Decision{Allow: false, Reason: "no destination endpoint"}
	}
	pi := ix.pol
	pr := t.peerOf(src)
	pr.port, pr.req, pr.dstIP = port, &req, dst.addr
	l3 := src // the pod whose connection reaches dst
	if viaWaypoint != nil {
		if d := t.evalWaypoint(pi, viaWaypoint, dst, &pr, &req); !d.Allow {
			return d
		}
		// The destination sees the waypoint's identity and address.
		if len(viaWaypoint.Pods) > 0 {
			wpod := viaWaypoint.Pods[0]
			l3 = wpod
			pr.ip = wpod.addr
			pr.principal = wpod.principal
		} else {
			pr.principal = principalOf(t.TrustDomain, viaWaypoint.Namespace, viaWaypoint.Name)
			pr.ip = netip.Addr{}
		}
		pr.ns, pr.sa, pr.hasID = viaWaypoint.Namespace, viaWaypoint.Name, true
	}
	return t.evalDestination(pi, &pr, l3, dst, port)
}

// peerOf is what a proxy knows about a connection from src (nil = outside
// the cluster): its address, and its identity when it has one (meshed
// pods and ingress gateways). Evaluate and the source classes of the path
// matrix (classes.go) both build peers here, so they see the same fields.
func (t *Topology) peerOf(src *Pod) peer {
	var pr peer
	if src == nil {
		return pr
	}
	pr.ip = src.addr
	if src.Mode != OutOfMesh || (src.Workload != nil && src.Workload.Ingress) {
		pr.principal, pr.ns, pr.sa, pr.hasID = src.principal, src.Namespace, src.ServiceAccount, true
		if pr.principal == "" {
			pr.principal = principalOf(t.TrustDomain, src.Namespace, src.ServiceAccount)
		}
	}
	return pr
}

// EvaluateEgress decides a request from src to a ServiceEntry host: the
// ServiceEntry's waypoint enforces its targetRefs policies (and its
// Gateway's) when the path goes through it; otherwise no proxy of the mesh
// checks egress and the request leaves.
func (t *Topology) EvaluateEgress(src *Pod, se *ServiceEntry, req Request) Decision {
	ix := t.index()
	p := t.EgressPath(src, se)
	if p.Waypoint == nil {
		return Decision{Allow: true, Reason: "no waypoint on the egress path: nothing in the mesh checks it"}
	}
	req.Service = se.AsService()
	pr := peer{req: &req}
	if src != nil {
		pr.ip, pr.principal, pr.ns, pr.sa, pr.hasID = src.addr, principalOf(t.TrustDomain, src.Namespace, src.ServiceAccount), src.Namespace, src.ServiceAccount, true
	}
	if len(se.Ports) > 0 {
		pr.port = se.Ports[0].Port
	}
	return t.evalWaypoint(ix.pol, p.Waypoint, nil, &pr, &req)
}

// EvaluateWaypoint decides what the waypoint via alone decides for a
// request from src (nil = outside the cluster) to req.Service on that
// Service's target port, with no destination endpoint: the policies that
// target the Service and the waypoint's Gateway, full L7, with the
// client's identity. It is the check a waypoint runs before it routes: in
// its HTTP filter chain the RBAC filter comes before the router filter
// (Istio's buildWaypointInboundHTTPFilters keeps the router last), so a
// request the route table answers itself (404, a redirect, a backend share
// that resolves to nothing) is still refused 403 when the policies refuse
// it. Evaluate runs the same check first when there is an endpoint. A nil
// req.Service leaves only the Gateway's policies; a nil via allows. With
// no endpoint there is no destination address: destination.ip conditions
// do not match.
func (t *Topology) EvaluateWaypoint(src *Pod, via *Waypoint, port int, req Request) Decision {
	if via == nil {
		return Decision{Allow: true, Reason: "no waypoint: nothing checks before routing"}
	}
	ix := t.index()
	pr := t.peerOf(src)
	pr.port, pr.req = port, &req
	return t.evalWaypoint(ix.pol, via, nil, &pr, &req)
}

// evalDestination runs the NetworkPolicy and the destination proxy's checks
// for a connection whose peer is pr (the client, or the waypoint) and whose
// L3 source is the pod l3 (nil = outside the cluster).
func (t *Topology) evalDestination(pi *policyIndex, pr *peer, l3, dst *Pod, port int) Decision {
	if dst.idx < 0 || dst.idx >= len(pi.byPod) || t.Pods[dst.idx] != dst {
		return Decision{Allow: false, Reason: "destination pod is not part of this topology"}
	}
	pp := &pi.byPod[dst.idx]
	// NetworkPolicy (enforced by the CNI, before any proxy).
	if len(pp.netpols) > 0 {
		npPort := port
		if pr.hasID && dst.Mode == Ambient {
			npPort = hbonePort
		}
		if np, ok := t.networkPolicyAllows(pp.netpols, l3, dst, npPort); !ok {
			return Decision{Allow: false, By: "networkpolicy", Layer: "L3", Policy: np,
				Reason: "no NetworkPolicy ingress rule admits the connection to port " + strconv.Itoa(npPort)}
		}
	}
	switch dst.Mode {
	case Ambient:
		by := pp.ztBy
		if !pr.hasID {
			if mode, pa := pp.mtlsModeFor(port); mode == MTLSStrict {
				return Decision{Allow: false, By: by, Layer: "L4", Policy: pa.ID(), Reason: "STRICT mTLS rejects plaintext"}
			}
		}
		l4 := *pr
		l4.req = nil // ztunnel sees no HTTP
		return decide(pp.ztDeny, pp.ztAllow, nil, &l4, by, "L4")
	case Sidecar:
		by := pp.scBy
		// An ingress gateway's listeners are built from its Gateway, not
		// from PeerAuthentication (which configures sidecar and ztunnel
		// inbound): clients outside the mesh reach it in plaintext.
		ingress := dst.Workload != nil && dst.Workload.Ingress
		if !pr.hasID && !ingress {
			if mode, pa := pp.mtlsModeFor(port); mode == MTLSStrict {
				return Decision{Allow: false, By: by, Layer: "L4", Policy: pa.ID(), Reason: "STRICT mTLS rejects plaintext"}
			}
		}
		return decide(pp.scDeny, pp.scAllow, pp.scCustom, pr, by, "L7")
	}
	return Decision{Allow: true, Reason: "destination is out of the mesh: no proxy enforces policy"}
}

func decide(deny, allow, custom []*cPolicy, pr *peer, by, layer string) Decision {
	for _, c := range deny {
		if c.matches(pr) {
			return Decision{Allow: false, By: by, Layer: layer, Policy: c.id, Reason: "matched DENY policy"}
		}
	}
	for _, c := range custom {
		if c.matches(pr) {
			// The external authorizer decides; the model assumes it allows.
			return Decision{Allow: true, By: by, Layer: layer, Policy: c.id, Reason: "CUSTOM policy delegates to an external authorizer (assumed to allow)"}
		}
	}
	if len(allow) == 0 {
		return Decision{Allow: true, By: by, Layer: layer, Reason: "no ALLOW policies"}
	}
	for _, c := range allow {
		if c.matches(pr) {
			return Decision{Allow: true, By: by, Layer: layer, Policy: c.id, Reason: "matched ALLOW policy"}
		}
	}
	return Decision{Allow: false, By: by, Layer: layer, Policy: allow[0].id, Reason: "no ALLOW policy matched"}
}

func (t *Topology) evalWaypoint(pi *policyIndex, wp *Waypoint, dst *Pod, pr *peer, req *Request) Decision {
	wpols := pi.waypoint[wp]
	if wpols == nil {
		return Decision{Allow: true, By: wp.Instance(), Layer: "L7", Reason: "no waypoint policies"}
	}
	by := wpols.by
	svc := req.Service
	var sp *[2]svcWPPolicies
	if svc != nil {
		sp = wpols.svc[svc]
	} else {
		for _, s := range t.ServicesOf(dst) {
			if p := wpols.svc[s]; p != nil {
				sp, svc = p, s
				break
			}
		}
	}
	// The waypoint's filter chain for the port: HTTP (or sniffed), or TCP,
	// where HTTP rules cannot match (listener_waypoint.go builds TCP
	// chains for TCP ports; the RBAC filter there is the TCP one).
	chain, layer := 0, "L7"
	if svc != nil && waypointPortIsTCP(svc, pr.port) {
		chain, layer = 1, "L4"
	}
	gw := &wpols.gw[chain]
	if sp == nil {
		return decide(gw.deny, gw.allow, gw.custom, pr, by, layer)
	}
	s := &sp[chain]
	if gw.empty() {
		return decide(s.deny, s.allow, s.custom, pr, by, layer)
	}
	deny := append(append([]*cPolicy(nil), gw.deny...), s.deny...)
	allow := append(append([]*cPolicy(nil), gw.allow...), s.allow...)
	custom := append(append([]*cPolicy(nil), gw.custom...), s.custom...)
	return decide(deny, allow, custom, pr, by, layer)
}

// waypointPortIsTCP reports whether the Service port that forwards to
// targetPort is a TCP-protocol port.
func waypointPortIsTCP(s *Service, targetPort int) bool {
	for _, p := range s.Ports {
		if p.TargetPort == targetPort || (p.TargetPort == 0 && p.Port == targetPort) {
			return p.IsTCP()
		}
	}
	return false
}

// networkPolicyAllows evaluates ingress NetworkPolicies isolating dst for a
// connection from the pod from (nil = outside the cluster) to port.
func (t *Topology) networkPolicyAllows(nps []*NetworkPolicy, from, dst *Pod, port int) (string, bool) {
	for _, np := range nps {
		for _, r := range np.Ingress {
			if !t.npPortMatch(r.Ports, dst, port) {
				continue
			}
			if len(r.Peers) == 0 {
				return np.ID(), true
			}
			for _, peer := range r.Peers {
				if t.npPeerMatch(np, peer, from) {
					return np.ID(), true
				}
			}
		}
	}
	return nps[0].ID(), false
}

func (t *Topology) npPortMatch(ports []NetworkPolicyPort, dst *Pod, port int) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Protocol != "" && p.Protocol != "TCP" {
			continue
		}
		switch {
		case p.Name != "":
			for _, s := range t.ServicesOf(dst) {
				for _, sp := range s.Ports {
					if sp.Name == p.Name && sp.TargetPort == port {
						return true
					}
				}
			}
		case p.Port == 0:
			return true
		case p.EndPort > 0:
			if port >= p.Port && port <= p.EndPort {
				return true
			}
		case p.Port == port:
			return true
		}
	}
	return false
}

func (t *Topology) npPeerMatch(np *NetworkPolicy, peer NetworkPolicyPeer, from *Pod) bool {
	if peer.IPBlock != nil {
		if from == nil || !from.addr.IsValid() {
			// Outside the cluster: any address; match only a catch-all block.
			pfx, err := netip.ParsePrefix(peer.IPBlock.CIDR)
			return err == nil && pfx.Bits() == 0
		}
		pfx, err := netip.ParsePrefix(peer.IPBlock.CIDR)
		if err != nil || !pfx.Contains(from.addr) {
			return false
		}
		for _, ex := range peer.IPBlock.Except {
			if e, err := netip.ParsePrefix(ex); err == nil && e.Contains(from.addr) {
				return false
			}
		}
		return true
	}
	if from == nil {
		return false
	}
	if peer.NamespaceSelector != nil {
		ns := t.Namespace(from.Namespace)
		var labels map[string]string
		if ns != nil {
			labels = ns.Labels
		}
		if !nsSelectorMatches(peer.NamespaceSelector, from.Namespace, labels) {
			return false
		}
	} else if from.Namespace != np.Namespace {
		return false
	}
	if peer.PodSelector != nil {
		return peer.PodSelector.Matches(from.Labels)
	}
	return true
}

// nsSelectorMatches also honours the kubernetes.io/metadata.name label the
// API server puts on every namespace.
func nsSelectorMatches(sel *LabelSelector, name string, labels map[string]string) bool {
	if v, ok := sel.MatchLabels["kubernetes.io/metadata.name"]; ok && len(sel.MatchLabels) == 1 && len(sel.MatchExpressions) == 0 {
		return v == name
	}
	if _, ok := labels["kubernetes.io/metadata.name"]; ok {
		return sel.Matches(labels)
	}
	with := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		with[k] = v
	}
	with["kubernetes.io/metadata.name"] = name
	return sel.Matches(with)
}

// sortPolicies orders policies by ID (for stable output).
func sortPolicies(ps []*AuthorizationPolicy) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].ID() < ps[j].ID() })
}
