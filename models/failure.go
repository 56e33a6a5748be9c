package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path"
	"sort"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Failures: components that crash, drain, disappear or misbehave at a
// scheduled time (ambient-internals §7). Every failure becomes windows on
// the components it hits, fixed before the run starts, so there are no
// failure events on the hot path and a run without failures pays one
// branch per request:
//
//   - refuse [from, to): the component is down; a new request through it
//     fails at once (connection refused: the pod's redirection rules stay
//     in place with no listener behind them — fail-closed), or after the
//     connect timeout when the peer is gone (node loss, partition: SYN to
//     nowhere);
//   - kill at t for connections opened before b: in-flight requests on such
//     connections are reset at t (crash: b = t; drain: b is the SIGTERM,
//     t the drain deadline), or hang until the client's timeout when the
//     peer vanished without a RST (node loss, partition); pools to the
//     component stop handing out streams on connections dialled before b
//     (GOAWAY) and redial;
//   - endpoint out [epOut, epBack): load balancers skip the pod or replica
//     (readiness failed, node lost). Removal and return are pushed by
//     istiod, so an istiod outage delays them until it is back.
//
// Kinds (Failure.Kind):
//
//	ztunnel-crash     node ztunnel down for Duration: fail-closed for the
//	                  node's ambient pods; pods stay Ready (kubelet probes
//	                  are not redirected), so endpoints are not removed
//	ztunnel-upgrade   DaemonSet rolling update, MaxUnavailable nodes at a
//	                  time, one batch per Drain: new connections succeed
//	                  (SO_REUSEPORT hand-off), connections older than the
//	                  SIGTERM reset at the drain deadline
//	node-loss         the node and its pods vanish; in-flight requests hang;
//	                  endpoints removed after EndpointDelay (node-monitor
//	                  grace), replacement pods run elsewhere after Replace
//	waypoint-crash    Replicas of a waypoint down for Duration (crash, OOM
//	                  kill): resets, refused until the endpoint goes
//	waypoint-rollout  each replica replaced in turn, Drain apart: GOAWAY at
//	                  SIGTERM, streams still open reset at the drain end
//	sidecar-crash     the sidecars of Pods down for Duration
//	istiod-outage     no certificates and no endpoint pushes for Duration
//	cni-bypass        the nodes' pods bypass ztunnel (redirection missing):
//	                  requests still flow, in plaintext and unchecked; they
//	                  are counted as unprotected
//	network           added latency, packet loss (a retransmission timeout
//	                  per lost transfer) or a partition between Nodes and
//	                  PeerNodes (every other node when empty)
//	traffic-surge     edges matching From/To carry Factor × their rate
type Failure struct {
	Name     string
	Kind     string
	At       sim.Time // start, in simulated time since the start of the run
	Duration sim.Time // how long the component stays down / the fault lasts

	Nodes     []string           // node names (ztunnel-*, node-loss, cni-bypass, network side A)
	PeerNodes []string           // network side B (empty: every node not in Nodes)
	Waypoint  *topology.Waypoint // waypoint-crash / waypoint-rollout
	Replicas  []int              // waypoint replica indices (default [0])
	Pods      []*topology.Pod    // sidecar-crash

	EndpointDelay  sim.Time // until load balancers stop picking the failed endpoint (negative: never)
	Replace        sim.Time // node-loss: replacement pods ready after this (0: never)
	Drain          sim.Time // upgrade / rollout: drain deadline after SIGTERM
	MaxUnavailable int      // ztunnel-upgrade: nodes upgraded at a time (default 1)

	Latency   sim.Time // network: added one-way latency
	Loss      float64  // network: probability a transfer is lost once
	Partition bool     // network: no packets cross

	From, To string  // traffic-surge: edge globs (ns/workload, ns/service)
	Factor   float64 // traffic-surge: rate multiplier
}

// Failure kinds.
const (
	FailZtunnelCrash    = "ztunnel-crash"
	FailZtunnelUpgrade  = "ztunnel-upgrade"
	FailNodeLoss        = "node-loss"
	FailWaypointCrash   = "waypoint-crash"
	FailWaypointRollout = "waypoint-rollout"
	FailSidecarCrash    = "sidecar-crash"
	FailIstiodOutage    = "istiod-outage"
	FailCNIBypass       = "cni-bypass"
	FailNetwork         = "network"
	FailTrafficSurge    = "traffic-surge"
)

// FailureKinds lists the kinds a scenario can schedule in the simulation.
var FailureKinds = []string{FailZtunnelCrash, FailZtunnelUpgrade, FailNodeLoss, FailWaypointCrash, FailWaypointRollout,
	FailSidecarCrash, FailIstiodOutage, FailCNIBypass, FailNetwork, FailTrafficSurge}

// rtoMin is Linux's minimum TCP retransmission timeout: what one lost
// segment costs a request.
const rtoMin = 200 * sim.Millisecond

const never = sim.Time(math.MaxInt64)

// window is one failure's effect on one component.
type window struct {
	from, to     sim.Time // refuses new requests in [from, to)
	kill, before sim.Time // at kill, connections opened before `before` die
	epOut        sim.Time // endpoint out of load balancing in [epOut, epBack)
	epBack       sim.Time
	hang         bool // peer gone without a RST: hang instead of reset
	fi           int32
}

