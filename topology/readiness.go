package topology

import (
	"fmt"
	"sort"
	"strings"
)

// Readiness check names, in checklist order: the ambient production
// checklist of the lesson, sixteen items. They are stable: reports and
// scripts match on them.
const (
	CheckEnrollment       = "Enrollment boundaries explicit"
	CheckOutOfMesh        = "Out-of-mesh inventory"
	CheckZtunnelHealth    = "ztunnel healthy on every node"
	CheckWaypointScope    = "Waypoint scope chosen for blast radius"
	CheckPlacement        = "L4/L7 placement documented"
	CheckL7Waypoint       = "Waypoint path guarantee tested"
	CheckTargetModel      = "Correct target model (targetRefs vs selector)"
	CheckRoutes           = "HTTPRoute status gated"
	CheckTelemetry        = "L4 vs L7 dashboards"
	CheckMTLS             = "mTLS identity validated"
	CheckCNI              = "CNI healthy after node upgrades"
	CheckBypass           = "Bypass blocked or accepted"
	CheckVSMigration      = "VirtualService migration validated"
	CheckRollback         = "Rollback to sidecar mode"
	CheckPerformance      = "Before/after performance measured"
	CheckWaypointFeatures = "Features that need a waypoint have one"
)

// ReadinessChecks lists the check names in checklist order.
var ReadinessChecks = []string{CheckEnrollment, CheckOutOfMesh, CheckZtunnelHealth, CheckWaypointScope, CheckPlacement,
	CheckL7Waypoint, CheckTargetModel, CheckRoutes, CheckTelemetry, CheckMTLS, CheckCNI, CheckBypass, CheckVSMigration,
	CheckRollback, CheckPerformance, CheckWaypointFeatures}

// ReadinessCheck is one item of the ambient rollout checklist: its name
// (one of the Check* constants), pass / fail / cannot-tell, the evidence
// lines that decided it, and the fix.
type ReadinessCheck struct {
	Name     string
	Status   string // StatusPass | StatusFail | StatusCannotTell
	Evidence []string
	// Fix says what to change (fail) or what input would decide the check
	// (cannot-tell); "" when it passes.
	Fix string
}

// Readiness statuses.
const (
	StatusPass       = "pass"
	StatusFail       = "fail"
	StatusCannotTell = "cannot-tell"
)

// AnnBypassAccepted on a Service (or its Namespace) records that traffic
// skipping its waypoint is an accepted risk; its value says why. The
// "Bypass blocked or accepted" check then lists it as accepted instead of
// failing.
const AnnBypassAccepted = "ambientsim.io/bypass-accepted"

// maxEvidenceLines caps the evidence lines per check; the rest are counted.
const maxEvidenceLines = 8

// ReadinessInputs are inputs beyond the manifests that decide some checks.
type ReadinessInputs struct {
	// Run is what a simulation run measured (summary.json of `ambientsim
	// run`, given to `paths --results`); nil when none is given.
	Run *RunEvidence
}

// RunEvidence is the part of a run's results the checklist reads.
type RunEvidence struct {
	Source   string  // where it came from, e.g. results/summary.json
	Scenario string  // the scenario's name
	SLOP99Ms float64 // the scenario's p99 objective, 0 when it sets none
	Modes    []ModeEvidence
}

// ModeEvidence is one dataplane mode of a run.
type ModeEvidence struct {
	Mode           string // sidecar | ambient | ambient+waypoint | out-of-mesh | as-manifests
	Requests       int64  // finished requests (succeeded + failed)
	Failed         int64
	P50Ms, P99Ms   float64
	ProxyCPUCores  float64 // the mesh's own proxies, cluster total
	ProxyMemoryGiB float64
	// Bypassed counts calls that succeeded on a path skipping the
	// waypoint serving their destination.
	Bypassed int64
}

// Readiness evaluates the checklist on t with the given findings (the
// pairwise list of t.Paths().Findings) and no inputs beyond the topology.
// It groups the findings by source class and calls ReadinessOf.
func Readiness(t *Topology, findings []Finding) []ReadinessCheck {
	return ReadinessOf(t, t.groupFindings(findings), ReadinessInputs{})
}

// ReadinessOf evaluates the ambient production checklist — the sixteen
// items of the lesson — on t, its grouped findings (t.FindingGroups()) and
// the optional inputs. Each check is pass, fail or cannot-tell (the inputs
// do not decide it: then its Fix names the input that would), with up to
// eight evidence lines and the fix. The path matrix is read through its
// classes, so the cost follows the classes, not the rows. Deterministic:
// the same inputs give the same checks in the same order.
//
// What decides each item (ambient-internals.md §3–5 and the Istio ambient
// docs):
//
//   - Enrollment boundaries explicit: every workload has the mode its
//     namespace's labels give it (no per-pod opt-ins or opt-outs).
//   - Out-of-mesh inventory: the workloads outside the mesh, and whether
//     any reaches meshed services in plaintext, bypasses a waypoint, or is
//     refused once STRICT mTLS applies (call graph).
//   - ztunnel healthy on every node: the ztunnel DaemonSet's status and its
//     exported pods cover every node that runs ambient pods (cannot tell
//     from manifests without status).
//   - Waypoint scope chosen for blast radius: what each waypoint serves, its
//     replicas and their spread over nodes; a single replica in front of
//     Services is a single point of failure.
//   - L4/L7 placement documented: every policy has an enforcement point
//     and L7 rules sit at a waypoint or sidecar, not at ztunnel.
//   - Waypoint path guarantee tested: every policy only a waypoint
//     enforces has the waypoint on every path of the matrix (and, with a
//     run, no call skipped it).
//   - Correct target model: waypoint policies use targetRefs on a bound
//     target; destination policies admit the waypoint's identity; JWT rules
//     sit at an Envoy.
//   - HTTPRoute status gated: every route is Accepted with resolved refs
//     and has a proxy that applies it.
//   - L4 vs L7 dashboards: which Istio metrics each path produces, and
//     services whose request metrics miss some callers.
//   - mTLS identity validated: the identities policies name exist in the
//     mesh's trust domain, and meshed destinations refuse plaintext where
//     plaintext clients exist.
//   - CNI healthy after node upgrades: the istio-cni DaemonSet is updated
//     and ready on every node, and no exported ambient pod lacks istio-cni's
//     redirection annotation (a pod that started before the CNI was ready
//     sends around ztunnel).
//   - Bypass blocked or accepted: each waypoint-served destination admits
//     only traffic through its waypoint, or carries the
//     ambientsim.io/bypass-accepted annotation.
//   - VirtualService migration validated: no mesh VirtualService or subset
//     DestinationRule still routes ambient Services.
//   - Rollback to sidecar mode: what would stop being enforced if the
//     ambient namespaces went back to sidecars.
//   - Before/after performance measured: a run's modes compared (needs
//     --results).
//   - Features that need a waypoint have one: L7 policies, routes, JWT,
//     VirtualServices and EnvoyFilters on ambient Services.
func ReadinessOf(t *Topology, groups []FindingGroup, in ReadinessInputs) []ReadinessCheck {
	t.index()
	r := &readiness{t: t, m: t.Matrix(), byCode: map[string][]*FindingGroup{}, in: in}
	for i := range groups {
		g := &groups[i]
		r.byCode[g.Code] = append(r.byCode[g.Code], g)
	}
	return []ReadinessCheck{
		r.enrollment(),
		r.outOfMesh(),
		r.ztunnelHealth(),
		r.waypointScope(),
		r.placement(),
		r.l7Waypoint(),
		r.targetModel(),
		r.routes(),
		r.telemetry(),
		r.mtlsIdentity(),
		r.cni(),
		r.bypass(),
		r.vsMigration(),
		r.rollback(),
		r.performance(),
		r.waypointFeatures(),
	}
}

