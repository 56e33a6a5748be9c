package models

import (
	"math"

	"github.com/ambientsim/ambientsim/sim"
)

// Load generators as users run them (fortio, oha, iperf): Connections
// connections, each with Window requests in flight at most (one for
// HTTP/1.1 load, a TCP window of chunks for a bulk stream). Every in-flight
// slot is a user of the closed loop: it sends, waits for the answer, and
// sends again — at once (-qps 0), or at its share of the target rate, with
// fortio's catch-up (a slot that fell behind its schedule sends at once).
// Throughput is then N / (think + response time) by Little's law, and the
// generator cannot overload the path the way open-loop arrivals can.
//
// Connections are spread round-robin over the source workload's pods; a
// slot always uses its connection (with keep-alive), so a connection's
// requests stay on one proxy worker each. An external generator runs
// outside the cluster: no node CPU, and each request pays half its RTT on
// the way in and half on the way out.

// setupGenerator configures edge e's generator from its config.
func (e *edgeRT) setupGenerator(g *Generator) {
	e.external = g.External
	e.extHalf = g.RTT / 2
	if g.Connections <= 0 {
		return
	}
	e.window = int32(max(g.Window, 1))
	e.users = int32(g.Connections) * e.window
	if len(e.src) > 0 && e.cfg.KeepAlive {
		e.cfg.Pool = (g.Connections + len(e.src) - 1) / len(e.src)
	}
	e.userNext = make([]sim.Time, e.users)
	if g.QPS > 0 {
		e.period = sim.Time(math.Round(float64(e.users) / g.QPS * 1e9))
	}
}

// userConn returns the index, within its source pod's pool, of the
// connection user u sends on.
func (e *edgeRT) userConn(u int32) int32 {
	return (u / e.window) / int32(len(e.src))
}

// userPod returns the source pod (local index) of user u.
func (e *edgeRT) userPod(u int32) int32 {
	return (u / e.window) % int32(len(e.src))
}

// startGenerators schedules every generator user's first request: spread
// evenly over the first period, or a microsecond apart without a target
// rate.
func (m *Mesh) startGenerators() {
	for i := range m.edges {
		e := &m.edges[i]
		if e.users == 0 || len(e.src) == 0 {
			continue
		}
		for u := int32(0); u < e.users; u++ {
			at := sim.Time(u) * sim.Microsecond
			if e.period > 0 {
				at = e.period * sim.Time(u) / sim.Time(e.users)
			}
			e.userNext[u] = at
			if at < m.end {
				m.s.At(at, m, sim.Event{Kind: kGen, A: int64(i), B: int64(u)})
			}
		}
	}
}

// generate sends user u's next request on edge ei.
func (m *Mesh) generate(ei, u int32) {
	e := &m.edges[ei]
	e.userNext[u] += e.period
	m.startCall(ei, e.userPod(u), nil, u+1)
}

// userDone schedules user u's next request after its call finished at t.
func (m *Mesh) userDone(ei, u int32, t sim.Time) {
	e := &m.edges[ei]
	at := max(t, e.userNext[u], m.s.Now())
	if at < m.end {
		m.s.At(at, m, sim.Event{Kind: kGen, A: int64(ei), B: int64(u)})
	}
}
