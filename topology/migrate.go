package topology

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Migration actions: what an object needs when its namespace changes
// dataplane mode.
const (
	MigrateMoves         = "moves 1:1"        // works the same in the target mode
	MigrateNeedsWaypoint = "needs a waypoint" // works in ambient only behind a waypoint
	MigrateRewrite       = "rewrite"          // a mechanical rewrite, generated below
	MigrateManual        = "manual"           // no mechanical equivalent: a person decides
	MigrateBreaks        = "breaks"           // stops working in the target mode
	MigrateDrop          = "drop"             // not needed in the target mode
)

// MigrateActions lists the actions in report order.
var MigrateActions = []string{MigrateRewrite, MigrateNeedsWaypoint, MigrateManual, MigrateBreaks, MigrateDrop, MigrateMoves}

// Migration is the plan to move a topology's namespaces between sidecar
// and ambient mode: one item per object (what happens to it and what to
// do), the steps to run in order, the generated manifests where the
// rewrite is mechanical, and the rollback steps that undo the plan.
type Migration struct {
	To         Mode
	Namespaces []string // the namespaces that change mode
	Items      []MigrationItem
	Steps      []MigrationStep // in the order to run them
	Rollback   []MigrationStep // undoes Steps, in the order to run them
	Manifests  []GeneratedManifest
}

// MigrationItem is one object's fate.
type MigrationItem struct {
	Action    string // Migrate*
	Object    string // Kind ns/name
	Why       string
	Do        string
	Generated []string // Kind ns/name of the generated manifests that replace or serve it
}

// MigrationStep is one command of the plan and the change it makes to the
// cluster's objects (Files applies the changes to the input manifests).
type MigrationStep struct {
	Command string // what to run (kubectl), with a comment when the timing matters
	Edit    ObjectEdit
}

// Edit operations.
const (
	EditApply   = "apply"   // apply the generated manifests of File
	EditLabel   = "label"   // set and remove labels of one object
	EditDelete  = "delete"  // delete one object
	EditRestart = "restart" // restart a namespace's workloads (its pods are replaced)
	EditRestore = "restore" // rollback: re-apply the deleted or replaced objects as they were (RollbackFile)
)

// ObjectEdit is what a step changes. Kind, Namespace and Name name the
// object (Namespace is the name for a Namespace; empty for apply and
// restore).
type ObjectEdit struct {
	Op                    string // Edit*
	Kind, Namespace, Name string
	File                  string            // apply: ManifestsFile or LockFile
	Set                   map[string]string // label: labels to set
	Remove                []string          // label: labels to remove
}

// The files the plan's commands name (`ambientsim migrate --out DIR`
// writes them).
const (
	ManifestsFile = "migration.yaml"      // applied first: nothing changes behaviour until the switch
	LockFile      = "migration-lock.yaml" // applied once every pod runs in the new mode
	RollbackFile  = "rollback.yaml"       // the objects the plan deletes or replaces, as they were
)

// GeneratedManifest is one object the migration writes.
type GeneratedManifest struct {
	Kind, Namespace, Name string
	For                   string // the item Object it serves
	File                  string // ManifestsFile or LockFile
	YAML                  string
}

// ID returns "Kind ns/name".
func (g GeneratedManifest) ID() string { return g.Kind + " " + g.Namespace + "/" + g.Name }

// Commands returns the plan's commands in order.
func (m *Migration) Commands() []string { return stepCommands(m.Steps) }

// RollbackCommands returns the rollback's commands in order.
func (m *Migration) RollbackCommands() []string { return stepCommands(m.Rollback) }

func stepCommands(steps []MigrationStep) []string {
	out := make([]string, len(steps))
	for i, st := range steps {
		out[i] = st.Command
	}
	return out
}

// ManifestsIn returns the generated manifests of one file.
func (m *Migration) ManifestsIn(file string) []GeneratedManifest {
	var out []GeneratedManifest
	for _, g := range m.Manifests {
		if g.File == file {
			out = append(out, g)
		}
	}
	return out
}

// Count returns how many items have the given action.
func (m *Migration) Count(action string) int {
	n := 0
	for _, it := range m.Items {
		if it.Action == action {
			n++
		}
	}
	return n
}

// Migrate plans moving the topology's namespaces to mode to: Ambient moves
// every sidecar-mode namespace (istio-injection=enabled or istio.io/rev),
// Sidecar moves every ambient namespace back (the rollback). Istio
// semantics of each decision are cited at
// the rules below; docs/migrate.md explains the output.
func (t *Topology) Migrate(to Mode) (*Migration, error) {
	t.index()
	mg := &migration{t: t, m: &Migration{To: to}, need: map[*Service][]string{}, generated: map[string]bool{}, usedSubsets: map[string]string{}}
	switch to {
	case Ambient:
		mg.toAmbient()
	case Sidecar:
		mg.toSidecar()
	default:
		return nil, fmt.Errorf("migrate: unknown target mode %q (want ambient or sidecar)", to)
	}
	mg.finishSteps()
	order := map[string]int{}
	for i, a := range MigrateActions {
		order[a] = i
	}
	sort.SliceStable(mg.m.Items, func(i, j int) bool {
		a, b := mg.m.Items[i], mg.m.Items[j]
		if a.Action != b.Action {
			return order[a.Action] < order[b.Action]
		}
		return a.Object < b.Object
	})
	return mg.m, nil
}

type migration struct {
	t         *Topology
	m         *Migration
	nss       map[string]bool       // namespaces that change mode
	need      map[*Service][]string // ambient: Services that need a waypoint, and why
	generated map[string]bool
	steps     []phasedStep
	// usedSubsets maps "ns/service/subset" to the per-version Service
	// the VirtualService conversion routes it to.
	usedSubsets map[string]string
}

func (mg *migration) item(action, object, why, do string, gen ...string) {
	var uniq []string
	for _, g := range gen {
		uniq = appendUnique(uniq, g)
	}
	mg.m.Items = append(mg.m.Items, MigrationItem{Action: action, Object: object, Why: why, Do: do, Generated: uniq})
}

// deleteAfter records that obj ("Kind ns/name") is replaced by generated
// manifests and goes once the namespaces have switched.
func (mg *migration) deleteAfter(kind, ns, name string) {
	phase, why := phaseCleanup, ""
	if kind == "AuthorizationPolicy" || kind == "RequestAuthentication" {
		// Left in place, ztunnel would apply it without its HTTP rules
		// (an ALLOW then denies everything; pilot/pkg/serviceregistry/
		// ambient/authorization.go convertAuthorizationPolicy) or see the
		// waypoint's identity: it goes right before the namespace
		// switches, and until the restart ends the old pods' sidecars no
		// longer enforce it (the plan's one window; docs/migrate.md).
		phase, why = phaseSwap, "   # right before the switch: ztunnel would drop its HTTP rules or see the waypoint's identity"
	}
	mg.step(phase, fmt.Sprintf("kubectl delete %s -n %s %s%s", strings.ToLower(kind), ns, name, why),
		ObjectEdit{Op: EditDelete, Kind: kind, Namespace: ns, Name: name})
}

