package topology

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// LoadOptions configures LoadManifests.
type LoadOptions struct {
	DefaultNamespace string // namespace for objects without one (default "default")
	TrustDomain      string // default cluster.local
	RootNamespace    string // default istio-system
	SyntheticNodes   int    // nodes to synthesise when the input has no Node objects (default 3)
}

// LoadReport says what the loader did with its input.
type LoadReport struct {
	Files          []string       // files read, in order
	Objects        int            // objects decoded (List items counted individually)
	Kinds          map[string]int // modelled objects by kind
	Skipped        map[string]int // unknown/unmodelled kinds skipped, by apiVersion kind
	Warnings       []string       // file:line: field: message
	SyntheticNodes bool           // no Node objects: a deterministic set was synthesised
	GeneratedPods  int            // pods generated from workload replicas
	RealPods       int            // Pod objects used as they are
}

// builder accumulates raw objects (with their labels) from the spec or from
// manifests, then resolves modes, pods, placement and waypoints in finish.
type builder struct {
	opts     LoadOptions
	rep      *LoadReport
	errs     []error
	t        *Topology
	nsSeen   map[string]*Namespace
	wlSeen   map[string]*Workload
	nodeSeen map[string]bool
	svcSeen  map[string]bool
	gwSeen   map[string]*Gateway

	wpReplicas map[string]int // ns/gateway → replicas from the spec
	realPods   []*rawPod
	rsOwner    map[string]string // ns/replicaset → deployment name
	wlAnn      map[*Workload]map[string]string
	wlNoMesh   map[*Workload]bool // hostNetwork

	classWaypointFor string // istio.io/waypoint-for on the istio-waypoint GatewayClass
}

type rawPod struct {
	pod               *Pod
	ownerKind         string
	ownerName         string
	annotations       map[string]string
	hasSidecar        bool // an istio-proxy container or sidecar.istio.io/status
	ambientRedirected bool
	hostNetwork       bool
	ports             map[string]int
}

func newBuilder(opts LoadOptions) *builder {
	if opts.DefaultNamespace == "" {
		opts.DefaultNamespace = "default"
	}
	if opts.TrustDomain == "" {
		opts.TrustDomain = DefaultTrustDomain
	}
	if opts.RootNamespace == "" {
		opts.RootNamespace = DefaultRootNamespace
	}
	if opts.SyntheticNodes <= 0 {
		opts.SyntheticNodes = 3
	}
	return &builder{
		opts:       opts,
		rep:        &LoadReport{Kinds: map[string]int{}, Skipped: map[string]int{}},
		t:          &Topology{TrustDomain: opts.TrustDomain, RootNamespace: opts.RootNamespace},
		nsSeen:     map[string]*Namespace{},
		wlSeen:     map[string]*Workload{},
		nodeSeen:   map[string]bool{},
		svcSeen:    map[string]bool{},
		gwSeen:     map[string]*Gateway{},
		wpReplicas: map[string]int{},
		rsOwner:    map[string]string{},
		wlAnn:      map[*Workload]map[string]string{},
		wlNoMesh:   map[*Workload]bool{},
	}
}

func (b *builder) err() error { return errors.Join(b.errs...) }

// where names the input for errors that are not about one object.
func (b *builder) where() string {
	if len(b.rep.Files) == 1 {
		return b.rep.Files[0]
	}
	if len(b.rep.Files) > 1 {
		return strings.Join(b.rep.Files, ", ")
	}
	return "topology"
}

func (b *builder) addNode(n *Node) {
	if b.nodeSeen[n.Name] {
		return
	}
	b.nodeSeen[n.Name] = true
	b.t.Nodes = append(b.t.Nodes, n)
}

func (b *builder) addNamespace(n *Namespace) {
	if old, ok := b.nsSeen[n.Name]; ok {
		// A Namespace object after an implicit one: take its labels.
		for k, v := range n.Labels {
			if old.Labels == nil {
				old.Labels = map[string]string{}
			}
			old.Labels[k] = v
		}
		for k, v := range n.Annotations {
			if old.Annotations == nil {
				old.Annotations = map[string]string{}
			}
			old.Annotations[k] = v
		}
		return
	}
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	b.nsSeen[n.Name] = n
	b.t.Namespaces = append(b.t.Namespaces, n)
}

