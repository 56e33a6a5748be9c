package mesh

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/istiometrics"
	"github.com/ambientsim/ambientsim/validation/l4policy"
)

// HBONEPort is the port every HBONE listener uses.
const HBONEPort = 15008

// WorkloadInfo is a compiled workload.
type WorkloadInfo struct {
	Workload
	Addr netip.Addr
	ID   identity.ID
	Key  string // namespace/name
	// Waypoint is the resolved waypoint for pod-addressed traffic, if any.
	WaypointInfo *WaypointInfo
}

// ServiceInfo is a compiled service.
type ServiceInfo struct {
	Service
	Addr      netip.Addr
	Key       string // namespace/name
	Host      string // name.namespace.svc.<trust domain>
	Endpoints []*WorkloadInfo
	Waypoint  *WaypointInfo
	next      atomic.Uint64
}

// WaypointInfo is a compiled waypoint.
type WaypointInfo struct {
	Waypoint
	Addr netip.Addr
	ID   identity.ID
	Key  string
}

// Index is a validated, indexed Mesh. It is read-only and safe for
// concurrent use.
type Index struct {
	Mesh        *Mesh
	TrustDomain string
	byIP        map[netip.Addr]*WorkloadInfo
	byKey       map[string]*WorkloadInfo
	svcByVIP    map[netip.Addr]*ServiceInfo
	svcByKey    map[string]*ServiceInfo
	wpByKey     map[string]*WaypointInfo
	wpByIP      map[netip.Addr]*WaypointInfo
	l4          l4policy.Set
}

