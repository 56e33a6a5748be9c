package topology

import (
	"fmt"
	"sort"
	"strings"
)

// Finding codes. They are stable: scripts match on them (--fail-on).
const (
	CodePolicyUnenforced       = "POLICY_UNENFORCED"
	CodeL7RulesAtZtunnel       = "L7_RULES_AT_ZTUNNEL"
	CodeWaypointBypass         = "WAYPOINT_BYPASS"
	CodeWaypointIdentityDenied = "WAYPOINT_IDENTITY_DENIED"
	CodePlaintextAccepted      = "PLAINTEXT_ACCEPTED"
	CodeRouteWithoutWaypoint   = "ROUTE_WITHOUT_WAYPOINT"
	CodeSidecarOnlyResource    = "SIDECAR_ONLY_RESOURCE"
	CodeWaypointNotApplied     = "WAYPOINT_NOT_APPLIED"
	CodeNotEnrolled            = "NOT_ENROLLED"
)

// FindingCodes lists every finding code, in documentation order.
var FindingCodes = []string{
	CodePolicyUnenforced, CodeL7RulesAtZtunnel, CodeWaypointBypass, CodeWaypointIdentityDenied,
	CodePlaintextAccepted, CodeRouteWithoutWaypoint, CodeSidecarOnlyResource, CodeWaypointNotApplied, CodeNotEnrolled,
	CodeL7RulesOnTCP, CodeServiceAliasBypass, CodeExternalPlaintextDenied, CodeRouteNotAccepted, CodeJWTWithoutWaypoint,
	CodeEgressGatewayBypass,
}

// Severities.
const (
	SevHigh   = "high"
	SevMedium = "medium"
	SevLow    = "low"
)

// Finding is one audit result.
type Finding struct {
	Code        string
	Severity    string
	Policy      string // AuthorizationPolicy as ns/name; other objects as Kind/ns/name
	Source      string // ns/workload
	Destination string // ns/service (or ns/workload for workload findings)
	Message     string
	Proof       string // the concrete path that shows it
	Fix         string
}

// PathPair is one row of the path matrix.
type PathPair struct {
	Source      *Workload
	Destination *Service
	Port        int
	Path        Path
}

// PathReport is the path matrix, the audit findings and the status istiod
// would write on Gateways and routes.
type PathReport struct {
	Pairs    []PathPair
	Findings []Finding
	Status   []ObjectStatus // GatewayStatuses then RouteStatuses
}

// Sources returns the workloads that appear as request sources: everything
// but mesh infrastructure and workloads without pods.
func (t *Topology) Sources() []*Workload {
	return append([]*Workload(nil), t.sources()...)
}

// sources is Sources without the copy (do not modify the result).
func (t *Topology) sources() []*Workload { return t.index().sources }

// Paths returns the path matrix — the call-graph edges when the topology
// has any, else every source workload × every service port (except a
// workload's own services) — and the audit findings.
//
// It lists every row and every finding: for a large cluster use Matrix
// (classes, rows on demand with EachPair) and FindingGroups instead.
func (t *Topology) Paths() PathReport {
	pairs := t.Matrix().Pairs()
	fs := expandGroups(t.FindingGroups())
	t.sortFindings(fs)
	return PathReport{Pairs: pairs, Findings: fs, Status: append(t.GatewayStatuses(), t.RouteStatuses()...)}
}

// FindingGroups returns the findings of Paths grouped by source class: the
// same finding for several alike sources is one group (FindingGroup.Each
// lists them). Sorted as Paths sorts findings, by each group's first
// finding. Computed once.
func (t *Topology) FindingGroups() []FindingGroup {
	t.fgOnce.Do(func() {
		gs := append(t.auditGroups(), singleGroups(t.auditExternal())...)
		t.sortGroups(gs)
		t.fg = gs
	})
	return append([]FindingGroup(nil), t.fg...)
}

// ExternalClient is the source of path-matrix rows for clients outside the
// cluster (through LoadBalancer and NodePort Services): no pod, no proxy,
// no identity.
var ExternalClient = &Workload{Namespace: "external", Name: "client", Kind: "external", Mode: OutOfMesh}

// judge sets a row's verdict: a row is denied when a proxy on the path
// refuses the connection whatever the request says (a NetworkPolicy,
// ztunnel's L4 checks, STRICT mTLS, a waypoint's policy on a TCP port).
// Decisions that depend on HTTP attributes (L7) are per request, not per
// path, and leave the row admitted.
func (t *Topology) judge(pp *PathPair) {
	var src *Pod
	if pp.Source != ExternalClient {
		pods := t.PodsOf(pp.Source)
		if len(pods) == 0 {
			return
		}
		src = pods[0]
	}
	t.judgePath(src, &pp.Path, pp.Destination, pp.Port)
}

