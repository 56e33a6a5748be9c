package topology

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// This file groups the path matrix into equivalence classes, so that a
// cluster of 10,000 services is evaluated as a few hundred class pairs
// instead of 10^8 source × destination pairs.
//
// Source classes. Everything a proxy on the path knows about a source is
// its dataplane mode (which proxies are on the path, and whether it has an
// identity) and the peer fields policies match on: principal, namespace,
// service account, address (ambient-internals.md §4.3). Two sources are in
// one class when they have the same modes and every policy predicate that
// could look at them — each present field of each `from.source` of every
// AuthorizationPolicy, each `when` condition on source.*, each NetworkPolicy
// ingress peer — says the same about both. Then every path they take and
// every decision on it is the same, because Evaluate reads nothing else of
// the source (peerOf). Ingress gateways each form their own class (their
// rows follow their routes), and so does the client outside the cluster.
//
// Destination classes. A destination unit is a Service port (or a
// ServiceEntry port). Its fingerprint is the path shape it gets from a
// representative of every source class — category, bypass, the proxies on
// the path with source- and destination-specific instances left as roles,
// the waypoint, and the verdict — so two units are in one class exactly
// when every source class sees them the same way. The node of a ztunnel hop
// and the pod of a sidecar hop are the only member-specific parts of a
// row, filled in when rows are expanded.
//
// Rows. A cell (source class, destination class) holds |sources| ×
// |units| rows, less the pairs the matrix leaves out (a workload's own
// Services; ingress rows outside its routes; external rows to Services
// that are not exposed). With a call graph the rows are its edges.

// SourceClass is a set of sources that every proxy and policy treats alike.
type SourceClass struct {
	ID       string      // S1, S2, ... (largest first)
	Members  []*Workload // sorted by ID
	Mode     Mode        // dataplane mode of the members' pods
	Ingress  bool        // ingress gateways (each its own class)
	External bool        // the client outside the cluster
	// Traits are the policy predicates that hold for the class, e.g.
	// "named by AuthorizationPolicy ns/p (rules[0].from[0].namespaces)";
	// empty when no policy tells its members apart from other sources of
	// the same mode.
	Traits []string

	idx     int
	repPod  *Pod // the representative's first pod (nil for External)
	targets map[Unit]bool
	hasTgt  bool // an ingress whose routes are known: rows only to targets
}

// DestClass is a set of destination ports every source class reaches the
// same way.
type DestClass struct {
	ID    string // D1, D2, ... (largest first)
	Units []Unit // sorted by destination ID, port
	// Traits describe the class: the Service's mode and waypoint, its
	// port protocol and, for its first unit, the policies on the path.
	Traits []string

	idx int
}

// Unit is one destination of the path matrix: a Service (or a ServiceEntry,
// through its AsService view) and one of its ports.
type Unit struct {
	Service *Service
	Port    int
}

// Hop roles in a PathShape: whose instance a hop names.
const (
	RoleSource      = "source"      // the source pod's proxy: ztunnel/<source node>, sidecar/<source pod>, gateway/<source pod>
	RoleDestination = "destination" // the destination endpoint's proxy
	RoleExternal    = "external"    // external/<host> of a ServiceEntry
)

// HopTemplate is a hop of a PathShape: a fixed instance (a waypoint), or a
// role filled in per row.
type HopTemplate struct {
	Kind     string
	Role     string // RoleSource | RoleDestination | RoleExternal | "" (Instance is fixed)
	Instance string // fixed instance, "" for a role
}

// String renders the hop, with a role as <source node>, <destination pod>,
// <host>.
func (h HopTemplate) String() string {
	if h.Role == "" {
		return h.Instance
	}
	if h.Role == RoleExternal {
		return HopExternal + "/<host>"
	}
	what := "pod"
	if h.Kind == HopZtunnel {
		what = "node"
	}
	return h.Kind + "/<" + h.Role + " " + what + ">"
}

// instance fills the hop's role in for a row from src to endpoint ep of
// destination s.
func (h HopTemplate) instance(src, ep *Pod, s *Service) string {
	var p *Pod
	switch h.Role {
	case "":
		return h.Instance
	case RoleExternal:
		return HopExternal + "/" + s.Name
	case RoleSource:
		p = src
	default:
		p = ep
	}
	switch h.Kind {
	case HopZtunnel:
		return "ztunnel/" + p.Node
	case HopSidecar:
		return "sidecar/" + p.Namespace + "/" + p.Name
	case HopGateway:
		return "gateway/" + p.Namespace + "/" + p.Name
	}
	return h.Kind + "/" + p.Namespace + "/" + p.Name
}