// ensureNamespace records a namespace referenced by an object.
func (b *builder) ensureNamespace(name string) {
	if _, ok := b.nsSeen[name]; !ok {
		b.addNamespace(&Namespace{Name: name})
	}
}

func (b *builder) addWorkload(w *Workload) bool {
	if _, dup := b.wlSeen[w.ID()]; dup {
		b.errs = append(b.errs, fmt.Errorf("%s: workload %s defined twice", w.Source, w.ID()))
		return false
	}
	b.ensureNamespace(w.Namespace)
	b.wlSeen[w.ID()] = w
	b.t.Workloads = append(b.t.Workloads, w)
	return true
}

func (b *builder) addService(s *Service) {
	if b.svcSeen[s.ID()] {
		b.errs = append(b.errs, fmt.Errorf("%s: service %s defined twice", s.Source, s.ID()))
		return
	}
	b.ensureNamespace(s.Namespace)
	b.svcSeen[s.ID()] = true
	b.t.Services = append(b.t.Services, s)
}

func (b *builder) addGateway(g *Gateway) {
	if _, dup := b.gwSeen[g.ID()]; dup {
		b.errs = append(b.errs, fmt.Errorf("%s: Gateway %s defined twice", g.Source, g.ID()))
		return
	}
	b.ensureNamespace(g.Namespace)
	b.gwSeen[g.ID()] = g
	b.t.Gateways = append(b.t.Gateways, g)
}

func (b *builder) addSpecWaypoint(ns, name, waypointFor string, replicas int) error {
	switch waypointFor {
	case "", ForService, ForWorkload, ForAll, ForNone:
	default:
		return fmt.Errorf("for: unknown value %q (want service, workload, all, none)", waypointFor)
	}
	if why := checkName(ruleDNS1123Subdomain, name); why != "" {
		return fmt.Errorf("invalid waypoint name %q: a Gateway name must be a %s and %s (%s)", name, ruleDNS1123Subdomain, why, ruleText(ruleDNS1123Subdomain))
	}
	if replicas < 0 || replicas > MaxPods {
		return fmt.Errorf("replicas must be between 0 and %d, got %d", MaxPods, replicas)
	}
	labels := map[string]string{}
	if waypointFor != "" {
		labels["istio.io/waypoint-for"] = waypointFor
	}
	if _, dup := b.gwSeen[ns+"/"+name]; dup {
		return fmt.Errorf("waypoint %s/%s defined twice", ns, name)
	}
	b.addGateway(&Gateway{Namespace: ns, Name: name, Class: waypointClass, Labels: labels, Source: "spec"})
	if replicas == 0 {
		replicas = 1
	}
	b.wpReplicas[ns+"/"+name] = replicas
	return nil
}

const waypointClass = "istio-waypoint"

// Limits that keep a typo (replicas: 1000000000) from exhausting memory.
const (
	MaxNodes = 100_000 // nodes in one topology
	MaxPods  = 200_000 // pods generated from replica counts, waypoints included
)

// Well-known labels.
const (
	lblDataplaneMode      = "istio.io/dataplane-mode"
	lblUseWaypoint        = "istio.io/use-waypoint"
	lblUseWaypointNS      = "istio.io/use-waypoint-namespace"
	lblWaypointFor        = "istio.io/waypoint-for"
	lblIngressUseWaypoint = "istio.io/ingress-use-waypoint"
	lblInjection          = "istio-injection"
	lblRev                = "istio.io/rev"
	lblInject             = "sidecar.istio.io/inject"
	lblGatewayName        = "gateway.networking.k8s.io/gateway-name"
	lblZone               = "topology.kubernetes.io/zone"
)

// finish resolves everything and returns the topology, in named steps:
// nodes (synthesised when the input has none), namespace modes, waypoints
// from Gateways, the proxies istiod deploys for class-istio Gateways,
// workload roles (waypoint, ingress, system), the pod limit,
// pods (real where exported, generated otherwise) and their placement, pods
// whose owner was not exported, waypoint replicas, then waypoint bindings
// and named ports.
func (b *builder) finish() (*Topology, *LoadReport) {
	t := b.t
	b.ensureNodes()
	for _, ns := range t.Namespaces {
		ns.Mode = namespaceMode(ns.Labels)
	}
	wpByID := b.waypointsFromGateways()
	b.deployIstioGateways()
	roles := b.classifyWorkloads(wpByID)
	podsOf, orphans := b.realPodsByOwner()
	if total := b.podCount(podsOf); total > MaxPods {
		b.errs = append(b.errs, fmt.Errorf("%s: the topology would have %d pods, more than the limit of %d (check replica counts)", b.where(), total, MaxPods))
		return t, b.rep
	}
	pl := newPlacer(b)
	for _, w := range t.Workloads {
		b.workloadPods(pl, w, podsOf[w])
	}
	for _, rp := range orphans {
		b.adoptOrphan(pl, rp, wpByID, roles.waypointOf)
	}
	b.waypointReplicas(pl, roles, podsOf)
	b.resolveWaypoints(wpByID)
	b.resolveNamedPorts()
	return t, b.rep
}

