package models

import (
	"fmt"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Egress to ServiceEntry hosts. The path is the one paths reports
// (topology.EgressPathPort): an ambient source's ztunnel passes the
// connection straight out, or sends it over HBONE to the waypoint bound to
// the ServiceEntry (the egress waypoint), which opens a plain upstream
// connection to the host; a sidecar sends it out itself; a sidecar or an
// egress waypoint that applies a VirtualService sending the host through a
// sidecar-era egress gateway crosses that gateway's Envoy (Istio mTLS to
// it). The host is a server outside the cluster: it answers after its
// service time, a round trip away from the last proxy, with no CPU the
// model accounts for. TLS origination is not modelled: the leg to the host
// costs a TCP connect, no handshake.

// external returns the index of the server behind a ServiceEntry host,
// adding it on first use with its ExternalConfig.
func (m *Mesh) external(svc *topology.Service, se *topology.ServiceEntry) (int32, error) {
	if x, ok := m.extIdx[svc]; ok {
		return x, nil
	}
	xc := m.cfg.External[se]
	st := xc.ServiceTime
	if st.Kind == "" {
		st = sim.DistSpec{Kind: sim.DistLognormal, Mean: float64(m.c.appMean), CV: m.c.appCV}
		if m.c.appCV == 1 {
			st = sim.DistSpec{Kind: sim.DistExponential, Mean: float64(m.c.appMean)}
		}
	}
	d, err := st.New(m.strm.Source("external/" + svc.ID()))
	if err != nil {
		return 0, fmt.Errorf("service time of external host %s: %w", svc.ID(), err)
	}
	rtt := xc.RTT
	if rtt < 0 {
		return 0, fmt.Errorf("external host %s: negative round trip %v", svc.ID(), rtt)
	}
	if rtt == 0 {
		rtt = DefaultExternalRTT
	}
	x := int32(len(m.exts))
	m.exts = append(m.exts, extRT{svc: svc, se: se, st: d, half: rtt / 2})
	m.extIdx[svc] = x
	return x, nil
}

// egressGateway sets the egress gateway hop of an external target when
// path crosses one (a gateway hop after the source's own proxy), giving
// the gateway pod an Envoy container if it has none yet, and what the
// gateway answers when its route is broken (the DENIED row of paths).
func (m *Mesh) egressGateway(tg *target, se *topology.ServiceEntry, port int, path topology.Path) error {
	var hop string
	for i, h := range path.Hops {
		if i > 0 && h.Kind == topology.HopGateway {
			hop = h.Instance
		}
	}
	if hop == "" {
		return nil
	}
	r := m.top.EgressGatewayRoute(se, port)
	if r == nil {
		return fmt.Errorf("the path to %s crosses %s, but no egress gateway route exists for port %d", se.Hosts[0], hop, port)
	}
	for _, p := range m.top.PodsOf(r.Gateway) {
		if "gateway/"+p.ID() != hop {
			continue
		}
		pi := m.podIdx[p]
		pr := &m.pods[pi]
		if pr.sc == nil {
			res, workers := m.envoyResources(m.cfg.Sidecar, &m.c.sc, m.c.scWorkers)
			pr.sc = newContainer(m.nodes[pr.node].mach, m.strm, podEnvoyName(p), res, workers, true, m.c.scAct)
		}
		tg.egw = pi
		switch {
		case r.Problem == "":
		case r.IstioGateway == nil:
			tg.egwOut = outRefused // no listener for the port
		default:
			tg.egwOut = outNotFound // a listener, no route on
		}
		return nil
	}
	return fmt.Errorf("egress gateway hop %s to %s has no pod in the topology", hop, se.Hosts[0])
}

// egressGatewayRequest is the egress gateway's Envoy taking a request from
// a sidecar or waypoint over Istio mTLS and sending it on to the host. It
// returns its CPU.
func (m *Mesh) egressGatewayRequest(c *call, tg *target, now sim.Time) sim.Time {
	demand := m.c.sc.reqHalf + m.c.sc.inHalf + bytesCost(m.c.sc.byteNs, c.reqB)
	p := &m.pods[tg.egw]
	inNew := c.leg1New
	if tg.wp >= 0 {
		inNew = c.leg2New
	}
	return demand + m.envoyInbound(p, inNew, now)
}

// externalAnswer schedules the external host's answer to c: the request
// crosses to it (half the round trip, plus a TCP connect when the last
// proxy opened a new connection to it), it serves the request, and the
// response crosses back; then the app-done path continues as for a pod.
func (m *Mesh) externalAnswer(c *call, tg *target, now sim.Time) {
	x := &m.exts[tg.ext]
	d := sim.Time(x.st.Rand())
	if d < 0 {
		d = 0
	}
	rtt := 2 * x.half
	newConn := c.newStream // ztunnel or the sidecar pass the app's connection out
	switch {
	case tg.egw >= 0:
		newConn = false // the egress gateway's upstream pool to the host stays warm
	case tg.wp >= 0:
		newConn = c.leg2New
	}
	if newConn {
		d += sim.Time(m.c.tcpRTTs * float64(rtt))
	}
	if now >= m.measure {
		x.reqs++
	}
	m.s.At(now+rtt+d, m, sim.Event{Kind: kAppCPU, A: c.stamp, P: c})
}

// plainUpstream reports whether the waypoint's upstream leg of tg goes
// straight to the external host (plain TCP, no HBONE, no certificate).
func (tg *target) plainUpstream() bool { return tg.ext >= 0 && tg.egw < 0 }
