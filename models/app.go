package models

// App: every pod's application is a station of Concurrency workers; a
// request needs a service time drawn from its workload's distribution
// (stream "service/<ns>/<pod>"), then the app calls its own downstream
// services (the workload's outgoing edges, FanOut calls each: the integer
// part always, the fraction with that probability) in parallel and answers
// when all have answered. A failed downstream call fails the request (500).
// Workers are held only for the service time, not while waiting on
// downstream calls (an asynchronous server).

// pickL7 chooses the destination pod the way an L7 proxy (sidecar or
// waypoint) does, per request, with the edge's load-balancing policy.
func (m *Mesh) pickL7(e *edgeRT, tg *target) int32 {
	n := len(tg.dst)
	if n == 1 {
		return 0
	}
	switch e.cfg.LB {
	case LBRandom:
		return int32(e.lbR.IntN(n))
	case LBLeastRequest:
		// Envoy's least-request: power of two choices.
		a, b := e.lbR.IntN(n), e.lbR.IntN(n)
		if m.podHot[tg.dst[b]].out < m.podHot[tg.dst[a]].out {
			a = b
		}
		return int32(a)
	default:
		s := &m.svcs[tg.svc]
		k := s.rr % uint32(n)
		s.rr++
		return int32(k)
	}
}