// label records a label change of one object.
func (mg *migration) label(phase int, kind, ns, name string, set map[string]string, remove []string, comment string) {
	var args []string
	for _, k := range remove {
		args = append(args, k+"-")
	}
	for _, k := range sortedKeys(set) {
		args = append(args, k+"="+set[k])
	}
	where := "-n " + ns + " "
	if kind == "Namespace" {
		where = ""
	}
	c := fmt.Sprintf("kubectl label %s %s%s %s", strings.ToLower(kind), where, name, strings.Join(args, " "))
	if comment != "" {
		c += "   # " + comment
	}
	mg.step(phase, c, ObjectEdit{Op: EditLabel, Kind: kind, Namespace: ns, Name: name, Set: set, Remove: remove})
}

// restart records a restart of a namespace's workloads.
func (mg *migration) restart(phase int, ns, comment string) {
	mg.step(phase, fmt.Sprintf("kubectl rollout restart deployment,statefulset,daemonset -n %s   # %s", ns, comment),
		ObjectEdit{Op: EditRestart, Namespace: ns})
}

// manifest adds a generated manifest once (to ManifestsFile) and returns
// its ID.
func (mg *migration) manifest(kind, ns, name, forObj, yaml string) string {
	return mg.manifestIn(ManifestsFile, kind, ns, name, forObj, yaml)
}

func (mg *migration) manifestIn(file, kind, ns, name, forObj, yaml string) string {
	g := GeneratedManifest{Kind: kind, Namespace: ns, Name: name, For: forObj, File: file, YAML: yaml}
	if !mg.generated[g.ID()] {
		mg.generated[g.ID()] = true
		mg.m.Manifests = append(mg.m.Manifests, g)
	}
	return g.ID()
}

// Step phases, in the order a change should run: apply the generated
// manifests, bind Services to waypoints, delete the policies the generated
// ones replace, switch the namespaces and restart, delete what the new
// objects replaced, and lock the pods to their waypoint once every pod
// runs in the new mode.
const (
	phaseApply = iota
	phaseBind
	phaseSwap
	phaseEnrol
	phaseCleanup
	phaseLock
)

func (mg *migration) step(phase int, c string, e ObjectEdit) {
	for _, x := range mg.steps {
		if x.Command == c {
			return
		}
	}
	mg.steps = append(mg.steps, phasedStep{phase, MigrationStep{Command: c, Edit: e}})
}

type phasedStep struct {
	phase int
	MigrationStep
}

// finishSteps orders the steps by phase (stable within a phase) and
// derives the rollback.
func (mg *migration) finishSteps() {
	if len(mg.m.ManifestsIn(ManifestsFile)) > 0 {
		mg.steps = append([]phasedStep{{phaseApply, MigrationStep{Command: "kubectl apply -f " + ManifestsFile + "   # the generated manifests; nothing changes behaviour before the switch",
			Edit: ObjectEdit{Op: EditApply, File: ManifestsFile}}}}, mg.steps...)
	}
	if len(mg.m.ManifestsIn(LockFile)) > 0 {
		c := "kubectl apply -f " + LockFile + "   # once no pod of " + strings.Join(mg.m.Namespaces, ", ") + " runs an istio-proxy container any more"
		mg.steps = append(mg.steps, phasedStep{phaseLock, MigrationStep{Command: c, Edit: ObjectEdit{Op: EditApply, File: LockFile}}})
	}
	sort.SliceStable(mg.steps, func(i, j int) bool { return mg.steps[i].phase < mg.steps[j].phase })
	for _, st := range mg.steps {
		mg.m.Steps = append(mg.m.Steps, st.MigrationStep)
	}
	mg.rollback()
}

// rollback derives the steps that undo the plan: take the lock off,
// switch the namespaces back and restart, re-apply what was deleted or
// replaced (RollbackFile, once the old data plane runs again, for the
// same reason the forward plan deletes policies only right before the
// switch), restore the labels, and delete what the plan created.
func (mg *migration) rollback() {
	t := mg.t
	byPhase := func(phase int) []phasedStep {
		var out []phasedStep
		for _, st := range mg.steps {
			if st.phase == phase {
				out = append(out, st)
			}
		}
		return out
	}
	var rb []MigrationStep
	created := func(file string) (out []GeneratedManifest) {
		for _, g := range mg.m.ManifestsIn(file) {
			if !t.hasObject(g.Kind, g.Namespace, g.Name) {
				out = append(out, g)
			}
		}
		return out
	}
	deleteAll := func(gs []GeneratedManifest, comment string) {
		for i := len(gs) - 1; i >= 0; i-- {
			g := gs[i]
			c := fmt.Sprintf("kubectl delete %s -n %s %s", strings.ToLower(g.Kind), g.Namespace, g.Name)
			if comment != "" {
				c += "   # " + comment
			}
			rb = append(rb, MigrationStep{Command: c, Edit: ObjectEdit{Op: EditDelete, Kind: g.Kind, Namespace: g.Namespace, Name: g.Name}})
		}
	}
	deleteAll(created(LockFile), "first: the pods must admit their callers directly again")
	for _, st := range byPhase(phaseEnrol) {
		if st.Edit.Op == EditLabel {
			rb = append(rb, mg.unlabel(st.Edit))
		}
	}
	for _, st := range byPhase(phaseEnrol) {
		if st.Edit.Op == EditRestart {
			rb = append(rb, MigrationStep{Command: fmt.Sprintf("kubectl rollout restart deployment,statefulset,daemonset -n %s   # back to the previous data plane", st.Edit.Namespace),
				Edit: st.Edit})
		}
	}
	if mg.hasRestorable() {
		rb = append(rb, MigrationStep{Command: "kubectl apply -f " + RollbackFile + "   # the deleted and replaced objects as they were, once the restart is done",
			Edit: ObjectEdit{Op: EditRestore}})
	}
	for _, st := range byPhase(phaseBind) {
		if st.Edit.Op == EditLabel {
			rb = append(rb, mg.unlabel(st.Edit))
		}
	}
	deleteAll(created(ManifestsFile), "")
	mg.m.Rollback = rb
}

