package models

import (
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Event kinds handled by Mesh.Handle.
const (
	kArrive     int32 = iota // external arrival on edge A
	kVisit                   // a call reaches its next proxy (P = *call)
	kApp                     // a call reaches the destination app (P = *call)
	kAppDone                 // the app finished its own work: fan out (P = *call)
	kResume                  // every downstream call finished (P = *call)
	kTimeout                 // a call's timeout expired (P = *call, A = attempt)
	kRetry                   // retry a failed attempt (P = *call)
	kDrop                    // an attempt dropped by a NetworkPolicy times out (P = *call)
	kSnapshot                // record metrics for the timestamped file
	kProgress                // report progress
	kMeasure                 // the warm-up ends: reset statistics
	kCPU                     // a proxy finished its work on a call (P = *call)
	kAppCPU                  // the destination app finished its work (P = *call)
	kGen                     // a load generator's connection sends (A = edge, B = user)
	kTryTimeout              // the routing proxy's per-try timer expired (P = *call, A = attempt)
)

// Outcomes of an attempt / a call.
const (
	outOK          uint8 = iota
	outL4Denied          // reset by ztunnel RBAC (or a sidecar for TCP)
	outL7Denied          // 403 from a waypoint or sidecar
	outDependency        // 500: a downstream call failed
	outNoUpstream        // 503 UH: no endpoints
	outTimeout           // 504 UT
	outNetPolicy         // connection dropped by a NetworkPolicy (connect timeout)
	outTLS               // mTLS handshake failed: a certificate expired (istiod down)
	outRefused           // a proxy on the path is down: connection refused (fail-closed)
	outReset             // a failure reset the connection mid-request (crash, drain deadline)
	outConnTimeout       // the peer is gone (node lost, partition): connect timeout
	outNotFound          // 404 from the routing proxy: no route rule matches
	outBadBackend        // 500 from the routing proxy: the backend share resolves to no Service
	outNoCluster         // 503 NC from the routing proxy: the route names a subset no DestinationRule defines
	nOutcomes
)

var outcomeCause = [nOutcomes]string{"", "l4_denied_reset", "l7_denied_403", "dependency_failed_500", "no_healthy_upstream_503", "timeout_504", "network_policy_drop", "tls_handshake_failed",
	"connection_refused", "connection_reset", "connect_timeout", "route_not_found_404", "invalid_backend_500", "no_cluster_503"}

// failureOutcome reports whether an outcome is caused by a failed
// component (what proxies retry on connect-failure / reset).
func failureOutcome(o uint8) bool { return o == outRefused || o == outReset || o == outConnTimeout }

// Policy decisions cached per (source pod, destination pod).
const (
	decUnknown uint8 = iota
	decAllow
	decDenyZtunnel
	decDenyWaypoint
	decDenySidecar
	decDrop
)

const dirReq, dirResp = 0, 1

// call is one request from a source pod to a service, through retries, with
// its position on the path. Calls live in a slab (Mesh.calls) and are
// recycled through Mesh.free.
//
// Layout: the fields every event of a call reads (its place on the path,
// the visit kinds and nodes, the stamp) share the first cache line, and the
// visit's station and response CPU the second; what only the attempt's start
// and its end read comes after. The size is a multiple of the cache line
// (TestCallLayout), so in a slab chunk every call starts on a line.
type call struct {
	// Line 0: read by every event.
	stamp     int64 // this attempt's number: CPU completions of older ones are ignored
	ei        int32
	dstL      int32
	ti        int16 // target: the backend picked once per request (routing.go)
	n, i      int8
	dir       int8
	kinds     [maxVisits]uint8
	answer    bool // the routing proxy answers (404, 500, 503 NC, redirect)
	routeAt   int8 // visit index of the routing proxy, -1 none
	denyAt    int8
	outcome   uint8
	newStream bool // this attempt opens an app connection (HBONE stream / TCP)
	leg1New   bool // first secured leg dialled a new mTLS connection
	leg2New   bool // waypoint dialled a new upstream HBONE connection
	locs      [maxVisits + 2]int32
	reqB      int32
	respB     int32

	// Line 1: the visit's worker and the response's CPU per visit.
	sts     [maxVisits]*sim.Station
	respDem [maxVisits]sim.Time

	// Line 2: the pools and connections the visits use.
	ready       sim.Time // when the pooled connection this visit uses is ready
	srcL        int32
	repL        int32
	conn        int32 // index in edge.conns, or -1 for a one-off connection
	ztSlot      int32 // HBONE pool slot carrying this call's stream, -1 none
	ztGen       int32
	upSlot      int32  // Envoy upstream slot, -1 none
	ck          uint32 // the app connection's key (worker pinning)
	wpWk        uint32 // the waypoint worker its HBONE connection is pinned to
	rq          int16  // request class
	bi          int16  // backend index in the request class, -1 none
	leg2Stream  bool   // waypoint opened a new upstream stream
	measured    bool
	finalized   bool
	childFail   bool
	parked      bool // hung by a failure: only its timeout ends it
	failAt      int8 // visit a failure ended this attempt at (c.n: the destination)
	dec         uint8
	ans         uint8 // what the routing proxy answers itself (outOK: forwards)
	tries       int8  // attempts within the current client attempt (proxy retries + 1)
	clientTries int8  // client attempts made
	repick      bool  // a client retry: the next attempt draws the backend anew
	attempts    int8
	// zombie: the abandoned upstream part of an attempt the routing
	// proxy's per-try timer ended (pertry.go), laid out from the first
	// visit after the router; its end only reports and releases it.
	zombie bool
	// cutBy is, for a call whose overall timeout ended the attempt in
	// flight at cutAt (cutAt > 0), the visit whose router timed it out, or
	// -1 when the client closed it (for a zombie: its router, the visit
	// before its first); telemetry reports by it (decision 074).
	cutBy int8
	// backoff: the routing proxy retries this request and the retry waits
	// for its back-off (telemetry: a timeout then cuts it at the router).
	backoff bool

	// The attempt's and the call's times, the parent.
	start, attemptStart sim.Time
	// reqAt is when the request (this client attempt) reached its routing
	// proxy on its first try: the client's send for a source sidecar (set
	// when the request starts), the first try's arrival at a waypoint
	// (set when the waypoint first retries it). The router and the proxies
	// before it report a request once, over all its tries (decision 075).
	reqAt  sim.Time
	connAt sim.Time // when the app connection this attempt uses was opened
	// When the request reached the waypoint / destination sidecar, and
	// how long each held it until its response left: their reported
	// request durations.
	wpAt, wpDur, dstAt, dstDur sim.Time
	parent                     *call
	childMax                   sim.Time
	pending                    int32
	user                       int32 // closed-loop generator user + 1 (0: open loop or fan-out)
	timer                      sim.Timer
	tryTimer                   sim.Timer            // the routing proxy's per-try timer (pertry.go), zero when none
	tried                      uint64               // endpoints (dstL mod 64) this request's tries went to (previous_hosts)
	cutAt                      sim.Time             // when a timeout cut the attempt in flight, 0 = none (cutBy)
	_                          [cacheLine - 56]byte // pads the call to whole cache lines
}

// cacheLine is the CPU's cache line (bytes) the hot structures are laid
// out for.
const cacheLine = 64

// callChunk is how many calls one slab chunk holds: a chunk is one large
// allocation (page-aligned by the Go allocator), never moved or freed
// while the mesh runs, so a *call stays valid and calls handed out one
// after another sit next to each other in memory.
const callChunk = 256

func (m *Mesh) alloc() *call {
	if n := len(m.free); n > 0 {
		c := m.free[n-1]
		m.free = m.free[:n-1]
		return c
	}
	if m.slabUsed == len(m.slab) {
		m.slab = new([callChunk]call)[:]
		m.slabUsed = 0
	}
	c := &m.slab[m.slabUsed]
	m.slabUsed++
	return c
}

func (m *Mesh) release(c *call) {
	*c = call{}
	m.free = append(m.free, c)
}

// Handle dispatches the mesh's events.
func (m *Mesh) Handle(ev sim.Event) {
	switch ev.Kind {
	case kArrive:
		m.arrive(int32(ev.A))
	case kVisit:
		c := ev.P.(*call)
		if m.failOn && m.failCheck(c) {
			return
		}
		if c.dir == dirReq {
			m.visitReq(c)
		} else {
			m.visitResp(c)
		}
	case kApp, kAppDone, kResume:
		c := ev.P.(*call)
		if m.failOn && m.failCheck(c) {
			return
		}
		switch ev.Kind {
		case kApp:
			m.appArrive(c)
		case kAppDone:
			m.appDone(c)
		default:
			m.respond(c, m.s.Now())
		}
	case kTimeout:
		c := ev.P.(*call)
		if !c.finalized {
			m.cutByTimeout(c, m.s.Now())
			m.finalize(c, m.s.Now(), outTimeout)
		}
		if c.parked {
			// The client gives up on the hung connection and closes it.
			c.parked = false
			c.outcome = outTimeout
			m.complete(c, m.s.Now())
		}
	case kFault:
		m.handleFault(ev)
	case kScale:
		m.scale()
	case kRetry:
		c := ev.P.(*call)
		if c.finalized {
			// The call's timeout fired during the back-off: the router (or
			// the client) has given up, so the retry is never sent.
			m.release(c)
			return
		}
		m.attempt(c)
	case kDrop:
		m.complete(ev.P.(*call), m.s.Now())
	case kSnapshot:
		m.tel.snapshot(m.s.Now())
		if next := m.s.Now() + m.cfg.SnapshotInterval; next <= m.end {
			m.s.At(next, m, sim.Event{Kind: kSnapshot})
		}
	case kProgress:
		if m.cfg.Progress != nil {
			m.cfg.Progress(m.s.Now(), m.end)
		}
		if next := m.s.Now() + m.end/100 + 1; next <= m.end {
			m.s.At(next, m, sim.Event{Kind: kProgress})
		}
	case kMeasure:
		m.resetStats()
	case kCPU, kAppCPU:
		c := ev.P.(*call)
		if c.stamp != ev.A {
			// The attempt ended (a failure reset it, or it was released)
			// while its work was on a CPU: the work was done for nothing.
			return
		}
		if ev.Kind == kCPU {
			m.cpuDone(c)
		} else {
			m.appCPUDone(c)
		}
	case kGen:
		m.generate(int32(ev.A), int32(ev.B))
	case kTryTimeout:
		if c := ev.P.(*call); c.stamp == ev.A {
			m.tryTimeout(c)
		}
	}
}

// arrive is an external arrival on edge ei: start a call from the next
// source pod (round robin) and schedule the next arrival.
func (m *Mesh) arrive(ei int32) {
	e := &m.edges[ei]
	now := m.s.Now()
	if len(e.src) > 0 {
		srcL := int32(e.rr % uint32(len(e.src)))
		e.rr++
		if m.failOn {
			// Lost source pods send nothing; the next live one does.
			for k := 0; k < len(e.src) && !m.srcLive(e.src[srcL], now); k++ {
				srcL = int32(e.rr % uint32(len(e.src)))
				e.rr++
			}
		}
		if !m.failOn || m.srcLive(e.src[srcL], now) {
			m.startCall(ei, srcL, nil, 0)
		}
	}
	var gap sim.Time
	switch e.cfg.Arrival {
	case ArrivalConstant:
		gap = sim.Time(e.rateNs)
	case ArrivalOnOff:
		gap = e.nextOnOff(now) - now
	default:
		gap = sim.Time(e.arrR.ExpFloat64() * e.rateNs)
	}
	if m.failOn && len(m.flt.surges) > 0 {
		gap = sim.Time(float64(gap) / m.surgeFactor(ei, now))
	}
	if gap < 1 {
		gap = 1
	}
	if now+gap < m.end {
		m.s.At(now+gap, m, sim.Event{Kind: kArrive, A: int64(ei)})
	}
}

// startCall begins a call on edge ei from source pod srcL (local index),
// for a generator's user (user + 1; 0 for none).
func (m *Mesh) startCall(ei, srcL int32, parent *call, user int32) {
	c := m.alloc()
	now := m.s.Now()
	c.ei, c.srcL, c.parent, c.start, c.user = ei, srcL, parent, now, user
	c.measured = now >= m.measure
	if parent != nil {
		parent.pending++
	} else if c.measured {
		m.stats.offered++
		m.stats.live++
	}
	e := &m.edges[ei]
	if c.measured {
		e.started++
	}
	c.rq = e.pickRequest()
	c.repick = true
	if to := e.callTimeout(c.rq); to > 0 {
		c.timer = m.s.At(now+to, m, sim.Event{Kind: kTimeout, P: c})
	}
	m.attempt(c)
}

// callTimeout is the timeout of a call of request class rq on e: the
// client's, and the route's, enforced by the L7 proxy that routes the
// request; the first to expire ends the call (0: none).
func (e *edgeRT) callTimeout(rq int16) sim.Time {
	to := e.timeout
	if rt := e.routes[rq].timeout; rt > 0 && (to == 0 || rt < to) {
		to = rt
	}
	return to
}

// attempt sends one try of call c: pick the backend, the app connection, the
// endpoint, the policy decision, lay out the proxies, and send it.
func (m *Mesh) attempt(c *call) {
	e := &m.edges[c.ei]
	now := m.s.Now()
	c.attemptStart = now
	c.attempts++
	m.stampSeq++
	c.stamp = m.stampSeq
	c.outcome, c.ztSlot, c.upSlot, c.conn, c.repL = outOK, -1, -1, -1, -1
	c.wpDur, c.dstDur, c.cutAt, c.backoff = 0, 0, 0, false
	c.leg1New, c.leg2New, c.leg2Stream = false, false, false
	c.reqB = sizeOf(e.reqSz)
	c.respB = sizeOf(e.respSz)

	if c.repick {
		// A new request (not a proxy retry): the backend is drawn once
		// and kept for the proxy's retries.
		c.bi, c.ti, c.ans = e.pickBackend(c.rq)
		c.answer = c.ans != outOK || e.routes[c.rq].redirect != 0
		c.repick = false
		c.reqAt = now
		c.clientTries++
		c.tries = 0
		c.tried = 0
	}
	c.tries++
	ti := int(c.ti)
	tg := &e.tgts[ti]
	srcPod := e.src[c.srcL]
	nd := tg.nDst()
	if nd == 0 && !c.answer {
		if !e.l7Routed() {
			// No L7 router: the connection to a Service without endpoints
			// fails at once.
			c.n, c.dstL = 0, -1
			c.outcome = outNoUpstream
			m.complete(c, now+m.c.sameNode)
			return
		}
		// The router answers 503 UH itself (after a waypoint's policies).
		c.answer, c.ans = true, outNoUpstream
	}

	ac := m.appConnection(c, e, tg, now)
	srcNode := m.podHot[srcPod].node
	if tg.wp >= 0 {
		m.replicaFor(c, e, tg, ac, srcNode, now)
	}
	if c.answer {
		m.answerAttempt(c, e, tg, srcPod, srcNode, now)
		return
	}
	m.pickEndpoint(c, e, tg, ac, nd, srcNode)
	if m.failOn && !m.failPick(c, tg, ac, now) {
		if e.l7Routed() {
			// No endpoint left to pick: the router answers 503 UH.
			c.answer, c.ans = true, outNoUpstream
			m.answerAttempt(c, e, tg, srcPod, srcNode, now)
			return
		}
		c.outcome = outNoUpstream
		c.dstL = -1
		m.complete(c, now+m.c.sameNode)
		return
	}
	dstPod, dstNode := int32(-1), srcNode
	if tg.ext < 0 {
		dstPod = tg.dst[c.dstL]
		ph := &m.podHot[dstPod]
		ph.out++
		dstNode = ph.node
	}
	c.dec = m.decide(e, tg, c.rq, c.srcL, c.dstL)
	n, srcBy, dstNode := m.layOut(c, tg, srcPod, srcNode, dstPod, dstNode, now)
	m.send(c, e, tg, n, srcBy, srcPod, srcNode, dstNode, now)
}

// appConnection takes the app's connection for attempt c now: a keep-alive
// pool of Pool connections per client pod, or a new connection per
// request (nil). It sets c.conn, c.newStream, c.connAt, c.ck and c.wpWk.
func (m *Mesh) appConnection(c *call, e *edgeRT, tg *target, now sim.Time) *appConn {
	ti := int(c.ti)
	// HTTP/2 and gRPC multiplex requests over the pool; HTTP/1.1 and TCP
	// need an idle connection and open a one-off one when all are busy (as
	// Go's http.Transport does beyond MaxIdleConnsPerHost).
	c.newStream = true
	c.connAt = now
	var ac *appConn
	if e.keepAlive {
		base := c.srcL * e.pool
		if c.user > 0 {
			// A generator's connection: its own, whatever the protocol.
			k := base + e.userConn(c.user-1)
			ac, c.conn = &e.conns[k], k
		} else if e.mux {
			k := base + int32(e.connRR%uint32(e.pool))
			e.connRR++
			ac, c.conn = &e.conns[k], k
		} else {
			for k := base; k < base+e.pool; k++ {
				if e.conns[k].inflight == 0 {
					ac, c.conn = &e.conns[k], k
					break
				}
			}
		}
		if ac != nil {
			if m.failOn && ac.opened && m.connStale(e, &e.tgts[ac.tgt], c.srcL, ac, ac.openedAt, now) {
				ac.opened = false // reset by a failure: the client reconnects
			}
			// The app's connection goes to the first proxy; an L7 proxy
			// routes each request to its backend, so a backend change needs
			// no new connection (and L4 paths have a single backend).
			if ac.opened && (ac.tgt == int16(ti) || tg.wp >= 0 || tg.src == vScSrc) {
				c.newStream = false
			} else {
				ac.opened, ac.tgt, ac.pinned, ac.rep = true, int16(ti), -1, -1
				ac.openedAt = now
				ac.key = m.newConnKey(c.ei)
			}
			ac.inflight++
			c.connAt = ac.openedAt
		}
	}
	if ac != nil {
		c.ck = ac.key
		c.wpWk = ac.wk
	} else {
		c.ck = m.newConnKey(c.ei)
		c.wpWk = connKey(uint64(c.ck), 5)
	}
	return ac
}

// replicaFor sets c.repL, the waypoint replica of the attempt: its app
// connection's, or a new pick (kept on the connection).
func (m *Mesh) replicaFor(c *call, e *edgeRT, tg *target, ac *appConn, srcNode int32, now sim.Time) {
	if ac != nil && ac.rep >= 0 && (!m.failOn || !m.repOut(m.wps[tg.wp].reps[ac.rep], now)) {
		c.repL = ac.rep
	} else {
		c.repL = m.pickReplica(tg.wp, srcNode, e)
		if ac != nil {
			ac.rep = c.repL
		}
	}
}

// pickEndpoint sets c.dstL, the destination of the attempt: the external
// host, the pod its L4 connection is pinned to, or a new pick (at random
// per connection for kube-proxy and ztunnel, by the edge's load balancing
// for an L7 proxy), moved closer with PreferClose.
func (m *Mesh) pickEndpoint(c *call, e *edgeRT, tg *target, ac *appConn, nd int32, srcNode int32) {
	l7 := tg.wp >= 0 || tg.src == vScSrc
	switch {
	case tg.ext >= 0:
		c.dstL = 0 // the one external host
	case !l7 && ac != nil && ac.pinned >= 0:
		c.dstL = ac.pinned
	case !l7:
		// kube-proxy and ztunnel pick an endpoint at random per connection.
		c.dstL = int32(e.lbR.IntN(int(nd)))
		if m.cfg.PreferClose {
			c.dstL = m.preferClose(e, tg, c.dstL, srcNode)
		}
		if ac != nil {
			ac.pinned = c.dstL
		}
	default:
		c.dstL = m.pickHost(c, e, tg, srcNode)
		if c.tries > 1 && e.routes[c.rq].retry.avoidTried {
			// Envoy's previous_hosts predicate: a retry's host selection
			// is made again while it lands on a host this request already
			// tried, up to Istio's HostSelectionRetryMaxAttempts in all;
			// then the last one selected is used.
			for k := 1; k < hostSelectionAttempts && c.tried&triedBit(c.dstL) != 0; k++ {
				c.dstL = m.pickHost(c, e, tg, srcNode)
			}
		}
		c.tried |= triedBit(c.dstL)
	}
}

// hostSelectionAttempts is Istio's HostSelectionRetryMaxAttempts: the host
// selections a retry makes before it takes a host already tried
// (pilot/pkg/networking/core/route/retry/retry.go defaultPolicy).
const hostSelectionAttempts = 5

// triedBit is endpoint l's bit in call.tried (endpoints 64 apart share one:
// with that many endpoints a retry rarely meets a tried one anyway).
func triedBit(l int32) uint64 { return 1 << (uint32(l) % 64) }

// pickHost is an L7 proxy's choice of endpoint for attempt c: its load
// balancer, then PreferClose's locality.
func (m *Mesh) pickHost(c *call, e *edgeRT, tg *target, srcNode int32) int32 {
	l := m.pickL7(e, tg)
	if m.cfg.PreferClose {
		from := srcNode
		if tg.wp >= 0 {
			from = m.reps[m.wps[tg.wp].reps[c.repL]].node
		}
		l = m.preferClose(e, tg, l, from)
	}
	return l
}

// layOut lays out the proxies attempt c crosses (c.kinds, c.sts, c.locs
// and the response CPU per visit) and returns how many, whether a failure
// bypasses the source side, and the node the request ends at.
func (m *Mesh) layOut(c *call, tg *target, srcPod, srcNode, dstPod, dstNode int32, now sim.Time) (int8, bool, int32) {
	n := int8(0)
	c.locs[0] = srcNode
	srcBy, dstBy := false, false
	if m.failOn && len(m.flt.nets)+len(m.flt.bypass) > 0 {
		srcBy, dstBy = m.bypassed(c, tg, srcNode, dstNode, now)
	}
	// Each proxy's worker: the one the app connection (ztunnel, sidecar)
	// or the HBONE connection (waypoint, chosen at the visit) is pinned to.
	if tg.src != 255 && !srcBy {
		m.sourceVisit(c, tg, srcPod, srcNode, n)
		n++
	}
	if tg.wp >= 0 && !srcBy {
		r := m.wps[tg.wp].reps[c.repL]
		c.kinds[n], c.sts[n] = vWP, nil
		c.locs[n+1] = m.reps[r].node
		n++
	}
	if tg.egw >= 0 && !srcBy {
		c.kinds[n] = vEgw
		c.sts[n] = m.pods[tg.egw].sc.pick(connKey(uint64(c.ck), 6))
		c.locs[n+1] = m.pods[tg.egw].node
		n++
	}
	if tg.ext >= 0 {
		// The host is reached from the last proxy (or the source pod):
		// its round trip is added when the request gets there.
		dstNode = c.locs[n]
	}
	if tg.dstK != 255 && !dstBy {
		c.kinds[n] = tg.dstK
		if tg.dstK == vZtDst {
			c.sts[n] = m.nodes[dstNode].zt.pick(connKey(uint64(c.ck), 2))
		} else {
			c.sts[n] = m.pods[dstPod].sc.pick(connKey(uint64(c.ck), 4))
		}
		c.locs[n+1] = dstNode
		n++
	}
	c.locs[n+1] = dstNode
	for j := int8(0); j < n; j++ {
		c.respDem[j] = m.respDemand(c, j, c.respB)
	}
	return n, srcBy, dstNode
}

// send starts attempt c, laid out over n visits: refused by a failure,
// denied or dropped by policy, or on its way to its first proxy (or the
// app when it crosses none).
func (m *Mesh) send(c *call, e *edgeRT, tg *target, n int8, srcBy bool, srcPod, srcNode, dstNode int32, now sim.Time) {
	c.n, c.i, c.dir = n, 0, dirReq
	c.denyAt = -1
	c.routeAt = m.routedAt(c, e)
	if m.failOn {
		if at, after, out, ok := m.refuse(c, tg, now); ok {
			c.outcome, c.i, c.respB, c.failAt = out, at, 0, at+1
			m.s.At(now+after, m, sim.Event{Kind: kDrop, P: c})
			return
		}
	}
	switch c.dec {
	case decDenyZtunnel:
		c.denyAt = m.findVisit(c, vZtDst)
	case decDenyWaypoint:
		c.denyAt = m.findVisit(c, vWP)
	case decDenySidecar:
		c.denyAt = m.findVisit(c, vScDst)
	case decDrop:
		// The SYN is dropped: the client (or its proxy) gives up at the
		// connect timeout.
		c.outcome = outNetPolicy
		c.n = 0
		m.s.At(now+m.c.connectTimeout, m, sim.Event{Kind: kDrop, P: c})
		return
	}
	if tg.egwOut != outOK && c.denyAt < 0 {
		c.denyAt = m.findVisit(c, vEgw) // the egress gateway cannot send it on
	}
	m.clientCPU(c, e, srcPod)
	out := now + e.extHalf // an external client's request reaches the cluster
	if n == 0 {
		if c.newStream {
			out += sim.Time(m.c.tcpRTTs * float64(2*m.oneWay(srcNode, dstNode)))
		}
		m.s.At(out+m.net(srcNode, dstNode, c.reqB, out), m, sim.Event{Kind: kApp, P: c})
		return
	}
	if c.newStream && tg.src != 255 && !srcBy {
		// The app's TCP handshake with its local capture (in-pod ztunnel
		// listener or the sidecar's iptables redirect).
		out += sim.Time(m.c.tcpRTTs * float64(2*m.c.sameNode))
	}
	m.s.At(out+m.c.sameNode, m, sim.Event{Kind: kVisit, P: c})
}

// clientCPU charges the source's CPU for sending c, off the request's path:
// a load generator's per-request and per-byte work (external traffic
// only), and the kernel's connect for a new connection.
func (m *Mesh) clientCPU(c *call, e *edgeRT, srcPod int32) {
	if e.external {
		return
	}
	var d sim.Time
	if c.parent == nil {
		d = m.c.lgReq + bytesCost(m.c.lgByteNs, c.reqB+c.respB)
	}
	if c.newStream {
		d += m.c.tcpCPU
	}
	if d > 0 {
		m.podHot[srcPod].appSt.Submit(d, nil, sim.Event{})
	}
}

// newConnKey returns a fresh key for a new app connection on edge ei.
func (m *Mesh) newConnKey(ei int32) uint32 {
	m.connSeq++
	return connKey(m.connSeq, uint64(ei))
}

// findVisit returns the index of the first visit of kind k, or the last
// visit when the path has none (the enforcing point is then the last proxy).
func (m *Mesh) findVisit(c *call, k uint8) int8 {
	for i := int8(0); i < c.n; i++ {
		if c.kinds[i] == k {
			return i
		}
	}
	return c.n - 1
}

func sizeOf(d sim.Dist) int32 {
	v := d.Rand()
	if v < 0 {
		return 0
	}
	if v > 1<<30 {
		return 1 << 30
	}
	return int32(v + 0.5)
}

// respDemand is the CPU visit j's proxy spends on a response of b bytes.
func (m *Mesh) respDemand(c *call, j int8, b int32) sim.Time {
	switch c.kinds[j] {
	case vZtSrc, vZtDst:
		return m.c.ztMsg + bytesCost(m.c.ztByteNs, b) + m.ztCross(c, j)
	case vWP:
		return m.c.wp.reqHalf + bytesCost(m.c.wp.byteNs, b)
	case vScDst:
		return m.c.sc.reqHalf + m.c.sc.inHalf + bytesCost(m.c.sc.byteNs, b)
	default:
		return m.c.sc.reqHalf + bytesCost(m.c.sc.byteNs, b)
	}
}

// visitReq handles a call reaching visit c.i in the request direction: the
// proxy works out what the request costs it (pools, handshakes, policy)
// and its worker thread does the work; cpuDone continues.
func (m *Mesh) visitReq(c *call) {
	now := m.s.Now()
	e := &m.edges[c.ei]
	tg := &e.tgts[c.ti]
	i := c.i
	if c.answer && i == c.routeAt {
		m.answerVisit(c, e, tg, now)
		return
	}
	from, to := c.locs[i+1], c.locs[i+2]
	var demand sim.Time
	switch c.kinds[i] {
	case vZtSrc:
		demand = m.ztOutbound(c, tg, now, from, to)
		if c.conn >= 0 && c.newStream {
			e.conns[c.conn].wk = c.wpWk
		}
	case vWP:
		c.wpAt = now
		demand = m.waypointRequest(c, tg, now, from, to)
		c.sts[i] = m.reps[m.wps[tg.wp].reps[c.repL]].st.pick(c.wpWk)
	case vZtDst:
		demand = m.ztInbound(c, tg, now)
	case vScSrc:
		demand = m.sidecarOutbound(c, tg, now, from, to)
	case vScDst:
		c.dstAt = now
		demand = m.sidecarInbound(c, tg, now)
	case vEgw:
		demand = m.egressGatewayRequest(c, tg, now)
	}
	c.sts[i].Submit(demand, m, sim.Event{Kind: kCPU, A: c.stamp, P: c})
}

// cpuDone continues a call whose proxy at visit c.i finished its work now.
func (m *Mesh) cpuDone(c *call) {
	fin := m.s.Now()
	if c.dir == dirResp {
		m.visitRespDone(c, fin)
		return
	}
	e := &m.edges[c.ei]
	tg := &e.tgts[c.ti]
	i := c.i
	if c.answer && i == c.routeAt {
		m.answered(c, fin)
		return
	}
	from, to := c.locs[i+1], c.locs[i+2]
	var next sim.Time
	switch c.kinds[i] {
	case vZtSrc:
		next = m.ztOutboundNext(c, fin, from, to)
	case vWP:
		next = m.waypointNext(c, fin, from, to)
	case vZtDst:
		next = m.ztInboundNext(c, fin)
	case vScSrc:
		next = m.sidecarOutboundNext(c, tg, fin, from, to)
	case vScDst:
		next = m.sidecarInboundNext(c, fin)
	case vEgw:
		start := fin + m.addedLat(2, from)
		next = start + m.net(from, to, c.reqB, start)
	}
	if c.outcome == outTLS {
		// The handshake failed here: the app's connection is reset.
		c.respB = 0
		for j := int8(0); j < i; j++ {
			c.respDem[j] = m.respDemand(c, j, 0)
		}
		m.turnAround(c, next, i)
		return
	}
	if i == c.denyAt {
		m.deniedAt(c, e, tg, i, fin)
		return
	}
	if i == c.routeAt {
		// The routing proxy sends the request upstream: mirrors, and its
		// per-try timer (pertry.go).
		if r := &e.routes[c.rq]; len(r.mirrors) > 0 || r.perTry > 0 {
			if len(r.mirrors) > 0 {
				m.mirror(c, e, i, fin)
			}
			if r.perTry > 0 {
				m.startTry(c, r.perTry, fin, from, to)
			}
		}
	}
	if i+1 < c.n {
		c.i = i + 1
		m.s.At(next, m, sim.Event{Kind: kVisit, P: c})
		return
	}
	m.s.At(next, m, sim.Event{Kind: kApp, P: c})
}

// deniedAt turns attempt c around at visit i, whose proxy finished it at fin
// and refuses it: ztunnel resets (L4), an L7 proxy answers 403 (or resets
// raw TCP), a broken egress gateway route refuses or answers 404.
func (m *Mesh) deniedAt(c *call, e *edgeRT, tg *target, i int8, fin sim.Time) {
	switch c.kinds[i] {
	case vZtDst, vZtSrc:
		c.outcome = outL4Denied
	case vEgw:
		// A broken egress gateway route: no listener (the connection
		// is refused, a connect failure its client retries) or no
		// route on (404).
		c.outcome = tg.egwOut
		if c.outcome == outRefused {
			c.failAt = i
		}
	default:
		if e.tcp {
			c.outcome = outL4Denied
		} else {
			c.outcome = outL7Denied
		}
	}
	c.respB = 0
	if c.outcome == outL7Denied {
		c.respB = 19 // "RBAC: access denied"
	}
	for j := int8(0); j < i; j++ {
		c.respDem[j] = m.respDemand(c, j, c.respB)
	}
	m.turnAround(c, fin, i)
}

// turnAround sends the answer back from visit i (denied there), leaving it
// at time t.
func (m *Mesh) turnAround(c *call, t sim.Time, i int8) {
	c.dir = dirResp
	switch c.kinds[i] {
	case vWP:
		c.wpDur = t - c.wpAt
	case vScDst:
		c.dstDur = t - c.dstAt
	}
	if i == 0 {
		m.complete(c, m.toClient(c, t+m.latAt(c, 0)+m.c.sameNode))
		return
	}
	c.i = i - 1
	d := m.latAt(c, i)
	d += m.net(c.locs[i+1], c.locs[i], c.respB, t+d)
	m.s.At(t+d, m, sim.Event{Kind: kVisit, P: c})
}

// latAt draws the added (non-CPU) latency of a crossing of visit i.
func (m *Mesh) latAt(c *call, i int8) sim.Time {
	switch c.kinds[i] {
	case vZtSrc, vZtDst:
		return m.addedLat(0, c.locs[i+1])
	case vWP:
		return m.addedLat(1, c.locs[i+1])
	}
	return m.addedLat(2, c.locs[i+1])
}

// addedLat draws the added latency of a crossing of a proxy of kind k (0
// ztunnel, 1 waypoint, 2 sidecar) on node: lognormal with the profile's
// mean and CV, from the node's stream for that kind, or the constant mean.
func (m *Mesh) addedLat(k int, node int32) sim.Time {
	var d *latDist
	switch k {
	case 0:
		d = &m.c.ztLatD
	case 1:
		d = &m.c.wp.latD
	default:
		d = &m.c.sc.latD
	}
	if d.q == nil {
		return d.mean
	}
	return d.q[m.nodes[node].latR[k].Uint64()&(latTableSize-1)]
}

// toClient is when the answer leaving the cluster at t reaches its client:
// t itself, or half the round trip later for an external one.
func (m *Mesh) toClient(c *call, t sim.Time) sim.Time {
	return t + m.edges[c.ei].extHalf
}

// visitResp handles the response crossing visit c.i on its way back: the
// proxy's worker does the response's work, then visitRespDone.
func (m *Mesh) visitResp(c *call) {
	c.sts[c.i].Submit(c.respDem[c.i], m, sim.Event{Kind: kCPU, A: c.stamp, P: c})
}

// visitRespDone continues a response the proxy at visit c.i finished at fin.
func (m *Mesh) visitRespDone(c *call, fin sim.Time) {
	i := c.i
	switch c.kinds[i] {
	case vWP:
		m.waypointResponse(c)
		c.wpDur = fin - c.wpAt
	case vScSrc:
		m.sidecarResponse(c)
	case vScDst:
		c.dstDur = fin - c.dstAt
	}
	if i == 0 {
		m.complete(c, m.toClient(c, fin+m.latAt(c, 0)+m.c.sameNode))
		return
	}
	c.i = i - 1
	d := m.latAt(c, i)
	d += m.net(c.locs[i+1], c.locs[i], c.respB, fin+d)
	m.s.At(fin+d, m, sim.Event{Kind: kVisit, P: c})
}

// appArrive: the request reaches the destination app, whose worker pool
// serves it: it blocks for the non-CPU share of its service time, then
// computes the rest on the node's CPU.
func (m *Mesh) appArrive(c *call) {
	now := m.s.Now()
	e := &m.edges[c.ei]
	tg := &e.tgts[c.ti]
	if tg.ext >= 0 {
		m.externalAnswer(c, tg, now)
		return
	}
	pi := tg.dst[c.dstL]
	demand := sim.Time(m.serviceTime(pi))
	p := &m.podHot[pi]
	if demand < 0 {
		demand = 0
	}
	if now >= m.measure {
		p.appReqs++
	}
	cpu := demand
	if p.cpuFrac < 1 {
		cpu = sim.Time(float64(demand)*p.cpuFrac + 0.5)
	}
	p.appSt.SubmitBlocked(demand-cpu, cpu, m, sim.Event{Kind: kAppCPU, A: c.stamp, P: c})
}

// appCPUDone: the app finished the request's work now: fan out to its own
// calls, or answer.
func (m *Mesh) appCPUDone(c *call) {
	e := &m.edges[c.ei]
	tg := &e.tgts[c.ti]
	if tg.ext >= 0 {
		m.respond(c, m.s.Now()) // an external host calls nothing in the mesh
		return
	}
	if m.podHot[tg.dst[c.dstL]].fanWl >= 0 {
		if m.failOn && m.failCheck(c) {
			return
		}
		m.appDone(c)
		return
	}
	m.respond(c, m.s.Now())
}

// appDone fans the request out to the destination workload's own calls.
func (m *Mesh) appDone(c *call) {
	e := &m.edges[c.ei]
	tg := &e.tgts[c.ti]
	p := &m.podHot[tg.dst[c.dstL]]
	if p.fanWl < 0 {
		m.respond(c, m.s.Now()) // its workload calls nothing
		return
	}
	w := &m.wls[p.fanWl]
	c.childMax = m.s.Now()
	// This attempt's own calls decide its outcome: a retry of an attempt
	// whose dependency failed starts clean (every child of that attempt
	// had finished before it answered).
	c.childFail = false
	spawned := false
	// A guard: a child that finishes at once (no endpoint, refused) must
	// not resume c before its siblings have started.
	c.pending++
	for _, oi := range w.out {
		oe := &m.edges[oi]
		k := oe.fanInt
		if oe.fanFrac > 0 && w.fan.Float64() < oe.fanFrac {
			k++
		}
		for j := 0; j < k; j++ {
			m.startCall(oi, p.wlLocal, c, 0)
			spawned = true
		}
	}
	c.pending--
	switch {
	case !spawned:
		m.respond(c, m.s.Now())
	case c.pending == 0:
		m.s.At(max(c.childMax, m.s.Now()), m, sim.Event{Kind: kResume, P: c})
	}
}

// respond starts the response at time t from the destination app.
func (m *Mesh) respond(c *call, t sim.Time) {
	if c.childFail && c.outcome == outOK {
		c.outcome = outDependency
	}
	c.dir = dirResp
	if c.n == 0 {
		m.complete(c, m.toClient(c, t+m.net(c.locs[1], c.locs[0], c.respB, t)))
		return
	}
	c.i = c.n - 1
	m.s.At(t+m.c.sameNode, m, sim.Event{Kind: kVisit, P: c})
}

// complete ends an attempt at time t (>= now): release connections, record
// the proxies' telemetry, retry or finish the call.
func (m *Mesh) complete(c *call, t sim.Time) {
	if c.zombie {
		m.zombieEnd(c, t)
		return
	}
	if c.tryTimer.Valid() {
		m.s.Cancel(c.tryTimer)
		c.tryTimer = sim.Timer{}
	}
	e := &m.edges[c.ei]
	tg := &e.tgts[c.ti]
	if len(tg.dst) > 0 && c.dstL >= 0 && int(c.dstL) < len(tg.dst) {
		m.podHot[tg.dst[c.dstL]].out--
	}
	closed := false
	if c.conn >= 0 {
		ac := &e.conns[c.conn]
		ac.inflight--
		if c.outcome == outL4Denied || c.outcome == outNetPolicy || c.outcome == outTLS || (failureOutcome(c.outcome) && !m.beyondL7(c)) {
			// The app sees a reset: the connection is gone.
			ac.opened = false
			closed = true
		}
	} else {
		closed = true // one-off connection
	}
	if closed && c.ztSlot >= 0 {
		m.closeStream(c.ztSlot, c.ztGen)
	}
	// Whether the attempt is retried is decided before it is reported: a
	// try its router retries is no downstream request of the router's, nor
	// of the proxies before it (decision 075).
	retry, after := false, sim.Time(0)
	if !c.finalized && c.outcome != outOK {
		retry, after = m.mayRetry(c, e, tg)
	}
	routerRetries := retry && !c.repick
	if routerRetries && c.tries == 1 && c.kinds[c.routeAt] == vWP {
		c.reqAt = c.wpAt // the waypoint holds the request from its first try on
	}
	if c.attemptStart >= m.measure {
		m.tel.record(m, c, e, tg, t, closed, routerRetries)
		m.countConnections(c, e, tg)
	}
	if retry {
		c.backoff = routerRetries
		m.s.At(max(t, m.s.Now())+after, m, sim.Event{Kind: kRetry, P: c})
		return
	}
	if c.finalized {
		m.release(c) // finished earlier by its timeout
		return
	}
	m.finalize(c, t, c.outcome)
	m.release(c)
}

// finalize records a call's result at time t and tells its parent. It may
// run before the call's events end (timeout); then complete releases it.
func (m *Mesh) finalize(c *call, t sim.Time, out uint8) {
	c.finalized = true
	m.s.Cancel(c.timer)
	e := &m.edges[c.ei]
	tg := &e.tgts[c.ti]
	if m.series != nil && c.measured {
		m.series.add(c.ei, t-m.measure, out != outOK, t-c.start)
	}
	if m.batchN != nil && c.parent == nil && out == outOK {
		if b := int(t / m.cfg.BatchInterval); b < len(m.batchN) {
			m.batchSum[b] += (t - c.start).Milliseconds()
			m.batchN[b]++
		}
	}
	if c.measured {
		lat := t - c.start
		tg.lat.record(lat)
		e.routes[c.rq].count(c.bi, c.answer && c.ans != outNoUpstream && c.dec != decDenyWaypoint, out)
		e.calls++
		if out != outOK {
			e.failed++
		} else {
			e.bytes += int64(c.reqB) + int64(c.respB)
			if tg.bypass {
				e.bypassed++
			}
		}
		m.stats.causes[out]++
		if c.parent == nil {
			m.stats.live--
			if out == outOK {
				m.stats.succeeded++
				m.stats.e2e.Record(lat)
			} else {
				m.stats.failed++
			}
		}
	}
	if c.user > 0 {
		m.userDone(c.ei, c.user-1, t)
	}
	if p := c.parent; p != nil {
		p.pending--
		if t > p.childMax {
			p.childMax = t
		}
		if out != outOK {
			p.childFail = true
		}
		if p.pending == 0 {
			at := p.childMax
			if now := m.s.Now(); at < now {
				at = now
			}
			m.s.At(at, m, sim.Event{Kind: kResume, P: p})
		}
	}
}

// decide returns the cached policy decision for (request class, source,
// destination pod).
func (m *Mesh) decide(e *edgeRT, tg *target, rq int16, srcL, dstL int32) uint8 {
	if tg.allowAll {
		return decAllow // no policy applies to the target's path
	}
	nd := tg.nDst()
	k := (int32(rq)*int32(len(e.src))+srcL)*nd + dstL
	if d := tg.decisions[k]; d != decUnknown {
		return d
	}
	d := decAllow
	if tg.ext >= 0 {
		// Only the egress waypoint checks policy on a ServiceEntry host
		// (topology.EvaluateEgress).
		if tg.wp >= 0 && len(m.top.AuthorizationPolicies) > 0 {
			if dec := m.top.EvaluateEgress(m.pods[e.src[srcL]].p, m.exts[tg.ext].se, e.routes[rq].req); !dec.Allow {
				d = decDenyWaypoint
			}
		}
	} else if len(m.top.AuthorizationPolicies) > 0 || len(m.top.PeerAuthentications) > 0 || len(m.top.NetworkPolicies) > 0 {
		var via *topology.Waypoint
		if tg.wp >= 0 {
			via = m.wps[tg.wp].w
		}
		src := m.pods[e.src[srcL]].p
		dst := m.pods[tg.dst[dstL]].p
		port := m.svcs[tg.svc].s.TargetPort(tg.port)
		dec := m.evaluate(e, rq, src, dst, via, port)
		if !dec.Allow {
			switch {
			case dec.Layer == "L3" || dec.By == "networkpolicy":
				d = decDrop
			case hasPrefix(dec.By, "waypoint/"):
				d = decDenyWaypoint
			case hasPrefix(dec.By, "sidecar/"):
				d = decDenySidecar
			case hasPrefix(dec.By, "ztunnel/"):
				d = decDenyZtunnel
			case tg.dstK == vScDst:
				d = decDenySidecar
			default:
				d = decDenyZtunnel
			}
		}
	}
	tg.decisions[k] = d
	return d
}

// noPolicyFor reports whether no policy can apply to target tg: decide then
// allows every request without evaluating (or caching) anything, the
// outcome it would reach for each.
func (m *Mesh) noPolicyFor(tg *target) bool {
	if tg.ext >= 0 {
		return tg.wp < 0 || len(m.top.AuthorizationPolicies) == 0
	}
	return len(m.top.AuthorizationPolicies) == 0 && len(m.top.PeerAuthentications) == 0 && len(m.top.NetworkPolicies) == 0
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// countConnections adds an attempt's new connections and handshakes to its
// edge's pooling statistics.
func (m *Mesh) countConnections(c *call, e *edgeRT, tg *target) {
	if c.newStream {
		e.streams++
	}
	if c.leg1New {
		e.hs++
		switch {
		case tg.src == vZtSrc && tg.wp >= 0:
			e.hsCPU += m.c.ztHSc + m.c.wp.hs
		case tg.src == vZtSrc && tg.dstK == vScDst:
			e.hsCPU += m.c.ztHSc + m.c.sc.hs
		case tg.src == vZtSrc:
			e.hsCPU += m.c.ztHSc + m.c.ztHSs
		case tg.dstK == vZtDst:
			e.hsCPU += m.c.sc.hs + m.c.ztHSs
		default:
			e.hsCPU += 2 * m.c.sc.hs
		}
	}
	if c.leg2New && !tg.plainUpstream() {
		e.hs++
		if tg.dstK == vScDst || tg.egw >= 0 {
			e.hsCPU += m.c.wp.hs + m.c.sc.hs
		} else {
			e.hsCPU += m.c.wp.hs + m.c.ztHSs
		}
	}
}

// nextOnOff returns the next arrival time after t of an on-off process:
// Poisson at the on-rate during on periods, nothing during off periods,
// both periods exponential. Memorylessness makes redrawing at a period
// boundary exact.
func (e *edgeRT) nextOnOff(t sim.Time) sim.Time {
	for {
		g := sim.Time(e.arrR.ExpFloat64() * e.rateNs)
		if t+g <= e.onUntil {
			return t + g
		}
		start := e.onUntil + sim.Time(e.arrR.ExpFloat64()*float64(e.cfg.Off))
		e.onUntil = start + sim.Time(e.arrR.ExpFloat64()*float64(e.cfg.On))
		t = start
	}
}

// sourceVisit lays out visit n as the source's proxy (its node's ztunnel or
// its sidecar) on the worker the app connection is pinned to.
func (m *Mesh) sourceVisit(c *call, tg *target, srcPod, srcNode int32, n int8) {
	c.kinds[n] = tg.src
	if tg.src == vZtSrc {
		c.sts[n] = m.nodes[srcNode].zt.pick(connKey(uint64(c.ck), 1))
	} else {
		c.sts[n] = m.pods[srcPod].sc.pick(connKey(uint64(c.ck), 3))
	}
	c.locs[n+1] = srcNode
}
