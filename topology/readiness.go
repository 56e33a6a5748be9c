package topology

import (
	"fmt"
	"sort"
	"strings"
)

// Readiness check names, in checklist order. They are stable: reports and
// scripts match on them.
const (
	CheckEnrollment = "Enrollment boundaries explicit"
	CheckOutOfMesh  = "Out-of-mesh inventory"
	CheckL7Waypoint = "Waypoint path for every L7 policy"
	CheckPlacement  = "L4/L7 placement and target model"
	CheckRoutes     = "Routes attached"
	CheckBypass     = "Bypass closed"
	CheckTelemetry  = "Telemetry split by dataplane mode"
)

// ReadinessCheck is one item of the ambient rollout checklist: its name
// (one of the Check* constants), pass / fail / cannot-tell, and the evidence
// lines that decided it.
type ReadinessCheck struct {
	Name     string
	Status   string // StatusPass | StatusFail | StatusCannotTell
	Evidence []string
}

// Readiness statuses.
const (
	StatusPass       = "pass"
	StatusFail       = "fail"
	StatusCannotTell = "cannot-tell"
)

// maxEvidenceLines caps the evidence lines per check; the rest are counted.
const maxEvidenceLines = 8

// Readiness evaluates the ambient production checklist on t. findings are
// the audit findings of the same topology (t.Paths().Findings),
// which several checks cite as evidence. Each check is pass, fail or
// cannot-tell (the manifests alone do not decide it, e.g. istiod flags), and
// every status comes with the evidence that decided it. The result is
// deterministic: same topology and findings, same checks in the same order.
//
// The checks, after the Istio ambient docs and ambient-internals.md §3–5:
//
//   - Enrollment boundaries explicit: every workload has the mode its
//     namespace's labels give it; no per-pod opt-ins or opt-outs.
//   - Out-of-mesh inventory: the workloads outside the mesh, and whether any
//     of them reaches meshed services in plaintext, bypasses a waypoint, or
//     will be denied once STRICT mTLS applies.
//   - Waypoint path for every L7 policy: every policy only a waypoint can
//     enforce (targetRefs, HTTP fields) has a waypoint on every path.
//   - L4/L7 placement and target model: no HTTP rules or unsupported
//     actions on selector policies at ztunnel; destination policies admit
//     the waypoint's identity, not the clients'.
//   - Routes attached: HTTPRoutes/GRPCRoutes parented to Services have a
//     waypoint to apply them; no sidecar-only VirtualService on ambient.
//   - Bypass closed: each waypoint-served destination admits only traffic
//     through its waypoint (a meshed caller without the waypoint and a
//     plaintext caller are both denied).
//   - Telemetry split by dataplane mode: which Istio metrics each path
//     category produces, and services whose request metrics are partial
//     because some callers reach them on L4-only paths.
func Readiness(t *Topology, findings []Finding) []ReadinessCheck {
	t.index()
	r := &readiness{t: t, byCode: map[string][]Finding{}}
	for _, f := range findings {
		r.byCode[f.Code] = append(r.byCode[f.Code], f)
	}
	r.pairs = t.Paths().Pairs
	return []ReadinessCheck{
		r.enrollment(),
		r.outOfMesh(),
		r.l7Waypoint(),
		r.placement(),
		r.routes(),
		r.bypass(),
		r.telemetry(),
	}
}

type readiness struct {
	t      *Topology
	byCode map[string][]Finding
	pairs  []PathPair
}

// checkEvidence collects evidence lines and caps them at maxEvidenceLines.
type checkEvidence struct {
	lines []string
	extra int
}

func (e *checkEvidence) add(format string, a ...any) {
	if len(e.lines) == maxEvidenceLines {
		e.extra++
		return
	}
	e.lines = append(e.lines, fmt.Sprintf(format, a...))
}

func (e *checkEvidence) list() []string {
	out := append([]string{}, e.lines...)
	if e.extra > 0 {
		out = append(out, fmt.Sprintf("… and %d more", e.extra))
	}
	return out
}

func readinessResult(name, status string, ev *checkEvidence) ReadinessCheck {
	return ReadinessCheck{Name: name, Status: status, Evidence: ev.list()}
}

// findings returns the findings of the given codes, in input order.
func (r *readiness) findings(codes ...string) []Finding {
	var out []Finding
	for _, c := range codes {
		out = append(out, r.byCode[c]...)
	}
	return out
}