type readiness struct {
	t      *Topology
	m      *Matrix
	byCode map[string][]*FindingGroup
	in     ReadinessInputs
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

func result(name, status string, ev *checkEvidence, fix string) ReadinessCheck {
	if status == StatusPass {
		fix = ""
	}
	return ReadinessCheck{Name: name, Status: status, Evidence: ev.list(), Fix: fix}
}

// findings returns the groups of the given codes, in input order.
func (r *readiness) findings(codes ...string) []*FindingGroup {
	var out []*FindingGroup
	for _, c := range codes {
		out = append(out, r.byCode[c]...)
	}
	return out
}

// citeFindings adds one evidence line per group: code, message and proof,
// and how many alike sources share it.
func citeFindings(ev *checkEvidence, gs []*FindingGroup) {
	for _, g := range gs {
		line := g.Code + ": " + g.Message
		if g.Proof != "" {
			line += " (path: " + g.Proof + ")"
		}
		if n := g.Count(); n > 1 {
			line += fmt.Sprintf(" [and %d more sources of class %s]", n-1, g.Class.ID)
		}
		ev.add("%s", line)
	}
}

// firstFix returns the fix of the first group, "" when none.
func firstFix(gs []*FindingGroup) string {
	if len(gs) == 0 {
		return ""
	}
	return gs[0].Fix
}

// appWorkloads are the non-system, non-gateway workloads with pods.
func (r *readiness) appWorkloads() []*Workload {
	var out []*Workload
	for _, w := range r.t.sources() {
		if !w.Ingress {
			out = append(out, w)
		}
	}
	return out
}

// ambientPods are the application pods in ambient mode.
func (r *readiness) ambientPods() []*Pod {
	var out []*Pod
	for _, p := range r.t.Pods {
		if p.Mode == Ambient && p.Workload != nil && !p.Workload.System && !p.Workload.Ingress {
			out = append(out, p)
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
		return result(CheckEnrollment, StatusCannotTell, ev, "give the workloads (Deployments, StatefulSets, DaemonSets or Pods) of the namespaces to enrol")
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
	var exceptions, unknown, lines []string
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
		return result(CheckEnrollment, StatusFail, ev, "enrol by namespace label (istio.io/dataplane-mode=ambient) and move workloads that must stay out into their own namespace")
	case len(unknown) > 0:
		ev.add("namespaces %s hold workloads but are not in the topology, so their labels are unknown", strings.Join(unknown, ", "))
		return result(CheckEnrollment, StatusCannotTell, ev, "add the Namespace objects (kubectl get ns -o yaml) so their enrolment labels are known")
	}
	for _, l := range lines {
		ev.add("%s", l)
	}
	return result(CheckEnrollment, StatusPass, ev, "")
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
		return result(CheckOutOfMesh, StatusPass, ev, "")
	}
	ev.add("out of the mesh (%d): %s", len(names), joinCapped(names, 10))
	var risky []*FindingGroup
	for _, g := range r.findings(CodePlaintextAccepted, CodeWaypointBypass, CodeNotEnrolled) {
		if oom[g.Source] {
			risky = append(risky, g)
		}
	}
	// Calls from outside the mesh that the destination will refuse: these
	// break at rollout (typically STRICT mTLS rejecting plaintext). The
	// call graph is linear in the input, so its rows are listed.
	var denied []string
	if r.m.CallGraph {
		r.m.EachPair(func(p PathPair) bool {
			if !oom[p.Source.ID()] || p.Path.Endpoint == nil || p.Path.Endpoint.Mode == OutOfMesh {
				return true
			}
			src := r.t.PodsOf(p.Source)[0]
			d := r.t.Evaluate(src, p.Path.Endpoint, p.Path.Waypoint, p.Destination.TargetPort(p.Port), Request{Service: p.Destination})
			if !d.Allow {
				denied = append(denied, fmt.Sprintf("%s calls %s, which denies it (%s by %s): this call fails once the policy applies", p.Source.ID(), p.Destination.ID(), d.Reason, noneIfEmpty(d.By)))
			}
			return true
		})
	}
	if len(risky) == 0 && len(denied) == 0 {
		ev.add("none of them reaches a meshed service in plaintext or around a waypoint, and no call of theirs is denied")
		return result(CheckOutOfMesh, StatusPass, ev, "")
	}
	citeFindings(ev, risky)
	for _, d := range denied {
		ev.add("%s", d)
	}
	fix := "enrol the callers (istio.io/dataplane-mode=ambient on their namespace), or keep them out deliberately: STRICT PeerAuthentication on the meshed namespaces and an explicit list of who may call in plaintext"
	return result(CheckOutOfMesh, StatusFail, ev, fix)
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
	bad := r.findings(CodeWaypointBypass, CodeServiceAliasBypass, CodePolicyUnenforced, CodeWaypointNotApplied)
	var runBypass []string
	if run := r.in.Run; run != nil {
		for _, md := range run.Modes {
			if md.Bypassed > 0 {
				runBypass = append(runBypass, fmt.Sprintf("run %s (%s, mode %s): %d calls succeeded on a path that skipped their destination's waypoint", run.Scenario, run.Source, md.Mode, md.Bypassed))
			}
		}
	}
	if len(bad) > 0 || len(runBypass) > 0 {
		citeFindings(ev, bad)
		for _, l := range runBypass {
			ev.add("%s", l)
		}
		fix := firstFix(bad)
		if fix == "" {
			fix = "find the callers that skip the waypoint (paths --expand, the BYPASS rows) and route them through it or admit only the waypoint at the destination"
		}
		return result(CheckL7Waypoint, StatusFail, ev, fix)
	}
	if len(pols) == 0 {
		ev.add("no AuthorizationPolicy needs a waypoint (no targetRefs, no HTTP fields on ambient pods)")
		return result(CheckL7Waypoint, StatusPass, ev, "")
	}
	ev.add("tested on every source and destination of the path matrix (%s rows in %d x %d classes)", count(r.m.Rows), len(r.m.SourceClasses), len(r.m.DestClasses))
	if run := r.in.Run; run != nil {
		ev.add("run %s (%s): no call skipped a waypoint", run.Scenario, run.Source)
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
			case "ServiceEntry":
				wps = append(wps, "ServiceEntry "+ns+"/"+ref.Name)
			}
		}
		if len(wps) == 0 {
			ev.add("%s uses HTTP fields on ambient pods without targetRefs (see %q)", ap.ID(), CheckTargetModel)
			continue
		}
		ev.add("%s is enforced at %s, and every caller in the path matrix goes through it (direct pod access: see %q)", ap.ID(), strings.Join(wps, ", "), CheckBypass)
	}
	return result(CheckL7Waypoint, StatusPass, ev, "")
}