// hasRestorable reports whether the plan deletes or replaces an object of
// the input.
func (mg *migration) hasRestorable() bool {
	for _, st := range mg.steps {
		if st.Edit.Op == EditDelete {
			return true
		}
	}
	for _, g := range mg.m.Manifests {
		if mg.t.hasObject(g.Kind, g.Namespace, g.Name) {
			return true
		}
	}
	return false
}

// unlabel is the label step that undoes e: labels set are put back to
// their previous value or removed, labels removed are put back.
func (mg *migration) unlabel(e ObjectEdit) MigrationStep {
	old := mg.t.objectLabels(e.Kind, e.Namespace, e.Name)
	set := map[string]string{}
	var remove []string
	for _, k := range sortedKeys(e.Set) {
		if v, ok := old[k]; ok {
			set[k] = v
		} else {
			remove = append(remove, k)
		}
	}
	for _, k := range e.Remove {
		if v, ok := old[k]; ok {
			set[k] = v
		}
	}
	var args []string
	for _, k := range remove {
		args = append(args, k+"-")
	}
	for _, k := range sortedKeys(set) {
		args = append(args, k+"="+set[k])
	}
	where := "-n " + e.Namespace + " "
	if e.Kind == "Namespace" {
		where = ""
	}
	return MigrationStep{Command: fmt.Sprintf("kubectl label %s %s%s %s", strings.ToLower(e.Kind), where, e.Name, strings.Join(args, " ")),
		Edit: ObjectEdit{Op: EditLabel, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name, Set: set, Remove: remove}}
}

// inScope reports whether namespace ns changes mode (the root namespace's
// mesh-wide policies are in scope when they select pods that do).
func (mg *migration) inScope(ns string) bool { return mg.nss[ns] }