// PathShape is a path with its member-specific hop instances left as
// roles: what every row of the cells that share it looks like.
type PathShape struct {
	ID       string // P1, P2, ... (most rows first)
	Category Category
	Bypass   bool
	Hops     []HopTemplate
	Waypoint *Waypoint
	Reason   string
	Denied   string      // why every connection is refused, "" if admitted
	DeniedBy HopTemplate // the refusing proxy (Kind "" when not denied or not a proxy)
	// DeniedByText is the refusing party when it is not a proxy on the
	// path ("networkpolicy"), with the policy, as Path.DeniedBy shows it.
	DeniedPolicy string
	Rows         int64

	idx int
}

// HopsString renders the hops as "a -> b" with roles, "direct" when empty.
func (s *PathShape) HopsString() string {
	if len(s.Hops) == 0 {
		return "direct"
	}
	parts := make([]string, len(s.Hops))
	for i, h := range s.Hops {
		parts[i] = h.String()
	}
	return strings.Join(parts, " -> ")
}

// DeniedByString renders the refusing proxy and policy with roles.
func (s *PathShape) DeniedByString() string {
	by := s.DeniedBy.String()
	if s.DeniedPolicy != "" {
		by += " (" + s.DeniedPolicy + ")"
	}
	return by
}

// Cell is one (source class, destination class) pair of the matrix and
// the shape all its rows share.
type Cell struct {
	Source *SourceClass
	Dest   *DestClass
	Shape  *PathShape
	Rows   int64
}

// Matrix is the path matrix in equivalence classes. Build it with
// Topology.Matrix; expand rows with EachPair.
type Matrix struct {
	Rows          int64 // rows of the full matrix
	CallGraph     bool  // rows are the call-graph edges
	SourceClasses []*SourceClass
	DestClasses   []*DestClass
	Shapes        []*PathShape
	Cells         []Cell // every cell with rows, by source class then destination class

	t         *Topology
	sources   []*Workload // rows' sources, sorted by ID
	srcClass  map[*Workload]*SourceClass
	units     []Unit // sorted by destination ID, port
	unitClass []int32
	unitIdx   map[Unit]int // first unit with that service and port
	unitsOf   map[*Service][]int
	shapeOf   [][]int32 // [source class][dest class] → shape, -1 = no rows possible
	cellRows  [][]int64
	own       map[*Workload][]int // unit indices a workload's own Services give (left out of its rows)
	calls     []callRow
	// targetOnly marks units that exist only as an ingress route's target
	// (a backend port the Service does not declare).
	targetOnly map[Unit]bool
}

type callRow struct {
	src  *Workload
	unit int
}

// Matrix returns the path matrix in equivalence classes (computed once).
func (t *Topology) Matrix() *Matrix {
	t.index()
	t.mxOnce.Do(func() { t.mx = t.buildMatrix() })
	return t.mx
}

// sigProbe holds every predicate a policy can apply to a source.
type sigProbe struct {
	srcs  []*cSource
	conds []*cCond
	nps   []npPeerProbe
	names []string // one per predicate bit, for Traits
}

type npPeerProbe struct {
	np   *NetworkPolicy
	peer NetworkPolicyPeer
}