// placement: every policy is enforced somewhere, at the layer it needs.
func (r *readiness) placement() ReadinessCheck {
	ev := &checkEvidence{}
	var nowhere []string
	for _, pl := range r.t.Placements() {
		if len(pl.By) == 0 {
			nowhere = append(nowhere, fmt.Sprintf("%s %s is enforced nowhere (%s)", pl.Kind, pl.Policy, noneIfEmpty(pl.Note)))
		}
	}
	bad := r.findings(CodeL7RulesAtZtunnel, CodeL7RulesOnTCP)
	if len(bad) > 0 || len(nowhere) > 0 {
		for _, n := range nowhere {
			ev.add("%s", n)
		}
		citeFindings(ev, bad)
		fix := firstFix(bad)
		if fix == "" {
			fix = "give each policy an enforcement point: targetRefs to a Service bound to a waypoint for L7 rules, a selector for L4 rules on meshed pods"
		}
		return result(CheckPlacement, StatusFail, ev, fix)
	}
	if len(r.t.AuthorizationPolicies)+len(r.t.PeerAuthentications)+len(r.t.NetworkPolicies)+len(r.t.RequestAuthentications) == 0 {
		ev.add("no policies: nothing to place (all traffic is allowed)")
		return result(CheckPlacement, StatusPass, ev, "")
	}
	var l4, target int
	for _, ap := range r.t.AuthorizationPolicies {
		if len(ap.TargetRefs) > 0 {
			target++
		} else {
			l4++
		}
	}
	ev.add("%d selector or namespace AuthorizationPolicies: L4 fields only where they reach ztunnel", l4)
	ev.add("%d targetRefs AuthorizationPolicies: at waypoints, with the client's identity and full L7", target)
	ev.add("%d PeerAuthentications, %d NetworkPolicies, %d RequestAuthentications: each has an enforcement point (the POLICIES section lists them)",
		len(r.t.PeerAuthentications), len(r.t.NetworkPolicies), len(r.t.RequestAuthentications))
	return result(CheckPlacement, StatusPass, ev, "")
}

// targetModel: waypoint policies attach with targetRefs to a bound target,
// destination policies admit the waypoint, JWT sits at an Envoy.
func (r *readiness) targetModel() ReadinessCheck {
	ev := &checkEvidence{}
	bad := r.findings(CodeWaypointIdentityDenied, CodeL7RulesAtZtunnel, CodeJWTWithoutWaypoint)
	for _, g := range r.findings(CodePolicyUnenforced) {
		if strings.Contains(g.Message, "AncestorNotBound") || strings.Contains(g.Message, "GatewayClass") || strings.Contains(g.Message, "no Service or workload uses") {
			bad = append(bad, g)
		}
	}
	if len(bad) > 0 {
		citeFindings(ev, bad)
		return result(CheckTargetModel, StatusFail, ev, firstFix(bad))
	}
	var targetRefs, selectors int
	for _, ap := range r.t.AuthorizationPolicies {
		if len(ap.TargetRefs) > 0 {
			targetRefs++
		} else {
			selectors++
		}
	}
	if targetRefs+selectors+len(r.t.RequestAuthentications) == 0 {
		ev.add("no AuthorizationPolicy or RequestAuthentication: no attachment to get wrong")
		return result(CheckTargetModel, StatusPass, ev, "")
	}
	ev.add("%d targetRefs policies, each on a Service, Gateway or ServiceEntry that a waypoint serves", targetRefs)
	ev.add("%d selector or namespace policies: L4 only on ambient pods, and none shuts out a waypoint's identity", selectors)
	if n := len(r.t.RequestAuthentications); n > 0 {
		ev.add("%d RequestAuthentications, each validated by a waypoint or sidecar", n)
	}
	return result(CheckTargetModel, StatusPass, ev, "")
}

func (r *readiness) routes() ReadinessCheck {
	ev := &checkEvidence{}
	bad := r.findings(CodeRouteNotAccepted, CodeRouteWithoutWaypoint)
	if len(bad) > 0 {
		citeFindings(ev, bad)
		return result(CheckRoutes, StatusFail, ev, firstFix(bad)+"; gate the rollout on the route's status: kubectl wait --for=jsonpath='{.status.parents[*].conditions[?(@.type==\"Accepted\")].status}'=True httproute/<name>")
	}
	routes := r.t.gatewayAPIRoutes()
	if len(routes) == 0 {
		ev.add("no HTTPRoute, GRPCRoute, TCPRoute or TLSRoute in the topology: no route status to gate on")
		return result(CheckRoutes, StatusPass, ev, "")
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].ID() < routes[j].ID() })
	for _, rt := range routes {
		for _, pr := range rt.ParentRefs {
			ns := refNS(pr.Namespace, rt.Namespace)
			switch s := r.t.Service(ns, pr.Name); {
			case pr.Kind != "Service":
				ev.add("%s/%s on %s %s/%s: Accepted, refs resolved (ingress routing)", rt.Kind, rt.ID(), noneIfEmpty(pr.Kind), ns, pr.Name)
			case s != nil && s.Waypoint != nil:
				ev.add("%s/%s on Service %s: Accepted, refs resolved, applied by waypoint %s", rt.Kind, rt.ID(), s.ID(), s.Waypoint.ID())
			case s != nil:
				ev.add("%s/%s on Service %s: Accepted, refs resolved, applied by its clients' sidecars", rt.Kind, rt.ID(), s.ID())
			}
		}
	}
	ev.add("status computed as istiod would write it (the STATUS section); gate the rollout on the live status (kubectl wait on Accepted=True)")
	return result(CheckRoutes, StatusPass, ev, "")
}

// classReaches says whether some member of class c has a row to unit ui
// (its own Service's rows are left out).
func (m *Matrix) classReaches(c *SourceClass, ui int) bool {
	if m.CallGraph {
		for _, r := range m.calls {
			if r.unit == ui && m.srcClass[r.src] == c {
				return true
			}
		}
		return false
	}
	if !m.allowed(c, m.units[ui]) {
		return false
	}
	for _, w := range c.Members {
		if !m.ownsUnit(w, ui) {
			return true
		}
	}
	return false
}

func (m *Matrix) ownsUnit(w *Workload, ui int) bool {
	own := m.own[w]
	i := sort.SearchInts(own, ui)
	return i < len(own) && own[i] == ui
}