// ensureNodes synthesises opts.SyntheticNodes nodes over three zones when
// the input declares none.
func (b *builder) ensureNodes() {
	if len(b.t.Nodes) > 0 {
		return
	}
	b.rep.SyntheticNodes = true
	zones := []string{"zone-a", "zone-b", "zone-c"}
	for i := 0; i < b.opts.SyntheticNodes; i++ {
		b.addNode(&Node{Name: fmt.Sprintf("node-%d", i+1), Zone: zones[i%len(zones)]})
	}
}

// waypointsFromGateways makes a Waypoint of every Gateway of class
// istio-waypoint; replicas come from the spec or an exported Deployment.
func (b *builder) waypointsFromGateways() map[string]*Waypoint {
	t := b.t
	wpByID := map[string]*Waypoint{}
	gwDeploy := map[string]*Workload{} // ns/gateway → its generated Deployment, if exported
	for _, w := range t.Workloads {
		if g := w.Labels[lblGatewayName]; g != "" {
			gwDeploy[w.Namespace+"/"+g] = w
		}
	}
	for _, g := range t.Gateways {
		if g.Class != waypointClass {
			continue
		}
		f := g.Labels[lblWaypointFor]
		if f == "" {
			f = b.classWaypointFor
		}
		if f == "" {
			f = ForService
		}
		wp := &Waypoint{Namespace: g.Namespace, Name: g.Name, For: f, Replicas: 1, Source: g.Source}
		if r, ok := b.wpReplicas[g.ID()]; ok {
			wp.Replicas = r
		} else if d := gwDeploy[g.ID()]; d != nil && d.Replicas > 0 {
			wp.Replicas = d.Replicas
		}
		wpByID[wp.ID()] = wp
		t.Waypoints = append(t.Waypoints, wp)
	}
	return wpByID
}

// workloadRoles records which workloads back a waypoint.
type workloadRoles struct {
	waypointOf        map[*Workload]*Waypoint
	waypointWorkloads []*Workload // in input order, for deterministic placement
}

// classifyWorkloads drops the Deployments that back a waypoint (their pods
// become the waypoint's) and flags ingress gateways and mesh
// infrastructure.
func (b *builder) classifyWorkloads(wpByID map[string]*Waypoint) workloadRoles {
	t := b.t
	roles := workloadRoles{waypointOf: map[*Workload]*Waypoint{}}
	kept := t.Workloads[:0]
	for _, w := range t.Workloads {
		if g := w.Labels[lblGatewayName]; g != "" {
			if wp := wpByID[w.Namespace+"/"+g]; wp != nil {
				roles.waypointOf[w] = wp
				roles.waypointWorkloads = append(roles.waypointWorkloads, w)
				continue
			}
			w.Ingress = true
		}
		if isIngressLabels(w.Labels) {
			w.Ingress = true
		}
		if !w.Ingress && isSystemNamespace(w.Namespace, b.opts.RootNamespace) {
			w.System = true
		}
		if !w.Ingress && isEgressLabels(w.Labels) {
			w.Egress, w.System = true, true
		}
		kept = append(kept, w)
	}
	t.Workloads = kept
	return roles
}

// isEgressLabels recognises the classic istio-egressgateway's labels (the
// istio-egressgateway chart and the IstioOperator egressGateways component).
func isEgressLabels(labels map[string]string) bool {
	return labels["istio"] == "egressgateway" || labels["app"] == "istio-egressgateway"
}

// isIngressLabels recognises the classic istio-ingressgateway's labels.
func isIngressLabels(labels map[string]string) bool {
	return labels["istio"] == "ingressgateway" || labels["app"] == "istio-ingressgateway"
}