// judgePath sets the verdict of path p from src (nil = outside the
// cluster) to Service s on port.
func (t *Topology) judgePath(src *Pod, p *Path, s *Service, port int) {
	if p.Endpoint == nil {
		return
	}
	d := t.Evaluate(src, p.Endpoint, p.Waypoint, s.TargetPort(port),
		Request{Method: "GET", Path: "/", Service: s})
	if !d.Allow && d.Layer != "L7" {
		p.Denied = d.Reason
		p.DeniedBy = d.By
		if d.Policy != "" {
			p.DeniedBy += " (" + d.Policy + ")"
		}
	}
}

// isGatewayService reports whether s fronts an ingress gateway's pods (its
// entry point: reached from outside, not a mesh destination).
func (t *Topology) isGatewayService(s *Service) bool {
	eps := t.EndpointsOf(s)
	return len(eps) > 0 && eps[0].Workload != nil && eps[0].Workload.Ingress
}

// reaches reports whether source w sends to s at all: an ingress with
// known routes reaches only their backends.
func (t *Topology) reaches(w *Workload, s *Service) bool {
	if !w.Ingress {
		return true
	}
	c := t.Matrix().srcClass[w]
	if c == nil || !c.hasTgt {
		return true
	}
	for u := range c.targets {
		if u.Service == s {
			return true
		}
	}
	return false
}

func (t *Topology) selectsWorkload(s *Service, w *Workload) bool {
	if s.Namespace != w.Namespace || len(s.Selector) == 0 {
		return false
	}
	return labelsMatch(s.Selector, w.Labels)
}

// Placement is where one policy is enforced.
type Placement struct {
	Kind   string   // AuthorizationPolicy | PeerAuthentication | NetworkPolicy
	Policy string   // ns/name
	By     []string // enforcement points: "ztunnel (ambient pods of ns/svc)", "waypoint/ns/name", "sidecar (pods of ...)", "CNI"; empty = nowhere
	Note   string
}

// Placements lists every policy's enforcement points.
func (t *Topology) Placements() []Placement {
	t.index()
	var out []Placement
	for _, ap := range t.sortedPolicies() {
		pl := Placement{Kind: "AuthorizationPolicy", Policy: ap.ID()}
		if len(ap.TargetRefs) > 0 {
			for _, ref := range ap.TargetRefs {
				ns := refNS(ref.Namespace, ap.Namespace)
				switch ref.Kind {
				case "Service":
					if s := t.Service(ns, ref.Name); s != nil && s.Waypoint != nil {
						pl.By = appendUnique(pl.By, s.Waypoint.Instance())
					}
				case "Gateway":
					if wp := t.Waypoint(ns, ref.Name); wp != nil {
						pl.By = appendUnique(pl.By, wp.Instance())
					} else if g := t.Gateway(ns, ref.Name); g != nil {
						pl.By = appendUnique(pl.By, "gateway/"+g.ID())
					}
				case "GatewayClass":
					if ap.Namespace == t.RootNamespace && ref.Name == waypointClass {
						for _, wp := range t.Waypoints {
							pl.By = appendUnique(pl.By, wp.Instance())
						}
					}
				case "ServiceEntry":
					if se := t.ServiceEntry(ns, ref.Name); se != nil && se.Waypoint != nil {
						pl.By = appendUnique(pl.By, se.Waypoint.Instance())
					}
				}
			}
			if len(pl.By) == 0 {
				pl.Note = "no waypoint serves its targets: enforced nowhere"
			}
		} else {
			amb, sc := t.selectedPods(ap)
			if len(amb) > 0 {
				if ap.Action == ActionCustom || ap.Action == ActionAudit {
					pl.Note = "ztunnel does not support " + ap.Action + "; not enforced for ambient pods"
				} else {
					pl.By = append(pl.By, fmt.Sprintf("ztunnel (L4, %d ambient pods)", len(amb)))
				}
			}
			if len(sc) > 0 {
				pl.By = append(pl.By, fmt.Sprintf("sidecar (L7, %d pods)", len(sc)))
			}
			if len(amb)+len(sc) == 0 {
				pl.Note = "selects no meshed pod: enforced nowhere"
			}
		}
		out = append(out, pl)
	}
	out = append(out, t.requestAuthPlacements()...)
	for _, pa := range t.PeerAuthentications {
		out = append(out, Placement{Kind: "PeerAuthentication", Policy: pa.ID(), By: []string{"ztunnel / sidecar of the selected pods"}, Note: "mode " + pa.Mode})
	}
	for _, np := range t.NetworkPolicies {
		out = append(out, Placement{Kind: "NetworkPolicy", Policy: np.ID(), By: []string{"CNI (kernel) on the selected pods"}})
	}
	return out
}

func appendUnique(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}

func refNS(refNamespace, policyNamespace string) string {
	if refNamespace != "" {
		return refNamespace
	}
	return policyNamespace
}

func (t *Topology) sortedPolicies() []*AuthorizationPolicy {
	ps := append([]*AuthorizationPolicy(nil), t.AuthorizationPolicies...)
	sortPolicies(ps)
	return ps
}