// citeFindings adds one evidence line per finding: code, message and proof.
func citeFindings(ev *checkEvidence, fs []Finding) {
	for _, f := range fs {
		line := f.Code + ": " + f.Message
		if f.Proof != "" {
			line += " (path: " + f.Proof + ")"
		}
		ev.add("%s", line)
	}
}

// appWorkloads are the non-system, non-gateway workloads with pods.
func (r *readiness) appWorkloads() []*Workload {
	var out []*Workload
	for _, w := range r.t.Sources() {
		if !w.Ingress {
			out = append(out, w)
		}
	}
	return out
}

// enrollmentLabel names the namespace label that decides its mode, or "".
func enrollmentLabel(ns *Namespace) string {
	switch {
	case ns.Labels[lblInjection] != "":
		return lblInjection + "=" + ns.Labels[lblInjection]
	case ns.Labels[lblRev] != "":
		return lblRev + "=" + ns.Labels[lblRev]
	case ns.Labels[lblDataplaneMode] != "":
		return lblDataplaneMode + "=" + ns.Labels[lblDataplaneMode]
	}
	return ""
}

func (r *readiness) enrollment() ReadinessCheck {
	ev := &checkEvidence{}
	ws := r.appWorkloads()
	if len(ws) == 0 {
		ev.add("the topology has no application workloads with pods")
		return readinessResult(CheckEnrollment, StatusCannotTell, ev)
	}
	perNS := map[string][]*Workload{}
	var nss []string
	for _, w := range ws {
		if _, ok := perNS[w.Namespace]; !ok {
			nss = append(nss, w.Namespace)
		}
		perNS[w.Namespace] = append(perNS[w.Namespace], w)
	}
	sort.Strings(nss)
	var exceptions, unknown []string
	var lines []string
	for _, name := range nss {
		ns := r.t.Namespace(name)
		if ns == nil {
			unknown = append(unknown, name)
			continue
		}
		how := "no enrolment label"
		if l := enrollmentLabel(ns); l != "" {
			how = l
		}
		lines = append(lines, fmt.Sprintf("namespace %s: %s (%s), %d workloads", name, ns.Mode, how, len(perNS[name])))
		for _, w := range perNS[name] {
			if w.Mode != ns.Mode {
				exceptions = append(exceptions, fmt.Sprintf("%s is %s inside %s namespace %s: enrolment set per pod, not by the namespace", w.ID(), w.Mode, ns.Mode, name))
			}
		}
	}
	notEnrolled := r.findings(CodeNotEnrolled)
	switch {
	case len(exceptions) > 0 || len(notEnrolled) > 0:
		for _, e := range exceptions {
			ev.add("%s", e)
		}
		if len(exceptions) == 0 {
			citeFindings(ev, notEnrolled)
		}
		ev.add("fix: enrol by namespace label (istio.io/dataplane-mode=ambient) and move workloads that must stay out into their own namespace")
		return readinessResult(CheckEnrollment, StatusFail, ev)
	case len(unknown) > 0:
		ev.add("namespaces %s hold workloads but are not in the topology, so their labels are unknown", strings.Join(unknown, ", "))
		return readinessResult(CheckEnrollment, StatusCannotTell, ev)
	}
	for _, l := range lines {
		ev.add("%s", l)
	}
	return readinessResult(CheckEnrollment, StatusPass, ev)
}

func (r *readiness) outOfMesh() ReadinessCheck {
	ev := &checkEvidence{}
	oom := map[string]bool{}
	var names []string
	for _, w := range r.appWorkloads() {
		if w.Mode == OutOfMesh {
			oom[w.ID()] = true
			names = append(names, w.ID())
		}
	}
	if len(names) == 0 {
		ev.add("every application workload is in the mesh (ambient or sidecar)")
		return readinessResult(CheckOutOfMesh, StatusPass, ev)
	}
	ev.add("out of the mesh: %s", joinCapped(names, 10))
	var risky []Finding
	for _, f := range r.findings(CodePlaintextAccepted, CodeWaypointBypass, CodeNotEnrolled) {
		if oom[f.Source] {
			risky = append(risky, f)
		}
	}
	// Calls from outside the mesh that the destination will refuse: these
	// break at rollout (typically STRICT mTLS rejecting plaintext).
	var denied []string
	if len(r.t.Calls) > 0 {
		for _, p := range r.pairs {
			if !oom[p.Source.ID()] || p.Path.Endpoint == nil || p.Path.Endpoint.Mode == OutOfMesh {
				continue
			}
			src := r.t.PodsOf(p.Source)[0]
			d := r.t.Evaluate(src, p.Path.Endpoint, p.Path.Waypoint, p.Destination.TargetPort(p.Port), Request{Service: p.Destination})
			if !d.Allow {
				denied = append(denied, fmt.Sprintf("%s calls %s, which denies it (%s by %s): this call fails once the policy applies", p.Source.ID(), p.Destination.ID(), d.Reason, noneIfEmpty(d.By)))
			}
		}
	}
	if len(risky) == 0 && len(denied) == 0 {
		ev.add("none of them reaches a meshed service in plaintext or around a waypoint, and no call of theirs is denied")
		return readinessResult(CheckOutOfMesh, StatusPass, ev)
	}
	citeFindings(ev, risky)
	for _, d := range denied {
		ev.add("%s", d)
	}
	return readinessResult(CheckOutOfMesh, StatusFail, ev)
}