// podsInScope returns the pods a selector or namespace-wide policy of
// namespace ns applies to that change mode.
func (mg *migration) podsInScope(ns string, sel map[string]string) []*Pod {
	var out []*Pod
	for _, p := range mg.t.Pods {
		if !mg.nss[p.Namespace] || p.Workload == nil || p.Workload.System || p.Workload.Ingress {
			continue
		}
		if ns != mg.t.RootNamespace && p.Namespace != ns {
			continue
		}
		if sel != nil && !labelsMatch(sel, p.Labels) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func (mg *migration) needWaypoint(s *Service, why string) {
	for _, w := range mg.need[s] {
		if w == why {
			return
		}
	}
	mg.need[s] = append(mg.need[s], why)
}

// namespaces picks the namespaces whose mode is from.
func (mg *migration) namespaces(from Mode) {
	mg.nss = map[string]bool{}
	for _, ns := range mg.t.Namespaces {
		if ns.Mode != from || isSystemNamespace(ns.Name, mg.t.RootNamespace) {
			continue
		}
		mg.nss[ns.Name] = true
		mg.m.Namespaces = append(mg.m.Namespaces, ns.Name)
	}
	sort.Strings(mg.m.Namespaces)
}

// toAmbient plans sidecar → ambient.
func (mg *migration) toAmbient() {
	t := mg.t
	mg.namespaces(Sidecar)
	if len(mg.m.Namespaces) == 0 {
		mg.item(MigrateMoves, "topology", "no namespace is in sidecar mode (istio-injection=enabled or istio.io/rev)", "nothing to migrate to ambient")
		return
	}
	for _, ns := range mg.m.Namespaces {
		n := t.Namespace(ns)
		var drop []string
		for _, l := range []string{lblInjection, lblRev} {
			if _, ok := n.Labels[l]; ok {
				drop = append(drop, l)
			}
		}
		mg.label(phaseEnrol, "Namespace", ns, ns, map[string]string{lblDataplaneMode: "ambient"}, drop, "")
		mg.restart(phaseEnrol, ns, "restart without sidecars; istio-cni captures the new pods")
		var wls int
		for _, w := range t.Workloads {
			if w.Namespace == ns && !w.System && !w.Ingress {
				wls++
			}
		}
		mg.item(MigrateRewrite, "Namespace "+ns, fmt.Sprintf("enrolled for sidecar injection (%s), %d workloads", enrollmentLabel(n), wls),
			fmt.Sprintf("label it %s=ambient, remove the injection label and restart its workloads (COMMANDS)", lblDataplaneMode))
	}
	mg.ambientPolicies()
	mg.ambientRequestAuth()
	mg.ambientVirtualServices()
	mg.ambientDestinationRules()
	mg.ambientRoutesAndFilters()
	mg.ambientPeerAuth()
	mg.ambientNetworkPolicies()
	mg.ambientEgress()
	mg.ambientIdentityPolicies() // needs the final set of waypoint-served Services
	mg.ambientWaypoints()
	mg.ambientTelemetry()
}

// ambientPolicies: selector policies with HTTP rules (or CUSTOM/AUDIT)
// need a waypoint and targetRefs (ztunnel drops HTTP rules and does not
// support CUSTOM/AUDIT: authorization.go convertAuthorizationPolicy).
func (mg *migration) ambientPolicies() {
	t := mg.t
	for _, ap := range t.sortedPolicies() {
		obj := "AuthorizationPolicy " + ap.ID()
		if len(ap.TargetRefs) > 0 {
			if mg.inScope(ap.Namespace) {
				mg.item(MigrateMoves, obj, "targetRefs: applied by the gateway or waypoint it names, in either mode", "")
			}
			continue
		}
		pods := mg.podsInScope(ap.Namespace, ap.Selector)
		if len(pods) == 0 {
			continue
		}
		l7 := ap.L7Fields()
		custom := ap.Action == ActionCustom || ap.Action == ActionAudit
		if len(l7) == 0 && !custom {
			continue // L4: decided in ambientIdentityPolicies once waypoints are known
		}
		why := fmt.Sprintf("its rules use HTTP fields (%s), which ztunnel cannot enforce", strings.Join(l7, ", "))
		if custom {
			why = fmt.Sprintf("ztunnel does not support the %s action", ap.Action)
		}
		svcs := t.servicesOfPods(pods)
		if len(svcs) == 0 {
			mg.item(MigrateManual, obj, why+", and the pods it selects are behind no Service",
				"pod-addressed traffic needs a workload waypoint (istio.io/waypoint-for: workload) and a policy with targetRefs to that waypoint Gateway")
			continue
		}
		var gen []string
		byNS := servicesByNamespace(svcs)
		for _, ns := range sortedKeys(byNS) {
			list := byNS[ns]
			for _, s := range list {
				mg.needWaypoint(s, "AuthorizationPolicy "+ap.ID()+" (HTTP rules)")
			}
			name := ap.Name + "-waypoint"
			if ns != ap.Namespace {
				name = ap.Name + "-" + ap.Namespace + "-waypoint"
			}
			gen = append(gen, mg.manifest("AuthorizationPolicy", ns, name, obj, policyYAML(ap, ns, name, targetRefsServices(list), nil)))
		}
		sort.Strings(gen)
		mg.deleteAfter("AuthorizationPolicy", ap.Namespace, ap.Name)
		mg.item(MigrateRewrite, obj, why+": it needs a waypoint",
			fmt.Sprintf("replace spec.selector with targetRefs to %s, enforced by their waypoint with the client's identity; delete the selector policy", joinServiceIDs(svcs)), gen...)
	}
}

// ambientIdentityPolicies: an L4 selector policy naming client identities
// on pods whose Service will have a waypoint sees the waypoint's identity
// instead (the waypoint's second HBONE leg carries its own certificate,
// and ztunnel's RBAC checks the TLS peer: ztunnel src/proxy/inbound.rs):
// it must move to targetRefs.
func (mg *migration) ambientIdentityPolicies() {
	t := mg.t
	for _, ap := range t.sortedPolicies() {
		if len(ap.TargetRefs) > 0 || len(ap.L7Fields()) > 0 || ap.Action == ActionCustom || ap.Action == ActionAudit {
			continue
		}
		pods := mg.podsInScope(ap.Namespace, ap.Selector)
		if len(pods) == 0 {
			continue
		}
		obj := "AuthorizationPolicy " + ap.ID()
		var served []*Service
		for _, s := range t.servicesOfPods(pods) {
			if len(mg.need[s]) > 0 {
				served = append(served, s)
			}
		}
		if len(served) == 0 || !namesIdentities(ap) {
			mg.item(MigrateMoves, obj, "L4 rules only: the destination ztunnel enforces them as the sidecar did", "")
			continue
		}
		var gen []string
		byNS := servicesByNamespace(served)
		for _, ns := range sortedKeys(byNS) {
			list := byNS[ns]
			name := ap.Name + "-waypoint"
			if ns != ap.Namespace {
				name = ap.Name + "-" + ap.Namespace + "-waypoint"
			}
			gen = append(gen, mg.manifest("AuthorizationPolicy", ns, name, obj, policyYAML(ap, ns, name, targetRefsServices(list), nil)))
		}
		sort.Strings(gen)
		mg.deleteAfter("AuthorizationPolicy", ap.Namespace, ap.Name)
		mg.item(MigrateRewrite, obj, fmt.Sprintf("it admits client identities at pods behind %s, which get a waypoint: the destination ztunnel then sees the waypoint's identity and would deny every request", joinServiceIDs(served)),
			fmt.Sprintf("check the clients at the waypoint (targetRefs, generated) and admit only the waypoint's identity %s at the pods (the Services' -waypoint-only policies in %s)", principalOf(t.TrustDomain, served[0].Namespace, "waypoint"), LockFile), gen...)
	}
}

// ambientRequestAuth: JWT is validated only by Envoy (a waypoint).
func (mg *migration) ambientRequestAuth() {
	t := mg.t
	for _, ra := range t.RequestAuthentications {
		obj := "RequestAuthentication " + ra.ID()
		if len(ra.TargetRefs) > 0 {
			if mg.inScope(ra.Namespace) {
				mg.item(MigrateMoves, obj, "targetRefs: applied by the waypoint or gateway it names", "")
			}
			continue
		}
		pods := mg.podsInScope(ra.Namespace, ra.Selector)
		if len(pods) == 0 {
			continue
		}
		svcs := t.servicesOfPods(pods)
		if len(svcs) == 0 {
			mg.item(MigrateManual, obj, "JWT rules on pods behind no Service: ztunnel never sees tokens", "use a workload waypoint and targetRefs to it")
			continue
		}
		var gen []string
		byNS := servicesByNamespace(svcs)
		for _, ns := range sortedKeys(byNS) {
			list := byNS[ns]
			for _, s := range list {
				mg.needWaypoint(s, "RequestAuthentication "+ra.ID()+" (JWT)")
			}
			gen = append(gen, mg.manifest("RequestAuthentication", ns, ra.Name+"-waypoint", obj, requestAuthYAML(ra, ns, ra.Name+"-waypoint", targetRefsServices(list))))
		}
		sort.Strings(gen)
		mg.deleteAfter("RequestAuthentication", ra.Namespace, ra.Name)
		mg.item(MigrateRewrite, obj, "JWT is validated only by Envoy: in ambient a waypoint, never ztunnel (requestPrincipals are HTTP attributes ztunnel drops: pilot/pkg/serviceregistry/ambient/authorization.go)",
			fmt.Sprintf("attach it with targetRefs to %s (generated) behind their waypoint", joinServiceIDs(svcs)), gen...)
	}
}

// ambientVirtualServices: mesh VirtualServices become HTTPRoutes parented
// to the Service, applied by its waypoint (GAMMA); subsets become
// per-version Services.
func (mg *migration) ambientVirtualServices() {
	t := mg.t
	for _, r := range t.Routes {
		if r.Kind != KindVirtualService {
			continue
		}
		obj := "VirtualService " + r.ID()
		if len(r.Gateways) > 0 && !contains(r.Gateways, "mesh") {
			if mg.inScope(r.Namespace) {
				mg.item(MigrateMoves, obj, fmt.Sprintf("bound to gateways %s only: the ingress gateway applies it in either mode", strings.Join(r.Gateways, ", ")), "")
			}
			continue
		}
		var svcs []*Service
		for _, h := range r.Hostnames {
			if s := t.resolveHost(h, r.Namespace); s != nil && mg.inScope(s.Namespace) {
				svcs = append(svcs, s)
			}
		}
		if len(svcs) == 0 {
			continue
		}
		for _, s := range svcs {
			mg.needWaypoint(s, "VirtualService "+r.ID()+" (routing)")
		}
		conv := mg.convertVirtualService(r, svcs)
		mg.deleteAfter("VirtualService", r.Namespace, r.Name)
		action := MigrateRewrite
		do := "apply the generated HTTPRoute (its waypoint applies it), compare `ambientsim paths` route tables, then delete the VirtualService"
		if len(conv.manual) > 0 {
			action = MigrateManual
			do = "apply the generated HTTPRoute for the rules it carries; by hand: " + strings.Join(conv.manual, "; ") + "; then delete the VirtualService"
		}
		if len(conv.notes) > 0 {
			do += " (note: " + strings.Join(conv.notes, "; ") + ")"
		}
		mg.item(action, obj, fmt.Sprintf("routes %s for sidecar clients; in ambient only a waypoint applies mesh routes, and VirtualService there is alpha", joinServiceIDs(svcs)), do, conv.generated...)
	}
}

// ambientDestinationRules: subsets are rewritten with the VirtualServices;
// traffic policies (load balancing, connection pools, outlier detection)
// are applied by a waypoint only; ISTIO_MUTUAL TLS is ztunnel's job.
func (mg *migration) ambientDestinationRules() {
	t := mg.t
	for _, res := range t.sortedSidecarResources() {
		if res.Kind != "DestinationRule" || len(res.Hosts) == 0 {
			continue
		}
		s := t.resolveHost(res.Hosts[0], res.Namespace)
		if s == nil || !mg.inScope(s.Namespace) {
			continue
		}
		obj := "DestinationRule " + res.ID()
		var parts []string
		for _, p := range res.TrafficPolicy {
			if p != "tls" {
				parts = append(parts, p)
			}
		}
		switch {
		case len(parts) > 0:
			mg.needWaypoint(s, obj+" (traffic policy: "+strings.Join(parts, ", ")+")")
			mg.item(MigrateNeedsWaypoint, obj, fmt.Sprintf("its traffic policy (%s) is applied by the client's proxy: in ambient by the waypoint of %s, not by ztunnel", strings.Join(parts, ", "), s.ID()), "keep it; bind the Service to a waypoint")
		case len(res.Subsets) > 0 && t.gatewayVSUsesSubsets(s) != "":
			mg.item(MigrateMoves, obj, fmt.Sprintf("VirtualService %s, bound to an ingress gateway, routes to its subsets: the gateway keeps applying both", t.gatewayVSUsesSubsets(s)), "")
		case len(res.Subsets) > 0:
			mg.deleteAfter("DestinationRule", res.Namespace, res.Name)
			var used []string
			for _, sub := range res.Subsets {
				if mg.usedSubsets[s.ID()+"/"+sub] != "" {
					used = append(used, sub+" -> Service "+mg.usedSubsets[s.ID()+"/"+sub])
				}
			}
			if len(used) == 0 {
				mg.item(MigrateDrop, obj, fmt.Sprintf("subsets (%s) of %s, which no VirtualService of the input routes to", strings.Join(res.Subsets, ", "), s.ID()),
					"delete it after the switch (COMMANDS)")
				break
			}
			mg.item(MigrateRewrite, obj, fmt.Sprintf("subsets (%s) of %s exist for VirtualService routing", strings.Join(res.Subsets, ", "), s.ID()),
				fmt.Sprintf("the per-version Services replace the subsets the VirtualServices use (%s); delete it with the VirtualServices (COMMANDS)", strings.Join(used, ", ")))
		case len(res.TrafficPolicy) > 0:
			mg.deleteAfter("DestinationRule", res.Namespace, res.Name)
			mg.item(MigrateDrop, obj, "TLS settings only: ztunnel does mTLS (HBONE) itself", "delete it after the migration")
		default:
			mg.item(MigrateMoves, obj, "no subsets and no traffic policy", "")
		}
	}
}

// ambientRoutesAndFilters: Gateway API routes parented to Services need a
// waypoint (sidecars applied them); EnvoyFilters on pods have no Envoy.
func (mg *migration) ambientRoutesAndFilters() {
	t := mg.t
	for _, r := range t.gatewayAPIRoutes() {
		for _, pr := range r.ParentRefs {
			if pr.Kind != "Service" {
				continue
			}
			s := t.Service(refNS(pr.Namespace, r.Namespace), pr.Name)
			if s == nil || !mg.inScope(s.Namespace) {
				continue
			}
			mg.needWaypoint(s, r.Kind+" "+r.ID()+" (mesh route)")
			mg.item(MigrateNeedsWaypoint, r.Kind+" "+r.ID(), fmt.Sprintf("parented to Service %s: sidecar clients apply it today, in ambient only its waypoint does", s.ID()), "keep it; bind the Service to a waypoint")
		}
	}
	for _, res := range t.sortedSidecarResources() {
		if res.Kind != "EnvoyFilter" || res.HasTargetRefs {
			continue
		}
		var hit bool
		for _, p := range mg.podsInScope(res.Namespace, res.Selector) {
			hit = hit || p != nil
		}
		if hit || (mg.inScope(res.Namespace) && !res.HasSelector) {
			mg.item(MigrateManual, "EnvoyFilter "+res.ID(), "it patches the sidecars' Envoy: ambient pods have none",
				"rewrite it for the waypoint (targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]) and check its patches against the waypoint's listeners, or use Gateway API filters")
		}
	}
}

// ambientPeerAuth: STRICT and PERMISSIVE keep their meaning; DISABLE
// cannot be expressed in ambient and is ignored (convertPeerAuthentication
// in pilot/pkg/serviceregistry/ambient/authorization.go builds only the
// STRICT deny of identity-less traffic).
func (mg *migration) ambientPeerAuth() {
	for _, pa := range mg.t.PeerAuthentications {
		if !mg.inScope(pa.Namespace) && pa.Namespace != mg.t.RootNamespace {
			continue
		}
		obj := "PeerAuthentication " + pa.ID()
		disable := pa.Mode == MTLSDisable
		for _, m := range pa.PortModes {
			disable = disable || m == MTLSDisable
		}
		if disable {
			mg.item(MigrateManual, obj, "mode DISABLE cannot be expressed in ambient: ztunnel ignores it and keeps HBONE mTLS between meshed pods",
				"decide why plaintext was needed (an out-of-mesh client, a health checker): keep that workload out of the mesh or accept mTLS")
			continue
		}
		mg.item(MigrateMoves, obj, "mode "+pa.Mode+": ztunnel enforces STRICT as a deny of identity-less traffic, as the sidecar did", "")
	}
}

// ambientNetworkPolicies: HBONE arrives on port 15008, so an ingress rule
// that lists ports must also admit 15008.
func (mg *migration) ambientNetworkPolicies() {
	for _, np := range mg.t.NetworkPolicies {
		if !mg.inScope(np.Namespace) || !np.AffectsIngress() {
			continue
		}
		obj := "NetworkPolicy " + np.ID()
		listsPorts, has15008 := false, false
		for _, r := range np.Ingress {
			for _, p := range r.Ports {
				listsPorts = true
				has15008 = has15008 || p.Port == hbonePort
			}
		}
		if !listsPorts || has15008 {
			mg.item(MigrateMoves, obj, "it admits port 15008, where HBONE arrives", "")
			continue
		}
		gen := mg.manifest("NetworkPolicy", np.Namespace, np.Name, obj, networkPolicyYAML(np, true))
		mg.item(MigrateRewrite, obj, "its ingress rules admit application ports only; ambient traffic arrives on port 15008 (HBONE) and would be dropped",
			"add port 15008 to each rule that lists ports (generated)", gen)
	}
}

// ambientEgress: a VirtualService that sends egress to a sidecar-era
// egress gateway is not applied by ztunnel; the ServiceEntry needs a
// waypoint that applies it.
func (mg *migration) ambientEgress() {
	t := mg.t
	for _, se := range t.ServiceEntries {
		for _, sp := range se.Ports {
			r := t.EgressGatewayRoute(se, sp.Port)
			if r == nil || !mg.inScope(r.VirtualService.Namespace) && !mg.inScope(se.Namespace) {
				continue
			}
			mg.label(phaseBind, "ServiceEntry", se.Namespace, se.Name, map[string]string{lblUseWaypoint: "waypoint"}, nil,
				fmt.Sprintf("egress for %s keeps going through %s", se.Hosts[0], r.Gateway.ID()))
			mg.item(MigrateNeedsWaypoint, "ServiceEntry "+se.ID(), fmt.Sprintf("VirtualService %s sends %s through egress gateway %s for sidecars; ztunnel applies no VirtualService", r.VirtualService.ID(), se.Hosts[0], r.Gateway.ID()),
				fmt.Sprintf("bind the ServiceEntry to a waypoint in %s (COMMANDS) so the waypoint applies the VirtualService, or replace the egress gateway by an egress waypoint", se.Namespace))
			break
		}
	}
}

// ambientWaypoints generates a waypoint per namespace with Services that
// need one, and binds exactly those Services (a blast-radius choice: the
// rest stay on the L4 path).
func (mg *migration) ambientWaypoints() {
	t := mg.t
	var svcs []*Service
	for s := range mg.need {
		svcs = append(svcs, s)
	}
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].ID() < svcs[j].ID() })
	byNS := servicesByNamespace(svcs)
	for _, ns := range sortedKeys(byNS) {
		list := byNS[ns]
		gw := mg.manifest("Gateway", ns, "waypoint", "waypoint for "+ns, waypointYAML(ns))
		wpPrincipal := principalOf(t.TrustDomain, ns, "waypoint")
		for _, s := range list {
			lock := ""
			if len(s.Selector) > 0 {
				lock = mg.manifestIn(LockFile, "AuthorizationPolicy", s.Namespace, s.Name+"-waypoint-only", "Service "+s.ID(), encodeYAML(ymap(
					"apiVersion", "security.istio.io/v1", "kind", "AuthorizationPolicy",
					"metadata", objectMetaNode(s.Name+"-waypoint-only", s.Namespace, nil),
					"spec", ymap("selector", ymap("matchLabels", s.Selector), "action", ActionAllow,
						"rules", []*yaml.Node{ymap("from", []*yaml.Node{ymap("source", ymap("principals", []string{wpPrincipal}))})}))))
			}
			mg.label(phaseBind, "Service", s.Namespace, s.Name, map[string]string{lblUseWaypoint: "waypoint"}, nil, "")
			if t.ingressTargeted(s) {
				mg.label(phaseBind, "Service", s.Namespace, s.Name, map[string]string{lblIngressUseWaypoint: "true"}, nil,
					"the ingress gateway reaches it: send that traffic through the waypoint too (ambientindex.go reads istio.io/ingress-use-waypoint)")
			}
			do := fmt.Sprintf("deploy the waypoint of %s (generated; istioctl waypoint apply -n %s) with at least two replicas, and label the Service %s=waypoint (COMMANDS)", ns, ns, lblUseWaypoint)
			gen := []string{gw}
			if lock != "" {
				do += fmt.Sprintf("; %s-waypoint-only (generated, %s) admits only the waypoint at its pods, closing the bypass: the plan applies it last, once no pod runs a sidecar (sidecars skip waypoints; a caller in a namespace that stays in sidecar mode would be denied)", s.Name, LockFile)
				gen = append(gen, lock)
			}
			mg.item(MigrateNeedsWaypoint, "Service "+s.ID(), "needed by "+strings.Join(mg.need[s], ", "), do, gen...)
		}
	}
}