// source-field bits of a cSource, in this order.
var cSourceFields = []string{"principals", "notPrincipals", "namespaces", "notNamespaces", "serviceAccounts",
	"notServiceAccounts", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"}

func (c *cSource) present() [10]bool {
	return [10]bool{c.hasPrincipals, c.hasNotPrinc, c.hasNS, c.hasNotNS, c.hasSA, c.hasNotSA, c.hasIP, c.hasNotIP, c.hasRemote, c.hasNotRemote}
}

// sourceBits evaluates each present field of c for pr, exactly as
// cSource.matches does.
func (c *cSource) sourceBits(pr *peer) [10]bool {
	return [10]bool{
		anyStr(c.principals, pr.principal, pr.hasID), anyStr(c.notPrincipals, pr.principal, pr.hasID),
		anyStr(c.namespaces, pr.ns, pr.hasID), anyStr(c.notNamespaces, pr.ns, pr.hasID),
		pr.hasID && saIn(c.sas, pr.ns, pr.sa), pr.hasID && saIn(c.notSAs, pr.ns, pr.sa),
		anyPrefix(c.ipBlocks, pr.ip), anyPrefix(c.notIPBlocks, pr.ip),
		anyPrefix(c.remoteIPs, pr.ip), anyPrefix(c.notRemoteIPs, pr.ip),
	}
}

func (t *Topology) newSigProbe() *sigProbe {
	pi := t.index().pol
	sp := &sigProbe{}
	for i, cp := range pi.full {
		ap := t.AuthorizationPolicies[i]
		for ri := range cp.rules {
			r := &cp.rules[ri]
			for fi := range r.from {
				c := &r.from[fi]
				sp.srcs = append(sp.srcs, c)
				for k, ok := range c.present() {
					if ok {
						sp.names = append(sp.names, fmt.Sprintf("AuthorizationPolicy %s rules[%d].from[%d].%s", ap.ID(), ri, fi, cSourceFields[k]))
					}
				}
			}
			for ci := range r.when {
				c := &r.when[ci]
				if strings.HasPrefix(c.key, "source.") {
					sp.conds = append(sp.conds, c)
					sp.names = append(sp.names, fmt.Sprintf("AuthorizationPolicy %s rules[%d].when[%s]", ap.ID(), ri, c.key))
				}
			}
		}
	}
	for _, np := range t.NetworkPolicies {
		if !np.AffectsIngress() {
			continue
		}
		for ri, r := range np.Ingress {
			for pi, peer := range r.Peers {
				sp.nps = append(sp.nps, npPeerProbe{np: np, peer: peer})
				sp.names = append(sp.names, fmt.Sprintf("NetworkPolicy %s ingress[%d].from[%d]", np.ID(), ri, pi))
			}
		}
	}
	return sp
}

// signature returns the predicate bits for a source pod ('0'/'1' per bit).
func (t *Topology) signature(sp *sigProbe, p *Pod) []byte {
	pr := t.peerOf(p)
	out := make([]byte, 0, len(sp.names))
	bit := func(b bool) {
		if b {
			out = append(out, '1')
		} else {
			out = append(out, '0')
		}
	}
	for _, c := range sp.srcs {
		present, bits := c.present(), c.sourceBits(&pr)
		for k := range present {
			if present[k] {
				bit(bits[k])
			}
		}
	}
	for _, c := range sp.conds {
		bit(c.matches(&pr))
	}
	for _, n := range sp.nps {
		bit(t.npPeerMatch(n.np, n.peer, p))
	}
	return out
}

func containsWorkload(ws []*Workload, w *Workload) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// unitKind says which sources get rows to a unit.
const (
	unitService = iota // a mesh destination: every non-ingress source, ingress without known routes
	unitGateway        // an ingress gateway's own Service: only the external client
	unitEgress         // a ServiceEntry port: every non-ingress source
)

func (m *Matrix) unitKind(u Unit) int {
	switch {
	case u.Service.entry != nil:
		return unitEgress
	case m.t.isGatewayService(u.Service):
		return unitGateway
	}
	return unitService
}

// allowed reports whether class c has rows to unit u at all (before the
// member-level exclusion of a workload's own Services).
func (m *Matrix) allowed(c *SourceClass, u Unit) bool {
	if m.CallGraph {
		return true
	}
	switch {
	case m.targetOnly[u] && !c.hasTgt:
		return false
	case c.External:
		s := u.Service
		return s.entry == nil && s.Exposed() && !(u.Port == 15021 && s.Labels[lblGatewayName] != "")
	case c.hasTgt:
		return c.targets[u]
	case c.Ingress:
		return m.unitKind(u) == unitService
	}
	return m.unitKind(u) != unitGateway
}

func (t *Topology) buildMatrix() *Matrix {
	m := &Matrix{t: t, srcClass: map[*Workload]*SourceClass{}, unitIdx: map[Unit]int{}, own: map[*Workload][]int{}, targetOnly: map[Unit]bool{}}
	m.CallGraph = len(t.Calls) > 0
	// Sources and units.
	if m.CallGraph {
		seen := map[string]bool{}
		srcSeen := map[*Workload]bool{}
		for _, c := range t.Calls {
			key := c.From.ID() + ">" + c.To.ID() + ":" + strconv.Itoa(c.Port)
			if seen[key] || len(t.PodsOf(c.From)) == 0 {
				continue
			}
			seen[key] = true
			u := Unit{Service: c.To, Port: c.Port}
			if _, ok := m.unitIdx[u]; !ok {
				m.unitIdx[u] = len(m.units)
				m.units = append(m.units, u)
			}
			if !srcSeen[c.From] {
				srcSeen[c.From] = true
				m.sources = append(m.sources, c.From)
			}
			m.calls = append(m.calls, callRow{src: c.From, unit: m.unitIdx[u]})
		}
	} else {
		m.sources = append(m.sources, t.sources()...)
		exposed := false
		for _, s := range t.Services {
			for _, sp := range s.Ports {
				m.units = append(m.units, Unit{Service: s, Port: sp.Port})
			}
			exposed = exposed || s.Exposed()
		}
		for _, se := range t.ServiceEntries {
			for _, sp := range se.Ports {
				m.units = append(m.units, Unit{Service: se.AsService(), Port: sp.Port})
			}
		}
		if exposed {
			m.sources = append(m.sources, ExternalClient)
		}
		// An ingress route may name a port its backend Service does not
		// have; that row exists for the ingress only.
		have := make(map[Unit]bool, len(m.units))
		for _, u := range m.units {
			have[u] = true
		}
		for _, w := range m.sources {
			if !w.Ingress {
				continue
			}
			if targets, ok := t.IngressTargets(w); ok {
				for _, tg := range targets {
					if u := (Unit{Service: tg.Service, Port: tg.Port}); !have[u] {
						have[u] = true
						m.units = append(m.units, u)
						m.targetOnly[u] = true
					}
				}
			}
		}
	}
	sort.SliceStable(m.sources, func(i, j int) bool { return m.sources[i].ID() < m.sources[j].ID() })
	// Units in row order (destination ID, port; ties keep input order),
	// and the call rows renumbered to match.
	perm := make([]int, len(m.units))
	for i := range perm {
		perm[i] = i
	}
	sort.SliceStable(perm, func(i, j int) bool {
		a, b := m.units[perm[i]], m.units[perm[j]]
		if a.Service.ID() != b.Service.ID() {
			return a.Service.ID() < b.Service.ID()
		}
		return a.Port < b.Port
	})
	sorted := make([]Unit, len(m.units))
	newIdx := make([]int, len(m.units))
	for i, p := range perm {
		sorted[i] = m.units[p]
		newIdx[p] = i
	}
	m.units = sorted
	for i := range m.calls {
		m.calls[i].unit = newIdx[m.calls[i].unit]
	}
	m.unitIdx = make(map[Unit]int, len(m.units))
	m.unitsOf = map[*Service][]int{}
	for i, u := range m.units {
		if _, dup := m.unitIdx[u]; !dup {
			m.unitIdx[u] = i
		}
		m.unitsOf[u.Service] = append(m.unitsOf[u.Service], i)
	}
	m.sourceClasses()
	m.destClasses()
	m.countRows()
	return m
}

// sourceClasses partitions the sources by signature.
func (m *Matrix) sourceClasses() {
	t := m.t
	sp := t.newSigProbe()
	byKey := map[string]*SourceClass{}
	var classes []*SourceClass
	// Every source is classified, also those without rows (a call graph
	// lists some): the audit groups findings by the same classes.
	all := append([]*Workload(nil), t.sources()...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].ID() < all[j].ID() })
	if containsWorkload(m.sources, ExternalClient) {
		all = append(all, ExternalClient)
	}
	for _, w := range all {
		var key string
		c := &SourceClass{}
		switch {
		case w == ExternalClient:
			key, c.External, c.Mode = "external", true, OutOfMesh
		case w.Ingress || t.identityClasses:
			key = "workload " + w.ID()
		}
		var pod *Pod
		if w != ExternalClient {
			pod = t.PodsOf(w)[0]
			c.Mode, c.Ingress = pod.Mode, w.Ingress
			if key == "" {
				key = string(pod.Mode) + "|" + string(w.Mode) + "|" + string(t.signature(sp, pod))
			}
		}
		if prev := byKey[key]; prev != nil {
			prev.Members = append(prev.Members, w)
			m.srcClass[w] = prev
			continue
		}
		c.Members, c.repPod = []*Workload{w}, pod
		if pod != nil {
			bits := t.signature(sp, pod)
			for i, b := range bits {
				if b == '1' {
					c.Traits = append(c.Traits, sp.names[i])
				}
			}
		}
		if w.Ingress {
			if targets, ok := t.IngressTargets(w); ok {
				c.hasTgt, c.targets = true, map[Unit]bool{}
				for _, tg := range targets {
					c.targets[Unit{Service: tg.Service, Port: tg.Port}] = true
				}
			}
		}
		byKey[key] = c
		m.srcClass[w] = c
		classes = append(classes, c)
	}
	sort.SliceStable(classes, func(i, j int) bool { return len(classes[i].Members) > len(classes[j].Members) })
	for i, c := range classes {
		c.idx, c.ID = i, "S"+strconv.Itoa(i+1)
	}
	m.SourceClasses = classes
}