// shapeAt is the shape of class c's rows to unit ui.
func (m *Matrix) shapeAt(c *SourceClass, ui int) *PathShape {
	return m.Shapes[m.shapeOf[c.idx][m.unitClass[ui]]]
}

// shapeTelemetry says which Istio metrics a path produces: HTTP request
// metrics need an L7 proxy (waypoint or sidecar) on the path; ztunnel
// reports TCP metrics only.
func shapeTelemetry(sh *PathShape) (http bool, reporters []string) {
	for _, h := range sh.Hops {
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
	m := r.m
	if m.Rows == 0 {
		ev.add("the topology has no request paths")
		return result(CheckTelemetry, StatusCannotTell, ev, "give workloads and Services (or a call graph) so the paths are known")
	}
	catReporters := map[Category]map[string]bool{}
	httpOf := make([]int8, len(m.Shapes)) // 0 unknown, 1 HTTP metrics, 2 TCP only
	type split struct{ http, tcp map[*SourceClass]bool }
	perSvc := map[*Service]*split{}
	var svcs []*Service
	for ui, u := range m.units {
		for _, c := range m.SourceClasses {
			if !m.classReaches(c, ui) {
				continue
			}
			sh := m.shapeAt(c, ui)
			if sh.Denied != "" {
				// A refused call produces no request to measure: it is a
				// policy outcome, not missing telemetry.
				continue
			}
			if httpOf[sh.idx] == 0 {
				http, reps := shapeTelemetry(sh)
				httpOf[sh.idx] = 2
				if http {
					httpOf[sh.idx] = 1
				}
				if catReporters[sh.Category] == nil {
					catReporters[sh.Category] = map[string]bool{}
				}
				for _, rep := range reps {
					catReporters[sh.Category][rep] = true
				}
			}
			http := httpOf[sh.idx] == 1
			sp := perSvc[u.Service]
			if sp == nil {
				sp = &split{http: map[*SourceClass]bool{}, tcp: map[*SourceClass]bool{}}
				perSvc[u.Service] = sp
				svcs = append(svcs, u.Service)
			}
			if http {
				sp.http[c] = true
			} else {
				sp.tcp[c] = true
			}
		}
	}
	// describe names the callers of s in the classes: the class's members
	// that call s (a workload does not call its own Service).
	describe := func(s *Service, set map[*SourceClass]bool) string {
		cs := make([]*SourceClass, 0, len(set))
		for c := range set {
			cs = append(cs, c)
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].idx < cs[j].idx })
		var parts []string
		for _, c := range cs {
			var callers []*Workload
			for _, w := range c.Members {
				if w == ExternalClient || !r.t.selectsWorkload(s, w) {
					callers = append(callers, w)
				}
			}
			switch {
			case len(callers) == 1:
				parts = append(parts, callers[0].ID())
			case len(callers) > 1:
				parts = append(parts, fmt.Sprintf("%s and %d more of class %s", callers[0].ID(), len(callers)-1, c.ID))
			}
		}
		return joinCapped(parts, 3)
	}
	var partial, l4only []string
	npartial := 0
	for _, s := range svcs {
		sp := perSvc[s]
		switch {
		case len(sp.http) > 0 && len(sp.tcp) > 0:
			if npartial++; npartial > maxEvidenceLines {
				partial = append(partial, "") // counted, not described
				continue
			}
			partial = append(partial, fmt.Sprintf("%s: istio_requests_total covers calls from %s but not from %s (TCP metrics only on those paths), so request-rate and error-rate SLOs undercount",
				s.ID(), describe(s, sp.http), describe(s, sp.tcp)))
		case len(sp.http) == 0:
			l4only = append(l4only, s.ID())
		}
	}
	cats := make([]string, 0, len(catReporters))
	for c := range catReporters {
		cats = append(cats, string(c))
	}
	sort.Strings(cats)
	for _, c := range cats {
		reps := sortedKeys(catReporters[Category(c)])
		if len(reps) == 0 {
			reps = []string{"none (no proxy on the path)"}
		}
		ev.add("%s paths: %s", c, strings.Join(reps, ", "))
	}
	if len(l4only) > 0 {
		ev.add("L4-only services (%d: TCP metrics, no HTTP status codes): %s", len(l4only), joinCapped(l4only, 8))
	}
	if len(partial) > 0 {
		for _, p := range partial {
			ev.add("%s", p)
		}
		return result(CheckTelemetry, StatusFail, ev, "build L7 dashboards and SLOs from waypoint metrics only where every caller passes the waypoint (bind the service, enrol the callers), and alert on istio_tcp_* for the L4 paths")
	}
	ev.add("every service gets the same kind of metrics from all its callers: dashboards split by reporter (ztunnel TCP, waypoint/sidecar HTTP) are complete")
	return result(CheckTelemetry, StatusPass, ev, "")
}

// mtlsIdentity: the identities policies name exist, in the mesh's trust
// domain; plaintext is refused where plaintext clients exist.
func (r *readiness) mtlsIdentity() ReadinessCheck {
	ev := &checkEvidence{}
	t := r.t
	sas := map[string]bool{} // ns/sa of every meshed or gateway pod and waypoint
	nss := map[string]bool{}
	for _, p := range t.Pods {
		sas[p.Namespace+"/"+p.ServiceAccount] = true
		nss[p.Namespace] = true
	}
	for _, wp := range t.Waypoints {
		sas[wp.Namespace+"/"+wp.Name] = true
		nss[wp.Namespace] = true
	}
	var bad []string
	for _, ap := range t.sortedPolicies() {
		for ri, rule := range ap.Rules {
			for fi, src := range rule.From {
				where := fmt.Sprintf("AuthorizationPolicy %s rules[%d].from[%d]", ap.ID(), ri, fi)
				for _, pr := range append(append([]string{}, src.Principals...), src.NotPrincipals...) {
					if why := t.principalProblem(pr, sas); why != "" {
						bad = append(bad, fmt.Sprintf("%s names principal %q, %s", where, pr, why))
					}
				}
				for _, sa := range append(append([]string{}, src.ServiceAccounts...), src.NotServiceAccounts...) {
					if q := qualifySA(sa, ap.Namespace); !sas[q] {
						bad = append(bad, fmt.Sprintf("%s names serviceAccount %q (%s), which no pod or waypoint of the topology uses: a typo or a stale account never matches", where, sa, q))
					}
				}
			}
		}
	}
	plain := r.findings(CodePlaintextAccepted, CodeExternalPlaintextDenied)
	var strict, permissive int
	for _, s := range t.Services {
		eps := t.EndpointsOf(s)
		if len(eps) == 0 || eps[0].Mode == OutOfMesh {
			continue
		}
		if mode, _ := t.PeerAuthMode(eps[0], s.TargetPort(firstPort(s))); mode == MTLSStrict {
			strict++
		} else {
			permissive++
		}
	}
	if len(bad) > 0 || len(r.findings(CodePlaintextAccepted)) > 0 {
		for _, b := range bad {
			ev.add("%s", b)
		}
		citeFindings(ev, r.findings(CodePlaintextAccepted))
		fix := "name identities as <trust domain>/ns/<namespace>/sa/<service account> of workloads that exist (trust domain " + t.TrustDomain + ")"
		if len(bad) == 0 {
			fix = firstFix(plain)
		}
		return result(CheckMTLS, StatusFail, ev, fix)
	}
	ev.add("every principal and service account the policies name belongs to a pod or waypoint of the topology, in trust domain %s", t.TrustDomain)
	ev.add("meshed Services requiring mTLS (STRICT): %d; PERMISSIVE: %d (no plaintext client of the topology reaches them)", strict, permissive)
	citeFindings(ev, r.findings(CodeExternalPlaintextDenied))
	return result(CheckMTLS, StatusPass, ev, "")
}