// ingressTargeted reports whether an ingress gateway's routes reach s:
// a modelled ingress gateway's targets, or a destination of a
// VirtualService bound to an Istio Gateway (whose gateway pods, often in
// istio-system, need not be in the input). Ingress gateways skip
// waypoints unless the Service says istio.io/ingress-use-waypoint=true
// (pilot/pkg/serviceregistry/ambient/ambientindex.go reads the label;
// listener_waypoint.go routes gateways through the waypoint with it).
func (t *Topology) ingressTargeted(s *Service) bool {
	for _, r := range t.Routes {
		if r.Kind != KindVirtualService || len(r.Gateways) == 0 || len(r.Gateways) == 1 && r.Gateways[0] == "mesh" {
			continue
		}
		for _, rr := range r.Rules {
			for _, b := range rr.BackendRefs {
				if (b.Kind == "" || b.Kind == "Service") && t.Service(refNS(b.Namespace, r.Namespace), b.Name) == s {
					return true
				}
			}
		}
	}
	for _, w := range t.sources() {
		if !w.Ingress {
			continue
		}
		if targets, ok := t.IngressTargets(w); ok {
			for _, tg := range targets {
				if tg.Service == s {
					return true
				}
			}
		}
	}
	return false
}

// ambientTelemetry: sidecars give HTTP request metrics for every Service;
// ztunnel gives TCP metrics only (istio_tcp_*; ztunnel src/proxy/metrics.rs).
func (mg *migration) ambientTelemetry() {
	t := mg.t
	per := map[string][]string{}
	for _, s := range t.Services {
		if !mg.inScope(s.Namespace) || len(mg.need[s]) > 0 || t.isGatewayService(s) {
			continue
		}
		for _, sp := range s.Ports {
			if sp.IsHTTP() {
				per[s.Namespace] = append(per[s.Namespace], s.Name)
				break
			}
		}
	}
	for _, ns := range sortedKeys(per) {
		mg.item(MigrateNeedsWaypoint, "Services in "+ns+" (telemetry)",
			fmt.Sprintf("%d HTTP Services get istio_requests_total from their sidecars today (%s); without a waypoint ztunnel reports TCP metrics only", len(per[ns]), joinCapped(per[ns], 6)),
			fmt.Sprintf("bind the ones whose request-rate, error-rate or latency dashboards and SLOs you keep to the waypoint (kubectl label service -n %s <name> %s=waypoint); move the rest to TCP dashboards", ns, lblUseWaypoint))
	}
}

