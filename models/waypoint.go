package models

import "github.com/ambientsim/ambientsim/sim"

// Waypoint: a Deployment of replicas, each an Envoy with WorkerThreads
// workers (a station), serving the scope it is attached to. Per request it
// spends PerRequestCPU (HTTP parse, route, L7 authz, stats), split evenly
// between the request and the response, plus PerByteCPU per payload byte
// (decrypt from the downstream HBONE leg, encrypt onto the upstream one).
// It terminates the source ztunnel's HBONE connection (a TLS handshake on
// the server side when that connection is new) and originates its own HBONE
// to the destination pod: one connection per (replica, pod), dialled once
// and idle-closed after an hour, carrying reusable upstream streams (Envoy's
// upstream HTTP pool). ztunnel reaches the waypoint Service, which prefers
// replicas in the source's zone (PreferClose). Units: ns, bytes.

// pickReplica chooses the waypoint replica for a new connection from a pod
// on node srcNode: random among same-zone replicas if any, else among all.
func (m *Mesh) pickReplica(wp int32, srcNode int32, e *edgeRT) int32 {
	if m.failOn {
		return m.pickLiveReplica(wp, srcNode, e)
	}
	reps := m.wps[wp].reps
	if len(reps) == 1 {
		return 0
	}
	zone := m.nodes[srcNode].zone
	same := 0
	for _, r := range reps {
		if m.nodes[m.reps[r].node].zone == zone {
			same++
		}
	}
	if same == 0 {
		return int32(e.lbR.IntN(len(reps)))
	}
	k := e.lbR.IntN(same)
	for i, r := range reps {
		if m.nodes[m.reps[r].node].zone == zone {
			if k == 0 {
				return int32(i)
			}
			k--
		}
	}
	return 0
}

// waypointRequest: the waypoint takes the request from the downstream HBONE
// stream, routes it to the chosen pod over its upstream pool, and forwards.
// It returns the waypoint's CPU; waypointNext says when the request
// reaches the destination's ztunnel.
func (m *Mesh) waypointRequest(c *call, tg *target, now sim.Time, from, to int32) sim.Time {
	demand := m.c.wp.reqHalf + bytesCost(m.c.wp.byteNs, c.reqB)
	r := m.wps[tg.wp].reps[c.repL]
	rep := &m.reps[r]
	measured := now >= m.measure
	if c.leg1New {
		demand += m.c.wp.hs + m.c.tcpCPU
		rep.conns++
		if measured {
			rep.hs++
		}
	}
	nd := tg.nDst()
	slot := tg.up[c.repL*nd+c.dstL]
	c.upSlot = slot
	u := &m.upPool[slot]
	if u.up && now-u.lastUse > m.c.wp.upIdle && u.open == u.idle {
		u.up, u.idle, u.open = false, 0, 0
		rep.conns--
	}
	if m.failOn && u.up && m.upstreamGone(r, -1, tg.dst[c.dstL], u.dialAt, now) {
		u.up, u.idle, u.open = false, 0, 0
		rep.conns--
	}
	if !u.up && tg.plainUpstream() {
		// A plain TCP connection to the external host (its connect is
		// timed where the host is reached, externalAnswer).
		demand += m.c.tcpCPU
		u.up, u.dialAt, u.readyAt = true, now, now
		c.leg2New = true
		rep.conns++
	} else if !u.up {
		demand += m.c.wp.hs + m.c.tcpCPU
		if measured {
			rep.hs++
		}
		var peer int
		switch {
		case tg.egw >= 0:
			peer = m.holderPod(tg.egw)
		case tg.dstK == vScDst:
			peer = m.holderPod(tg.dst[c.dstL])
		default:
			peer = m.holderNode(m.pods[tg.dst[c.dstL]].node)
		}
		if !m.cp.certValid(m.holderRep(r), now) || !m.cp.certValid(peer, now) {
			c.outcome = outTLS
			return demand
		}
		u.up = true
		u.dialAt = now
		c.leg2New = true
		rep.conns++
		// Estimated from the dialling CPU at full speed (see ztOutbound).
		u.readyAt = now + m.atSpeed(rep.node, demand) + sim.Time(m.c.hsRTTs*float64(2*m.oneWay(from, to)))
	}
	if rep.conns > rep.maxC {
		rep.maxC = rep.conns
	}
	if u.idle > 0 {
		u.idle--
	} else {
		u.open++
		c.leg2Stream = true
	}
	u.lastUse = now
	c.ready = u.readyAt
	if measured {
		rep.reqs++
	}
	return demand
}

// waypointNext is when a request the waypoint finished at fin reaches the
// next hop.
func (m *Mesh) waypointNext(c *call, fin sim.Time, from, to int32) sim.Time {
	rtt := 2 * m.oneWay(from, to)
	if c.outcome == outTLS {
		return fin + rtt
	}
	start := fin
	if tg := &m.edges[c.ei].tgts[c.ti]; tg.plainUpstream() {
		start += m.addedLat(1, from)
		return start + m.net(from, to, c.reqB, start)
	}
	if c.leg2New {
		start = fin + sim.Time(m.c.hsRTTs*float64(rtt))
	} else if c.ready > start {
		start = c.ready
	}
	if c.leg2Stream {
		start += rtt // CONNECT → 200
	}
	start += m.addedLat(1, from)
	return start + m.net(from, to, c.reqB, start)
}

// waypointResponse returns the upstream stream to the pool (or drops it if
// the destination reset it).
func (m *Mesh) waypointResponse(c *call) {
	if c.upSlot < 0 {
		return
	}
	u := &m.upPool[c.upSlot]
	if c.outcome == outL4Denied {
		u.open--
		return
	}
	u.idle++
	u.lastUse = m.s.Now()
}
