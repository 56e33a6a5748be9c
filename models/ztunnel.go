package models

import "github.com/ambientsim/ambientsim/sim"

// ztunnel: one per node (DaemonSet), a station of WorkerThreads servers
// serving only the pods on its node. ztunnel is L4: per crossing it spends
// PerMessageCPU plus PerByteCPU per byte (encrypt/decrypt and copy), per new
// app connection StreamOpenCPU (one HTTP/2 CONNECT stream) on each side and
// one AuthzCPU RBAC decision on the destination side, and per new mTLS
// connection a TLS 1.3 handshake on each side. Units: sim.Time (ns) for CPU
// and latency, bytes for sizes.

// ztOutbound is the source pod's ztunnel taking the request: it checks out
// an HBONE connection from the pod's pool (dialling one if needed), opens a
// CONNECT stream for a new app connection, and forwards the bytes. It
// returns the CPU the ztunnel spends; ztOutboundNext says when the
// request reaches the next hop once that work is done.
func (m *Mesh) ztOutbound(c *call, tg *target, now sim.Time, from, to sim32) sim.Time {
	demand := m.c.ztMsg + bytesCost(m.c.ztByteNs, c.reqB)
	if from != to {
		demand += m.c.ztCrossMsg
	}
	if c.newStream {
		demand += m.c.tcpCPU // accepting the app's connection (in-pod listener)
	}
	c.ready = 0
	if c.newStream && tg.hs == 1 && tg.zt != nil {
		hop := c.dstL
		if tg.wp >= 0 {
			hop = c.repL
		}
		slot := tg.zt[c.srcL*int32(tg.nextHops)+hop]
		maxS := m.c.maxStreamsZT
		if tg.wp >= 0 {
			maxS = m.c.maxStreamsWP
		}
		if m.failOn {
			m.failHBONESlot(slot, tg, hop, now)
		}
		newConn, ready := m.checkoutHBONE(slot, now, maxS)
		c.ztSlot, c.ztGen = slot, m.ztPool[slot].gen
		c.ready = ready
		demand += m.c.ztStream
		if newConn {
			demand += m.c.ztHSc + m.c.tcpCPU
			c.leg1New = true
			var peer int
			if tg.wp >= 0 {
				r := m.wps[tg.wp].reps[c.repL]
				peer = m.holderRep(r)
				// The waypoint's HBONE listener balances connections
				// exactly over its workers.
				m.ztPool[slot].wk = m.reps[r].rrWk
				m.reps[r].rrWk++
			} else if tg.dstK == vScDst {
				peer = m.holderPod(tg.dst[c.dstL])
			} else {
				peer = m.holderNode(m.pods[tg.dst[c.dstL]].node)
			}
			if !m.cp.certValid(m.holderNode(from), now) || !m.cp.certValid(peer, now) {
				m.failHBONE(slot)
				c.ztSlot = -1
				c.outcome = outTLS
			} else {
				// TCP connect + TLS 1.3 before the pool has the connection;
				// everyone else needing this key waits for it (one dial per
				// key). Its end is estimated now, from the dialling CPU at
				// the node's full speed: queueing of this worker is not
				// added for the waiters.
				rtt := 2 * m.oneWay(from, to)
				c.ready = now + m.atSpeed(from, demand) + sim.Time(m.c.hsRTTs*float64(rtt))
				m.ztPool[slot].readyAt = c.ready
			}
		}
		if c.ztSlot >= 0 && tg.wp >= 0 {
			c.wpWk = m.ztPool[slot].wk
		}
	}
	n := &m.nodes[from]
	measured := now >= m.measure
	n.msgsAdd(measured)
	if c.leg1New && c.outcome != outTLS && measured {
		n.opened++
		n.hs++
	}
	return demand
}

// ztOutboundNext is when a request the source ztunnel finished at fin
// reaches the next hop.
func (m *Mesh) ztOutboundNext(c *call, fin sim.Time, from, to sim32) sim.Time {
	rtt := 2 * m.oneWay(from, to)
	if c.outcome == outTLS {
		return fin + rtt // the TLS alert comes back after one round trip
	}
	start := fin
	if c.newStream && c.ztSlot >= 0 {
		if c.leg1New {
			start = fin + sim.Time(m.c.hsRTTs*float64(rtt))
		} else if c.ready > start {
			start = c.ready
		}
		start += rtt // CONNECT → 200 before bytes flow
	}
	start += m.addedLat(0, from)
	return start + m.net(from, to, c.reqB, start)
}

// ztInbound is the destination pod's ztunnel: it terminates HBONE (or takes
// plaintext from an out-of-mesh source), authorises new connections and
// delivers the bytes to the pod. It returns its CPU.
func (m *Mesh) ztInbound(c *call, tg *target, now sim.Time) sim.Time {
	demand := m.c.ztMsg + bytesCost(m.c.ztByteNs, c.reqB) + m.ztCross(c, c.i)
	inNew, inStream := c.leg1New, c.newStream
	if tg.wp >= 0 {
		inNew, inStream = c.leg2New, c.leg2Stream
	} else if tg.src == vScSrc {
		inStream = c.leg1New // a sidecar's new mTLS connection
	}
	if inNew {
		demand += m.c.ztHSs + m.c.tcpCPU
	}
	if inStream {
		// Authorise, then dial the app (a TCP connection per app
		// connection); a plaintext source's connection is accepted too.
		demand += m.c.ztAuthz + m.c.tcpCPU
		if tg.hs != 0 {
			demand += m.c.ztStream
		} else {
			demand += m.c.tcpCPU
		}
	}
	node := c.locs[c.i+1]
	measured := now >= m.measure
	m.nodes[node].msgsAdd(measured)
	if inNew && measured {
		m.nodes[node].hs++
	}
	return demand
}

// ztInboundNext is when the request reaches the pod after the destination
// ztunnel finished with it at fin.
func (m *Mesh) ztInboundNext(c *call, fin sim.Time) sim.Time {
	return fin + m.addedLat(0, c.locs[c.i+1]) + m.c.sameNode
}

// ztCross is the extra CPU of a ztunnel message whose leg crosses nodes:
// visit j's peer is the next hop for the source-side ztunnel and the
// previous hop for the destination side (c.locs[j+1] is visit j's node).
func (m *Mesh) ztCross(c *call, j int8) sim.Time {
	if m.c.ztCrossMsg == 0 {
		return 0
	}
	peer := c.locs[j]
	if c.kinds[j] == vZtSrc {
		peer = c.locs[j+2]
	}
	if peer != c.locs[j+1] {
		return m.c.ztCrossMsg
	}
	return 0
}

func (n *nodeRT) msgsAdd(measured bool) {
	if measured {
		n.msgs++
	}
}

// sim32 is a node index (int32) in function signatures where a name helps.
type sim32 = int32
