package models

import "github.com/ambientsim/ambientsim/sim"

// Network: one-way propagation between two nodes (same node, same zone,
// cross zone) plus the sending node's NIC: a FIFO transmit queue shared by
// everything the node sends, serialising bytes × 8 / bandwidth. A message
// queues behind the node's earlier messages, so a saturated NIC (bulk
// transfers, large responses) delays everything leaving the node. Messages
// between pods of one node never touch the NIC.

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

// net returns the delay for bytes node a starts sending to node b at time
// at (≥ now): its NIC's queue and serialisation plus propagation.
func (m *Mesh) net(a, b int32, bytes int32, at sim.Time) sim.Time {
	if a == b {
		return m.c.sameNode
	}
	n := &m.nodes[a]
	if m.s.Now() >= m.measure {
		n.txBytes += int64(bytes)
	}
	d := m.oneWay(a, b)
	if n.nicNs > 0 {
		start := max(at, n.nicFree)
		n.nicFree = start + sim.Time(n.nicNs*float64(bytes)+0.5)
		d += n.nicFree - at
	}
	return d
}

// atSpeed is how long demand (reference-core ns) takes on node's machine
// with a core to itself.
func (m *Mesh) atSpeed(node int32, demand sim.Time) sim.Time {
	return sim.Time(float64(demand)/m.nodes[node].mach.Speed() + 0.5)
}