// Compile validates m and builds the lookup tables.
func Compile(m *Mesh) (*Index, error) {
	td := m.TrustDomain
	if td == "" {
		td = "cluster.local"
	}
	root := m.RootNamespace
	if root == "" {
		root = "istio-system"
	}
	ix := &Index{Mesh: m, TrustDomain: td,
		byIP: map[netip.Addr]*WorkloadInfo{}, byKey: map[string]*WorkloadInfo{},
		svcByVIP: map[netip.Addr]*ServiceInfo{}, svcByKey: map[string]*ServiceInfo{},
		wpByKey: map[string]*WaypointInfo{}, wpByIP: map[netip.Addr]*WaypointInfo{},
		l4: l4policy.Set{RootNamespace: root, Policies: m.L4Policies},
	}
	for i, wp := range m.Waypoints {
		at := fmt.Sprintf("waypoints[%d] %s/%s", i, wp.Namespace, wp.Name)
		if wp.Name == "" || wp.Namespace == "" {
			return nil, fmt.Errorf("%s: name and namespace are required", at)
		}
		addr, err := netip.ParseAddr(wp.IP)
		if err != nil {
			return nil, fmt.Errorf("%s: ip: %w", at, err)
		}
		sa := wp.ServiceAccount
		if sa == "" {
			sa = wp.Name
		}
		switch wp.For {
		case "", ForService, ForWorkload, ForAll, ForNone:
		default:
			return nil, fmt.Errorf("%s: for %q, want service, workload, all or none", at, wp.For)
		}
		info := &WaypointInfo{Waypoint: wp, Addr: addr, Key: wp.Namespace + "/" + wp.Name,
			ID: identity.ID{TrustDomain: td, Namespace: wp.Namespace, ServiceAccount: sa}}
		if wp.For == "" {
			info.For = ForService
		}
		if _, dup := ix.wpByKey[info.Key]; dup {
			return nil, fmt.Errorf("%s: duplicate waypoint", at)
		}
		ix.wpByKey[info.Key] = info
		ix.wpByIP[addr] = info
	}
	for i, w := range m.Workloads {
		at := fmt.Sprintf("workloads[%d] %s/%s", i, w.Namespace, w.Name)
		if w.Name == "" || w.Namespace == "" {
			return nil, fmt.Errorf("%s: name and namespace are required", at)
		}
		addr, err := netip.ParseAddr(w.IP)
		if err != nil {
			return nil, fmt.Errorf("%s: ip: %w (write e.g. ip: 127.0.10.2)", at, err)
		}
		sa := w.ServiceAccount
		if sa == "" {
			sa = "default"
		}
		info := &WorkloadInfo{Workload: w, Addr: addr, Key: w.Namespace + "/" + w.Name,
			ID: identity.ID{TrustDomain: td, Namespace: w.Namespace, ServiceAccount: sa}}
		switch w.Mode {
		case "":
			info.Mode = ModeAmbient
		case ModeAmbient, ModeSidecar, ModeNone:
		default:
			return nil, fmt.Errorf("%s: mode %q, want ambient, sidecar or none", at, w.Mode)
		}
		if info.SidecarPort == 0 {
			info.SidecarPort = 15006
		}
		if w.Waypoint != "" {
			wp, ok := ix.wpByKey[qualify(w.Waypoint, w.Namespace)]
			if !ok {
				return nil, fmt.Errorf("%s: waypoint %q not found in waypoints", at, w.Waypoint)
			}
			info.WaypointInfo = wp
		}
		if _, dup := ix.byIP[addr]; dup {
			return nil, fmt.Errorf("%s: ip %s already used", at, addr)
		}
		ix.byIP[addr] = info
		ix.byKey[info.Key] = info
	}
	for i, s := range m.Services {
		at := fmt.Sprintf("services[%d] %s/%s", i, s.Namespace, s.Name)
		if s.Name == "" || s.Namespace == "" {
			return nil, fmt.Errorf("%s: name and namespace are required", at)
		}
		addr, err := netip.ParseAddr(s.VIP)
		if err != nil {
			return nil, fmt.Errorf("%s: vip: %w", at, err)
		}
		info := &ServiceInfo{Service: s, Addr: addr, Key: s.Namespace + "/" + s.Name,
			Host: s.Name + "." + s.Namespace + ".svc." + td}
		for j, p := range info.Ports {
			if p.TargetPort == 0 {
				info.Ports[j].TargetPort = p.Port
			}
		}
		for _, e := range s.Endpoints {
			w, ok := ix.byKey[qualify(e, s.Namespace)]
			if !ok {
				return nil, fmt.Errorf("%s: endpoint %q not found in workloads", at, e)
			}
			info.Endpoints = append(info.Endpoints, w)
		}
		if s.Waypoint != "" {
			wp, ok := ix.wpByKey[qualify(s.Waypoint, s.Namespace)]
			if !ok {
				return nil, fmt.Errorf("%s: waypoint %q not found in waypoints", at, s.Waypoint)
			}
			info.Waypoint = wp
		}
		ix.svcByVIP[addr] = info
		ix.svcByKey[info.Key] = info
	}
	for i, r := range m.Routes {
		if _, ok := ix.svcByKey[qualify(r.Service, r.Namespace)]; !ok {
			return nil, fmt.Errorf("routes[%d] %s/%s: service %q not found", i, r.Namespace, r.Name, r.Service)
		}
		for j, rule := range r.Rules {
			for k, b := range rule.Backends {
				if _, ok := ix.svcByKey[qualify(b.Service, r.Namespace)]; !ok {
					return nil, fmt.Errorf("routes[%d].rules[%d].backends[%d]: service %q not found", i, j, k, b.Service)
				}
			}
		}
	}
	if err := ix.l4.Validate(); err != nil {
		return nil, fmt.Errorf("l4Policies: %w", err)
	}
	for i, p := range m.L7Policies {
		if p.Action != l4policy.Allow && p.Action != l4policy.Deny {
			return nil, fmt.Errorf("l7Policies[%d] %s/%s: action %q, want ALLOW or DENY", i, p.Namespace, p.Name, p.Action)
		}
	}
	return ix, nil
}

func qualify(ref, ns string) string {
	if strings.Contains(ref, "/") {
		return ref
	}
	return ns + "/" + ref
}

