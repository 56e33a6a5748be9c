package ztunnel

import (
	"context"
	"net"
	"net/http"
	"net/netip"

	"github.com/ambientsim/ambientsim/validation/hbone"
	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/istiometrics"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// serveOutbound tunnels one captured app connection from src to dst.
func (p *Proxy) serveOutbound(c net.Conn, src *mesh.WorkloadInfo, dst netip.AddrPort) {
	out, err := p.ix.ResolveOutbound(dst)
	if err != nil {
		p.log.Warn("outbound resolve failed", "src", src.Key, "dst", dst, "err", err)
		hbone.Reset(c)
		return
	}
	labels := istiometrics.TCPConn{Reporter: "source", Source: src.Peer(), SecurityPolicy: "mutual_tls"}
	if out.Service != nil {
		labels.Service = out.Service.MetricService()
	}
	switch {
	case out.Waypoint != nil:
		labels.Destination = out.Waypoint.Peer()
	case out.Destination != nil:
		labels.Destination = out.Destination.Peer()
	}
	if out.Kind == mesh.HopPassthrough {
		labels.SecurityPolicy = istiometrics.Unknown
	}
	rec := p.tcp.Open(labels)
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ConnectTimeout)
	defer cancel()

	var upstream net.Conn
	switch out.Kind {
	case mesh.HopDirect, mesh.HopWaypoint, mesh.HopSidecar:
		hdr := http.Header{}
		hdr.Set("baggage", baggage(src, ""))
		hdr.Set("forwarded", `for="`+c.RemoteAddr().String()+`"`)
		if out.Service != nil {
			hdr.Set("forwarded", `for="`+c.RemoteAddr().String()+`";host=`+out.Service.Host)
		}
		s, err := p.client.Dial(ctx, hbone.Target{
			Source: src.ID, SourceIP: src.Addr, Expected: []identity.ID{out.Expected},
			NextHop: out.NextHop.String(), Authority: out.Authority.String(), Header: hdr,
		})
		if err != nil {
			p.log.Info("outbound HBONE failed", "src", src.Key, "dst", dst, "next_hop", out.NextHop, "err", err)
			rec.Close(statusFlag(err))
			hbone.Reset(c)
			return
		}
		upstream = s
	case mesh.HopPassthrough:
		u, err := p.cfg.Dial(ctx, src.Addr, out.NextHop.String())
		if err != nil {
			rec.Close(hbone.FlagConnect)
			hbone.Reset(c)
			return
		}
		upstream = u
	default:
		p.log.Warn("outbound: unknown hop kind", "kind", out.Kind, "dst", dst)
		rec.Close(hbone.FlagConnect)
		hbone.Reset(c)
		return
	}
	res := hbone.Splice(c, upstream, rec.Received, rec.Sent)
	if res.Err != nil {
		hbone.Reset(c)
	}
	rec.Close(hbone.FlagNone)
}