// l7Policies returns the AuthorizationPolicies only a waypoint can enforce:
// targetRefs attachments, and selector policies with HTTP fields on ambient
// pods.
func (r *readiness) l7Policies() []*AuthorizationPolicy {
	var out []*AuthorizationPolicy
	for _, ap := range r.t.sortedPolicies() {
		if len(ap.TargetRefs) > 0 {
			out = append(out, ap)
			continue
		}
		if amb, _ := r.t.selectedPods(ap); len(amb) > 0 && (ap.HasL7() || ap.Action == ActionCustom) {
			out = append(out, ap)
		}
	}
	return out
}

func (r *readiness) l7Waypoint() ReadinessCheck {
	ev := &checkEvidence{}
	pols := r.l7Policies()
	bad := r.findings(CodeWaypointBypass, CodePolicyUnenforced, CodeWaypointNotApplied)
	if len(bad) > 0 {
		citeFindings(ev, bad)
		return readinessResult(CheckL7Waypoint, StatusFail, ev)
	}
	if len(pols) == 0 {
		ev.add("no AuthorizationPolicy needs a waypoint (no targetRefs, no HTTP fields on ambient pods)")
		return readinessResult(CheckL7Waypoint, StatusPass, ev)
	}
	for _, ap := range pols {
		var wps []string
		for _, ref := range ap.TargetRefs {
			ns := refNS(ref.Namespace, ap.Namespace)
			switch ref.Kind {
			case "Service":
				if s := r.t.Service(ns, ref.Name); s != nil && s.Waypoint != nil {
					wps = append(wps, "Service "+s.ID()+" via "+s.Waypoint.Instance())
				}
			case "Gateway":
				wps = append(wps, "Gateway "+ns+"/"+ref.Name)
			}
		}
		if len(wps) == 0 {
			// A selector policy with HTTP fields: the placement check reports it.
			ev.add("%s uses HTTP fields on ambient pods without targetRefs (see %q)", ap.ID(), CheckPlacement)
			continue
		}
		ev.add("%s is enforced at %s, and every caller in the path matrix goes through it (direct pod access: see %q)", ap.ID(), strings.Join(wps, ", "), CheckBypass)
	}
	return readinessResult(CheckL7Waypoint, StatusPass, ev)
}

func (r *readiness) placement() ReadinessCheck {
	ev := &checkEvidence{}
	bad := r.findings(CodeL7RulesAtZtunnel, CodeWaypointIdentityDenied)
	if len(bad) > 0 {
		citeFindings(ev, bad)
		return readinessResult(CheckPlacement, StatusFail, ev)
	}
	if len(r.t.AuthorizationPolicies) == 0 {
		ev.add("no AuthorizationPolicies: nothing to place (all traffic is allowed)")
		return readinessResult(CheckPlacement, StatusPass, ev)
	}
	var l4, target int
	for _, ap := range r.t.AuthorizationPolicies {
		if len(ap.TargetRefs) > 0 {
			target++
		} else {
			l4++
		}
	}
	ev.add("%d selector or namespace policies: L4 fields only where they reach ztunnel", l4)
	ev.add("%d targetRefs policies: enforced by waypoints with the client's identity", target)
	ev.add("no destination policy shuts out a waypoint's identity")
	return readinessResult(CheckPlacement, StatusPass, ev)
}

