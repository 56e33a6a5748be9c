package ztunnel

import (
	"context"
	"net/http"
	"net/netip"

	"github.com/ambientsim/ambientsim/validation/hbone"
	"github.com/ambientsim/ambientsim/validation/istiometrics"
	"github.com/ambientsim/ambientsim/validation/l4policy"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// serveInbound terminates one HBONE stream for a local pod, as ztunnel's
// inbound.rs: destination check, RBAC, pod dial, then 200 and copy.
func (p *Proxy) serveInbound(r *hbone.Request, s *hbone.ServerStream) {
	local, err := netip.ParseAddrPort(s.LocalAddr().String())
	if err != nil {
		s.Reject(http.StatusBadRequest)
		return
	}
	dst, ok := p.pods[local.Addr().Unmap()]
	if !ok || r.Target.Addr().Unmap() != dst.Addr {
		// validate_destination: the authority must name the pod we were reached at.
		s.Reject(http.StatusBadRequest)
		return
	}
	if port := r.Target.Port(); port == mesh.HBONEPort || port == 15001 || port == 15006 {
		s.Reject(http.StatusServiceUnavailable) // SelfCall
		return
	}
	labels := istiometrics.TCPConn{Reporter: "destination", Destination: dst.Peer(), SecurityPolicy: "mutual_tls",
		Source: istiometrics.Peer{Principal: r.Peer.String(), Namespace: r.Peer.Namespace}}
	var srcIP netip.Addr
	if ra, err := netip.ParseAddrPort(s.RemoteAddr().String()); err == nil {
		srcIP = ra.Addr().Unmap()
		if w, ok := p.ix.WorkloadByIP(srcIP); ok && w.ID == r.Peer {
			labels.Source = w.Peer()
		} else if wp, ok := p.ix.WaypointByIP(srcIP); ok && wp.ID == r.Peer {
			labels.Source = wp.Peer()
		} else {
			srcIP = netip.Addr{}
		}
	}
	if svc := p.serviceOf(dst, r.Target.Port()); svc != nil {
		labels.Service = svc.MetricService()
	}
	rec := p.tcp.Open(labels)
	d := p.ix.L4().Evaluate(l4policy.Connection{Source: r.Peer,
		Destination: l4policy.Workload{Name: dst.Name, Namespace: dst.Namespace}, Port: r.Target.Port()})
	if !d.Allowed {
		p.log.Info("inbound denied", "src", r.Peer, "dst", dst.Key, "port", r.Target.Port(), "policy", d.Policy, "reason", d.Reason)
		rec.Close(hbone.FlagDeny)
		s.Reject(http.StatusUnauthorized)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context, p.cfg.ConnectTimeout)
	up, err := p.cfg.Dial(ctx, srcIP, r.Target.String())
	cancel()
	if err != nil {
		rec.Close(hbone.FlagConnect)
		s.Reject(http.StatusServiceUnavailable)
		return
	}
	s.Header().Set("baggage", baggage(dst, "")) // ENABLE_RESPONSE_BAGGAGE, on by default
	if err := s.Accept(); err != nil {
		_ = up.Close()
		rec.Close(hbone.FlagConnect)
		return
	}
	hbone.Splice(s, up, rec.Received, rec.Sent)
	rec.Close(hbone.FlagNone)
}

// serviceOf finds a service that selects w on target port port.
func (p *Proxy) serviceOf(w *mesh.WorkloadInfo, port uint16) *mesh.ServiceInfo {
	for _, s := range p.ix.Mesh.Services {
		info, _ := p.ix.Service(s.Namespace + "/" + s.Name)
		for _, ep := range info.Endpoints {
			if ep != w {
				continue
			}
			for _, sp := range info.Ports {
				if sp.TargetPort == port {
					return info
				}
			}
		}
	}
	return nil
}