type netFault struct {
	side       []int8 // per node: 1 side A, 2 side B, 0 neither
	from, to   sim.Time
	latency    sim.Time
	loss       float64
	partition  bool
	fi         int32
	anyB       bool // side B is every node not in A
	lossStream *rand.Rand
}

type surge struct {
	edges    []int32
	from, to sim.Time
	factor   float64
	fi       int32
}

type relocation struct {
	at   sim.Time
	pod  int32
	node int32
}

// faults is the failure state of a run; nil slices for unaffected
// components.
type faults struct {
	node   [][]window // ztunnel per node
	rep    [][]window // waypoint replicas
	sc     [][]window // sidecar per pod
	pod    [][]window // the pod itself (node loss)
	bypass [][]window // CNI bypass per node (from/to only)
	nets   []netFault
	surges []surge
	moves  []relocation

	bypassDec map[[5]int32]uint8 // policy decisions for identity-less (bypassing) sources
	ztOn      []bool             // nodes running a ztunnel with ambient pods (at the start)

	// Waypoint autoscaling: a replica serves from activeFrom (never:
	// not scaled up yet); lastBusy is each replica's busy time at the
	// previous controller tick.
	activeFrom []sim.Time
	lastBusy   []sim.Time

	unprotected    []int64 // per failure: measured requests that crossed without mTLS
	policyBypassed []int64 // per failure: ... that a policy would have denied
}

// kFault relocates a lost pod to its replacement node (A = index in moves).
const kFault int32 = 100

// setupFailures turns cfg.Failures into windows; called by Run before any
// event.
func (m *Mesh) setupFailures() error {
	fs := m.cfg.Failures
	if len(fs) == 0 && m.cfg.WaypointAutoscale == nil {
		return nil
	}
	fsu := m.newFailureSetup()
	// istiod outages first: they delay endpoint pushes of the others.
	for i := range fs {
		if fs[i].Kind == FailIstiodOutage {
			if err := m.IstiodOutage(fs[i].At, fs[i].At+fs[i].Duration); err != nil {
				return fmt.Errorf("failure %q: %w", fs[i].Name, err)
			}
		}
	}
	for i := range fs {
		if err := fsu.schedule(&fs[i], int32(i)); err != nil {
			return err
		}
	}
	m.restartProxies()
	for k, mv := range m.flt.moves {
		m.s.At(mv.at, m, sim.Event{Kind: kFault, A: int64(k)})
	}
	return m.setupAutoscale()
}

// failureSetup turns the configured failures into fault windows.
type failureSetup struct {
	m       *Mesh
	f       *faults
	nodeIdx map[string]int32
}

// newFailureSetup installs empty fault windows for every component.
func (m *Mesh) newFailureSetup() *failureSetup {
	fs := m.cfg.Failures
	f := &faults{
		node: make([][]window, len(m.nodes)), rep: make([][]window, len(m.reps)),
		sc: make([][]window, len(m.pods)), pod: make([][]window, len(m.pods)), bypass: make([][]window, len(m.nodes)),
		bypassDec:   map[[5]int32]uint8{},
		unprotected: make([]int64, len(fs)), policyBypassed: make([]int64, len(fs)),
	}
	m.flt = f
	m.failOn = true
	f.ztOn = make([]bool, len(m.nodes))
	for n := range m.nodes {
		f.ztOn[n] = m.nodes[n].pods > 0
	}
	nodeIdx := map[string]int32{}
	for i := range m.nodes {
		nodeIdx[m.nodes[i].name] = int32(i)
	}
	return &failureSetup{m: m, f: f, nodeIdx: nodeIdx}
}

// nodesOf resolves a failure's node names.
func (u *failureSetup) nodesOf(fl *Failure, names []string) ([]int32, error) {
	var out []int32
	for _, n := range names {
		i, ok := u.nodeIdx[n]
		if !ok {
			return nil, fmt.Errorf("failure %q: no node %q in the topology", fl.Name, n)
		}
		out = append(out, i)
	}
	return out, nil
}

// endpointsAt is when a change made at t reaches the proxies' endpoint
// lists (later while istiod is down).
func (u *failureSetup) endpointsAt(t sim.Time) sim.Time {
	if t >= never {
		return never
	}
	return u.m.cp.upAt(t)
}

// endpointDelay is the failure's endpoint-removal delay, def when unset;
// a negative one means never.
func endpointDelay(fl *Failure, def sim.Time) sim.Time {
	d := fl.EndpointDelay
	if d == 0 {
		d = def
	}
	if d < 0 {
		return never
	}
	return d
}

// schedule adds one failure's fault windows.
func (u *failureSetup) schedule(fl *Failure, fi int32) error {
	if fl.Duration < 0 || fl.At < 0 {
		return fmt.Errorf("failure %q: negative time", fl.Name)
	}
	end := fl.At + fl.Duration
	if fl.Duration == 0 {
		end = never
	}
	switch fl.Kind {
	case FailZtunnelCrash:
		return u.ztunnelCrash(fl, fi, end)
	case FailZtunnelUpgrade:
		return u.ztunnelUpgrade(fl, fi)
	case FailNodeLoss:
		return u.nodeLoss(fl, fi)
	case FailWaypointCrash, FailWaypointRollout:
		u.waypointFailure(fl, fi, end)
	case FailSidecarCrash:
		u.sidecarCrash(fl, fi, end)
	case FailIstiodOutage:
		// Set up first (setupFailures).
	case FailCNIBypass:
		ns, err := u.nodesOf(fl, fl.Nodes)
		if err != nil {
			return err
		}
		for _, n := range ns {
			u.f.bypass[n] = append(u.f.bypass[n], window{from: fl.At, to: end, fi: fi})
		}
	case FailNetwork:
		return u.network(fl, fi, end)
	case FailTrafficSurge:
		return u.trafficSurge(fl, fi, end)
	default:
		return fmt.Errorf("failure %q: unknown kind %q", fl.Name, fl.Kind)
	}
	return nil
}