// realPodsByOwner groups exported pods by the workload that owns them;
// orphans are pods whose owner was not exported.
func (b *builder) realPodsByOwner() (map[*Workload][]*rawPod, []*rawPod) {
	podsOf := map[*Workload][]*rawPod{}
	var orphans []*rawPod
	for _, rp := range b.realPods {
		if w := b.ownerOf(rp); w != nil {
			podsOf[w] = append(podsOf[w], rp)
		} else {
			orphans = append(orphans, rp)
		}
	}
	return podsOf, orphans
}

// podCount is the number of pods the topology will have, to check against
// MaxPods before generating any.
func (b *builder) podCount(podsOf map[*Workload][]*rawPod) int {
	total := 0
	for _, w := range b.t.Workloads {
		if w.Kind == KindDaemonSet {
			total += len(b.t.Nodes)
		} else if len(podsOf[w]) == 0 {
			total += w.Replicas
		}
	}
	for _, wp := range b.t.Waypoints {
		total += wp.Replicas
	}
	return total
}

// placer hands out node slots (round-robin over nodes alternating zones)
// and pod IPs, deterministically.
type placer struct {
	b         *builder
	placement []*Node
	slot      int
	ipSeq     int
}

func newPlacer(b *builder) *placer { return &placer{b: b, placement: spreadByZone(b.t.Nodes)} }

func (pl *placer) nextNode() string {
	n := pl.placement[pl.slot%len(pl.placement)]
	pl.slot++
	return n.Name
}

func (pl *placer) nextIP() string {
	pl.ipSeq++
	return fmt.Sprintf("10.%d.%d.%d", 64+(pl.ipSeq>>16)&63, (pl.ipSeq>>8)&255, pl.ipSeq&255)
}

// addPod places a pod of w (keeping an exported node and IP), decides its
// mode and appends it to the topology.
func (pl *placer) addPod(rp *rawPod, w *Workload) {
	b := pl.b
	p := rp.pod
	p.Workload = w
	if p.Node == "" {
		p.Node = pl.nextNode()
	} else if !b.nodeSeen[p.Node] {
		// A nodeName that no Node object declares: keep it, with an unknown zone.
		b.addNode(&Node{Name: p.Node})
	}
	if p.IP == "" {
		p.IP = pl.nextIP()
	}
	if p.ServiceAccount == "" {
		p.ServiceAccount = "default"
	}
	p.Mode = podMode(b.nsSeen[p.Namespace], p.Labels, rp.annotations)
	if rp.hasSidecar {
		p.Mode = Sidecar
	} else if rp.ambientRedirected {
		p.Mode = Ambient
	}
	if rp.hostNetwork {
		p.Mode = OutOfMesh
	}
	if w != nil && (w.Ingress || w.Egress) {
		p.Mode = Sidecar // an Envoy with a mesh identity; see Path
	}
	b.t.Pods = append(b.t.Pods, p)
}

// workloadPods decides a workload's mode and adds its pods: the exported
// ones (sorted by name) or Replicas generated ones (one per node for a
// DaemonSet).
func (b *builder) workloadPods(pl *placer, w *Workload, real []*rawPod) {
	t := b.t
	if w.ServiceAccount == "" {
		w.ServiceAccount = "default"
	}
	w.Mode = podMode(b.nsSeen[w.Namespace], w.Labels, b.wlAnn[w])
	if b.wlNoMesh[w] {
		w.Mode = OutOfMesh
	}
	if w.Ingress || w.Egress {
		w.Mode = Sidecar // an Envoy with a mesh identity; see Path
	}
	if len(real) > 0 {
		sort.Slice(real, func(i, j int) bool { return real[i].pod.Name < real[j].pod.Name })
		for _, rp := range real {
			pl.addPod(rp, w)
			b.rep.RealPods++
		}
		if w.Kind != KindPod {
			w.Replicas = len(real)
		}
		w.Mode = real[0].pod.Mode
		for _, rp := range real {
			if w.ports == nil {
				w.ports = rp.ports
			}
		}
		return
	}
	if w.Kind == KindDaemonSet {
		w.Replicas = len(t.Nodes)
	}
	for i := 0; i < w.Replicas; i++ {
		name := fmt.Sprintf("%s-%d", w.Name, i)
		node := w.NodeName
		if w.Kind == KindDaemonSet {
			node = t.Nodes[i].Name
			name = w.Name + "-" + node
		}
		if w.Kind == KindPod {
			name = w.Name
		}
		pl.addPod(&rawPod{pod: &Pod{Namespace: w.Namespace, Name: name, Node: node,
			ServiceAccount: w.ServiceAccount, Labels: w.Labels}, annotations: b.wlAnn[w]}, w)
		b.rep.GeneratedPods++
	}
}

