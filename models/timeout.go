package models

import "github.com/ambientsim/ambientsim/sim"

// What each proxy reports for a request its overall timeout ended
// (decision 074). The client gets its 504 when the call's timer fires
// (finalize) and the attempt in flight goes on to its end — the upstream
// does not learn of the reset in time to stop — but the proxies do not
// all report the attempt's eventual code:
//
//   - the route's timeout (enforced by the routing proxy: the waypoint, or
//     the source's sidecar) fired first: the router answers 504 with
//     response flag UT and resets its upstream request (no L7 proxy lies
//     between the client and the router: a client with a sidecar routes
//     there);
//   - the client's own timeout fired first: the client closes its
//     connection, each L7 proxy still holding the request sees its
//     downstream go away (response code 0, flag DC);
//   - a proxy upstream of the cut (the router's, or the client's) reports
//     what it saw: its own answer when its response left before the reset
//     reached it (one network crossing from the cut, the direct one-way
//     delay), else 0 DC for the time it held the request until then.
//
// ztunnel's TCP metrics are unchanged: it only carries bytes. A per-try
// timeout's zombie (pertry.go) is cut by its router the same way.

// cutByTimeout notes on c, whose overall timeout fires at now, where its
// attempt in flight was cut: by its router (the route's timeout, unless
// the router already has the response: then its timer is off and every
// proxy reports its answer) or by the client. A hung attempt (parked)
// reached only the proxies before the failure: its path is cut there.
func (m *Mesh) cutByTimeout(c *call, now sim.Time) {
	if c.zombie {
		return
	}
	if c.parked && c.failAt >= 0 && c.failAt < c.n {
		c.n = c.failAt
	}
	e := &m.edges[c.ei]
	by := int8(-1)
	if rt := e.routes[c.rq].timeout; rt > 0 && (e.timeout == 0 || rt <= e.timeout) && c.routeAt >= 0 && c.routeAt < c.n {
		if c.dir == dirResp && c.i <= c.routeAt && !c.parked && !c.backoff {
			return
		}
		by = c.routeAt
	}
	c.cutAt, c.cutBy = now, by
	tg := &e.tgts[c.ti]
	m.tel.recordCutNear(m, c, e, tg)
}

// cutNode is the node the reset of a cut attempt starts from: the
// router's, or the client's (a zombie's locs[0] is its router's node).
func (c *call) cutNode() int32 {
	if c.cutBy < 0 {
		return c.locs[0]
	}
	return c.locs[c.cutBy+1]
}

// upstreamView is what an L7 proxy upstream of c's cut, at visit k, which
// received the request at at and held it for dur (0: its response had not
// left), reports: its own answer when the response left before the reset
// reached it (dc false), else 0 DC (dc true) with the time it held the
// request until then.
func (m *Mesh) upstreamView(c *call, k int8, at, dur sim.Time) (dc bool, held sim.Time) {
	reset := c.cutAt + m.baseOneWay(c.cutNode(), c.locs[k+1])
	if at < c.attemptStart {
		return true, 0 // stale: it had not received this attempt's request
	}
	if dur > 0 && at+dur <= reset {
		return false, dur
	}
	return true, max(reset-at, 0)
}
