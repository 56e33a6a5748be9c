package models

// Locality: with trafficDistribution PreferClose (Config.PreferClose) the
// proxy that picks an endpoint — the source's ztunnel or sidecar, or the
// waypoint replica — keeps to endpoints in its own zone when there is
// one. The load balancer's own choice stands when it is already local;
// otherwise a local endpoint is drawn at random (one extra draw from the
// edge's LB stream, so runs with and without failures stay in step).

// preferClose returns dstL, or a random endpoint of tg in the zone of
// node `from` when dstL is not there and one is.
func (m *Mesh) preferClose(e *edgeRT, tg *target, dstL int32, from int32) int32 {
	zone := m.nodes[from].zone
	if m.nodes[m.pods[tg.dst[dstL]].node].zone == zone {
		return dstL
	}
	n := 0
	for _, d := range tg.dst {
		if m.nodes[m.pods[d].node].zone == zone {
			n++
		}
	}
	if n == 0 {
		return dstL
	}
	k := e.lbR.IntN(n)
	for i, d := range tg.dst {
		if m.nodes[m.pods[d].node].zone == zone {
			if k == 0 {
				return int32(i)
			}
			k--
		}
	}
	return dstL
}