// shapeKey identifies a shape for interning.
func shapeKey(s *PathShape) string {
	var b strings.Builder
	b.WriteString(string(s.Category))
	if s.Bypass {
		b.WriteString("|bypass")
	}
	b.WriteString("|")
	if s.Waypoint != nil {
		b.WriteString(s.Waypoint.ID())
	}
	for _, h := range s.Hops {
		b.WriteString("|" + h.Kind + "," + h.Role + "," + h.Instance)
	}
	b.WriteString("|" + s.Reason + "|" + s.Denied + "|" + s.DeniedBy.Kind + "," + s.DeniedBy.Role + "," + s.DeniedBy.Instance + "|" + s.DeniedPolicy)
	return b.String()
}

// rowPath returns the path and verdict of the row from src (nil = outside
// the cluster) to unit u, as the pairwise matrix computes it.
func (t *Topology) rowPath(src *Pod, external bool, u Unit) Path {
	s := u.Service
	if s.entry != nil {
		return t.EgressPathPort(src, s.entry, u.Port)
	}
	p := t.PathFrom(src, s, u.Port)
	if external && t.isGatewayService(s) {
		p.Bypass = false // the gateway is the entry point; its routes lead on
	}
	t.judgePath(src, &p, s, u.Port)
	return p
}

// shapeFromPath turns a concrete path from src to endpoint ep into a
// shape, replacing instances by roles.
func shapeFromPath(p Path, src *Pod) PathShape {
	sh := PathShape{Category: p.Category, Bypass: p.Bypass, Waypoint: p.Waypoint, Reason: p.Reason, Denied: p.Denied}
	sh.Hops = make([]HopTemplate, len(p.Hops))
	// On an egress path a gateway hop after the source is the egress
	// gateway: a fixed instance, like a waypoint.
	egress := len(p.Hops) > 0 && p.Hops[len(p.Hops)-1].Kind == HopExternal
	for i, h := range p.Hops {
		ht := HopTemplate{Kind: h.Kind}
		srcHop := i == 0 && src != nil && src.Instance() != ""
		switch {
		case srcHop && h.Kind != HopWaypoint && h.Kind != HopExternal:
			ht.Role = RoleSource
		case h.Kind == HopWaypoint, egress && h.Kind == HopGateway:
			ht.Instance = h.Instance
		case h.Kind == HopExternal:
			ht.Role = RoleExternal
		default:
			ht.Role = RoleDestination
		}
		sh.Hops[i] = ht
	}
	if p.Denied != "" {
		by, pol := p.DeniedBy, ""
		if i := strings.Index(by, " ("); i >= 0 && strings.HasSuffix(by, ")") {
			by, pol = by[:i], by[i+2:len(by)-1]
		}
		sh.DeniedPolicy = pol
		ep := p.Endpoint
		switch {
		case ep != nil && by == "ztunnel/"+ep.Node:
			sh.DeniedBy = HopTemplate{Kind: HopZtunnel, Role: RoleDestination}
		case ep != nil && by == "sidecar/"+ep.Namespace+"/"+ep.Name:
			sh.DeniedBy = HopTemplate{Kind: HopSidecar, Role: RoleDestination}
		default:
			sh.DeniedBy = HopTemplate{Instance: by}
		}
	}
	return sh
}