// Qualify returns ref as namespace/name, using ns when ref has no namespace.
func Qualify(ref, ns string) string { return qualify(ref, ns) }

// WorkloadByIP finds the workload with IP a.
func (ix *Index) WorkloadByIP(a netip.Addr) (*WorkloadInfo, bool) {
	w, ok := ix.byIP[a.Unmap()]
	return w, ok
}

// Workload finds a workload by namespace/name.
func (ix *Index) Workload(key string) (*WorkloadInfo, bool) { w, ok := ix.byKey[key]; return w, ok }

// WorkloadsOnNode lists the workloads of a mode on a node, in config order.
func (ix *Index) WorkloadsOnNode(node, mode string) []*WorkloadInfo {
	var out []*WorkloadInfo
	for _, w := range ix.Mesh.Workloads {
		info := ix.byKey[w.Namespace+"/"+w.Name]
		if info.Node == node && info.Mode == mode {
			out = append(out, info)
		}
	}
	return out
}

// ServiceByVIP finds the service with VIP a.
func (ix *Index) ServiceByVIP(a netip.Addr) (*ServiceInfo, bool) {
	s, ok := ix.svcByVIP[a.Unmap()]
	return s, ok
}

// Service finds a service by namespace/name.
func (ix *Index) Service(key string) (*ServiceInfo, bool) { s, ok := ix.svcByKey[key]; return s, ok }

// Waypoint finds a waypoint by namespace/name.
func (ix *Index) Waypoint(key string) (*WaypointInfo, bool) { w, ok := ix.wpByKey[key]; return w, ok }

// WaypointByIP finds the waypoint listening on a.
func (ix *Index) WaypointByIP(a netip.Addr) (*WaypointInfo, bool) {
	w, ok := ix.wpByIP[a.Unmap()]
	return w, ok
}

// L4 returns the L4 policy set.
func (ix *Index) L4() l4policy.Set { return ix.l4 }

// ErrNoEndpoint is returned when a service has no usable endpoint.
var ErrNoEndpoint = errors.New("service has no endpoint")

// TargetPort maps a service port to its target port.
func (s *ServiceInfo) TargetPort(port uint16) (uint16, bool) {
	for _, p := range s.Ports {
		if p.Port == port {
			return p.TargetPort, true
		}
	}
	return 0, false
}

// PickEndpoint chooses the next endpoint round-robin.
func (s *ServiceInfo) PickEndpoint() (*WorkloadInfo, error) {
	if len(s.Endpoints) == 0 {
		return nil, fmt.Errorf("service %s: %w", s.Key, ErrNoEndpoint)
	}
	n := s.next.Add(1) - 1
	return s.Endpoints[n%uint64(len(s.Endpoints))], nil
}

// Peer returns the metric labels of w.
func (w *WorkloadInfo) Peer() istiometrics.Peer {
	app := w.App
	if app == "" {
		app = w.Name
	}
	return istiometrics.Peer{Workload: w.Name, Namespace: w.Namespace, Principal: w.ID.String(), App: app,
		Version: w.Version, CanonicalService: app, CanonicalRevision: orLatest(w.Version)}
}

// Peer returns the metric labels of a waypoint.
func (w *WaypointInfo) Peer() istiometrics.Peer {
	return istiometrics.Peer{Workload: w.Name, Namespace: w.Namespace, Principal: w.ID.String(), App: w.Name,
		CanonicalService: w.Name, CanonicalRevision: "latest"}
}

// MetricService returns the destination service labels of s.
func (s *ServiceInfo) MetricService() istiometrics.Service {
	return istiometrics.Service{Host: s.Host, Name: s.Name, Namespace: s.Namespace}
}

func orLatest(v string) string {
	if v == "" {
		return "latest"
	}
	return v
}

// HBONEAddr returns ip:15008 for a.
func HBONEAddr(a netip.Addr) netip.AddrPort { return netip.AddrPortFrom(a, HBONEPort) }