// attachWaypointPod makes an exported pod one of a waypoint's replicas.
func (b *builder) attachWaypointPod(pl *placer, rp *rawPod, wp *Waypoint) {
	p := rp.pod
	if p.Node == "" {
		p.Node = pl.nextNode()
	}
	if p.IP == "" {
		p.IP = pl.nextIP()
	}
	p.Mode = OutOfMesh // waypoint pods are never captured
	wp.Pods = append(wp.Pods, p)
	b.rep.RealPods++
}

// adoptOrphan places a pod whose owner was not exported: into its
// waypoint, into a workload named after the owner (a ReplicaSet's
// Deployment), or into a bare-pod workload (Jobs, unowned pods).
func (b *builder) adoptOrphan(pl *placer, rp *rawPod, wpByID map[string]*Waypoint, waypointOf map[*Workload]*Waypoint) {
	t := b.t
	p := rp.pod
	if g := p.Labels[lblGatewayName]; g != "" {
		if wp := wpByID[p.Namespace+"/"+g]; wp != nil {
			b.attachWaypointPod(pl, rp, wp)
			return
		}
	}
	name, kind := p.Name, KindPod
	if rp.ownerKind != "" && rp.ownerKind != "Job" && rp.ownerKind != KindPod {
		name, kind = rp.ownerName, rp.ownerKind
		if kind == KindReplicaSet {
			if d := deploymentFromReplicaSet(rp.ownerName, p.Labels["pod-template-hash"]); d != rp.ownerName {
				name, kind = d, KindDeployment
			}
		}
	}
	if prev := b.wlSeen[p.Namespace+"/"+name]; prev != nil {
		if wp := waypointOf[prev]; wp != nil {
			b.attachWaypointPod(pl, rp, wp)
			return
		}
		if prev.Kind == kind && kind != KindPod {
			pl.addPod(rp, prev)
			prev.Replicas++
			b.rep.RealPods++
			return
		}
		// A name clash with another kind: fall back to the pod's own name.
		name, kind = p.Name, KindPod
		if b.wlSeen[p.Namespace+"/"+name] != nil {
			b.rep.Warnings = append(b.rep.Warnings, fmt.Sprintf("pod %s: its workload name clashes with another object; pod ignored", p.ID()))
			return
		}
	}
	w := &Workload{Namespace: p.Namespace, Name: name, Kind: kind, ServiceAccount: p.ServiceAccount,
		Replicas: 1, Labels: p.Labels, Source: "pod " + p.ID(), ports: rp.ports}
	if w.ServiceAccount == "" {
		w.ServiceAccount = "default"
	}
	b.wlSeen[w.ID()] = w
	if isIngressLabels(w.Labels) || w.Labels[lblGatewayName] != "" {
		w.Ingress = true
	}
	if !w.Ingress && isSystemNamespace(w.Namespace, b.opts.RootNamespace) {
		w.System = true
	}
	if !w.Ingress && isEgressLabels(w.Labels) {
		w.Egress, w.System = true, true
	}
	t.Workloads = append(t.Workloads, w)
	pl.addPod(rp, w)
	w.Mode = p.Mode
	b.rep.RealPods++
}

// waypointReplicas gives every waypoint its pods: the exported pods of its
// Deployment, or Replicas generated ones; their service account defaults
// to the Gateway's name.
func (b *builder) waypointReplicas(pl *placer, roles workloadRoles, podsOf map[*Workload][]*rawPod) {
	for _, w := range roles.waypointWorkloads {
		wp := roles.waypointOf[w]
		for _, rp := range podsOf[w] {
			p := rp.pod
			if p.Node == "" {
				p.Node = pl.nextNode()
			}
			if p.IP == "" {
				p.IP = pl.nextIP()
			}
			p.Mode = OutOfMesh
			wp.Pods = append(wp.Pods, p)
			b.rep.RealPods++
		}
	}
	for _, wp := range b.t.Waypoints {
		if len(wp.Pods) > 0 {
			sort.Slice(wp.Pods, func(i, j int) bool { return wp.Pods[i].Name < wp.Pods[j].Name })
			wp.Replicas = len(wp.Pods)
		} else {
			for i := 0; i < wp.Replicas; i++ {
				wp.Pods = append(wp.Pods, &Pod{Namespace: wp.Namespace, Name: fmt.Sprintf("%s-%d", wp.Name, i),
					Node: pl.nextNode(), IP: pl.nextIP(), ServiceAccount: wp.Name, Mode: OutOfMesh,
					Labels: map[string]string{lblGatewayName: wp.Name}})
			}
		}
		for _, p := range wp.Pods {
			if p.ServiceAccount == "" || p.ServiceAccount == "default" {
				p.ServiceAccount = wp.Name
			}
		}
	}
}