// destClasses computes each unit's fingerprint against every source class
// and groups units with equal fingerprints.
func (m *Matrix) destClasses() {
	t := m.t
	shapeIdx := map[string]int32{}
	nsc := len(m.SourceClasses)
	type dclass struct {
		c   *DestClass
		fp  []int32
		pos int
	}
	byFP := map[string][]*dclass{}
	var dcs []*dclass
	m.unitClass = make([]int32, len(m.units))
	fp := make([]int32, nsc)
	key := make([]byte, 0, 4*nsc)
	// Units with the same destination key see the same thing from every
	// source (destKey lists all Evaluate and PathFrom read of a
	// destination): evaluate one of them. The identity partition of the
	// tests evaluates every unit, so the property test checks destKey too.
	known := map[string][]int32{}
	dk := &destKeyer{m: m, ix: t.index()}
	for ui, u := range m.units {
		var pre string
		if !t.identityClasses {
			pre = dk.key(u)
			if v, ok := known[pre]; ok {
				copy(fp, v)
				goto classify
			}
		}
		for ci, c := range m.SourceClasses {
			if !m.allowed(c, u) {
				fp[ci] = -1
				continue
			}
			p := t.rowPath(c.repPod, c.External, u)
			sh := shapeFromPath(p, c.repPod)
			k := shapeKey(&sh)
			id, ok := shapeIdx[k]
			if !ok {
				id = int32(len(m.Shapes))
				shapeIdx[k] = id
				sh.idx = int(id)
				m.Shapes = append(m.Shapes, &sh)
			}
			fp[ci] = id
		}
		if !t.identityClasses {
			known[pre] = append([]int32(nil), fp...)
		}
	classify:
		key = key[:0]
		for _, v := range fp {
			key = append(key, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		}
		if t.identityClasses {
			key = append(key, []byte("|"+strconv.Itoa(ui))...)
		}
		var found *dclass
		for _, d := range byFP[string(key)] {
			if slices.Equal(d.fp, fp) {
				found = d
				break
			}
		}
		if found == nil {
			found = &dclass{c: &DestClass{}, fp: append([]int32(nil), fp...), pos: len(dcs)}
			byFP[string(key)] = append(byFP[string(key)], found)
			dcs = append(dcs, found)
		}
		found.c.Units = append(found.c.Units, u)
		m.unitClass[ui] = int32(found.pos)
	}
	// Number classes largest first; keep the fingerprints aligned.
	order := make([]int, len(dcs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return len(dcs[order[i]].c.Units) > len(dcs[order[j]].c.Units) })
	renum := make([]int32, len(dcs))
	m.DestClasses = make([]*DestClass, len(dcs))
	m.shapeOf = make([][]int32, nsc)
	for ci := range m.shapeOf {
		m.shapeOf[ci] = make([]int32, len(dcs))
	}
	for newIdx, oldIdx := range order {
		d := dcs[oldIdx]
		d.c.idx, d.c.ID = newIdx, "D"+strconv.Itoa(newIdx+1)
		renum[oldIdx] = int32(newIdx)
		m.DestClasses[newIdx] = d.c
		for ci := range m.shapeOf {
			m.shapeOf[ci][newIdx] = d.fp[ci]
		}
	}
	for i := range m.unitClass {
		m.unitClass[i] = renum[m.unitClass[i]]
	}
	for _, d := range m.DestClasses {
		d.Traits = t.destTraits(d.Units[0])
	}
}

// countRows fills cell row counts, shape totals and the Cells list.
func (m *Matrix) countRows() {
	t := m.t
	m.cellRows = make([][]int64, len(m.SourceClasses))
	for ci := range m.cellRows {
		m.cellRows[ci] = make([]int64, len(m.DestClasses))
	}
	if m.CallGraph {
		for _, r := range m.calls {
			m.cellRows[m.srcClass[r.src].idx][m.unitClass[r.unit]]++
		}
	} else {
		// Full rows per class and unit, then the own-Service exclusions.
		for ui, u := range m.units {
			d := m.unitClass[ui]
			for _, c := range m.SourceClasses {
				if !m.allowed(c, u) {
					continue
				}
				if c.hasTgt || c.External {
					m.cellRows[c.idx][d]++
					continue
				}
				m.cellRows[c.idx][d] += int64(len(c.Members))
			}
		}
		for _, w := range m.sources {
			c := m.srcClass[w]
			if c.External || c.hasTgt {
				continue
			}
			for _, s := range t.ownServices(w) {
				for _, ui := range m.unitsOf[s] {
					if m.allowed(c, m.units[ui]) {
						m.own[w] = append(m.own[w], ui)
						m.cellRows[c.idx][m.unitClass[ui]]--
					}
				}
			}
			sort.Ints(m.own[w])
		}
	}
	for _, c := range m.SourceClasses {
		for di, d := range m.DestClasses {
			n := m.cellRows[c.idx][di]
			if n <= 0 {
				continue
			}
			sh := m.Shapes[m.shapeOf[c.idx][di]]
			sh.Rows += n
			m.Rows += n
			m.Cells = append(m.Cells, Cell{Source: c, Dest: d, Shape: sh, Rows: n})
		}
	}
	// Shapes: most rows first (shapes without rows last), numbered.
	sort.SliceStable(m.Shapes, func(i, j int) bool { return m.Shapes[i].Rows > m.Shapes[j].Rows })
	remap := make([]int32, len(m.Shapes))
	for i, sh := range m.Shapes {
		remap[sh.idx] = int32(i)
		sh.idx, sh.ID = i, "P"+strconv.Itoa(i+1)
	}
	for ci := range m.shapeOf {
		for di, v := range m.shapeOf[ci] {
			if v >= 0 {
				m.shapeOf[ci][di] = remap[v]
			}
		}
	}
	// Drop shapes no row has (only seen by classes without rows there).
	n := 0
	for _, sh := range m.Shapes {
		if sh.Rows > 0 {
			n++
		}
	}
	m.Shapes = m.Shapes[:n]
}

// ownServices returns the Services that select workload w (the matrix
// leaves them out of w's rows), using the selector index.
func (t *Topology) ownServices(w *Workload) []*Service {
	ix := t.index()
	var out []*Service
	for k, v := range w.Labels {
		for _, s := range ix.svcBySelector[w.Namespace+"\x00"+k+"="+v] {
			if labelsMatch(s.Selector, w.Labels) {
				out = append(out, s)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

// SourceClassOf returns the class of a source workload, nil when it has no
// rows.
func (m *Matrix) SourceClassOf(w *Workload) *SourceClass { return m.srcClass[w] }

// DestClassOf returns the class of a destination unit, nil if unknown.
func (m *Matrix) DestClassOf(u Unit) *DestClass {
	i, ok := m.unitIdx[u]
	if !ok {
		return nil
	}
	return m.DestClasses[m.unitClass[i]]
}

// CellShape returns the shape of the rows from class c to class d, nil
// when the cell has no rows.
func (m *Matrix) CellShape(c *SourceClass, d *DestClass) *PathShape {
	if m.cellRows[c.idx][d.idx] <= 0 {
		return nil
	}
	return m.Shapes[m.shapeOf[c.idx][d.idx]]
}

// EachPair calls fn for every row of the matrix in the order of
// PathReport.Pairs (source, destination, port), until fn returns false.
// Rows are built on the fly: memory stays proportional to the classes, not
// to the rows.
func (m *Matrix) EachPair(fn func(PathPair) bool) {
	if m.CallGraph {
		rows := append([]callRow(nil), m.calls...)
		sort.SliceStable(rows, func(i, j int) bool {
			a, b := rows[i], rows[j]
			if a.src.ID() != b.src.ID() {
				return a.src.ID() < b.src.ID()
			}
			return a.unit < b.unit
		})
		for _, r := range rows {
			if !fn(m.pair(m.srcClass[r.src], r.src, r.unit)) {
				return
			}
		}
		return
	}
	for _, w := range m.sources {
		c := m.srcClass[w]
		own := m.own[w]
		for ui, u := range m.units {
			if len(own) > 0 && own[0] == ui {
				own = own[1:]
				continue
			}
			if !m.allowed(c, u) {
				continue
			}
			if !fn(m.pair(c, w, ui)) {
				return
			}
		}
	}
}

// pair builds one row from its cell's shape.
func (m *Matrix) pair(c *SourceClass, w *Workload, ui int) PathPair {
	u := m.units[ui]
	sh := m.Shapes[m.shapeOf[c.idx][m.unitClass[ui]]]
	var src, ep *Pod
	if !c.External {
		src = m.t.PodsOf(w)[0]
	}
	if u.Service.entry == nil {
		if eps := m.t.EndpointsOf(u.Service); len(eps) > 0 {
			ep = eps[0]
		}
	}
	p := Path{Category: sh.Category, Bypass: sh.Bypass, Waypoint: sh.Waypoint, Endpoint: ep, Reason: sh.Reason, Denied: sh.Denied}
	if len(sh.Hops) > 0 {
		p.Hops = make([]Hop, len(sh.Hops))
		for i, h := range sh.Hops {
			p.Hops[i] = Hop{Kind: h.Kind, Instance: h.instance(src, ep, u.Service)}
		}
	} else if u.Service.entry == nil {
		p.Hops = make([]Hop, 0, 3) // as resolvePath: empty, not nil
	}
	if sh.Denied != "" {
		p.DeniedBy = sh.DeniedBy.instance(src, ep, u.Service)
		if sh.DeniedPolicy != "" {
			p.DeniedBy += " (" + sh.DeniedPolicy + ")"
		}
	}
	return PathPair{Source: w, Destination: u.Service, Port: u.Port, Path: p}
}

// Pairs returns every row (for small matrices; see EachPair).
func (m *Matrix) Pairs() []PathPair {
	out := make([]PathPair, 0, m.Rows)
	m.EachPair(func(p PathPair) bool { out = append(out, p); return true })
	return out
}

// destTraits describes a destination unit for the class tables.
func (t *Topology) destTraits(u Unit) []string {
	s := u.Service
	var out []string
	if s.entry != nil {
		loc := "MESH_EXTERNAL"
		if !s.entry.External() {
			loc = "MESH_INTERNAL"
		}
		out = append(out, "ServiceEntry "+s.entry.ID()+" ("+loc+")")
	} else {
		out = append(out, t.ServiceMode(s))
		if s.Exposed() {
			out = append(out, s.Type)
		}
		if t.isGatewayService(s) {
			out = append(out, "ingress gateway entry point")
		}
	}
	if s.Waypoint != nil {
		out = append(out, "waypoint "+s.Waypoint.ID())
	}
	if sp, ok := s.Port(u.Port); ok {
		out = append(out, "port "+sp.ProtocolName())
	}
	if eps := t.EndpointsOf(s); len(eps) > 0 {
		ep := eps[0]
		pi := t.index().pol
		if ep.idx >= 0 && ep.idx < len(pi.byPod) {
			pp := &pi.byPod[ep.idx]
			var pols []string
			list := append(append([]*cPolicy(nil), pp.ztDeny...), pp.ztAllow...)
			if ep.Mode == Sidecar {
				list = append(append(append([]*cPolicy(nil), pp.scDeny...), pp.scAllow...), pp.scCustom...)
			}
			for _, c := range list {
				pols = append(pols, c.id)
			}
			if len(pols) > 0 && ep.Mode != OutOfMesh {
				out = append(out, "policies at the pod: "+joinCapped(pols, 3))
			}
			if mode, pa := pp.mtlsModeFor(s.TargetPort(u.Port)); pa != nil && ep.Mode != OutOfMesh {
				out = append(out, "mTLS "+mode+" ("+pa.ID()+")")
			}
			if len(pp.netpols) > 0 {
				var nps []string
				for _, np := range pp.netpols {
					nps = append(nps, np.ID())
				}
				out = append(out, "NetworkPolicy "+joinCapped(nps, 3))
			}
		}
	}
	if s.Waypoint != nil {
		if wpols := t.index().pol.waypoint[s.Waypoint]; wpols != nil {
			var pols []string
			if sp := wpols.svc[s]; sp != nil {
				for _, c := range append(append(append([]*cPolicy(nil), sp[0].deny...), sp[0].allow...), sp[0].custom...) {
					pols = append(pols, c.id)
				}
			}
			if len(pols) > 0 {
				out = append(out, "policies at the waypoint: "+joinCapped(pols, 3))
			}
		}
	}
	return out
}

// destKeyer builds the destination key of a unit: everything path
// resolution (resolvePath, EgressPath) and the verdict (Evaluate with a
// plain request) read of the destination side, with instance names left
// out (rows name them per member). Two units with equal keys get equal
// shapes from every source.
type destKeyer struct {
	m         *Matrix
	ix        *index
	b         strings.Builder
	dstIPCond *bool // some policy has a destination.ip condition
	namedNP   *bool // some NetworkPolicy names a port
}

func (k *destKeyer) policyIDs(list []*cPolicy) {
	for _, c := range list {
		k.b.WriteString(c.id)
		k.b.WriteByte(',')
	}
	k.b.WriteByte('|')
}

func (k *destKeyer) key(u Unit) string {
	m, t := k.m, k.m.t
	if k.dstIPCond == nil {
		ipc, named := false, false
		for _, cp := range k.ix.pol.full {
			for _, r := range cp.rules {
				for _, c := range r.when {
					ipc = ipc || c.key == "destination.ip"
				}
			}
		}
		for _, np := range t.NetworkPolicies {
			for _, r := range np.Ingress {
				for _, p := range r.Ports {
					named = named || p.Name != ""
				}
			}
		}
		k.dstIPCond, k.namedNP = &ipc, &named
	}
	s := u.Service
	b := &k.b
	b.Reset()
	// Which classes may have rows here at all.
	for _, c := range m.SourceClasses {
		if m.allowed(c, u) {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	b.WriteByte('|')
	if s.Waypoint != nil {
		b.WriteString(s.Waypoint.ID())
	}
	b.WriteByte('|')
	if se := s.entry; se != nil {
		fmt.Fprintf(b, "entry|%v|", se.External())
		if r := t.EgressGatewayRoute(se, u.Port); r != nil {
			b.WriteString(r.VirtualService.ID() + "|" + r.Instance() + "|" + r.Gateway.ID() + "|" + r.Problem)
		}
		return b.String()
	}
	fmt.Fprintf(b, "%v|%v|%d|%v|", s.IngressUseWaypoint, t.isGatewayService(s), s.TargetPort(u.Port), waypointPortIsTCP(s, s.TargetPort(u.Port)))
	if s.Waypoint != nil {
		if wp := k.ix.pol.waypoint[s.Waypoint]; wp != nil {
			if sp := wp.svc[s]; sp != nil {
				for i := range sp {
					k.policyIDs(sp[i].deny)
					k.policyIDs(sp[i].allow)
					k.policyIDs(sp[i].custom)
				}
			}
		}
	}
	eps := t.EndpointsOf(s)
	if len(eps) == 0 {
		mode := OutOfMesh
		if ns := t.Namespace(s.Namespace); ns != nil {
			mode = ns.Mode
		}
		b.WriteString("noep|" + string(mode))
		return b.String()
	}
	ep := eps[0]
	fmt.Fprintf(b, "%s|%v|%v|", ep.Mode, ep.Workload != nil && ep.Workload.Ingress, ep.Workload != nil && ep.Workload.Egress)
	if ep.idx >= 0 && ep.idx < len(k.ix.pol.byPod) {
		pp := &k.ix.pol.byPod[ep.idx]
		k.policyIDs(pp.ztDeny)
		k.policyIDs(pp.ztAllow)
		k.policyIDs(pp.scDeny)
		k.policyIDs(pp.scAllow)
		k.policyIDs(pp.scCustom)
		mode, pa := pp.mtlsModeFor(s.TargetPort(u.Port))
		b.WriteString(mode)
		if pa != nil {
			b.WriteString(pa.ID())
		}
		b.WriteByte('|')
		for _, np := range pp.netpols {
			b.WriteString(np.ID() + ",")
		}
		b.WriteByte('|')
		if *k.namedNP {
			for _, o := range t.ServicesOf(ep) {
				b.WriteString(o.ID() + ",")
			}
		}
	}
	if *k.dstIPCond {
		b.WriteString("|" + ep.IP)
	}
	return b.String()
}