func (u *failureSetup) ztunnelCrash(fl *Failure, fi int32, end sim.Time) error {
	ns, err := u.nodesOf(fl, fl.Nodes)
	if err != nil {
		return err
	}
	for _, n := range ns {
		u.f.node[n] = append(u.f.node[n], window{from: fl.At, to: end, kill: fl.At, before: fl.At, epOut: never, epBack: never, fi: fi})
	}
	return nil
}

// ztunnelUpgrade drains and replaces the ztunnels (all nodes with pods
// when none is named), MaxUnavailable at a time.
func (u *failureSetup) ztunnelUpgrade(fl *Failure, fi int32) error {
	m := u.m
	ns, err := u.nodesOf(fl, fl.Nodes)
	if err != nil {
		return err
	}
	if len(fl.Nodes) == 0 {
		for n := range m.nodes {
			if m.nodes[n].pods > 0 {
				ns = append(ns, int32(n))
			}
		}
	}
	mu := max(fl.MaxUnavailable, 1)
	drain := fl.Drain
	if drain <= 0 {
		drain = 25 * sim.Second
	}
	for k, n := range ns {
		t0 := fl.At + sim.Time(k/mu)*drain
		u.f.node[n] = append(u.f.node[n], window{from: never, to: never, kill: t0 + drain, before: t0, epOut: never, epBack: never, fi: fi})
	}
	return nil
}

// nodeLoss takes nodes down with everything on them; with Replace the
// pods come back on the surviving nodes.
func (u *failureSetup) nodeLoss(fl *Failure, fi int32) error {
	m, f := u.m, u.f
	ns, err := u.nodesOf(fl, fl.Nodes)
	if err != nil {
		return err
	}
	lost := map[int32]bool{}
	for _, n := range ns {
		lost[n] = true
	}
	back := never
	if fl.Replace > 0 {
		back = fl.At + fl.Replace
	}
	out := u.endpointsAt(fl.At + endpointDelay(fl, 40*sim.Second))
	for _, n := range ns {
		f.node[n] = append(f.node[n], window{from: fl.At, to: never, kill: fl.At, before: fl.At, epOut: never, epBack: never, hang: true, fi: fi})
	}
	for r := range m.reps {
		if lost[m.reps[r].node] {
			f.rep[r] = append(f.rep[r], window{from: fl.At, to: back, kill: fl.At, before: fl.At, epOut: out, epBack: u.endpointsAt(back), hang: true, fi: fi})
		}
	}
	// Replacement pods go to the surviving node with the fewest
	// pods (ties: the first), one at a time.
	load := make([]int, len(m.nodes))
	for p := range m.pods {
		load[m.pods[p].node]++
	}
	for p := range m.pods {
		if !lost[m.pods[p].node] {
			continue
		}
		f.pod[p] = append(f.pod[p], window{from: fl.At, to: back, kill: fl.At, before: fl.At, epOut: out, epBack: u.endpointsAt(back), hang: true, fi: fi})
		if back < never {
			best := int32(-1)
			for n := range m.nodes {
				if !lost[int32(n)] && (best < 0 || load[n] < load[best]) {
					best = int32(n)
				}
			}
			if best >= 0 {
				load[best]++
				f.moves = append(f.moves, relocation{at: back, pod: int32(p), node: best})
			}
		}
	}
	return nil
}

// waypointFailure crashes the selected replicas of a waypoint (default
// the first), or rolls them (default all) one drain period apart.
func (u *failureSetup) waypointFailure(fl *Failure, fi int32, end sim.Time) {
	m, f := u.m, u.f
	wi, ok := m.wpIdx[fl.Waypoint]
	if !ok {
		return // no such waypoint in this design: nothing to fail
	}
	reps := m.wps[wi].reps
	sel := fl.Replicas
	if len(sel) == 0 {
		sel = []int{0}
		if fl.Kind == FailWaypointRollout {
			sel = nil
			for r := range reps {
				sel = append(sel, r)
			}
		}
	}
	drain := fl.Drain
	if drain <= 0 {
		drain = 5 * sim.Second // terminationDrainDuration
	}
	for k, r := range sel {
		if r < 0 || r >= len(reps) {
			continue
		}
		g := reps[r]
		if fl.Kind == FailWaypointCrash {
			f.rep[g] = append(f.rep[g], window{from: fl.At, to: end, kill: fl.At, before: fl.At,
				epOut: u.endpointsAt(fl.At + endpointDelay(fl, sim.Second)), epBack: u.endpointsAt(end), fi: fi})
		} else {
			t0 := fl.At + sim.Time(k)*drain
			f.rep[g] = append(f.rep[g], window{from: never, to: never, kill: t0 + drain, before: t0, epOut: never, epBack: never, fi: fi})
		}
	}
}