// PodsOfRaw scans Pods for a workload's pods (used while building, before
// the index exists).
func (t *Topology) PodsOfRaw(w *Workload) []*Pod {
	var out []*Pod
	for _, p := range t.Pods {
		if p.Workload == w {
			out = append(out, p)
		}
	}
	return out
}

// ownerOf finds the workload a real pod belongs to.
func (b *builder) ownerOf(rp *rawPod) *Workload {
	p := rp.pod
	switch rp.ownerKind {
	case "":
		return nil
	case KindReplicaSet:
		if d, ok := b.rsOwner[p.Namespace+"/"+rp.ownerName]; ok {
			if w := b.wlSeen[p.Namespace+"/"+d]; w != nil {
				return w
			}
		}
		if w := b.wlSeen[p.Namespace+"/"+rp.ownerName]; w != nil && w.Kind == KindReplicaSet {
			return w
		}
		if w := b.wlSeen[p.Namespace+"/"+deploymentFromReplicaSet(rp.ownerName, p.Labels["pod-template-hash"])]; w != nil && w.Kind == KindDeployment {
			return w
		}
	default:
		if w := b.wlSeen[p.Namespace+"/"+rp.ownerName]; w != nil && w.Kind == rp.ownerKind {
			return w
		}
	}
	return nil
}

// deploymentFromReplicaSet strips the pod-template-hash suffix.
func deploymentFromReplicaSet(rs, hash string) string {
	if hash != "" && strings.HasSuffix(rs, "-"+hash) {
		return strings.TrimSuffix(rs, "-"+hash)
	}
	if i := strings.LastIndexByte(rs, '-'); i > 0 {
		return rs[:i]
	}
	return rs
}

func isSystemNamespace(ns, root string) bool {
	switch ns {
	case root, "kube-system", "kube-public", "kube-node-lease", "local-path-storage", "istio-system":
		return true
	}
	return false
}

// spreadByZone orders nodes so consecutive slots alternate zones: the i-th
// node of every zone, then the (i+1)-th, zones in first-seen order.
func spreadByZone(nodes []*Node) []*Node {
	var zones []string
	byZone := map[string][]*Node{}
	for _, n := range nodes {
		if _, ok := byZone[n.Zone]; !ok {
			zones = append(zones, n.Zone)
		}
		byZone[n.Zone] = append(byZone[n.Zone], n)
	}
	out := make([]*Node, 0, len(nodes))
	for i := 0; len(out) < len(nodes); i++ {
		for _, z := range zones {
			if i < len(byZone[z]) {
				out = append(out, byZone[z][i])
			}
		}
	}
	return out
}

// namespaceMode is the mode a namespace's labels give its pods.
func namespaceMode(labels map[string]string) Mode {
	return podMode(&Namespace{Labels: labels}, nil, nil)
}

// podMode decides a pod's dataplane mode from its namespace's and its own
// labels (and annotations): sidecar injection wins, then the pod's
// istio.io/dataplane-mode (none opts out), then the namespace's.
func podMode(ns *Namespace, labels, annotations map[string]string) Mode {
	var nsLabels map[string]string
	if ns != nil {
		nsLabels = ns.Labels
	}
	inject := labels[lblInject]
	if inject == "" {
		inject = annotations[lblInject]
	}
	nsInj := nsLabels[lblInjection]
	if inject != "false" && nsInj != "disabled" {
		if nsInj == "enabled" || (nsLabels[lblRev] != "" && nsInj == "") || inject == "true" || labels[lblRev] != "" {
			return Sidecar
		}
	}
	switch labels[lblDataplaneMode] {
	case "none":
		return OutOfMesh
	case "ambient":
		return Ambient
	}
	if nsLabels[lblDataplaneMode] == "ambient" {
		return Ambient
	}
	return OutOfMesh
}