// toSidecar plans ambient → sidecar: the rollback.
func (mg *migration) toSidecar() {
	t := mg.t
	mg.namespaces(Ambient)
	if len(mg.m.Namespaces) == 0 {
		mg.item(MigrateMoves, "topology", "no namespace is in ambient mode", "nothing to roll back to sidecars")
		return
	}
	for _, ns := range mg.m.Namespaces {
		n := t.Namespace(ns)
		drop := []string{lblDataplaneMode}
		if _, ok := n.Labels[lblUseWaypoint]; ok {
			drop = append(drop, lblUseWaypoint)
		}
		mg.label(phaseEnrol, "Namespace", ns, ns, map[string]string{lblInjection: "enabled"}, drop, "")
		mg.restart(phaseEnrol, ns, "restart with sidecars")
		mg.item(MigrateRewrite, "Namespace "+ns, "enrolled in ambient ("+enrollmentLabel(n)+")",
			"label it istio-injection=enabled, remove istio.io/dataplane-mode (and use-waypoint) and restart its workloads (COMMANDS)")
	}
	wpPrincipals := map[string]bool{}
	for _, wp := range t.Waypoints {
		wpPrincipals[principalOf(t.TrustDomain, wp.Namespace, wp.Name)] = true
		if mg.inScope(wp.Namespace) {
			mg.step(phaseCleanup, fmt.Sprintf("kubectl delete gateway -n %s %s   # after the workloads run with sidecars", wp.Namespace, wp.Name),
				ObjectEdit{Op: EditDelete, Kind: "Gateway", Namespace: wp.Namespace, Name: wp.Name})
			mg.item(MigrateDrop, "Gateway "+wp.ID(), fmt.Sprintf("waypoint serving %d Services: sidecars do not use waypoints", len(wp.Serves)), "delete it once the sidecars run (COMMANDS)")
		}
	}
	for _, ap := range t.sortedPolicies() {
		mg.sidecarPolicy(ap, wpPrincipals)
	}
	mg.sidecarClosesBypasses()
	for _, ra := range t.RequestAuthentications {
		if len(ra.TargetRefs) == 0 || !mg.inScope(ra.Namespace) {
			continue
		}
		obj := "RequestAuthentication " + ra.ID()
		var gen []string
		for _, ref := range ra.TargetRefs {
			if ref.Kind != "Service" {
				continue
			}
			if s := t.Service(refNS(ref.Namespace, ra.Namespace), ref.Name); s != nil && len(s.Selector) > 0 {
				gen = append(gen, mg.manifest("RequestAuthentication", s.Namespace, ra.Name+"-"+s.Name, obj, requestAuthSelectorYAML(ra, s)))
			}
		}
		mg.retireTargetRefs("RequestAuthentication", ra.Namespace, ra.Name, gen)
		mg.item(MigrateRewrite, obj, "targetRefs are applied only by waypoints: sidecars would validate no token", "a selector RequestAuthentication on the Service's pods (generated); delete it once the sidecars run", gen...)
	}
	for _, r := range t.gatewayAPIRoutes() {
		for _, pr := range r.ParentRefs {
			if pr.Kind == "Service" && mg.inScope(refNS(pr.Namespace, r.Namespace)) {
				mg.item(MigrateMoves, r.Kind+" "+r.ID(), "parented to a Service: sidecar clients apply GAMMA routes themselves", "")
			}
		}
	}
	for _, r := range t.Routes {
		if r.Kind == KindVirtualService && mg.inScope(r.Namespace) {
			mg.item(MigrateMoves, "VirtualService "+r.ID(), "sidecars apply VirtualServices", "")
		}
	}
	for _, pa := range t.PeerAuthentications {
		if mg.inScope(pa.Namespace) {
			mg.item(MigrateMoves, "PeerAuthentication "+pa.ID(), "mode "+pa.Mode+": sidecars enforce it", "")
		}
	}
	for _, np := range t.NetworkPolicies {
		if !mg.inScope(np.Namespace) {
			continue
		}
		obj := "NetworkPolicy " + np.ID()
		if why := waypointOnlyNetworkPolicy(np); why != "" {
			mg.item(MigrateBreaks, obj, why, "admit the clients on the application ports (sidecar mTLS arrives there) before the rollback")
		} else {
			mg.item(MigrateMoves, obj, "its rules do not depend on HBONE or waypoints", "")
		}
	}
	for _, res := range t.sortedSidecarResources() {
		if res.Kind == "EnvoyFilter" && res.HasTargetRefs && mg.inScope(res.Namespace) {
			mg.item(MigrateBreaks, "EnvoyFilter "+res.ID(), "targetRefs attach it to a waypoint or gateway: sidecars do not apply it", "an EnvoyFilter with a workloadSelector for the sidecars")
		}
	}
	for _, s := range t.Services {
		if mg.inScope(s.Namespace) && (s.Labels[lblUseWaypoint] != "" || s.Labels[lblIngressUseWaypoint] != "") {
			mg.item(MigrateDrop, "Service "+s.ID()+" (labels)", "istio.io/use-waypoint and ingress-use-waypoint have no effect on sidecars", fmt.Sprintf("kubectl label service -n %s %s %s- %s-", s.Namespace, s.Name, lblUseWaypoint, lblIngressUseWaypoint))
		}
	}
	for _, se := range t.ServiceEntries {
		if se.Waypoint != nil && mg.inScope(se.Namespace) {
			mg.item(MigrateBreaks, "ServiceEntry "+se.ID(), fmt.Sprintf("egress for %s goes through waypoint %s; sidecars send it straight out, and policies attached to the ServiceEntry stop", strings.Join(se.Hosts, ", "), se.Waypoint.ID()),
				"route it through an egress gateway (Gateway + VirtualService) and move the policies there, or accept direct egress")
		}
	}
}

