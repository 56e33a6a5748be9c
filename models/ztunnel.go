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
// returns when the ztunnel is done and when the request reaches the next hop.
func (m *Mesh) ztOutbound(c *call, e *edgeRT, tg *target, now sim.Time, st *Station, from, to sim32) (fin, next sim.Time) {
	demand := m.c.ztMsg + bytesCost(m.c.ztByteNs, c.reqB)
	if from != to {
		demand += m.c.ztCrossMsg
	}
	var ready sim.Time
	newConn := false
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
		newConn, ready = m.checkoutHBONE(slot, now, maxS)
		c.ztSlot, c.ztGen = slot, m.ztPool[slot].gen
		demand += m.c.ztStream
		if newConn {
			demand += m.c.ztHSc
			c.leg1New = true
			peer := m.holderNode(m.pods[tg.dst[c.dstL]].node)
			if tg.wp >= 0 {
				peer = m.holderRep(m.wps[tg.wp].reps[c.repL])
			} else if tg.dstK == vScDst {
				peer = m.holderPod(tg.dst[c.dstL])
			}
			if !m.cp.certValid(m.holderNode(from), now) || !m.cp.certValid(peer, now) {
				m.failHBONE(slot)
				c.ztSlot = -1
				c.outcome = outTLS
			}
		}
	}
	fin = st.Arrive(now, demand)
	n := &m.nodes[from]
	measured := now >= m.measure
	n.msgsAdd(measured)
	rtt := 2 * m.oneWay(from, to)
	start := fin
	if c.outcome == outTLS {
		return fin, fin + rtt // the TLS alert comes back after one round trip
	}
	if c.newStream && c.ztSlot >= 0 {
		if newConn {
			// TCP connect + TLS 1.3 before the pool has the connection;
			// everyone else needing this key waits for it (one dial per key).
			ready = fin + sim.Time(m.c.hsRTTs*float64(rtt))
			m.ztPool[c.ztSlot].readyAt = ready
			if measured {
				n.opened++
				n.hs++
			}
		}
		if ready > start {
			start = ready
		}
		start += rtt // CONNECT → 200 before bytes flow
	}
	next = start + m.c.ztLat + m.net(from, to, c.reqB)
	return fin, next
}

// ztInbound is the destination pod's ztunnel: it terminates HBONE (or takes
// plaintext from an out-of-mesh source), authorises new connections and
// delivers the bytes to the pod.
func (m *Mesh) ztInbound(c *call, tg *target, now sim.Time, st *Station) (fin, next sim.Time) {
	demand := m.c.ztMsg + bytesCost(m.c.ztByteNs, c.reqB) + m.ztCross(c, c.i)
	inNew, inStream := c.leg1New, c.newStream
	if tg.wp >= 0 {
		inNew, inStream = c.leg2New, c.leg2Stream
	} else if tg.src == vScSrc {
		inStream = c.leg1New // a sidecar's new mTLS connection
	}
	if inNew {
		demand += m.c.ztHSs
	}
	if inStream {
		demand += m.c.ztAuthz
		if tg.hs != 0 {
			demand += m.c.ztStream
		}
	}
	fin = st.Arrive(now, demand)
	node := c.locs[c.i+1]
	measured := now >= m.measure
	m.nodes[node].msgsAdd(measured)
	if inNew && measured {
		m.nodes[node].hs++
	}
	return fin, fin + m.c.ztLat + m.c.sameNode
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