// resolveWaypoints applies istio.io/use-waypoint on namespaces, services,
// workloads and pods, records issues, and derives each waypoint's scope.
func (b *builder) resolveWaypoints(wps map[string]*Waypoint) {
	t := b.t
	nsIssue := map[string]bool{}
	lookup := func(object, ns, name, wns string, wantService bool, inherited bool) *Waypoint {
		if name == "" || name == "none" {
			return nil
		}
		if wns == "" {
			wns = ns
		}
		id := wns + "/" + name
		issue := func(reason, detail string) {
			if strings.HasPrefix(object, "Namespace ") {
				if nsIssue[object+reason+id] {
					return
				}
				nsIssue[object+reason+id] = true
			}
			t.WaypointIssues = append(t.WaypointIssues, WaypointIssue{Object: object, Target: id, Reason: reason, Detail: detail})
		}
		g := b.gwSeen[id]
		if g == nil {
			issue("not-found", fmt.Sprintf("Gateway %s does not exist", id))
			return nil
		}
		wp := wps[id]
		if wp == nil {
			issue("not-a-waypoint", fmt.Sprintf("Gateway %s has gatewayClassName %q, not %s", id, g.Class, waypointClass))
			return nil
		}
		if !b.waypointAllows(g, ns) {
			issue("attachment-denied", fmt.Sprintf("waypoint %s admits Services and workloads only from %s (allowedRoutes.namespaces.from %s on its HBONE listener), so Istio refuses the attachment from namespace %s (AttachmentDenied)",
				id, b.allowedFromText(g), b.allowedFrom(g), ns))
			return nil
		}
		if wantService && !wp.ServesServices() {
			issue("unsupported-traffic-type", fmt.Sprintf("waypoint %s is for %q traffic, not service traffic", id, wp.For))
			return nil
		}
		if !wantService && !wp.ServesWorkloads() {
			if !inherited {
				issue("unsupported-traffic-type", fmt.Sprintf("waypoint %s is for %q traffic, not workload traffic", id, wp.For))
			}
			return nil
		}
		return wp
	}
	for _, s := range t.Services {
		ns := b.nsSeen[s.Namespace]
		name, wns := s.Labels[lblUseWaypoint], s.Labels[lblUseWaypointNS]
		object := "Service " + s.ID()
		if name == "" {
			name, wns = ns.Labels[lblUseWaypoint], ns.Labels[lblUseWaypointNS]
			object = "Namespace " + s.Namespace
		}
		if name != "" && name != "none" {
			w := wns
			if w == "" {
				w = s.Namespace
			}
			s.UseWaypoint = w + "/" + name
		}
		s.Waypoint = lookup(object, s.Namespace, name, wns, true, false)
		if s.Waypoint != nil {
			s.Waypoint.Serves = append(s.Waypoint.Serves, s)
		}
		v := s.Labels[lblIngressUseWaypoint]
		if v == "" {
			v = ns.Labels[lblIngressUseWaypoint]
		}
		s.IngressUseWaypoint = v == "true"
	}
	// ServiceEntries bind like Services (waypoints.go: the object's label,
	// then its namespace's); in ambient this is how egress goes through a
	// waypoint.
	for _, se := range t.ServiceEntries {
		ns := b.nsSeen[se.Namespace]
		name, wns := se.Labels[lblUseWaypoint], se.Labels[lblUseWaypointNS]
		object := "ServiceEntry " + se.ID()
		if name == "" && ns != nil {
			name, wns = ns.Labels[lblUseWaypoint], ns.Labels[lblUseWaypointNS]
			object = "Namespace " + se.Namespace
		}
		if name != "" && name != "none" {
			w := wns
			if w == "" {
				w = se.Namespace
			}
			se.UseWaypoint = w + "/" + name
		}
		se.Waypoint = lookup(object, se.Namespace, name, wns, true, false)
	}
	for _, w := range t.Workloads {
		ns := b.nsSeen[w.Namespace]
		name, wns := w.Labels[lblUseWaypoint], w.Labels[lblUseWaypointNS]
		object, inherited := "Workload "+w.ID(), false
		if name == "" {
			name, wns = ns.Labels[lblUseWaypoint], ns.Labels[lblUseWaypointNS]
			object, inherited = "Namespace "+w.Namespace, true
		}
		w.Waypoint = lookup(object, w.Namespace, name, wns, false, inherited)
		if w.Waypoint != nil {
			w.UseWaypoint = w.Waypoint.ID()
			w.Waypoint.Workloads = append(w.Waypoint.Workloads, w)
		}
	}
	for _, p := range t.Pods {
		if p.Workload == nil {
			continue
		}
		p.Waypoint = p.Workload.Waypoint
		if p.Labels[lblUseWaypoint] != p.Workload.Labels[lblUseWaypoint] && p.Labels[lblUseWaypoint] != "" {
			p.Waypoint = lookup("Pod "+p.ID(), p.Namespace, p.Labels[lblUseWaypoint], p.Labels[lblUseWaypointNS], false, false)
		}
	}
	// Scope: what attaches to the waypoint.
	nsRefs := map[string]bool{}
	for _, ns := range t.Namespaces {
		if name := ns.Labels[lblUseWaypoint]; name != "" && name != "none" {
			wns := ns.Labels[lblUseWaypointNS]
			if wns == "" {
				wns = ns.Name
			}
			nsRefs[wns+"/"+name] = true
		}
	}
	for _, wp := range t.Waypoints {
		explicit := 0
		for _, s := range wp.Serves {
			if s.Labels[lblUseWaypoint] != "" {
				explicit++
			}
		}
		switch {
		case nsRefs[wp.ID()]:
			wp.Scope = ScopeNamespace
		case len(wp.Serves) == 0 && len(wp.Workloads) > 0:
			wp.Scope = ScopeServiceAccount
		case explicit == 1:
			wp.Scope = ScopeDedicated
		default:
			wp.Scope = ScopeService
		}
	}
	sort.SliceStable(t.WaypointIssues, func(i, j int) bool {
		a, c := t.WaypointIssues[i], t.WaypointIssues[j]
		if a.Object != c.Object {
			return a.Object < c.Object
		}
		return a.Target < c.Target
	})
}

