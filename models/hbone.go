package models

import "github.com/ambientsim/ambientsim/sim"

// HBONE connection pooling, as ztunnel's pool.rs does it (ambient-internals
// §2 and §10): one pool per source pod; a slot per key (source identity and
// IP, expected destination identity, next-hop pod IP:15008). A checkout
// reuses the slot's connection unless it is missing, idle for longer than
// the idle timeout (released by the pool) or saturated. The stream cap is
// min(100, peer SETTINGS_MAX_CONCURRENT_STREAMS), checked as ztunnel does:
// when count+1 >= max after this checkout, the connection leaves the pool for
// good — it keeps its streams and closes when they end — and the next
// checkout dials a new one. Only one dial per key runs at a time: checkouts
// during a dial wait for its readyAt.

// checkoutHBONE takes a stream on slot's connection at time now. It reports
// whether a new connection must be dialled and, if not, when the existing
// one is ready (it may still be handshaking).
func (m *Mesh) checkoutHBONE(slot int32, now sim.Time, maxStreams int32) (newConn bool, ready sim.Time) {
	s := &m.ztPool[slot]
	if s.gen != 0 && now-s.lastUse > m.c.idle && s.streams == 0 {
		// Released by the pool after IdleTimeout without checkouts.
		m.closeConn(s)
		s.gen = 0
	}
	if s.gen == 0 {
		s.gen = m.nextGen()
		s.streams = 0
		s.dialAt = now
		newConn = true
		m.nodes[s.srcNode].conns++
		m.nodes[s.dstNode].conns++
		m.track(s.srcNode)
		m.track(s.dstNode)
	}
	s.lastUse = now
	s.streams++
	m.nodes[s.srcNode].streams++
	m.nodes[s.dstNode].streams++
	m.track(s.srcNode)
	m.track(s.dstNode)
	ready = s.readyAt
	if s.streams+1 > maxStreams {
		// will_be_at_max_streamcount: retire the connection.
		s.retired++
		s.retStrms += s.streams
		s.streams = 0
		s.gen = 0
	}
	return newConn, ready
}

// nextGen returns a fresh connection generation for the slot.
func (m *Mesh) nextGen() int32 {
	m.genSeq++
	return m.genSeq
}

// closeStream ends a stream opened on generation gen of slot.
func (m *Mesh) closeStream(slot, gen int32) {
	s := &m.ztPool[slot]
	m.nodes[s.srcNode].streams--
	m.nodes[s.dstNode].streams--
	if gen <= s.floor {
		return // its connection was torn down by a failure
	}
	if gen == s.gen && s.streams > 0 {
		s.streams--
		return
	}
	if s.retStrms > 0 {
		s.retStrms--
		// Retired connections are not told apart: they close together
		// when the last stream on any of them ends.
		if s.retStrms == 0 {
			for ; s.retired > 0; s.retired-- {
				m.nodes[s.srcNode].conns--
				m.nodes[s.dstNode].conns--
			}
		}
	}
}

// closeConn closes the slot's current connection (idle release).
func (m *Mesh) closeConn(s *hboneSlot) {
	m.nodes[s.srcNode].conns--
	m.nodes[s.dstNode].conns--
}

// track updates a node's peak connection and stream counts.
func (m *Mesh) track(n int32) {
	nd := &m.nodes[n]
	if nd.conns > nd.maxConn {
		nd.maxConn = nd.conns
	}
	if nd.streams > nd.maxStr {
		nd.maxStr = nd.streams
	}
}

// failHBONE undoes a checkout whose new connection failed its handshake:
// the connection never joins the pool.
func (m *Mesh) failHBONE(slot int32) {
	s := &m.ztPool[slot]
	m.nodes[s.srcNode].streams--
	m.nodes[s.dstNode].streams--
	m.nodes[s.srcNode].conns--
	m.nodes[s.dstNode].conns--
	if s.gen != 0 {
		s.streams--
		s.gen = 0
	} else if s.retired > 0 {
		// The checkout retired it at once (a stream cap of 1).
		s.retired--
		s.retStrms--
	}
}
