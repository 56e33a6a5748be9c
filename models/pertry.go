package models

import (
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Per-try timeouts (decision 073): the routing proxy's retry policy may
// bound each try (VirtualService retries.perTryTimeout, HTTPRoute
// timeouts.backendRequest with a retry stanza). As in Envoy's router, the
// timer starts when the proxy sends the try upstream (the upstream
// connection is ready: UpstreamRequest::onPoolReady); the route's timeout
// still covers all tries together. When the timer expires before the
// try's response reaches the proxy, the proxy resets the upstream request
// and the try's outcome is 504 UT: retried when the route's policy
// retries a reset (reset, 5xx, gateway-error) and attempts remain, else
// the client gets the 504.
//
// The upstream does not learn of the reset in time to stop: the
// destination's proxy and app go on with the request they hold (CPU,
// worker, their own downstream calls), and the proxy drops the response
// if it comes. The model splits the call: the in-flight attempt, whose
// events are already queued with this *call, goes on as a detached
// zombie laid out from the first visit after the router, and a fresh
// *call takes over the request (the 504, the retries, the timeout, the
// parent). The zombie's end only records what the proxies beyond the
// router report and releases it; it never touches the call.

// perTryOf is the per-try timeout of a routed request class: the retry
// policy's, when the route retries at all, on HTTP, and shorter than the
// route's timeout (Envoy drops a per-try timeout that is not: it could
// never fire first).
func perTryOf(d topology.RouteDecision, timeout sim.Time, tcp bool) sim.Time {
	pt := sim.Time(d.Retry.PerTryTimeout)
	if tcp || d.Retry.Attempts <= 0 || pt <= 0 || (timeout > 0 && pt >= timeout) {
		return 0
	}
	return pt
}

// startTry starts c's per-try timer: the routing proxy at visit c.routeAt
// finished the request at fin and sends it from node `from` to `to`. The
// timer runs from when the upstream connection is ready: after a new
// connection's handshake, or when a pooled one being dialled is up.
func (m *Mesh) startTry(c *call, perTry, fin sim.Time, from, to int32) {
	start := fin
	if c.outcome == outOK {
		rtt := 2 * m.oneWay(from, to)
		switch c.kinds[c.routeAt] {
		case vWP:
			if c.leg2New {
				start += sim.Time(m.c.hsRTTs * float64(rtt))
			} else if c.ready > start {
				start = c.ready
			}
		case vScSrc:
			tg := &m.edges[c.ei].tgts[c.ti]
			switch {
			case c.leg1New:
				start += sim.Time((m.c.tcpRTTs + m.c.hsRTTs - 1) * float64(rtt))
			case tg.up == nil && c.newStream:
				start += sim.Time(m.c.tcpRTTs * float64(rtt))
			}
		}
	}
	c.tryTimer = m.s.At(start+perTry, m, sim.Event{Kind: kTryTimeout, A: c.stamp, P: c})
}

// tryTimeout handles the expiry of c's per-try timer (its stamp matched:
// the same attempt). It does nothing when the try is over for the proxy
// already: the call finished (its timeout), or the response is back at
// (or on its last hop to) the router, or a failure hung the path at or
// before the router. Otherwise the try becomes a zombie and a new *call
// carries the request on: the router's 504 goes back (or is retried).
func (m *Mesh) tryTimeout(c *call) {
	c.tryTimer = sim.Timer{}
	if c.finalized || c.zombie || c.routeAt < 0 || (c.dir == dirResp && c.i <= c.routeAt) {
		return
	}
	if c.parked && c.failAt <= c.routeAt {
		return // hung at or before the router: only the call's timeout ends it
	}
	now := m.s.Now()
	e := &m.edges[c.ei]
	tg := &e.tgts[c.ti]
	n := m.alloc()
	*n = *c
	z := c
	ra := c.routeAt

	// The call's timeout follows it to n.
	if m.s.Cancel(c.timer) {
		n.timer = m.s.At(max(c.start+e.callTimeout(c.rq), now), m, sim.Event{Kind: kTimeout, P: n})
	}

	// The router resets the upstream request: its load balancer no longer
	// counts it, and its upstream stream (waypoint: an HBONE stream) is
	// reset or its upstream connection (a sidecar's HTTP/1.1) closed.
	if z.dstL >= 0 && int(z.dstL) < len(tg.dst) {
		m.podHot[tg.dst[z.dstL]].out--
	}
	if z.upSlot >= 0 && (c.kinds[ra] == vWP || tg.wp < 0) {
		u := &m.upPool[z.upSlot]
		u.open--
		if c.kinds[ra] == vScSrc {
			m.pods[e.src[c.srcL]].scConns--
		}
		z.upSlot = -1
	}

	// The call: its path ends at the router, which answers 504 UT (what
	// lies beyond is the zombie's: the call reports nothing there).
	m.stampSeq++
	n.stamp = m.stampSeq
	n.n = ra + 1
	n.locs[ra+2] = n.locs[ra+1]
	n.dstL, n.upSlot = -1, -1
	n.pending, n.childMax, n.childFail, n.parked = 0, 0, false, false
	n.outcome = outTimeout
	n.respB = timeoutBody
	n.dir, n.i = dirResp, ra
	for j := int8(0); j <= ra; j++ {
		n.respDem[j] = m.respDemand(n, j, n.respB)
	}

	// The zombie: the attempt from the first visit after the router on.
	k := ra + 1
	copy(z.kinds[:], z.kinds[k:])
	copy(z.sts[:], z.sts[k:])
	copy(z.respDem[:], z.respDem[k:])
	copy(z.locs[:], z.locs[k:])
	z.n -= k
	z.i -= k
	z.failAt -= k
	if z.denyAt >= 0 {
		z.denyAt -= k
	}
	z.routeAt = -1
	z.zombie, z.finalized, z.parent, z.user, z.timer = true, true, nil, 0, sim.Timer{}
	// Its proxies report what they saw of the router's reset (timeout.go).
	z.cutAt, z.cutBy = now, -1
	if z.parked {
		// Hung beyond the router: nothing of it is in flight any more.
		m.zombieEnd(z, now)
	}

	// The 504 leaves the router after its worker built it.
	m.visitResp(n)
}

// zombieEnd ends an abandoned try at t: the proxies beyond the router
// report what they did (the router reported the try's 504 with the call),
// and the zombie is released. Its connection state stays with the call.
func (m *Mesh) zombieEnd(z *call, t sim.Time) {
	e := &m.edges[z.ei]
	if z.attemptStart >= m.measure {
		m.tel.record(m, z, e, &e.tgts[z.ti], t, z.conn < 0, false)
	}
	m.release(z)
}