func (r *readiness) routes() ReadinessCheck {
	ev := &checkEvidence{}
	var bad []Finding
	bad = append(bad, r.findings(CodeRouteWithoutWaypoint)...)
	for _, f := range r.findings(CodeSidecarOnlyResource) {
		if f.Severity != SevLow {
			bad = append(bad, f)
		}
	}
	if len(bad) > 0 {
		citeFindings(ev, bad)
		return readinessResult(CheckRoutes, StatusFail, ev)
	}
	routes := r.t.gatewayAPIRoutes()
	if len(routes) == 0 {
		ev.add("no HTTPRoute or GRPCRoute in the topology: no mesh routing to attach")
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].ID() < routes[j].ID() })
	for _, rt := range routes {
		for _, pr := range rt.ParentRefs {
			ns := refNS(pr.Namespace, rt.Namespace)
			switch s := r.t.Service(ns, pr.Name); {
			case pr.Kind != "Service":
				ev.add("%s/%s is parented to %s %s/%s (ingress routing)", rt.Kind, rt.ID(), noneIfEmpty(pr.Kind), ns, pr.Name)
			case s != nil && s.Waypoint != nil:
				ev.add("%s/%s is parented to Service %s, applied by waypoint %s", rt.Kind, rt.ID(), s.ID(), s.Waypoint.ID())
			case s != nil:
				ev.add("%s/%s is parented to Service %s, whose clients' sidecars apply it", rt.Kind, rt.ID(), s.ID())
			}
		}
	}
	for _, f := range r.findings(CodeSidecarOnlyResource) {
		ev.add("low: %s", f.Message)
	}
	return readinessResult(CheckRoutes, StatusPass, ev)
}

// bypass probes each waypoint-served Service: is a meshed caller that skips
// the waypoint, or a plaintext caller, admitted at the destination?
func (r *readiness) bypass() ReadinessCheck {
	ev := &checkEvidence{}
	t := r.t
	var served []*Service
	for _, s := range t.Services {
		if s.Waypoint != nil {
			served = append(served, s)
		}
	}
	if len(served) == 0 {
		ev.add("no Service is served by a waypoint: there is no waypoint to bypass")
		return readinessResult(CheckBypass, StatusPass, ev)
	}
	// Probes: a meshed workload that is not the waypoint, and a plaintext
	// client in the cluster, both outside every namespace of the topology so
	// no policy names them by accident.
	meshed := &Pod{Namespace: "readiness-probe", Name: "meshed", ServiceAccount: "probe", Mode: Sidecar, idx: -1}
	meshed.principal = principalOf(t.TrustDomain, meshed.Namespace, meshed.ServiceAccount)
	plain := &Pod{Namespace: "readiness-probe", Name: "plaintext", Mode: OutOfMesh, idx: -1}

	var open, unsure, closed []string
	for _, s := range served {
		var ep *Pod
		for _, p := range t.EndpointsOf(s) {
			if p.Mode == Ambient {
				ep = p
				break
			}
		}
		if ep == nil {
			unsure = append(unsure, fmt.Sprintf("%s has no ambient endpoint, so whether its pods admit only the waypoint cannot be checked", s.ID()))
			continue
		}
		port := s.TargetPort(firstPort(s))
		// Who gets in without the waypoint: real callers the path matrix
		// shows skipping it, then the two probes.
		var admitted []string
		noPolicy := true
		try := func(who string, src *Pod) bool {
			d := t.Evaluate(src, ep, nil, port, Request{Service: s})
			if d.Allow {
				admitted = append(admitted, who+" ("+d.Reason+")")
				noPolicy = noPolicy && d.Policy == ""
			}
			return d.Allow
		}
		for _, p := range r.pairs {
			if p.Destination == s && p.Path.Bypass && p.Path.Endpoint != nil {
				try(p.Source.ID()+", whose path skips the waypoint", t.PodsOf(p.Source)[0])
			}
		}
		// Any meshed workload addressing the pods directly (pod IP) skips a
		// service waypoint; one admitted is enough to show the gap.
		for _, w := range t.Sources() {
			if w.Mode == OutOfMesh || t.selectsWorkload(s, w) {
				continue
			}
			if try(w.ID()+" calling the pods by IP", t.PodsOf(w)[0]) {
				break
			}
		}
		try("a meshed caller that skips the waypoint", meshed)
		try("a plaintext caller", plain)
		wpPrincipal := strings.TrimPrefix(s.Waypoint.Identity(t.TrustDomain), "spiffe://")
		switch {
		case len(admitted) == 0:
			closed = append(closed, fmt.Sprintf("%s admits only traffic through waypoint %s: meshed and plaintext callers that skip it are denied", s.ID(), s.Waypoint.ID()))
		case noPolicy:
			// Admitted only because no ALLOW policy exists. istiod's
			// PILOT_AUTO_ALLOW_WAYPOINT_POLICY=true (default false, not
			// visible in manifests) would add one for the waypoint.
			open = append(open, fmt.Sprintf("%s is reachable without waypoint %s under istiod defaults: admitted are %s; fix: an ALLOW policy on its pods naming %q plus STRICT PeerAuthentication (or istiod with PILOT_AUTO_ALLOW_WAYPOINT_POLICY=true)",
				s.ID(), s.Waypoint.ID(), joinCapped(admitted, 3), wpPrincipal))
		default:
			open = append(open, fmt.Sprintf("%s is reachable without waypoint %s: its policies admit %s; fix: admit only %q at the pods",
				s.ID(), s.Waypoint.ID(), joinCapped(admitted, 3), wpPrincipal))
		}
	}
	status := StatusPass
	switch {
	case len(open) > 0:
		status = StatusFail
	case len(unsure) > 0:
		status = StatusCannotTell
	}
	for _, l := range open {
		ev.add("%s", l)
	}
	for _, l := range unsure {
		ev.add("%s", l)
	}
	for _, l := range closed {
		ev.add("%s", l)
	}
	return readinessResult(CheckBypass, status, ev)
}