// principalProblem says why a principal in a policy can never match, or "".
func (t *Topology) principalProblem(pr string, sas map[string]bool) string {
	p := strings.TrimPrefix(pr, "spiffe://")
	if strings.Contains(p, "*") {
		return "" // a pattern: presence, prefix or suffix
	}
	td, rest, ok := strings.Cut(p, "/ns/")
	if !ok {
		return "which is not of the form <trust domain>/ns/<namespace>/sa/<service account>: it never matches a mesh identity"
	}
	ns, sa, ok := strings.Cut(rest, "/sa/")
	if !ok {
		return "which is not of the form <trust domain>/ns/<namespace>/sa/<service account>: it never matches a mesh identity"
	}
	if td != t.TrustDomain {
		return fmt.Sprintf("in trust domain %s, but the mesh's is %s: it never matches (unless trustDomainAliases maps it)", td, t.TrustDomain)
	}
	if !sas[ns+"/"+sa] {
		return fmt.Sprintf("which no pod or waypoint of the topology has (service account %s in namespace %s): a typo or a stale identity never matches", sa, ns)
	}
	return ""
}

// isZtunnel and isCNI recognise Istio's node agents.
func isZtunnel(w *Workload) bool {
	return w.Kind == KindDaemonSet && (w.Name == "ztunnel" || w.Labels["app"] == "ztunnel" || w.Labels["k8s-app"] == "ztunnel")
}

func isCNI(w *Workload) bool {
	return w.Kind == KindDaemonSet && (w.Name == "istio-cni-node" || w.Labels["k8s-app"] == "istio-cni-node" || w.Labels["app"] == "istio-cni-node")
}

// daemonCoverage checks a node agent DaemonSet against the nodes that run
// ambient pods: from its exported pods when there are some, else from its
// status. ok is false when the input cannot decide.
func (r *readiness) daemonCoverage(ev *checkEvidence, ds *Workload, needNodes map[string]int) (healthy, ok bool) {
	t := r.t
	var exported []*Pod
	for _, p := range t.PodsOf(ds) {
		if p.Exported {
			exported = append(exported, p)
		}
	}
	healthy = true
	if len(exported) > 0 {
		readyOn := map[string]bool{}
		for _, p := range exported {
			if p.Ready == "True" {
				readyOn[p.Node] = true
			} else {
				ev.add("%s pod %s on node %s is not Ready (Ready=%s)", ds.Name, p.ID(), p.Node, noneIfEmpty(p.Ready))
			}
		}
		for _, n := range sortedKeys(needNodes) {
			if !readyOn[n] {
				healthy = false
				ev.add("node %s runs %d ambient pods but has no Ready %s pod", n, needNodes[n], ds.Name)
			}
		}
		if healthy {
			ev.add("%s: a Ready pod on each of the %d nodes running ambient pods (%d pods exported)", ds.ID(), len(needNodes), len(exported))
		}
		return healthy, true
	}
	st := ds.Status
	if st == nil {
		ev.add("%s is in the input without status and without pods", ds.ID())
		return false, false
	}
	nodes := 0
	for _, n := range t.Nodes {
		if !n.Unschedulable {
			nodes++
		}
	}
	ev.add("%s status: desired %d, ready %d, available %d, updated %d (%d schedulable nodes)", ds.ID(), st.Desired, st.Ready, st.Available, st.Updated, nodes)
	if st.Ready < st.Desired {
		healthy = false
		ev.add("%d of %d %s pods are not ready", st.Desired-st.Ready, st.Desired, ds.Name)
	}
	if st.Updated < st.Desired {
		healthy = false
		ev.add("%d of %d %s pods still run the previous revision (updatedNumberScheduled %d)", st.Desired-st.Updated, st.Desired, ds.Name, st.Updated)
	}
	if !r.syntheticNodes() && st.Desired < nodes {
		healthy = false
		ev.add("the DaemonSet schedules on %d of %d schedulable nodes (taints or a nodeSelector keep it off the others)", st.Desired, nodes)
	}
	return healthy, true
}

// syntheticNodes reports whether the nodes were made up (no Node objects).
func (r *readiness) syntheticNodes() bool {
	for _, n := range r.t.Nodes {
		if n.KubeletVersion != "" || n.Ready != "" || n.Created != "" {
			return false
		}
	}
	return true
}

// nodesWithAmbientPods counts ambient application pods per node.
func (r *readiness) nodesWithAmbientPods() map[string]int {
	out := map[string]int{}
	for _, p := range r.ambientPods() {
		out[p.Node]++
	}
	return out
}

func (r *readiness) ztunnelHealth() ReadinessCheck {
	ev := &checkEvidence{}
	need := r.nodesWithAmbientPods()
	if len(need) == 0 {
		ev.add("no ambient application pods: ztunnel carries no traffic of the topology")
		return result(CheckZtunnelHealth, StatusPass, ev, "")
	}
	var zt *Workload
	for _, w := range r.t.Workloads {
		if isZtunnel(w) {
			zt = w
			break
		}
	}
	for _, n := range r.t.Nodes {
		if n.Ready != "" && n.Ready != "True" && need[n.Name] > 0 {
			ev.add("node %s is not Ready (Ready=%s) and runs %d ambient pods", n.Name, n.Ready, need[n.Name])
		}
	}
	if zt == nil {
		ev.add("%d nodes run ambient pods, but the input has no ztunnel DaemonSet", len(need))
		return result(CheckZtunnelHealth, StatusCannotTell, ev, "export the ztunnel DaemonSet and its pods with their status: kubectl get ds,pods -n "+r.t.RootNamespace+" -l app=ztunnel -o yaml (and the Nodes)")
	}
	healthy, ok := r.daemonCoverage(ev, zt, need)
	switch {
	case !ok:
		return result(CheckZtunnelHealth, StatusCannotTell, ev, "export the live DaemonSet and pods (kubectl get ds,pods -A -o yaml), not the manifests: their status says where ztunnel runs and is ready")
	case !healthy:
		return result(CheckZtunnelHealth, StatusFail, ev, fmt.Sprintf("fix ztunnel on the listed nodes before enrolling more workloads (kubectl -n %s describe ds %s; check taints and tolerations): a node without a ready ztunnel drops its ambient pods' traffic", zt.Namespace, zt.Name))
	}
	return result(CheckZtunnelHealth, StatusPass, ev, "")
}

