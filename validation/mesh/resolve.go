package mesh

import (
	"fmt"
	"net/netip"

	"github.com/ambientsim/ambientsim/validation/identity"
)

// Hop kinds of an outbound resolution.
const (
	HopDirect      = "direct"      // HBONE to the destination pod's ztunnel
	HopWaypoint    = "waypoint"    // HBONE to a waypoint
	HopSidecar     = "sidecar"     // HBONE to the destination pod's sidecar (podIP:15008)
	HopPassthrough = "passthrough" // plain TCP, destination out of mesh or unknown
)

// Outbound is where a captured connection goes next.
type Outbound struct {
	Kind        string
	NextHop     netip.AddrPort // HBONE/sidecar/passthrough address to dial
	Authority   netip.AddrPort // HBONE :authority
	Expected    identity.ID    // identity the next hop must present
	Service     *ServiceInfo   // nil when the pod IP was addressed
	Destination *WorkloadInfo  // final workload; nil when a waypoint picks it
	Waypoint    *WaypointInfo
}

// ResolveOutbound decides the path of a connection from src to dst the way
// ztunnel does: service-addressed traffic uses the service's waypoint if it
// serves services, pod-addressed traffic the pod's waypoint if it serves
// workloads, otherwise HBONE goes straight to the destination pod.
func (ix *Index) ResolveOutbound(dst netip.AddrPort) (Outbound, error) {
	a := dst.Addr().Unmap()
	if svc, ok := ix.svcByVIP[a]; ok {
		if wp := svc.Waypoint; wp != nil && (wp.For == ForService || wp.For == ForAll) {
			return Outbound{Kind: HopWaypoint, NextHop: HBONEAddr(wp.Addr), Authority: dst,
				Expected: wp.ID, Service: svc, Waypoint: wp}, nil
		}
		tp, ok := svc.TargetPort(dst.Port())
		if !ok {
			return Outbound{}, fmt.Errorf("service %s has no port %d", svc.Key, dst.Port())
		}
		ep, err := svc.PickEndpoint()
		if err != nil {
			return Outbound{}, err
		}
		out := ix.toWorkload(ep, tp, false)
		out.Service = svc
		return out, nil
	}
	if w, ok := ix.byIP[a]; ok {
		return ix.toWorkload(w, dst.Port(), true), nil
	}
	return Outbound{Kind: HopPassthrough, NextHop: dst, Authority: dst}, nil
}

func (ix *Index) toWorkload(w *WorkloadInfo, port uint16, podAddressed bool) Outbound {
	target := netip.AddrPortFrom(w.Addr, port)
	if wp := w.WaypointInfo; podAddressed && wp != nil && (wp.For == ForWorkload || wp.For == ForAll) {
		return Outbound{Kind: HopWaypoint, NextHop: HBONEAddr(wp.Addr), Authority: target,
			Expected: wp.ID, Destination: w, Waypoint: wp}
	}
	switch w.Mode {
	case ModeAmbient:
		return Outbound{Kind: HopDirect, NextHop: HBONEAddr(w.Addr), Authority: target, Expected: w.ID, Destination: w}
	case ModeSidecar:
		// Sidecars accept HBONE on podIP:15008 from ambient proxies.
		return Outbound{Kind: HopSidecar, NextHop: HBONEAddr(w.Addr), Authority: target,
			Expected: w.ID, Destination: w}
	default:
		return Outbound{Kind: HopPassthrough, NextHop: target, Authority: target, Destination: w}
	}
}
