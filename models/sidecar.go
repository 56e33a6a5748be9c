package models

import (
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Sidecar: an Envoy in every sidecar-mode pod, with WorkerThreads workers
// (a station). A request crosses the client's sidecar outbound and the
// server's sidecar inbound, each spending PerRequestCPU (half on the request,
// half on the response) plus PerByteCPU per payload byte. Sidecar to
// sidecar is Istio mTLS over HTTP/1.1 upstream connections: the client
// sidecar keeps idle upstream connections per destination pod and dials a
// new one (TLS handshake on both sides, TCP+TLS round trips) when none is
// idle. Memory grows with the mesh's config (services and endpoints the
// sidecar is told about) unless scoped (see Config.SidecarScope).

// sidecarOutbound: the client's sidecar routes the request (L7 load
// balancing) and sends it over an idle or new upstream connection. It
// returns the sidecar's CPU; sidecarOutboundNext says when the request
// reaches the next hop.
func (m *Mesh) sidecarOutbound(c *call, tg *target, now sim.Time, from, to int32) sim.Time {
	demand := m.c.sc.reqHalf + bytesCost(m.c.sc.byteNs, c.reqB)
	if c.newStream {
		demand += m.c.tcpCPU // accepting the app's connection (iptables redirect)
	}
	e := &m.edges[c.ei]
	src := &m.pods[e.src[c.srcL]]
	measured := now >= m.measure
	if tg.up != nil {
		nd := tg.nDst()
		slot := tg.up[c.srcL*nd+c.dstL]
		c.upSlot = slot
		u := &m.upPool[slot]
		if m.failOn && u.idle > 0 && m.upstreamGone(-1, e.src[c.srcL], tg.dst[c.dstL], u.dialAt, now) {
			u.open -= u.idle
			src.scConns -= int64(u.idle)
			u.idle = 0
		}
		if u.open == 0 {
			u.dialAt = now
		}
		if u.idle > 0 && now-u.lastUse > m.c.sc.upIdle {
			u.open -= u.idle
			src.scConns -= int64(u.idle)
			u.idle = 0
		}
		if u.idle > 0 {
			u.idle--
		} else {
			demand += m.c.sc.hs + m.c.tcpCPU
			if measured {
				src.scHS++
			}
			var peer int
			switch {
			case tg.egw >= 0:
				peer = m.holderPod(tg.egw)
			case tg.dstK == vZtDst:
				peer = m.holderNode(m.pods[tg.dst[c.dstL]].node)
			default:
				peer = m.holderPod(tg.dst[c.dstL])
			}
			if !m.cp.certValid(m.holderPod(e.src[c.srcL]), now) || !m.cp.certValid(peer, now) {
				c.outcome = outTLS
				return demand
			}
			u.open++
			c.leg1New = true
			src.scConns++
		}
		u.lastUse = now
	}
	if measured {
		src.scReqs++
	}
	return demand
}

// sidecarOutboundNext is when a request the client sidecar finished at fin
// reaches the next hop.
func (m *Mesh) sidecarOutboundNext(c *call, tg *target, fin sim.Time, from, to int32) sim.Time {
	rtt := 2 * m.oneWay(from, to)
	if c.outcome == outTLS {
		return fin + rtt
	}
	start := fin
	switch {
	case c.leg1New:
		start += sim.Time((m.c.tcpRTTs + m.c.hsRTTs - 1) * float64(rtt)) // TCP + TLS 1.3
	case tg.up == nil && c.newStream:
		start += sim.Time(m.c.tcpRTTs * float64(rtt)) // plaintext to an out-of-mesh pod
	}
	start += m.addedLat(2, from)
	return start + m.net(from, to, c.reqB, start)
}

// sidecarInbound: the server's sidecar terminates mTLS, authorises and
// hands the request to the app over localhost. It returns its CPU.
func (m *Mesh) sidecarInbound(c *call, tg *target, now sim.Time) sim.Time {
	demand := m.c.sc.reqHalf + m.c.sc.inHalf + bytesCost(m.c.sc.byteNs, c.reqB)
	dst := &m.pods[tg.dst[c.dstL]]
	inNew := c.leg1New
	if tg.wp >= 0 {
		inNew = c.leg2New
	} else if tg.src == vZtSrc {
		inNew = c.leg1New
	}
	return demand + m.envoyInbound(dst, inNew, now)
}

// sidecarInboundNext is when the request reaches the app after the
// server's sidecar finished with it at fin.
func (m *Mesh) sidecarInboundNext(c *call, fin sim.Time) sim.Time {
	return fin + m.addedLat(2, c.locs[c.i+1]) + m.c.sameNode
}

// sidecarResponse returns the upstream connection to the client sidecar's
// idle pool.
func (m *Mesh) sidecarResponse(c *call) {
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

// envoyInstance names pod p's Envoy as paths does (topology.Pod.Instance):
// gateway/<ns>/<pod> for an ingress gateway, sidecar/<ns>/<pod> otherwise.
func (m *Mesh) envoyInstance(p int32) string { return podEnvoyName(m.pods[p].p) }

func podEnvoyName(p *topology.Pod) string {
	if p.Workload != nil && (p.Workload.Ingress || p.Workload.Egress) {
		return "gateway/" + p.ID()
	}
	return "sidecar/" + p.ID()
}

// envoyInbound is what an Envoy terminating Istio mTLS adds for one request:
// the TLS and TCP handshake CPU when the request opened its connection, and
// the pod's connection, handshake and request counters (counted once the
// measured window began).
func (m *Mesh) envoyInbound(p *podRT, inNew bool, now sim.Time) sim.Time {
	var demand sim.Time
	if inNew {
		demand = m.c.sc.hs + m.c.tcpCPU
		p.scConns++
		if now >= m.measure {
			p.scHS++
		}
	}
	if now >= m.measure {
		p.scReqs++
	}
	return demand
}