func (r *readiness) cni() ReadinessCheck {
	ev := &checkEvidence{}
	t := r.t
	need := r.nodesWithAmbientPods()
	if len(need) == 0 {
		ev.add("no ambient application pods: istio-cni redirects nothing of the topology")
		return result(CheckCNI, StatusPass, ev, "")
	}
	versions := map[string][]string{}
	for _, n := range t.Nodes {
		if n.KubeletVersion != "" {
			versions[n.KubeletVersion] = append(versions[n.KubeletVersion], n.Name)
		}
	}
	if len(versions) > 1 {
		var parts []string
		for _, v := range sortedKeys(versions) {
			parts = append(parts, fmt.Sprintf("%s on %d nodes", v, len(versions[v])))
		}
		ev.add("nodes run different kubelet versions (%s): an upgrade is under way", strings.Join(parts, ", "))
	}
	// Exported ambient pods istio-cni has not captured: they started before
	// the CNI agent was ready on their node (typically a fresh or upgraded
	// node) and their traffic goes around ztunnel until they restart.
	var missed []string
	exportedAmbient := 0
	for _, p := range r.ambientPods() {
		if !p.Exported {
			continue
		}
		exportedAmbient++
		if !p.Redirected {
			missed = append(missed, fmt.Sprintf("%s on node %s", p.ID(), p.Node))
		}
	}
	var cni *Workload
	for _, w := range t.Workloads {
		if isCNI(w) {
			cni = w
			break
		}
	}
	healthy, decided := true, false
	if cni != nil {
		healthy, decided = r.daemonCoverage(ev, cni, need)
	} else {
		ev.add("the input has no istio-cni-node DaemonSet")
	}
	if exportedAmbient > 0 {
		decided = true
		if len(missed) > 0 {
			healthy = false
			ev.add("%d of %d exported ambient pods lack ambient.istio.io/redirection=enabled (istio-cni did not capture them; their traffic bypasses ztunnel): %s",
				len(missed), exportedAmbient, joinCapped(missed, 4))
		} else {
			ev.add("all %d exported ambient pods carry ambient.istio.io/redirection=enabled", exportedAmbient)
		}
	}
	switch {
	case !decided:
		return result(CheckCNI, StatusCannotTell, ev, "export the istio-cni-node DaemonSet and the pods with their status and annotations: kubectl get ds,pods -A -o yaml (plus kubectl get nodes -o yaml): their status shows whether every node, upgraded ones included, captures ambient pods")
	case !healthy:
		return result(CheckCNI, StatusFail, ev, "make istio-cni ready on every node before workloads schedule there (a startup taint removed once istio-cni-node is ready), then restart the uncaptured pods: kubectl rollout restart deployment -n <ns> <workload>")
	}
	return result(CheckCNI, StatusPass, ev, "")
}

// waypointScope reports each waypoint's reach and redundancy.
func (r *readiness) waypointScope() ReadinessCheck {
	ev := &checkEvidence{}
	t := r.t
	var used []*Waypoint
	for _, wp := range t.Waypoints {
		if len(wp.Serves) > 0 || len(wp.Workloads) > 0 {
			used = append(used, wp)
		}
	}
	if len(used) == 0 {
		ev.add("no waypoint serves anything: no waypoint blast radius to decide")
		return result(CheckWaypointScope, StatusPass, ev, "")
	}
	var weak, lines []string
	for _, wp := range used {
		nss := map[string]bool{}
		for _, s := range wp.Serves {
			nss[s.Namespace] = true
		}
		for _, w := range wp.Workloads {
			nss[w.Namespace] = true
		}
		nodes, zones := map[string]bool{}, map[string]bool{}
		for _, p := range wp.Pods {
			nodes[p.Node] = true
			if n := t.Node(p.Node); n != nil && n.Zone != "" {
				zones[n.Zone] = true
			}
		}
		replicas := max(wp.Replicas, len(wp.Pods))
		line := fmt.Sprintf("waypoint %s (scope %s, for %s): %d Services, %d workloads, %d namespaces; %d replicas on %d nodes in %d zones",
			wp.ID(), wp.Scope, wp.For, len(wp.Serves), len(wp.Workloads), len(nss), replicas, len(nodes), len(zones))
		switch {
		case replicas < 2:
			weak = append(weak, line+": a single replica is a single point of failure for all of them")
		case len(nodes) < 2:
			weak = append(weak, line+": all replicas on one node")
		default:
			lines = append(lines, line)
		}
		if len(nss) > 1 {
			lines = append(lines, fmt.Sprintf("waypoint %s is shared by %d namespaces: a failure or a bad policy there reaches all of them", wp.ID(), len(nss)))
		}
	}
	for _, l := range weak {
		ev.add("%s", l)
	}
	for _, l := range lines {
		ev.add("%s", l)
	}
	if len(weak) > 0 {
		return result(CheckWaypointScope, StatusFail, ev, "give every waypoint that serves traffic at least two replicas on different nodes (kubectl scale deployment -n <ns> <waypoint> --replicas=2, a PodDisruptionBudget, or an HPA), and prefer a waypoint per namespace or per service where one shared waypoint would put many teams behind one proxy")
	}
	return result(CheckWaypointScope, StatusPass, ev, "")
}