// resolveNamedPorts resolves named Service targetPorts against the
// container ports of the workloads the Service selects; unresolved names
// fall back to the service port (and are reported).
func (b *builder) resolveNamedPorts() {
	for _, s := range b.t.Services {
		for i := range s.Ports {
			sp := &s.Ports[i]
			if sp.TargetName == "" {
				continue
			}
			sp.TargetPort = 0
			for _, w := range b.t.Workloads {
				if w.Namespace == s.Namespace && len(s.Selector) > 0 && labelsMatch(s.Selector, w.Labels) {
					if n, ok := w.ports[sp.TargetName]; ok {
						sp.TargetPort = n
						break
					}
				}
			}
			if sp.TargetPort == 0 {
				sp.TargetPort = sp.Port
				b.rep.Warnings = append(b.rep.Warnings, fmt.Sprintf("%s: Service %s port %d: named targetPort %q matches no container port of the selected pods; assuming %d",
					s.Source, s.ID(), sp.Port, sp.TargetName, sp.Port))
			}
		}
	}
}

// hboneListener returns a waypoint Gateway's HBONE listener (port 15008),
// which decides who may attach (waypoints.go makeAllowedRoutes).
func hboneListener(g *Gateway) (Listener, bool) {
	for _, l := range g.Listeners {
		if l.Protocol == "HBONE" && l.Port == hbonePort {
			return l, true
		}
	}
	return Listener{}, false
}

func (b *builder) allowedFrom(g *Gateway) string {
	if l, ok := hboneListener(g); ok {
		return l.AllowedFrom
	}
	return "Same"
}

func (b *builder) allowedFromText(g *Gateway) string {
	switch b.allowedFrom(g) {
	case "Selector":
		return "namespaces matching its selector"
	case "None":
		return "no namespace"
	}
	return "its own namespace " + g.Namespace
}

// waypointAllows applies the waypoint's allowedRoutes to an object in
// namespace ns (waypoints.go AllowsAttachmentFromNamespace): Same (the
// default, also without an HBONE listener) admits only the waypoint's own
// namespace.
func (b *builder) waypointAllows(g *Gateway, ns string) bool {
	l, ok := hboneListener(g)
	if !ok {
		return ns == g.Namespace
	}
	switch l.AllowedFrom {
	case "All":
		return true
	case "Selector":
		n := b.nsSeen[ns]
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