// sidecarPolicy: what a policy becomes when its pods get sidecars.
func (mg *migration) sidecarPolicy(ap *AuthorizationPolicy, wpPrincipals map[string]bool) {
	t := mg.t
	obj := "AuthorizationPolicy " + ap.ID()
	if len(ap.TargetRefs) == 0 {
		if len(mg.podsInScope(ap.Namespace, ap.Selector)) == 0 {
			return
		}
		switch {
		case ap.Action == ActionAllow && onlyWaypointPrincipals(ap, wpPrincipals, t.TrustDomain):
			mg.item(MigrateBreaks, obj, "its ALLOW rules admit only waypoint identities; with sidecars the clients' identities arrive and every request is denied",
				"delete it with the waypoint, after the selector versions of the waypoint's policies (generated) are in place")
		case mentionsPrincipals(ap, wpPrincipals):
			mg.item(MigrateRewrite, obj, "it names waypoint identities among others: harmless, but they no longer appear", "remove the waypoint principals")
		default:
			mg.item(MigrateMoves, obj, "selector or namespace-wide: sidecars enforce it (with HTTP fields too)", "")
		}
		return
	}
	if !mg.inScope(ap.Namespace) {
		return
	}
	var gen []string
	var manual []string
	for _, ref := range ap.TargetRefs {
		ns := refNS(ref.Namespace, ap.Namespace)
		switch ref.Kind {
		case "Service":
			s := t.Service(ns, ref.Name)
			if s == nil || len(s.Selector) == 0 {
				manual = append(manual, fmt.Sprintf("Service %s/%s has no selector to copy", ns, ref.Name))
				continue
			}
			gen = append(gen, mg.manifest("AuthorizationPolicy", ns, ap.Name+"-"+s.Name, obj, policyYAML(ap, ns, ap.Name+"-"+s.Name, nil, s.Selector)))
		case "Gateway":
			wp := t.Waypoint(ns, ref.Name)
			if wp == nil {
				continue // an ingress Gateway keeps enforcing it
			}
			if wp.Scope == ScopeNamespace {
				gen = append(gen, mg.manifest("AuthorizationPolicy", ns, ap.Name, obj, policyYAML(ap, ns, ap.Name, nil, map[string]string{})))
				continue
			}
			for _, s := range wp.Serves {
				if len(s.Selector) > 0 {
					gen = append(gen, mg.manifest("AuthorizationPolicy", s.Namespace, ap.Name+"-"+s.Name, obj, policyYAML(ap, s.Namespace, ap.Name+"-"+s.Name, nil, s.Selector)))
				}
			}
		default:
			manual = append(manual, fmt.Sprintf("targetRefs %s %s/%s has no sidecar-mode attachment", ref.Kind, ns, ref.Name))
		}
	}
	sort.Strings(gen)
	switch {
	case len(manual) > 0:
		mg.item(MigrateBreaks, obj, "targetRefs are applied only by waypoints and gateways: "+strings.Join(manual, "; "),
			"an egress gateway with the policy on it, or accept the loss", gen...)
	case len(gen) > 0:
		mg.retireTargetRefs("AuthorizationPolicy", ap.Namespace, ap.Name, gen)
		mg.item(MigrateRewrite, obj, "targetRefs are applied only by waypoints: with sidecars its rules would be enforced nowhere",
			"apply the selector policies (generated; same rules, enforced by each destination's sidecar) before the rollback, delete it once the sidecars run", gen...)
	default:
		mg.item(MigrateMoves, obj, "attached to an ingress Gateway, which keeps enforcing it", "")
	}
}

