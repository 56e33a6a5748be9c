package models

import "github.com/ambientsim/ambientsim/sim"

// Network: one-way propagation between two nodes (same node, same zone,
// cross zone) plus the sender NIC's serialisation delay (bytes × 8 /
// bandwidth) for traffic that leaves the node. NIC queueing is not modelled:
// at the simulated rates a 10 Gbit/s NIC is far from saturation; the bytes
// each node sends are counted so a report can show NIC utilisation.

// oneWay returns the propagation latency from node a to node b.
func (m *Mesh) oneWay(a, b int32) sim.Time {
	if m.failOn && len(m.flt.nets) > 0 {
		return m.baseOneWay(a, b) + m.netExtra(a, b, m.s.Now())
	}
	return m.baseOneWay(a, b)
}

func (m *Mesh) baseOneWay(a, b int32) sim.Time {
	switch {
	case a == b:
		return m.c.sameNode
	case m.nodes[a].zone == m.nodes[b].zone:
		return m.c.crossNode
	}
	return m.c.crossZone
}

// net returns the delay for bytes sent from node a to node b.
func (m *Mesh) net(a, b int32, bytes int32) sim.Time {
	if a == b {
		return m.c.sameNode
	}
	if m.s.Now() >= m.measure {
		m.nodes[a].txBytes += int64(bytes)
	}
	return m.oneWay(a, b) + sim.Time(m.c.nicNsPerByte*float64(bytes))
}