// pathTelemetry says which Istio metrics a path produces: HTTP request
// metrics need an L7 proxy (waypoint or sidecar) on the path; ztunnel
// reports TCP metrics only.
func pathTelemetry(p Path) (http bool, reporters []string) {
	for _, h := range p.Hops {
		switch h.Kind {
		case HopWaypoint:
			http = true
			reporters = append(reporters, "waypoint (HTTP)")
		case HopSidecar, HopGateway:
			http = true
			reporters = append(reporters, "sidecar (HTTP)")
		case HopZtunnel:
			reporters = append(reporters, "ztunnel (TCP)")
		}
	}
	return http, reporters
}

func (r *readiness) telemetry() ReadinessCheck {
	ev := &checkEvidence{}
	if len(r.pairs) == 0 {
		ev.add("the topology has no request paths")
		return readinessResult(CheckTelemetry, StatusCannotTell, ev)
	}
	type split struct{ http, tcpOnly []string }
	perSvc := map[string]*split{}
	var svcs []string
	catReporters := map[Category]map[string]bool{}
	var cats []string
	for _, p := range r.pairs {
		if p.Path.Denied != "" {
			// A refused call produces no request to measure: it is a policy
			// outcome (see the out-of-mesh check), not missing telemetry.
			continue
		}
		http, reps := pathTelemetry(p.Path)
		c := p.Path.Category
		if catReporters[c] == nil {
			catReporters[c] = map[string]bool{}
			cats = append(cats, string(c))
		}
		for _, rep := range reps {
			catReporters[c][rep] = true
		}
		id := p.Destination.ID()
		sp := perSvc[id]
		if sp == nil {
			sp = &split{}
			perSvc[id] = sp
			svcs = append(svcs, id)
		}
		if http {
			sp.http = append(sp.http, p.Source.ID())
		} else {
			sp.tcpOnly = append(sp.tcpOnly, p.Source.ID())
		}
	}
	sort.Strings(cats)
	sort.Strings(svcs)
	var partial, l4only []string
	for _, id := range svcs {
		sp := perSvc[id]
		switch {
		case len(sp.http) > 0 && len(sp.tcpOnly) > 0:
			partial = append(partial, fmt.Sprintf("%s: istio_requests_total covers calls from %s but not from %s (TCP metrics only on those paths), so request-rate and error-rate SLOs undercount",
				id, joinCapped(sp.http, 3), joinCapped(sp.tcpOnly, 3)))
		case len(sp.http) == 0:
			l4only = append(l4only, id)
		}
	}
	for _, c := range cats {
		reps := make([]string, 0, len(catReporters[Category(c)]))
		for rep := range catReporters[Category(c)] {
			reps = append(reps, rep)
		}
		sort.Strings(reps)
		if len(reps) == 0 {
			reps = []string{"none (no proxy on the path)"}
		}
		ev.add("%s paths: %s", c, strings.Join(reps, ", "))
	}
	if len(l4only) > 0 {
		ev.add("L4-only services (TCP metrics, no HTTP status codes): %s", joinCapped(l4only, 8))
	}
	if len(partial) > 0 {
		for _, p := range partial {
			ev.add("%s", p)
		}
		return readinessResult(CheckTelemetry, StatusFail, ev)
	}
	ev.add("every service gets the same kind of metrics from all its callers")
	return readinessResult(CheckTelemetry, StatusPass, ev)
}

func joinCapped(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(" and %d more", len(s)-n)
}

func noneIfEmpty(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