func mentionsPrincipals(ap *AuthorizationPolicy, set map[string]bool) bool {
	for _, r := range ap.Rules {
		for _, s := range r.From {
			for _, p := range s.Principals {
				if set[strings.TrimPrefix(p, "spiffe://")] {
					return true
				}
			}
		}
	}
	return false
}

func servicesByNamespace(svcs []*Service) map[string][]*Service {
	out := map[string][]*Service{}
	for _, s := range svcs {
		out[s.Namespace] = append(out[s.Namespace], s)
	}
	return out
}

func joinServiceIDs(svcs []*Service) string {
	ids := make([]string, len(svcs))
	for i, s := range svcs {
		ids[i] = s.ID()
	}
	return joinCapped(ids, 6)
}

func targetRefsServices(svcs []*Service) []TargetRef {
	refs := make([]TargetRef, len(svcs))
	for i, s := range svcs {
		refs[i] = TargetRef{Kind: "Service", Name: s.Name}
	}
	return refs
}

// gatewayVSUsesSubsets names a VirtualService bound to gateways only
// (kept by the migration) that routes to a subset of s, or "".
func (t *Topology) gatewayVSUsesSubsets(s *Service) string {
	for _, r := range t.Routes {
		if r.Kind != KindVirtualService || len(r.Gateways) == 0 || contains(r.Gateways, "mesh") {
			continue
		}
		for _, rr := range r.Rules {
			for _, b := range rr.BackendRefs {
				if b.Subset != "" && (b.Kind == "" || b.Kind == "Service") && t.Service(refNS(b.Namespace, r.Namespace), b.Name) == s {
					return r.ID()
				}
			}
		}
	}
	return ""
}

// retireTargetRefs deletes a targetRefs policy after the switch back to
// sidecars (its waypoint enforces it until then), unless a generated
// selector policy replaces it in place.
func (mg *migration) retireTargetRefs(kind, ns, name string, gen []string) {
	if len(gen) == 0 || contains(gen, kind+" "+ns+"/"+name) {
		return
	}
	mg.step(phaseCleanup, fmt.Sprintf("kubectl delete %s -n %s %s   # after the workloads run with sidecars: only a waypoint applied it", strings.ToLower(kind), ns, name),
		ObjectEdit{Op: EditDelete, Kind: kind, Namespace: ns, Name: name})
}

// sidecarClosesBypasses: traffic that reaches a Service's pods without its
// waypoint today (an ingress without istio.io/ingress-use-waypoint, a
// second Service over the same pods) escapes the waypoint's policies; the
// selector copies the rollback generates are enforced by each pod's
// sidecar whatever the caller addressed, so those callers are checked
// from now on, and may be denied.
func (mg *migration) sidecarClosesBypasses() {
	per := map[string][]string{}
	for _, g := range mg.t.FindingGroups() {
		if g.Code != CodeWaypointBypass && g.Code != CodeServiceAliasBypass {
			continue
		}
		g.Each(func(f Finding) {
			ns, _, _ := strings.Cut(f.Destination, "/")
			if f.Policy == "" || !mg.inScope(ns) {
				return
			}
			key := "AuthorizationPolicy " + f.Policy
			per[key] = appendUnique(per[key], f.Source+" -> "+f.Destination)
		})
	}
	for _, obj := range sortedKeys(per) {
		mg.item(MigrateBreaks, obj+" (bypass closed)", fmt.Sprintf("%s (and callers alike) reach its pods without the waypoint today (%s); the sidecars will apply its selector copy to them", joinCapped(per[obj], 4), "WAYPOINT_BYPASS / SERVICE_ALIAS_BYPASS"),
			"check that these callers are meant to pass its rules, or widen the rules before the rollback")
	}
}