func (u *failureSetup) sidecarCrash(fl *Failure, fi int32, end sim.Time) {
	m := u.m
	for _, p := range fl.Pods {
		pi, ok := m.podIdx[p]
		if !ok || m.pods[pi].sc == nil {
			continue // no sidecar in this mode
		}
		u.f.sc[pi] = append(u.f.sc[pi], window{from: fl.At, to: end, kill: fl.At, before: fl.At,
			epOut: u.endpointsAt(fl.At + endpointDelay(fl, sim.Second)), epBack: u.endpointsAt(end), fi: fi})
	}
}

// network degrades or partitions traffic between two node sets (the
// second empty: every other node).
func (u *failureSetup) network(fl *Failure, fi int32, end sim.Time) error {
	m := u.m
	a, err := u.nodesOf(fl, fl.Nodes)
	if err != nil {
		return err
	}
	b, err := u.nodesOf(fl, fl.PeerNodes)
	if err != nil {
		return err
	}
	nf := netFault{side: make([]int8, len(m.nodes)), from: fl.At, to: end, latency: fl.Latency, loss: fl.Loss,
		partition: fl.Partition, fi: fi, anyB: len(b) == 0, lossStream: m.strm.Rand("failure/loss/" + fl.Name)}
	for _, n := range a {
		nf.side[n] = 1
	}
	for _, n := range b {
		nf.side[n] = 2
	}
	u.f.nets = append(u.f.nets, nf)
	return nil
}

// trafficSurge multiplies the arrival rate of the matching edges.
func (u *failureSetup) trafficSurge(fl *Failure, fi int32, end sim.Time) error {
	s := surge{from: fl.At, to: end, factor: fl.Factor, fi: fi}
	if s.factor <= 0 {
		return fmt.Errorf("failure %q: traffic-surge needs a factor > 0", fl.Name)
	}
	for ei := range u.m.edges {
		c := u.m.edges[ei].cfg.Call
		if globMatch(fl.From, c.From.ID()) && globMatch(fl.To, c.To.ID()) {
			s.edges = append(s.edges, int32(ei))
		}
	}
	u.f.surges = append(u.f.surges, s)
	return nil
}

// restartProxies makes restarted proxies refetch their certificates
// (ztunnel for every service account on its node).
func (m *Mesh) restartProxies() {
	f := m.flt
	for n := range f.node {
		for _, w := range f.node[n] {
			switch {
			case w.to < never:
				m.cp.restart(m.holderNode(int32(n)), w.to)
			case w.from == never && w.before < never:
				m.cp.restart(m.holderNode(int32(n)), w.before) // upgrade: the new ztunnel starts
			}
		}
	}
	for r := range f.rep {
		for _, w := range f.rep[r] {
			switch {
			case w.to < never:
				m.cp.restart(m.holderRep(int32(r)), w.to)
			case w.from == never && w.before < never:
				m.cp.restart(m.holderRep(int32(r)), w.before)
			}
		}
	}
	for p := range f.sc {
		for _, w := range f.sc[p] {
			if w.to < never {
				m.cp.restart(m.holderPod(int32(p)), w.to)
			}
		}
	}
}