// bypass probes each waypoint-served Service: is a meshed caller that skips
// the waypoint, or a plaintext caller, admitted at the destination?
func (r *readiness) bypass() ReadinessCheck {
	ev := &checkEvidence{}
	t, m := r.t, r.m
	var served []*Service
	for _, s := range t.Services {
		// An ingress gateway's own Service is its entry point: its pods
		// are the gateway proxy, not a waypoint-protected workload.
		if s.Waypoint != nil && !t.isGatewayService(s) {
			served = append(served, s)
		}
	}
	if len(served) == 0 {
		ev.add("no Service is served by a waypoint: there is no waypoint to bypass")
		return result(CheckBypass, StatusPass, ev, "")
	}
	// Probes: a meshed workload that is not the waypoint, and a plaintext
	// client in the cluster, both outside every namespace of the topology so
	// no policy names them by accident.
	meshed := &Pod{Namespace: "readiness-probe", Name: "meshed", ServiceAccount: "probe", Mode: Sidecar, idx: -1}
	meshed.principal = principalOf(t.TrustDomain, meshed.Namespace, meshed.ServiceAccount)
	plain := &Pod{Namespace: "readiness-probe", Name: "plaintext", Mode: OutOfMesh, idx: -1}

	var open, accepted, unsure, closed []string
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
		var admitted []string
		admittedN := 0
		noPolicy := true
		try := func(who string, src *Pod) Decision {
			d := t.Evaluate(src, ep, nil, port, Request{Service: s})
			if d.Allow {
				admittedN++
				if len(admitted) < 3 {
					admitted = append(admitted, who+" ("+d.Reason+")")
				}
				noPolicy = noPolicy && d.Policy == ""
			}
			return d
		}
		// Real callers whose path skips the waypoint, one per source class
		// (the decision is the class's).
		for _, ui := range m.unitsOf[s] {
			for _, c := range m.SourceClasses {
				if !m.classReaches(c, ui) || !m.shapeAt(c, ui).Bypass {
					continue
				}
				who := c.Members[0].ID() + ", whose path skips the waypoint"
				if len(c.Members) > 1 {
					who = fmt.Sprintf("%s and %d more sources of class %s, whose paths skip the waypoint", c.Members[0].ID(), len(c.Members)-1, c.ID)
				}
				try(who, c.repPod)
			}
		}
		// Any meshed workload addressing the pods directly (pod IP) skips a
		// service waypoint; one admitted is enough to show the gap.
		tried := make([]bool, len(m.SourceClasses))
		for _, w := range t.sources() {
			c := m.srcClass[w]
			if w.Mode == OutOfMesh || t.selectsWorkload(s, w) || tried[c.idx] {
				continue
			}
			tried[c.idx] = true
			if try(w.ID()+" calling the pods by IP", t.PodsOf(w)[0]).Allow {
				break
			}
		}
		try("a meshed caller that skips the waypoint", meshed)
		try("a plaintext caller", plain)
		wpPrincipal := strings.TrimPrefix(s.Waypoint.Identity(t.TrustDomain), "spiffe://")
		list := strings.Join(admitted, ", ")
		if admittedN > len(admitted) {
			list += fmt.Sprintf(" and %d more", admittedN-len(admitted))
		}
		why := s.Annotations[AnnBypassAccepted]
		if why == "" {
			if ns := t.Namespace(s.Namespace); ns != nil {
				why = ns.Annotations[AnnBypassAccepted]
			}
		}
		switch {
		case admittedN == 0:
			closed = append(closed, fmt.Sprintf("%s admits only traffic through waypoint %s: meshed and plaintext callers that skip it are denied", s.ID(), s.Waypoint.ID()))
		case why != "":
			accepted = append(accepted, fmt.Sprintf("%s is reachable without waypoint %s (%s), accepted: %s", s.ID(), s.Waypoint.ID(), list, why))
		case noPolicy:
			// Admitted only because no ALLOW policy exists. istiod's
			// PILOT_AUTO_ALLOW_WAYPOINT_POLICY=true (default false, not
			// visible in manifests) would add one for the waypoint.
			open = append(open, fmt.Sprintf("%s is reachable without waypoint %s under istiod defaults: admitted are %s; fix: an ALLOW policy on its pods naming %q plus STRICT PeerAuthentication (or istiod with PILOT_AUTO_ALLOW_WAYPOINT_POLICY=true)",
				s.ID(), s.Waypoint.ID(), list, wpPrincipal))
		default:
			open = append(open, fmt.Sprintf("%s is reachable without waypoint %s: its policies admit %s; fix: admit only %q at the pods",
				s.ID(), s.Waypoint.ID(), list, wpPrincipal))
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
	for _, l := range accepted {
		ev.add("%s", l)
	}
	for _, l := range unsure {
		ev.add("%s", l)
	}
	for _, l := range closed {
		ev.add("%s", l)
	}
	fix := "block it: an ALLOW policy on the destination's pods admitting only the waypoint's principal, STRICT PeerAuthentication and a NetworkPolicy admitting port 15008 only from the waypoint; or accept it deliberately with the annotation " + AnnBypassAccepted + "=<why> on the Service"
	if status == StatusCannotTell {
		fix = "enrol the Service's pods in ambient (a waypoint-served Service with sidecar or out-of-mesh pods is checked by its own proxy)"
	}
	return result(CheckBypass, status, ev, fix)
}

// vsMigration: no VirtualService or subset DestinationRule still routes an
// ambient Service.
func (r *readiness) vsMigration() ReadinessCheck {
	ev := &checkEvidence{}
	t := r.t
	routed := map[*Service]string{} // Services with a Gateway API route
	for _, rt := range t.gatewayAPIRoutes() {
		for _, pr := range rt.ParentRefs {
			if pr.Kind == "Service" {
				if s := t.Service(refNS(pr.Namespace, rt.Namespace), pr.Name); s != nil {
					routed[s] = rt.Kind + "/" + rt.ID()
				}
			}
		}
	}
	var pending, sidecarOnly, ingress []string
	for _, res := range t.sortedSidecarResources() {
		id := res.Kind + "/" + res.ID()
		switch {
		case res.Kind == "VirtualService" && len(res.Gateways) > 0 && !contains(res.Gateways, "mesh"):
			ingress = append(ingress, id)
			continue
		case res.Kind == "DestinationRule" && len(res.Subsets) == 0, res.Kind == "EnvoyFilter":
			continue
		}
		for _, h := range res.Hosts {
			s := t.resolveHost(h, res.Namespace)
			if s == nil {
				continue
			}
			eps := t.EndpointsOf(s)
			if len(eps) == 0 || eps[0].Mode != Ambient {
				sidecarOnly = append(sidecarOnly, fmt.Sprintf("%s applies to %s (%s endpoints): its sidecar clients apply it; migrate it before enrolling the namespace in ambient", id, s.ID(), t.ServiceMode(s)))
				continue
			}
			what := "routes"
			if res.Kind == "DestinationRule" {
				what = "defines subsets (" + strings.Join(res.Subsets, ", ") + ") of"
			}
			switch hr, both := routed[s]; {
			case both:
				pending = append(pending, fmt.Sprintf("%s still %s ambient Service %s next to %s: the waypoint applies the Gateway API route first and the VirtualService after it; delete %s once the route is validated", id, what, s.ID(), hr, id))
			case s.Waypoint != nil:
				pending = append(pending, fmt.Sprintf("%s %s ambient Service %s, applied only by waypoint %s (VirtualService and subsets at a waypoint are alpha) and by no caller that skips it", id, what, s.ID(), s.Waypoint.ID()))
			default:
				pending = append(pending, fmt.Sprintf("%s %s ambient Service %s, which has no waypoint: its rules are ignored", id, what, s.ID()))
			}
		}
	}
	for _, l := range pending {
		ev.add("%s", l)
	}
	for _, l := range sidecarOnly {
		ev.add("%s", l)
	}
	if len(ingress) > 0 {
		ev.add("ingress-bound VirtualServices (applied by the ingress gateway, unaffected by ambient): %s", joinCapped(ingress, 5))
	}
	if len(pending) > 0 {
		return result(CheckVSMigration, StatusFail, ev, "convert each to an HTTPRoute parented to the Service (ambientsim migrate prints it; subsets become per-version Services), bind the Service to a waypoint, compare the route table, then delete the VirtualService and DestinationRule subsets")
	}
	if len(ev.lines) == 0 {
		ev.add("no VirtualService or subset DestinationRule routes mesh traffic: nothing to migrate")
	}
	return result(CheckVSMigration, StatusPass, ev, "")
}

func (t *Topology) sortedSidecarResources() []*SidecarResource {
	res := append([]*SidecarResource(nil), t.SidecarResources...)
	sort.SliceStable(res, func(i, j int) bool {
		if res[i].Kind != res[j].Kind {
			return res[i].Kind < res[j].Kind
		}
		return res[i].ID() < res[j].ID()
	})
	return res
}

// rollback: what stops being enforced if the ambient namespaces went back
// to sidecars (RollbackBreaks).
func (r *readiness) rollback() ReadinessCheck {
	ev := &checkEvidence{}
	if len(r.ambientPods()) == 0 {
		ev.add("no ambient workloads: nothing to roll back")
		return result(CheckRollback, StatusPass, ev, "")
	}
	breaks := r.t.RollbackBreaks()
	if len(breaks) == 0 {
		ev.add("every policy and route of the ambient workloads also works with sidecars: roll back by labelling the namespaces istio-injection=enabled, removing istio.io/dataplane-mode, and restarting the workloads")
		return result(CheckRollback, StatusPass, ev, "")
	}
	for _, b := range breaks {
		ev.add("%s: %s", b.Object, b.Why)
	}
	return result(CheckRollback, StatusFail, ev, "prepare the sidecar-mode equivalents before you need them (ambientsim migrate --to sidecar lists them): selector policies with the same rules for targetRefs ones, no ALLOW that admits only a waypoint, then rehearse the rollback in staging")
}

// performance compares the modes of a run (--results).
func (r *readiness) performance() ReadinessCheck {
	ev := &checkEvidence{}
	run := r.in.Run
	if run == nil {
		ev.add("no run results given: the manifests say nothing about latency or cost")
		return result(CheckPerformance, StatusCannotTell, ev, "simulate before and after: a scenario of this topology whose modes list sidecar and ambient (like the built-in modes-compare), ambientsim run <scenario> --out results, then ambientsim paths ... --results results")
	}
	var before, after *ModeEvidence
	for i := range run.Modes {
		md := &run.Modes[i]
		errRate := 0.0
		if md.Requests > 0 {
			errRate = 100 * float64(md.Failed) / float64(md.Requests)
		}
		ev.add("%s (%s) %s: p50 %.2f ms, p99 %.2f ms, %.2f%% failed of %d, proxies %.2f cores / %.2f GiB",
			run.Scenario, run.Source, md.Mode, md.P50Ms, md.P99Ms, errRate, md.Requests, md.ProxyCPUCores, md.ProxyMemoryGiB)
		switch {
		case md.Mode == "sidecar" || md.Mode == "out-of-mesh":
			if before == nil || md.Mode == "sidecar" {
				before = md
			}
		case strings.HasPrefix(md.Mode, "ambient") || md.Mode == "as-manifests":
			if after == nil {
				after = md
			}
		}
	}
	if before == nil || after == nil {
		return result(CheckPerformance, StatusCannotTell, ev, "the run needs a before mode (sidecar or out-of-mesh) and an after mode (ambient): list both in the scenario's modes and run it again")
	}
	var worse []string
	if run.SLOP99Ms > 0 && after.P99Ms > run.SLOP99Ms {
		worse = append(worse, fmt.Sprintf("%s p99 %.2f ms exceeds the scenario's objective of %.2f ms", after.Mode, after.P99Ms, run.SLOP99Ms))
	}
	rate := func(m *ModeEvidence) float64 {
		if m.Requests == 0 {
			return 0
		}
		return float64(m.Failed) / float64(m.Requests)
	}
	if rate(after) > rate(before)+0.001 {
		worse = append(worse, fmt.Sprintf("%s fails %.2f%% of requests, %s %.2f%%", after.Mode, 100*rate(after), before.Mode, 100*rate(before)))
	}
	ev.add("%s vs %s: p99 %+.2f ms, proxy CPU %+.2f cores, proxy memory %+.2f GiB", after.Mode, before.Mode,
		after.P99Ms-before.P99Ms, after.ProxyCPUCores-before.ProxyCPUCores, after.ProxyMemoryGiB-before.ProxyMemoryGiB)
	if len(worse) > 0 {
		for _, w := range worse {
			ev.add("%s", w)
		}
		return result(CheckPerformance, StatusFail, ev, "size the waypoints and ztunnels for the measured load (ambientsim sweep over replicas and cores), or keep the affected services in sidecar mode until it meets the objective")
	}
	return result(CheckPerformance, StatusPass, ev, "")
}

// waypointFeatures lists the features in use that only a waypoint (or a
// sidecar) provides, and those left without one.
func (r *readiness) waypointFeatures() ReadinessCheck {
	ev := &checkEvidence{}
	t := r.t
	bad := r.findings(CodeL7RulesAtZtunnel, CodeRouteWithoutWaypoint, CodeJWTWithoutWaypoint, CodePolicyUnenforced)
	for _, g := range r.findings(CodeSidecarOnlyResource) {
		if g.Severity != SevLow {
			bad = append(bad, g)
		}
	}
	var used []string
	if n := len(r.l7Policies()); n > 0 {
		used = append(used, fmt.Sprintf("%d L7 or targetRefs AuthorizationPolicies", n))
	}
	if rs := t.gatewayAPIRoutes(); len(rs) > 0 {
		used = append(used, fmt.Sprintf("%d Gateway API routes (matches, weights, retries, timeouts, mirrors, header changes)", len(rs)))
	}
	if n := len(t.RequestAuthentications); n > 0 {
		used = append(used, fmt.Sprintf("%d RequestAuthentications (JWT)", n))
	}
	var vs, ef int
	for _, res := range t.SidecarResources {
		switch res.Kind {
		case "VirtualService":
			vs++
		case "EnvoyFilter":
			ef++
		}
	}
	if vs > 0 {
		used = append(used, fmt.Sprintf("%d VirtualServices", vs))
	}
	if ef > 0 {
		used = append(used, fmt.Sprintf("%d EnvoyFilters", ef))
	}
	if len(bad) > 0 {
		citeFindings(ev, bad)
		if len(used) > 0 {
			ev.add("in use: %s", strings.Join(used, "; "))
		}
		return result(CheckWaypointFeatures, StatusFail, ev, firstFix(bad))
	}
	if len(used) == 0 {
		ev.add("no feature in use needs a waypoint: L4 (ztunnel) suffices; HTTP metrics, L7 policy, routing, retries and JWT would")
		return result(CheckWaypointFeatures, StatusPass, ev, "")
	}
	ev.add("in use, each with a waypoint (or sidecar) to apply it: %s", strings.Join(used, "; "))
	return result(CheckWaypointFeatures, StatusPass, ev, "")
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