// selectedPods returns the ambient and sidecar pods a selector or
// namespace-wide policy applies to.
func (t *Topology) selectedPods(ap *AuthorizationPolicy) (ambient, sidecar []*Pod) {
	for _, p := range t.Pods {
		if ap.Namespace != t.RootNamespace && p.Namespace != ap.Namespace {
			continue
		}
		if ap.Selector != nil && !labelsMatch(ap.Selector, p.Labels) {
			continue
		}
		switch p.Mode {
		case Ambient:
			ambient = append(ambient, p)
		case Sidecar:
			sidecar = append(sidecar, p)
		}
	}
	return ambient, sidecar
}

// servicesOfPods returns the services selecting any of pods, sorted.
func (t *Topology) servicesOfPods(pods []*Pod) []*Service {
	set := map[*Service]bool{}
	for _, p := range pods {
		for _, s := range t.ServicesOf(p) {
			set[s] = true
		}
	}
	out := make([]*Service, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

// proof renders a concrete path as evidence.
func proof(src *Workload, s *Service, port int, p Path) string {
	from := "outside the cluster"
	if src != nil {
		from = src.ID()
	}
	return fmt.Sprintf("%s -> %s:%d: %s (%s)", from, s.ID(), port, p.String(), p.Reason)
}

// firstCaller picks a representative source for s (an ambient one when
// ambientOnly): a call-graph caller if any, else the first source that is
// not behind s itself.
func (t *Topology) firstCaller(s *Service, ambientOnly bool) *Workload {
	ix := t.index()
	for _, c := range ix.callsTo[s] {
		if (!ambientOnly || isAmbient(c.From)) && len(t.PodsOf(c.From)) > 0 {
			return c.From
		}
	}
	list := ix.sources
	if ambientOnly {
		list = ix.ambientSources // the same order, without the others
	}
	for _, w := range list {
		if !t.selectsWorkload(s, w) {
			return w
		}
	}
	return nil
}

func firstPort(s *Service) int {
	if len(s.Ports) > 0 {
		return s.Ports[0].Port
	}
	return 0
}

// Audit checks policy placement and enrolment and returns the findings,
// sorted by code, policy, destination and source.
func (t *Topology) Audit() []Finding {
	fs := expandGroups(t.auditGroups())
	t.sortFindings(fs)
	return fs
}

// auditGroups runs every check; findings about many alike sources come as
// one group per source class.
func (t *Topology) auditGroups() []FindingGroup {
	t.index()
	var gs []FindingGroup
	gs = append(gs, t.auditAuthorizationPolicies()...)
	gs = append(gs, singleGroups(t.auditIdentity())...)
	gs = append(gs, singleGroups(t.auditPlaintext())...)
	gs = append(gs, singleGroups(t.auditRoutes())...)
	gs = append(gs, singleGroups(t.auditSidecarResources())...)
	gs = append(gs, singleGroups(t.auditWaypointIssues())...)
	gs = append(gs, t.auditEnrolment()...)
	gs = append(gs, singleGroups(t.l7OnTCP())...)
	gs = append(gs, singleGroups(t.auditRouteStatus())...)
	gs = append(gs, singleGroups(t.auditJWT())...)
	gs = append(gs, t.auditEgressGateway()...)
	return gs
}

// sortFindings orders findings by code (documentation order), policy,
// destination and source.
func (t *Topology) sortFindings(fs []Finding) {
	order := findingOrder()
	sort.SliceStable(fs, func(i, j int) bool { return findingLess(order, &fs[i], &fs[j]) })
}

func isAmbient(w *Workload) bool { return w.Mode == Ambient && !w.Ingress }

func (t *Topology) waypointHint(ns string) string {
	for _, wp := range t.Waypoints {
		if wp.Namespace == ns && wp.ServesServices() {
			return wp.Name
		}
	}
	return ""
}

func (t *Topology) bindFix(s *Service) string {
	if wp := t.waypointHint(s.Namespace); wp != "" {
		return fmt.Sprintf("bind the Service to a waypoint: kubectl label service -n %s %s istio.io/use-waypoint=%s", s.Namespace, s.Name, wp)
	}
	return fmt.Sprintf("deploy a waypoint and bind the Service: istioctl waypoint apply -n %s && kubectl label service -n %s %s istio.io/use-waypoint=waypoint", s.Namespace, s.Namespace, s.Name)
}

func (t *Topology) auditAuthorizationPolicies() []FindingGroup {
	var fs []FindingGroup
	for _, ap := range t.sortedPolicies() {
		if len(ap.TargetRefs) > 0 {
			for _, ref := range ap.TargetRefs {
				ns := refNS(ref.Namespace, ap.Namespace)
				switch ref.Kind {
				case "Service":
					s := t.Service(ns, ref.Name)
					if s == nil {
						fs = append(fs, FindingGroup{Finding: Finding{Code: CodePolicyUnenforced, Severity: SevHigh, Policy: ap.ID(), Destination: ns + "/" + ref.Name,
							Message: fmt.Sprintf("AuthorizationPolicy %s targets Service %s/%s, which does not exist (TargetNotFound): nothing enforces it", ap.ID(), ns, ref.Name),
							Fix:     "fix spec.targetRefs to name an existing Service"}})
						continue
					}
					if s.Waypoint == nil {
						f := Finding{Code: CodePolicyUnenforced, Severity: SevHigh, Policy: ap.ID(), Destination: s.ID(),
							Message: fmt.Sprintf("AuthorizationPolicy %s targets Service %s, which is not bound to a waypoint (AncestorNotBound): targetRefs policies are never sent to ztunnel, so nothing enforces it and traffic is allowed", ap.ID(), s.ID()),
							Fix:     t.bindFix(s)}
						if c := t.firstCaller(s, false); c != nil {
							f.Source = c.ID()
							f.Proof = proof(c, s, firstPort(s), t.PathFrom(t.PodsOf(c)[0], s, firstPort(s)))
						}
						fs = append(fs, FindingGroup{Finding: f})
						continue
					}
					fs = append(fs, t.bypassFindings(ap, s)...)
					fs = append(fs, singleGroups(t.serviceAliasBypass(ap, s))...)
				case "Gateway":
					g := t.Gateway(ns, ref.Name)
					if g == nil {
						fs = append(fs, FindingGroup{Finding: Finding{Code: CodePolicyUnenforced, Severity: SevHigh, Policy: ap.ID(), Destination: ns + "/" + ref.Name,
							Message: fmt.Sprintf("AuthorizationPolicy %s targets Gateway %s/%s, which does not exist: nothing enforces it", ap.ID(), ns, ref.Name),
							Fix:     fmt.Sprintf("create the waypoint (istioctl waypoint apply -n %s --name %s) or fix spec.targetRefs", ns, ref.Name)}})
						continue
					}
					wp := t.Waypoint(ns, ref.Name)
					if wp == nil {
						continue // an ingress Gateway enforces it
					}
					if len(wp.Serves) == 0 && len(wp.Workloads) == 0 {
						fs = append(fs, FindingGroup{Finding: Finding{Code: CodePolicyUnenforced, Severity: SevHigh, Policy: ap.ID(), Destination: wp.ID(),
							Message: fmt.Sprintf("AuthorizationPolicy %s targets waypoint %s, but no Service or workload uses that waypoint: nothing enforces it", ap.ID(), wp.ID()),
							Fix:     fmt.Sprintf("bind the Services to protect to the waypoint: kubectl label service -n %s <service> istio.io/use-waypoint=%s (or the namespace)", wp.Namespace, wp.Name)}})
						continue
					}
					for _, s := range wp.Serves {
						fs = append(fs, t.bypassFindings(ap, s)...)
					}
					fs = append(fs, t.workloadWaypointBypass(ap, wp)...)
				case "ServiceEntry":
					fs = append(fs, t.egressPolicyFindings(ap, ns, ref.Name)...)
				case "GatewayClass":
					if ap.Namespace != t.RootNamespace || ref.Name != waypointClass {
						fs = append(fs, FindingGroup{Finding: Finding{Code: CodePolicyUnenforced, Severity: SevHigh, Policy: ap.ID(),
							Message: fmt.Sprintf("AuthorizationPolicy %s targets GatewayClass %s outside the root namespace %s (or a class other than %s): it is invalid and enforced nowhere", ap.ID(), ref.Name, t.RootNamespace, waypointClass),
							Fix:     fmt.Sprintf("move the policy to %s and target GatewayClass %s, or target a Gateway/Service", t.RootNamespace, waypointClass)}})
					}
				}
			}
			continue
		}
		fs = append(fs, singleGroups(t.l7AtZtunnel(ap))...)
	}
	return fs
}

// l7AtZtunnel reports selector/namespace policies whose HTTP rules or
// action ztunnel cannot enforce.
func (t *Topology) l7AtZtunnel(ap *AuthorizationPolicy) []Finding {
	amb, _ := t.selectedPods(ap)
	if len(amb) == 0 {
		return nil
	}
	custom := ap.Action == ActionCustom || ap.Action == ActionAudit
	l7 := ap.L7Fields()
	if !custom && len(l7) == 0 {
		return nil
	}
	var msg, sev string
	switch {
	case custom:
		sev = SevHigh
		msg = fmt.Sprintf("ztunnel does not support the %s action: AuthorizationPolicy %s is not sent to ztunnel, so it has no effect on ambient pods", ap.Action, ap.ID())
	case ap.Action == ActionAllow:
		cp, _ := compilePolicy(ap, true)
		left := len(cp.rules)
		msg = fmt.Sprintf("ztunnel does not support HTTP attributes (found: %s): it drops the ALLOW rules that use them (%d of %d rules remain)", strings.Join(l7, ", "), left, len(ap.Rules))
		sev = SevMedium
		if left == 0 {
			sev = SevHigh
			msg += "; the policy now matches nothing, so ztunnel denies every request that no other ALLOW policy admits"
		}
	default: // DENY
		cp, _ := compilePolicy(ap, true)
		if len(cp.rules) == 0 {
			sev = SevHigh
			msg = fmt.Sprintf("ztunnel does not support HTTP attributes (found: %s): after removing them this DENY policy has no enforceable rules at ztunnel and no effect", strings.Join(l7, ", "))
		} else {
			sev = SevMedium
			msg = fmt.Sprintf("ztunnel does not support HTTP attributes (found: %s): it removes them and enforces the L4 remainder, which denies more than intended", strings.Join(l7, ", "))
		}
	}
	var fs []Finding
	for _, s := range t.servicesOfPods(amb) {
		f := Finding{Code: CodeL7RulesAtZtunnel, Severity: sev, Policy: ap.ID(), Destination: s.ID(), Message: msg}
		attach := "replace spec.selector with"
		if ap.Selector == nil {
			attach = "add"
		}
		if s.Waypoint != nil {
			f.Fix = fmt.Sprintf("enforce it at the waypoint %s: %s targetRefs: [{kind: Service, group: \"\", name: %s}]", s.Waypoint.ID(), attach, s.Name)
		} else {
			f.Fix = t.bindFix(s) + fmt.Sprintf(", then %s targetRefs: [{kind: Service, group: \"\", name: %s}]", attach, s.Name)
		}
		if c := t.firstCaller(s, false); c != nil {
			f.Source = c.ID()
			f.Proof = proof(c, s, firstPort(s), t.PathFrom(t.PodsOf(c)[0], s, firstPort(s)))
		}
		fs = append(fs, f)
	}
	return fs
}

// bypassFindings reports sources that reach s without its waypoint and are
// admitted at the destination, for a policy only the waypoint enforces:
// one group per source class (the path and the decision are the class's).
func (t *Topology) bypassFindings(ap *AuthorizationPolicy, s *Service) []FindingGroup {
	eps := t.EndpointsOf(s)
	if len(eps) == 0 {
		return nil
	}
	port := firstPort(s)
	var gs []FindingGroup
	for _, c := range t.Matrix().SourceClasses {
		if c.External {
			continue
		}
		p := t.PathFrom(c.repPod, s, port)
		if !p.Bypass || p.Endpoint == nil {
			continue
		}
		d := t.Evaluate(c.repPod, p.Endpoint, nil, s.TargetPort(port), Request{Service: s})
		if !d.Allow {
			continue
		}
		var members []*Workload
		for _, w := range c.Members {
			if !t.selectsWorkload(s, w) && t.reaches(w, s) {
				members = append(members, w)
			}
		}
		render := func(src *Workload) Finding {
			p := t.PathFrom(t.PodsOf(src)[0], s, port)
			f := Finding{Code: CodeWaypointBypass, Severity: SevHigh, Policy: ap.ID(), Source: src.ID(), Destination: s.ID(),
				Message: fmt.Sprintf("AuthorizationPolicy %s is enforced only by waypoint %s, but this source reaches %s without it and the destination admits it (%s)",
					ap.ID(), s.Waypoint.ID(), s.ID(), d.Reason),
				Proof: proof(src, s, port, p)}
			wpID := s.Waypoint.Identity(t.TrustDomain)
			switch {
			case src.Ingress:
				f.Fix = fmt.Sprintf("send ingress traffic through the waypoint: kubectl label service -n %s %s istio.io/ingress-use-waypoint=true", s.Namespace, s.Name)
			default:
				f.Fix = fmt.Sprintf("admit only the waypoint at the destination: a selector ALLOW policy on %s's pods with from.source.principals [%q]; plus STRICT PeerAuthentication (rejects plaintext) or a NetworkPolicy admitting port 15008 only from the waypoint",
					s.ID(), strings.TrimPrefix(wpID, "spiffe://"))
				if src.Mode == OutOfMesh {
					f.Fix += fmt.Sprintf("; or enrol %s in the mesh", src.ID())
				}
			}
			return f
		}
		gs = append(gs, classGroup(c, members, render)...)
	}
	return gs
}

// auditIdentity finds selector ALLOW policies at a waypoint-served
// destination that admit clients but not the waypoint, which is the
// identity the destination ztunnel sees.
func (t *Topology) auditIdentity() []Finding {
	var fs []Finding
	pi := t.index().pol
	for _, s := range t.Services {
		wp := s.Waypoint
		if wp == nil || len(wp.Pods) == 0 {
			continue
		}
		var ep *Pod
		for _, p := range t.EndpointsOf(s) {
			if p.Mode == Ambient {
				ep = p
				break
			}
		}
		if ep == nil {
			continue
		}
		port := s.TargetPort(firstPort(s))
		wpod := wp.Pods[0]
		pr := peer{principal: wpod.principal, ns: wp.Namespace, sa: wp.Name, hasID: true, ip: wpod.addr, dstIP: ep.addr, port: port}
		d := t.evalDestination(pi, &pr, wpod, ep, port)
		if d.Allow || d.Layer != "L4" || d.Reason != "no ALLOW policy matched" {
			continue
		}
		// Which ALLOW policy names client identities?
		var named *AuthorizationPolicy
		for _, c := range pi.byPod[ep.idx].ztAllow {
			if namesIdentities(c.p) {
				named = c.p
				break
			}
		}
		if named == nil {
			continue
		}
		f := Finding{Code: CodeWaypointIdentityDenied, Severity: SevHigh, Policy: named.ID(), Destination: s.ID(),
			Message: fmt.Sprintf("AuthorizationPolicy %s on the pods of %s admits client identities, but traffic through waypoint %s arrives with the waypoint's identity %s, which no ALLOW policy admits: the destination ztunnel denies every request through the waypoint",
				named.ID(), s.ID(), wp.ID(), wp.Identity(t.TrustDomain)),
			Fix: fmt.Sprintf("add the waypoint's principal %q to the policy's from.source.principals (client identities are checked at the waypoint with a targetRefs policy)", strings.TrimPrefix(wp.Identity(t.TrustDomain), "spiffe://"))}
		if c := t.firstCaller(s, true); c != nil {
			f.Source = c.ID()
			f.Proof = proof(c, s, firstPort(s), t.PathFrom(t.PodsOf(c)[0], s, firstPort(s)))
		}
		fs = append(fs, f)
	}
	return fs
}

func namesIdentities(ap *AuthorizationPolicy) bool {
	for _, r := range ap.Rules {
		for _, s := range r.From {
			if len(s.Principals) > 0 || len(s.Namespaces) > 0 || len(s.ServiceAccounts) > 0 {
				return true
			}
		}
	}
	return false
}

// auditPlaintext reports ambient destinations that an out-of-mesh workload
// of the topology reaches in plaintext.
func (t *Topology) auditPlaintext() []Finding {
	var plain []*Workload
	for _, w := range t.sources() {
		if w.Mode == OutOfMesh && !w.Ingress {
			plain = append(plain, w)
		}
	}
	if len(plain) == 0 {
		return nil
	}
	var fs []Finding
	for _, s := range t.Services {
		var ep *Pod
		for _, p := range t.EndpointsOf(s) {
			if p.Mode == Ambient {
				ep = p
				break
			}
		}
		if ep == nil {
			continue
		}
		port := s.TargetPort(firstPort(s))
		mode, pa := t.PeerAuthMode(ep, port)
		if mode == MTLSStrict {
			continue
		}
		m := t.Matrix()
		denied := make([]bool, len(m.SourceClasses)) // the decision is the class's
		for _, w := range plain {
			if t.selectsWorkload(s, w) || denied[m.srcClass[w].idx] {
				continue
			}
			src := t.PodsOf(w)[0]
			d := t.Evaluate(src, ep, nil, port, Request{Service: s})
			if !d.Allow {
				denied[m.srcClass[w].idx] = true
				continue
			}
			f := Finding{Code: CodePlaintextAccepted, Severity: SevMedium, Source: w.ID(), Destination: s.ID(),
				Message: fmt.Sprintf("ambient destination %s accepts plaintext (mTLS mode %s): out-of-mesh %s connects without identity, unencrypted, and no identity-based policy can tell it apart", s.ID(), mode, w.ID()),
				Proof:   proof(w, s, firstPort(s), t.PathFrom(src, s, firstPort(s))),
				Fix:     fmt.Sprintf("require mTLS: a PeerAuthentication with mtls.mode STRICT in namespace %s (or mesh-wide in %s)", s.Namespace, t.RootNamespace)}
			if pa != nil {
				f.Policy = "PeerAuthentication/" + pa.ID()
			}
			fs = append(fs, f)
			break
		}
	}
	return fs
}

func (t *Topology) auditRoutes() []Finding {
	var fs []Finding
	for _, r := range t.gatewayAPIRoutes() {
		for _, pr := range r.ParentRefs {
			if pr.Kind != "Service" {
				continue
			}
			ns := refNS(pr.Namespace, r.Namespace)
			s := t.Service(ns, pr.Name)
			id := r.Kind + "/" + r.ID()
			if s == nil {
				fs = append(fs, Finding{Code: CodeRouteWithoutWaypoint, Severity: SevMedium, Policy: id, Destination: ns + "/" + pr.Name,
					Message: fmt.Sprintf("%s is parented to Service %s/%s, which does not exist", id, ns, pr.Name),
					Fix:     "fix spec.parentRefs"})
				continue
			}
			if s.Waypoint != nil {
				continue
			}
			eps := t.EndpointsOf(s)
			if len(eps) > 0 && eps[0].Mode == Sidecar {
				continue // client sidecars apply mesh routes
			}
			f := Finding{Code: CodeRouteWithoutWaypoint, Severity: SevMedium, Policy: id, Destination: s.ID(),
				Message: fmt.Sprintf("%s is parented to Service %s, which no waypoint serves: in ambient only a waypoint applies mesh routes, so its matches, weights and filters are ignored", id, s.ID()),
				Fix:     t.bindFix(s)}
			if c := t.firstCaller(s, true); c != nil {
				f.Source = c.ID()
				f.Proof = proof(c, s, firstPort(s), t.PathFrom(t.PodsOf(c)[0], s, firstPort(s)))
			}
			fs = append(fs, f)
		}
	}
	return fs
}

// resolveHost maps a VirtualService/DestinationRule host to a Service.
func (t *Topology) resolveHost(host, ns string) *Service {
	h := strings.TrimSuffix(host, ".")
	h = strings.TrimSuffix(h, ".svc."+strings.TrimPrefix(t.clusterDomain(), "."))
	h = strings.TrimSuffix(h, ".svc")
	name, hns, ok := strings.Cut(h, ".")
	if !ok {
		hns = ns
	}
	return t.Service(hns, name)
}

func (t *Topology) clusterDomain() string { return "cluster.local" }

func (t *Topology) auditSidecarResources() []Finding {
	var fs []Finding
	res := append([]*SidecarResource(nil), t.SidecarResources...)
	sort.Slice(res, func(i, j int) bool {
		if res[i].Kind != res[j].Kind {
			return res[i].Kind < res[j].Kind
		}
		return res[i].ID() < res[j].ID()
	})
	for _, r := range res {
		id := r.Kind + "/" + r.ID()
		switch r.Kind {
		case "VirtualService", "DestinationRule":
			if r.Kind == "DestinationRule" && len(r.Subsets) == 0 {
				continue // traffic policy only: waypoints honour it
			}
			if r.Kind == "VirtualService" && len(r.Gateways) > 0 && !contains(r.Gateways, "mesh") {
				continue // bound to ingress gateways only
			}
			for _, h := range r.Hosts {
				s := t.resolveHost(h, r.Namespace)
				if s == nil {
					continue
				}
				eps := t.EndpointsOf(s)
				if len(eps) == 0 || eps[0].Mode != Ambient {
					continue
				}
				f := Finding{Code: CodeSidecarOnlyResource, Severity: SevMedium, Policy: id, Destination: s.ID()}
				what := "its routing rules"
				if r.Kind == "DestinationRule" {
					what = fmt.Sprintf("its subsets (%s)", strings.Join(r.Subsets, ", "))
				}
				if s.Waypoint != nil {
					// listener_waypoint.go getVirtualServiceForWaypoint /
					// getWaypointDestinationCluster: the waypoint applies the
					// VirtualService (alpha) and DestinationRule subsets.
					f.Severity = SevLow
					f.Message = fmt.Sprintf("%s applies to %s, an ambient Service served by waypoint %s: ambient clients have no sidecar, so only the waypoint applies %s (VirtualService at a waypoint is alpha; `ambientsim paths` route tables show what it does), and callers that bypass the waypoint never see them", id, s.ID(), s.Waypoint.ID(), what)
				} else {
					f.Message = fmt.Sprintf("%s applies to %s, an ambient Service without a waypoint: ambient clients have no sidecar, so %s are ignored", id, s.ID(), what)
				}
				f.Fix = fmt.Sprintf("replace it with a Gateway API HTTPRoute parented to Service %s (backendRefs to per-version Services instead of subsets), and bind the Service to a waypoint", s.ID())
				if c := t.firstCaller(s, true); c != nil {
					f.Source = c.ID()
					f.Proof = proof(c, s, firstPort(s), t.PathFrom(t.PodsOf(c)[0], s, firstPort(s)))
				}
				fs = append(fs, f)
			}
		case "EnvoyFilter":
			var hit []*Workload
			for _, w := range t.Workloads {
				if w.Mode != Ambient || w.System {
					continue
				}
				if r.Namespace != t.RootNamespace && w.Namespace != r.Namespace {
					continue
				}
				if r.HasSelector && !labelsMatch(r.Selector, w.Labels) {
					continue
				}
				hit = append(hit, w)
			}
			for _, w := range hit {
				fs = append(fs, Finding{Code: CodeSidecarOnlyResource, Severity: SevMedium, Policy: id, Destination: w.ID(),
					Message: fmt.Sprintf("%s selects ambient workload %s, which has no Envoy: the filter has no effect (ztunnel is not Envoy)", id, w.ID()),
					Fix:     "move the behaviour to a waypoint (EnvoyFilter with targetRefs to the waypoint Gateway, or Gateway API filters on an HTTPRoute)"})
			}
		}
	}
	return fs
}

func (t *Topology) auditWaypointIssues() []Finding {
	var fs []Finding
	for _, is := range t.WaypointIssues {
		kind, obj, _ := strings.Cut(is.Object, " ")
		f := Finding{Code: CodeWaypointNotApplied, Severity: SevHigh, Destination: obj,
			Message: fmt.Sprintf("%s sets istio.io/use-waypoint to %s, but %s: no waypoint is applied, traffic goes straight to the pods", is.Object, is.Target, is.Detail)}
		tns, tname, _ := strings.Cut(is.Target, "/")
		switch is.Reason {
		case "not-found":
			f.Fix = fmt.Sprintf("create the waypoint (istioctl waypoint apply -n %s --name %s) or correct the label", tns, tname)
		case "not-a-waypoint":
			f.Fix = fmt.Sprintf("point the label at a Gateway with gatewayClassName %s", waypointClass)
		case "attachment-denied":
			f.Fix = fmt.Sprintf("allow the namespace on waypoint %s: listeners: [{name: mesh, port: 15008, protocol: HBONE, allowedRoutes: {namespaces: {from: All}}}] (or from: Selector with a namespace selector)", is.Target)
		default:
			want := "service"
			if kind == "Pod" || kind == "Workload" {
				want = "workload"
			}
			f.Fix = fmt.Sprintf("set istio.io/waypoint-for=%s (or all) on Gateway %s, or use a waypoint for %s traffic", want, is.Target, want)
		}
		if kind == "Service" {
			sns, sname, _ := strings.Cut(obj, "/")
			if s := t.Service(sns, sname); s != nil {
				if c := t.firstCaller(s, true); c != nil {
					f.Source = c.ID()
					f.Proof = proof(c, s, firstPort(s), t.PathFrom(t.PodsOf(c)[0], s, firstPort(s)))
				}
			}
		}
		fs = append(fs, f)
	}
	return fs
}

func (t *Topology) auditEnrolment() []FindingGroup {
	meshed := map[string]int{}
	for _, w := range t.sources() {
		if w.Mode != OutOfMesh {
			meshed[w.Namespace]++
		}
	}
	render := func(w *Workload) Finding {
		ns := t.Namespace(w.Namespace)
		why := "it is not enrolled"
		switch {
		case w.Labels[lblDataplaneMode] == "none":
			why = "its pods are labelled istio.io/dataplane-mode=none"
		case w.Labels[lblInject] == "false" && ns != nil && ns.Mode == Sidecar:
			why = "its pods are labelled sidecar.istio.io/inject=false"
		case len(t.PodsOf(w)) > 0 && t.PodsOf(w)[0].Mode == OutOfMesh && ns != nil && ns.Mode != OutOfMesh:
			why = "its pods opt out (or use the host network)"
		}
		nsMode := "has meshed workloads"
		if ns != nil && ns.Mode != OutOfMesh {
			nsMode = "is enrolled in " + string(ns.Mode)
		}
		return Finding{Code: CodeNotEnrolled, Severity: SevMedium, Source: w.ID(),
			Message: fmt.Sprintf("workload %s is out of the mesh in namespace %s, which %s: %s, so its traffic is plaintext, carries no identity and bypasses waypoints", w.ID(), w.Namespace, nsMode, why),
			Fix:     fmt.Sprintf("enrol it: remove the opt-out label from %s's pod template (or restrict what it can reach with STRICT mTLS and NetworkPolicy)", w.ID())}
	}
	var gs []FindingGroup
	for _, c := range t.Matrix().SourceClasses {
		var members []*Workload
		for _, w := range c.Members {
			if w == ExternalClient || w.Mode != OutOfMesh || w.Ingress {
				continue
			}
			if ns := t.Namespace(w.Namespace); (ns == nil || ns.Mode == OutOfMesh) && meshed[w.Namespace] == 0 {
				continue
			}
			members = append(members, w)
		}
		gs = append(gs, classGroup(c, members, render)...)
	}
	return gs
}

// workloadWaypointBypass reports, for a waypoint used by workloads
// (waypoint-for workload/all), the Services in front of those workloads
// that the waypoint does not serve: service-addressed traffic never uses a
// workload waypoint, so its policies are skipped.
func (t *Topology) workloadWaypointBypass(ap *AuthorizationPolicy, wp *Waypoint) []FindingGroup {
	var gs []FindingGroup
	seen := map[*Service]bool{}
	for _, w := range wp.Workloads {
		for _, s := range t.ownServices(w) {
			if seen[s] || s.Waypoint == wp {
				continue
			}
			seen[s] = true
			port := firstPort(s)
			for _, c := range t.Matrix().SourceClasses {
				if c.External {
					continue
				}
				p := t.PathFrom(c.repPod, s, port)
				if p.Endpoint == nil || p.Waypoint == wp {
					continue
				}
				d := t.Evaluate(c.repPod, p.Endpoint, p.Waypoint, s.TargetPort(port), Request{Service: s})
				if !d.Allow {
					continue
				}
				var members []*Workload
				for _, src := range c.Members {
					if !t.selectsWorkload(s, src) {
						members = append(members, src)
					}
				}
				w, s := w, s
				gs = append(gs, classGroup(c, members, func(src *Workload) Finding {
					p := t.PathFrom(t.PodsOf(src)[0], s, port)
					return Finding{Code: CodeWaypointBypass, Severity: SevHigh, Policy: ap.ID(), Source: src.ID(), Destination: s.ID(),
						Message: fmt.Sprintf("AuthorizationPolicy %s is enforced only by workload waypoint %s (for pod-addressed traffic to %s), but requests addressed to Service %s never use a workload waypoint and the destination admits them (%s)",
							ap.ID(), wp.ID(), w.ID(), s.ID(), d.Reason),
						Proof: proof(src, s, port, p) + "; service-addressed traffic does not use a workload waypoint",
						Fix: fmt.Sprintf("bind the Service too: set istio.io/waypoint-for=all on Gateway %s and kubectl label service -n %s %s istio.io/use-waypoint=%s",
							wp.ID(), s.Namespace, s.Name, wp.Name)}
				})...)
			}
		}
	}
	return gs
}