func globMatch(pattern, s string) bool {
	if pattern == "" || pattern == "*" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// handleFault runs a failure's scheduled action.
func (m *Mesh) handleFault(ev sim.Event) {
	mv := m.flt.moves[ev.A]
	p := &m.pods[mv.pod]
	if p.mode == topology.Ambient {
		m.nodes[p.node].pods--
		m.nodes[mv.node].pods++
	}
	p.node = mv.node
}

// refusing returns the window refusing new requests at t, if any.
func refusing(ws []window, t sim.Time) *window {
	for i := range ws {
		if t >= ws[i].from && t < ws[i].to {
			return &ws[i]
		}
	}
	return nil
}

// killedBy returns the window that killed a connection opened at opened
// and used by an attempt started at start, by time now, if any.
func killedBy(ws []window, opened, start, now sim.Time) *window {
	for i := range ws {
		w := &ws[i]
		if w.kill <= now && w.kill > start && opened < w.before {
			return w
		}
	}
	return nil
}

// stale reports whether a connection opened at `opened` was killed by now.
func stale(ws []window, opened, now sim.Time) bool {
	for i := range ws {
		w := &ws[i]
		if w.kill <= now && opened < w.before && w.kill > opened {
			return true
		}
	}
	return false
}

// goneAway reports whether a pooled connection dialled at dialAt must not
// take new streams at now (GOAWAY, crash, drain).
func goneAway(ws []window, dialAt, now sim.Time) bool {
	for i := range ws {
		w := &ws[i]
		if w.before <= now && dialAt < w.before {
			return true
		}
	}
	return false
}

// endpointOut reports whether load balancers skip the endpoint at t.
func endpointOut(ws []window, t sim.Time) bool {
	for i := range ws {
		if t >= ws[i].epOut && t < ws[i].epBack {
			return true
		}
	}
	return false
}

// bypassing returns the CNI-bypass window of node n active at t.
func (f *faults) bypassing(n int32, t sim.Time) *window {
	if int(n) >= len(f.bypass) {
		return nil
	}
	return refusing(f.bypass[n], t)
}

// netExtra returns the added one-way delay between nodes a and b at t
// (latency faults and lost transfers).
func (m *Mesh) netExtra(a, b int32, t sim.Time) sim.Time {
	var d sim.Time
	for i := range m.flt.nets {
		nf := &m.flt.nets[i]
		if t < nf.from || t >= nf.to || !nf.crosses(a, b) {
			continue
		}
		d += nf.latency
		if nf.loss > 0 && nf.lossStream.Float64() < nf.loss {
			d += rtoMin
		}
	}
	return d
}

func (nf *netFault) crosses(a, b int32) bool {
	if int(a) >= len(nf.side) || int(b) >= len(nf.side) || a == b {
		return false
	}
	sa, sb := nf.side[a], nf.side[b]
	if nf.anyB {
		return (sa == 1) != (sb == 1)
	}
	return (sa == 1 && sb == 2) || (sa == 2 && sb == 1)
}

// partitioned returns the partition separating a and b at t, if any.
func (m *Mesh) partitioned(a, b int32, t sim.Time) *netFault {
	for i := range m.flt.nets {
		nf := &m.flt.nets[i]
		if nf.partition && t >= nf.from && t < nf.to && nf.crosses(a, b) {
			return nf
		}
	}
	return nil
}

// surgeFactor is the arrival-rate multiplier of edge ei at t.
func (m *Mesh) surgeFactor(ei int32, t sim.Time) float64 {
	f := 1.0
	for i := range m.flt.surges {
		s := &m.flt.surges[i]
		if t < s.from || t >= s.to {
			continue
		}
		for _, e := range s.edges {
			if e == ei {
				f *= s.factor
			}
		}
	}
	return f
}

// srcLive reports whether source pod p can originate requests at t.
func (m *Mesh) srcLive(p int32, t sim.Time) bool {
	return refusing(m.flt.pod[p], t) == nil
}

// podOut reports whether load balancers skip pod p at t.
func (m *Mesh) podOut(p int32, t sim.Time) bool {
	return endpointOut(m.flt.pod[p], t) || endpointOut(m.flt.sc[p], t)
}

// repOut reports whether waypoint replica r is out of its Service at t.
func (m *Mesh) repOut(r int32, t sim.Time) bool {
	return endpointOut(m.flt.rep[r], t) || (m.flt.activeFrom != nil && t < m.flt.activeFrom[r])
}

// connStale reports whether the app connection opened at `opened` on
// edge target tg (pinned to replica repL / destination dstL) was reset by
// a failure before now: the client then opens a new one.
func (m *Mesh) connStale(e *edgeRT, tg *target, srcL int32, ac *appConn, opened, now sim.Time) bool {
	src := e.src[srcL]
	f := m.flt
	if tg.src == vZtSrc && stale(f.node[m.pods[src].node], opened, now) {
		return true
	}
	if (tg.src == vScSrc) && stale(f.sc[src], opened, now) {
		return true
	}
	if tg.wp >= 0 && ac.rep >= 0 && int(ac.rep) < len(m.wps[tg.wp].reps) {
		if stale(f.rep[m.wps[tg.wp].reps[ac.rep]], opened, now) {
			return true
		}
	}
	if tg.wp < 0 && tg.src != vScSrc && ac.pinned >= 0 && int(ac.pinned) < len(tg.dst) {
		d := tg.dst[ac.pinned]
		if (tg.dstK == vZtDst && stale(f.node[m.pods[d].node], opened, now)) || stale(f.pod[d], opened, now) {
			return true
		}
	}
	return false
}

// pathKilled checks every proxy and pod on c's path for a failure that
// killed it since the attempt started. It returns the window's failure and
// whether the attempt hangs (no RST) rather than resets.
func (m *Mesh) pathKilled(c *call, now sim.Time) (at sim.Time, hang, killed bool) {
	e := &m.edges[c.ei]
	tg := &e.tgts[c.ti]
	f := m.flt
	check := func(ws []window) bool {
		if len(ws) == 0 {
			return false
		}
		if w := killedBy(ws, c.connAt, c.attemptStart, now); w != nil {
			at, hang, killed = w.kill, w.hang, true
			return true
		}
		return false
	}
	src := e.src[c.srcL]
	c.failAt = -1
	if check(f.pod[src]) {
		return
	}
	for i := int8(0); i < c.n; i++ {
		c.failAt = i
		switch c.kinds[i] {
		case vZtSrc, vZtDst:
			if check(f.node[c.locs[i+1]]) {
				return
			}
		case vWP:
			if check(f.rep[m.wps[tg.wp].reps[c.repL]]) {
				return
			}
		case vScSrc:
			if check(f.sc[src]) {
				return
			}
		case vScDst:
			if c.dstL >= 0 && check(f.sc[tg.dst[c.dstL]]) {
				return
			}
		}
	}
	c.failAt = c.n
	if c.dstL >= 0 && int(c.dstL) < len(tg.dst) && check(f.pod[tg.dst[c.dstL]]) {
		return
	}
	if len(f.nets) > 0 {
		for i := int8(0); i <= c.n; i++ {
			if nf := m.partitioned(c.locs[i], c.locs[i+1], now); nf != nil && nf.from > c.attemptStart {
				c.failAt = i
				return nf.from, true, true
			}
		}
	}
	return 0, false, false
}

// refuse checks a new attempt's path against components that are down at
// now. It returns the failed visit index (-1: before the first proxy), how
// long until the client learns it, the outcome, and whether it is refused.
func (m *Mesh) refuse(c *call, tg *target, now sim.Time) (at int8, after sim.Time, out uint8, refused bool) {
	f := m.flt
	e := &m.edges[c.ei]
	src := e.src[c.srcL]
	dst := tg.dst[c.dstL]
	rtt := func(i int8) sim.Time { return 2 * m.oneWay(c.locs[0], c.locs[i+1]) }
	for i := int8(0); i < c.n; i++ {
		var w *window
		switch c.kinds[i] {
		case vZtSrc, vZtDst:
			w = refusing(f.node[c.locs[i+1]], now)
		case vWP:
			w = refusing(f.rep[m.wps[tg.wp].reps[c.repL]], now)
		case vScSrc:
			w = refusing(f.sc[src], now)
		case vScDst:
			w = refusing(f.sc[dst], now)
		}
		if w != nil {
			if w.hang {
				return i - 1, m.c.connectTimeout, outConnTimeout, true
			}
			if i == 0 {
				return -1, m.c.sameNode, outRefused, true
			}
			return i - 1, rtt(i), outRefused, true
		}
	}
	if refusing(f.pod[dst], now) != nil {
		return c.n - 1, m.c.connectTimeout, outConnTimeout, true
	}
	if len(f.nets) > 0 {
		for i := int8(0); i <= c.n; i++ {
			if m.partitioned(c.locs[i], c.locs[i+1], now) != nil {
				return i - 1, m.c.connectTimeout, outConnTimeout, true
			}
		}
	}
	return 0, 0, 0, false
}

// bypassDecision is the policy decision for a request whose source skips
// ztunnel (no identity, plaintext) and/or whose destination ztunnel is
// skipped.
func (m *Mesh) bypassDecision(ei int32, tg *target, ti, rq int16, srcL, dstL int32, dstBy bool) uint8 {
	e := &m.edges[ei]
	if dstBy {
		return decAllow // nothing on the destination side enforces
	}
	k := [5]int32{ei, int32(ti), int32(rq), srcL, dstL}
	if d, ok := m.flt.bypassDec[k]; ok {
		return d
	}
	d := decAllow
	if len(m.top.AuthorizationPolicies) > 0 || len(m.top.PeerAuthentications) > 0 || len(m.top.NetworkPolicies) > 0 {
		src := *m.pods[e.src[srcL]].p // a copy, without its identity
		src.Mode = topology.OutOfMesh
		dst := m.pods[tg.dst[dstL]].p
		// No waypoint on the bypassing path: the destination sees the
		// request as the router (if any) forwarded it.
		req := e.routes[rq].fwd
		dec := m.top.Evaluate(&src, dst, nil, m.svcs[tg.svc].s.TargetPort(tg.port), req)
		if !dec.Allow {
			d = decDenyZtunnel
			if dec.Layer == "L3" || dec.By == "networkpolicy" {
				d = decDrop
			}
		}
	}
	m.flt.bypassDec[k] = d
	return d
}

// FailureImpact is what the model knows about one failure after a run:
// the instances, pods and nodes it hit directly in this design, and the
// requests it exposed.
type FailureImpact struct {
	Nodes     []string // node names
	Instances []string // ztunnel/<node>, waypoint/<ns>/<name>/<i>, sidecar/<ns>/<pod>, istiod/istio-system
	Pods      []string // ns/name of pods that lost connectivity, their proxy, or their certificate
	Services  []string // ns/name of services with an affected endpoint (or served by a failed waypoint)
	// Unprotected counts measured requests that crossed without mTLS or
	// skipped a proxy that should have enforced policy; PolicyBypassed
	// those of them a policy in force would have denied.
	Unprotected    int64
	PolicyBypassed int64
	// NotApplicable says why the failure hit nothing in this design
	// (e.g. a sidecar crash in ambient mode).
	NotApplicable string
}

// failureImpacts lists every failure's direct impact.
func (m *Mesh) failureImpacts() []FailureImpact {
	if m.flt == nil {
		return nil
	}
	out := make([]FailureImpact, len(m.cfg.Failures))
	podSet := make([]map[int32]bool, len(out))
	nodeSet := make([]map[int32]bool, len(out))
	inst := make([]map[string]bool, len(out))
	svcSet := make([]map[string]bool, len(out))
	for i := range out {
		podSet[i], nodeSet[i], inst[i], svcSet[i] = map[int32]bool{}, map[int32]bool{}, map[string]bool{}, map[string]bool{}
	}
	f := m.flt
	for n := range f.node {
		for _, w := range f.node[n] {
			nodeSet[w.fi][int32(n)] = true
			if f.ztOn[n] {
				inst[w.fi]["ztunnel/"+m.nodes[n].name] = true
			}
			for p := range m.pods {
				if m.pods[p].node == int32(n) && m.pods[p].mode == topology.Ambient {
					podSet[w.fi][int32(p)] = true
				}
			}
		}
		for _, w := range f.bypass[n] {
			nodeSet[w.fi][int32(n)] = true
			inst[w.fi]["istio-cni-node/"+m.nodes[n].name] = true
			for p := range m.pods {
				if m.pods[p].node == int32(n) && m.pods[p].mode == topology.Ambient {
					podSet[w.fi][int32(p)] = true
				}
			}
		}
	}
	for r := range f.rep {
		for _, w := range f.rep[r] {
			inst[w.fi][m.reps[r].name] = true
			nodeSet[w.fi][m.reps[r].node] = true
			for _, s := range m.wps[m.reps[r].wp].w.Serves {
				svcSet[w.fi][s.ID()] = true
			}
		}
	}
	for p := range f.sc {
		for _, w := range f.sc[p] {
			inst[w.fi][m.envoyInstance(int32(p))] = true
			podSet[w.fi][int32(p)] = true
		}
		for _, w := range f.pod[p] {
			podSet[w.fi][int32(p)] = true
			if m.pods[p].sc != nil {
				inst[w.fi][m.envoyInstance(int32(p))] = true
			}
		}
	}
	for _, nf := range f.nets {
		for n, s := range nf.side {
			if s == 1 {
				nodeSet[nf.fi][int32(n)] = true
				for p := range m.pods {
					if m.pods[p].node == int32(n) {
						podSet[nf.fi][int32(p)] = true
					}
				}
			}
		}
	}
	for _, s := range f.surges {
		fi := s.fi
		for _, ei := range s.edges {
			e := &m.edges[ei]
			svcSet[fi][e.cfg.Call.To.ID()] = true
			// The shared components the surge loads: the waypoints on
			// its path.
			for _, tg := range e.tgts {
				if tg.wp >= 0 {
					for _, r := range m.wps[tg.wp].reps {
						inst[fi][m.reps[r].name] = true
					}
				}
			}
		}
	}
	for i := range m.cfg.Failures {
		fl := &m.cfg.Failures[i]
		if fl.Kind == FailIstiodOutage {
			inst[i]["istiod/istio-system"] = true
			for _, h := range m.cp.expiring(fl.At, fl.At+fl.Duration) {
				switch {
				case h < len(m.nodes):
					nodeSet[i][int32(h)] = true
					inst[i]["ztunnel/"+m.nodes[h].name] = true
					for p := range m.pods {
						if m.pods[p].node == int32(h) && m.pods[p].mode == topology.Ambient {
							podSet[i][int32(p)] = true
						}
					}
				case h < len(m.nodes)+len(m.reps):
					r := h - len(m.nodes)
					inst[i][m.reps[r].name] = true
					for _, s := range m.wps[m.reps[r].wp].w.Serves {
						svcSet[i][s.ID()] = true
					}
				default:
					p := int32(h - len(m.nodes) - len(m.reps))
					if m.pods[p].sc != nil {
						inst[i][m.envoyInstance(int32(p))] = true
						podSet[i][p] = true
					}
				}
			}
		}
	}
	for i := range out {
		fi := &out[i]
		for n := range nodeSet[i] {
			fi.Nodes = append(fi.Nodes, m.nodes[n].name)
		}
		for p := range podSet[i] {
			fi.Pods = append(fi.Pods, m.pods[p].p.ID())
			for si := range m.svcs {
				for _, sp := range m.svcs[si].pods {
					if sp == p {
						svcSet[i][m.svcs[si].s.ID()] = true
					}
				}
			}
		}
		fi.Instances = sortedStrings(inst[i])
		fi.Services = sortedStrings(svcSet[i])
		sort.Strings(fi.Nodes)
		sort.Strings(fi.Pods)
		fi.Unprotected = f.unprotected[i]
		fi.PolicyBypassed = f.policyBypassed[i]
		if len(fi.Nodes)+len(fi.Instances)+len(fi.Pods)+len(fi.Services) == 0 {
			fi.NotApplicable = "the failure hits no component in this design (e.g. a sidecar crash in ambient mode, or no certificate expires during the outage)"
		}
		if fi.Nodes == nil {
			fi.Nodes = []string{}
		}
		if fi.Pods == nil {
			fi.Pods = []string{}
		}
	}
	return out
}

// expiring returns the certificate holders whose certificate expires in
// [from, to) because its renewal falls inside an outage — computed from
// the renewal schedule, without touching the run's lazy state.
func (cp *controlPlane) expiring(from, to sim.Time) []int {
	var out []int
	for h := range cp.holders {
		phase := cp.phase[h]
		// Last renewal at or before `from`: renewals at phase + k*refresh.
		var last sim.Time
		if from >= phase {
			last = phase + (from-phase)/cp.refresh*cp.refresh
		} else {
			last = phase - cp.refresh
		}
		// The holder keeps the certificate issued at `last` until
		// last+ttl; the next renewal (last+refresh) needs istiod.
		next := last + cp.refresh
		if next >= to {
			continue // renews after the outage
		}
		if exp := last + cp.ttl; exp < to && exp >= from {
			out = append(out, h)
		} else if exp < from {
			continue
		}
	}
	return out
}

// failCheck ends an attempt that a failure killed since it started: reset
// at the kill time (noticed at the attempt's next step), or hung until its
// timeout. It reports whether it did.
func (m *Mesh) failCheck(c *call) bool {
	now := m.s.Now()
	at, hang, killed := m.pathKilled(c, now)
	if !killed {
		return false
	}
	c.respB = 0
	if hang && !c.finalized {
		c.parked = true
		c.outcome = outConnTimeout
		return true // its timeout (if any) ends it; else in flight at the end
	}
	c.outcome = outReset
	m.complete(c, max(at, c.attemptStart))
	return true
}

// failPick moves c's destination off endpoints that load balancers no
// longer pick (the next one in order); false when none is left.
func (m *Mesh) failPick(c *call, tg *target, ac *appConn, now sim.Time) bool {
	nd := int32(len(tg.dst))
	for k := int32(0); k < nd; k++ {
		d := (c.dstL + k) % nd
		if !m.podOut(tg.dst[d], now) {
			if k > 0 {
				c.dstL = d
				if ac != nil && ac.pinned >= 0 {
					ac.pinned = d
				}
			}
			return true
		}
	}
	return false
}

// bypassed reports whether c's source and destination skip ztunnel (CNI
// redirection missing on their node), counts the exposure, and moves the
// policy decision to what still enforces.
func (m *Mesh) bypassed(c *call, tg *target, srcNode, dstNode int32, now sim.Time) (srcBy, dstBy bool) {
	var ws, wd *window
	if tg.src == vZtSrc {
		ws = m.flt.bypassing(srcNode, now)
	}
	if tg.dstK == vZtDst {
		wd = m.flt.bypassing(dstNode, now)
	}
	srcBy, dstBy = ws != nil, wd != nil
	if !srcBy && !dstBy {
		return
	}
	// Without the source's ztunnel the app's connection goes straight
	// to the pod (kube-proxy), in plaintext, skipping any waypoint.
	d := m.bypassDecision(c.ei, tg, c.ti, c.rq, c.srcL, c.dstL, dstBy)
	if !srcBy && tg.wp >= 0 && c.dec == decDenyWaypoint {
		d = c.dec // the waypoint still sees it
	}
	w := ws
	if w == nil {
		w = wd
	}
	if now >= m.measure {
		m.flt.unprotected[w.fi]++
		if c.dec != decAllow && d == decAllow {
			m.flt.policyBypassed[w.fi]++
		}
	}
	c.dec = d
	return
}

// beyondL7 reports whether a failure ended c's attempt beyond an L7 proxy
// (waypoint or client sidecar): the proxy answers the client (503) over
// the client's connection, which survives, and retries upstream itself.
func (m *Mesh) beyondL7(c *call) bool {
	for i := int8(0); i < c.n && i < c.failAt; i++ {
		if c.kinds[i] == vWP || c.kinds[i] == vScSrc {
			return true
		}
	}
	return false
}

// failHBONESlot tears down a ztunnel pool slot whose connection a failure
// ended (GOAWAY, crash, drain, lost peer) so the checkout dials anew.
func (m *Mesh) failHBONESlot(slot int32, tg *target, hop int32, now sim.Time) {
	s := &m.ztPool[slot]
	if s.gen == 0 && s.retired == 0 {
		return
	}
	f := m.flt
	gone := goneAway(f.node[s.srcNode], s.dialAt, now)
	if tg.wp >= 0 {
		gone = gone || goneAway(f.rep[m.wps[tg.wp].reps[hop]], s.dialAt, now)
	} else {
		d := tg.dst[hop]
		gone = gone || goneAway(f.node[m.pods[d].node], s.dialAt, now) || goneAway(f.pod[d], s.dialAt, now) || goneAway(f.sc[d], s.dialAt, now)
	}
	if !gone {
		return
	}
	if s.gen != 0 {
		m.closeConn(s)
	}
	for ; s.retired > 0; s.retired-- {
		m.closeConn(s)
	}
	s.gen, s.streams, s.retStrms = 0, 0, 0
	s.floor = m.genSeq
}

// upstreamGone reports whether an Envoy upstream pool toward dst pod,
// dialled at dialAt by waypoint replica rep (-1: a sidecar of pod src),
// was ended by a failure.
func (m *Mesh) upstreamGone(rep, src, dst int32, dialAt, now sim.Time) bool {
	f := m.flt
	if rep >= 0 && goneAway(f.rep[rep], dialAt, now) {
		return true
	}
	if src >= 0 && goneAway(f.sc[src], dialAt, now) {
		return true
	}
	return goneAway(f.node[m.pods[dst].node], dialAt, now) || goneAway(f.pod[dst], dialAt, now) || goneAway(f.sc[dst], dialAt, now)
}

// pickLiveReplica is pickReplica skipping replicas out of the waypoint
// Service: same-zone live replicas first, then any live one, else the
// first (whose refusal the request then meets).
func (m *Mesh) pickLiveReplica(wp int32, srcNode int32, e *edgeRT) int32 {
	reps := m.wps[wp].reps
	now := m.s.Now()
	zone := m.nodes[srcNode].zone
	same, live := 0, 0
	for _, r := range reps {
		if m.repOut(r, now) {
			continue
		}
		live++
		if m.nodes[m.reps[r].node].zone == zone {
			same++
		}
	}
	if live == 0 {
		return 0
	}
	if len(reps) == 1 {
		return 0
	}
	want, n := same > 0, same
	if !want {
		n = live
	}
	k := e.lbR.IntN(n)
	for i, r := range reps {
		if m.repOut(r, now) || (want && m.nodes[m.reps[r].node].zone != zone) {
			continue
		}
		if k == 0 {
			return int32(i)
		}
		k--
	}
	return 0
}
