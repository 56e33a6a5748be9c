package meshconfig

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ambientsim/ambientsim/topology"
	"github.com/ambientsim/ambientsim/validation/l4policy"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// Options control the translation.
type Options struct {
	// Base is the IPv4 /16 loopback addresses are drawn from: pods from
	// .1.1 upwards, service VIPs from .100.1, waypoints from .200.1.
	// Default 127.20.0.0/16.
	Base netip.Prefix
	// KeepPodIPs keeps the topology's pod IPs (and waypoint replica IPs).
	KeepPodIPs bool
}

// Report lists what could not be carried over faithfully.
type Report struct {
	Warnings []string
}

func (r *Report) warnf(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

type addrPlan struct {
	base [4]byte
	next map[byte]int
}

func (a *addrPlan) take(block byte) (string, error) {
	n := a.next[block]
	a.next[block] = n + 1
	hi, lo := block+byte(n/254), byte(n%254)+1
	if (block < 100 && hi >= 100) || (block >= 100 && block < 200 && hi >= 200) || hi < block {
		return "", fmt.Errorf("address block %d.* of %d.%d.0.0/16 is full", block, a.base[0], a.base[1])
	}
	return fmt.Sprintf("%d.%d.%d.%d", a.base[0], a.base[1], hi, lo), nil
}

// Build translates t into a mesh description.
func Build(t *topology.Topology, o Options) (*mesh.Mesh, *Report, error) {
	if !o.Base.IsValid() {
		o.Base = netip.MustParsePrefix("127.20.0.0/16")
	}
	if !o.Base.Addr().Is4() || o.Base.Bits() > 16 {
		return nil, nil, fmt.Errorf("meshconfig: Base %s: want an IPv4 prefix of /16 or shorter", o.Base)
	}
	plan := &addrPlan{base: o.Base.Masked().Addr().As4(), next: map[byte]int{}}
	rep := &Report{}
	td := t.TrustDomain
	if td == "" {
		td = topology.DefaultTrustDomain
	}
	root := t.RootNamespace
	if root == "" {
		root = topology.DefaultRootNamespace
	}
	m := &mesh.Mesh{TrustDomain: td, RootNamespace: root}

	podIP := func(p *topology.Pod) (string, error) {
		if o.KeepPodIPs {
			if _, err := netip.ParseAddr(p.IP); err == nil {
				return p.IP, nil
			}
			rep.warnf("pod %s has no usable IP %q; assigned one", p.ID(), p.IP)
		}
		return plan.take(1)
	}

	for _, wp := range t.Waypoints {
		ip := ""
		if o.KeepPodIPs && len(wp.Pods) > 0 {
			ip = wp.Pods[0].IP
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			var perr error
			if ip, perr = plan.take(200); perr != nil {
				return nil, nil, perr
			}
		}
		if wp.Replicas > 1 {
			rep.warnf("waypoint %s has %d replicas; the data plane runs one", wp.ID(), wp.Replicas)
		}
		m.Waypoints = append(m.Waypoints, mesh.Waypoint{Name: wp.Name, Namespace: wp.Namespace,
			ServiceAccount: wp.ServiceAccount(), IP: ip, For: forOf(wp.For)})
	}

	podMode := map[*topology.Pod]string{}
	for _, p := range t.Pods {
		if p.Workload != nil && p.Workload.System {
			continue
		}
		ip, err := podIP(p)
		if err != nil {
			return nil, nil, err
		}
		mode := modeOf(p.Mode)
		podMode[p] = mode
		w := mesh.Workload{Name: p.Name, Namespace: p.Namespace, ServiceAccount: p.ServiceAccount, IP: ip,
			Node: p.Node, Mode: mode, App: p.Labels["app"], Version: p.Labels["version"]}
		if w.App == "" && p.Workload != nil {
			w.App = p.Workload.Name
		}
		if p.Waypoint != nil {
			w.Waypoint = p.Waypoint.ID()
		}
		if p.Workload != nil && p.Workload.Ingress {
			rep.warnf("pod %s is an ingress gateway; it runs as a plain pod", p.ID())
		}
		m.Workloads = append(m.Workloads, w)
	}

	for _, s := range t.Services {
		vip, err := plan.take(100)
		if err != nil {
			return nil, nil, err
		}
		ms := mesh.Service{Name: s.Name, Namespace: s.Namespace, VIP: vip}
		for _, p := range s.Ports {
			if p.Port <= 0 || p.Port > 65535 {
				rep.warnf("service %s: port %d skipped", s.ID(), p.Port)
				continue
			}
			ms.Ports = append(ms.Ports, mesh.ServicePort{Port: uint16(p.Port), TargetPort: uint16(s.TargetPort(p.Port)), Protocol: protocolOf(p)})
		}
		for _, ep := range t.EndpointsOf(s) {
			if _, ok := podMode[ep]; ok {
				ms.Endpoints = append(ms.Endpoints, ep.ID())
			}
		}
		if s.Waypoint != nil {
			ms.Waypoint = s.Waypoint.ID()
		}
		m.Services = append(m.Services, ms)
	}

	for _, r := range t.Routes {
		translateRoute(t, r, m, rep)
	}
	for _, ap := range t.AuthorizationPolicies {
		translatePolicy(t, ap, m, podMode, rep)
	}
	if _, err := mesh.Compile(m); err != nil {
		return nil, nil, fmt.Errorf("meshconfig: the translated mesh does not compile: %w", err)
	}
	return m, rep, nil
}

func modeOf(m topology.Mode) string {
	switch m {
	case topology.Ambient:
		return mesh.ModeAmbient
	case topology.Sidecar:
		return mesh.ModeSidecar
	default:
		return mesh.ModeNone
	}
}

func forOf(f string) string {
	switch f {
	case topology.ForWorkload:
		return mesh.ForWorkload
	case topology.ForAll:
		return mesh.ForAll
	case topology.ForNone:
		return mesh.ForNone
	default:
		return mesh.ForService
	}
}

func protocolOf(p topology.ServicePort) string {
	ap := strings.ToLower(p.AppProtocol)
	name := strings.ToLower(p.Name)
	switch {
	case ap == "http" || ap == "http2" || ap == "grpc" || ap == "h2c" || strings.HasPrefix(name, "http") || strings.HasPrefix(name, "grpc"):
		return "http"
	default:
		return "tcp"
	}
}

func translateRoute(t *topology.Topology, r *topology.Route, m *mesh.Mesh, rep *Report) {
	if r.Kind == topology.KindVirtualService {
		return // sidecar-era routing: the data plane has no VirtualService support
	}
	if r.Kind != "" && r.Kind != "HTTPRoute" {
		rep.warnf("route %s: %s is not supported by the data plane; skipped", r.ID(), r.Kind)
		return
	}
	for _, parent := range r.ParentRefs {
		if parent.Kind != "Service" {
			continue // Gateway parents: ingress, not the mesh
		}
		ns := parent.Namespace
		if ns == "" {
			ns = r.Namespace
		}
		mr := mesh.Route{Name: r.Name, Namespace: r.Namespace, Service: ns + "/" + parent.Name}
		if t.Service(ns, parent.Name) == nil {
			rep.warnf("route %s: parent service %s/%s not found; skipped", r.ID(), ns, parent.Name)
			continue
		}
		for i, rule := range r.Rules {
			mrule := mesh.RouteRule{}
			if rule.Timeout != "" {
				d, err := time.ParseDuration(rule.Timeout)
				if err != nil {
					rep.warnf("route %s rule %d: timeout %q: %v; ignored", r.ID(), i, rule.Timeout, err)
				} else {
					mrule.Timeout = d
				}
			}
			if len(rule.Filters) > 0 {
				types := make([]string, len(rule.Filters))
				for j, f := range rule.Filters {
					types[j] = f.Type
				}
				rep.warnf("route %s rule %d: filters %v are not applied", r.ID(), i, types)
			}
			skip := len(rule.Matches) > 0
			for _, mt := range rule.Matches {
				mm := mesh.RouteMatch{Method: mt.Method}
				exact := true
				for _, h := range mt.Headers {
					if h.Type != "" && h.Type != "Exact" {
						exact = false
						break
					}
					if mm.Headers == nil {
						mm.Headers = map[string]string{}
					}
					mm.Headers[h.Name] = h.Value
				}
				if !exact {
					rep.warnf("route %s rule %d: %s header matches are not supported; match dropped", r.ID(), i, "RegularExpression")
					continue
				}
				switch mt.PathType {
				case "Exact":
					mm.PathExact = mt.Path
				case "RegularExpression":
					rep.warnf("route %s rule %d: regular-expression path %q is not supported; match dropped", r.ID(), i, mt.Path)
					continue
				default:
					mm.PathPrefix = mt.Path
				}
				mrule.Matches = append(mrule.Matches, mm)
				skip = false
			}
			if skip {
				continue // every match was unsupported: the rule would match everything
			}
			for _, b := range rule.BackendRefs {
				if b.Kind != "" && b.Kind != "Service" {
					rep.warnf("route %s rule %d: backend kind %s skipped", r.ID(), i, b.Kind)
					continue
				}
				if b.Weight == 0 {
					continue // Gateway API: weight 0 receives no traffic
				}
				bns := b.Namespace
				if bns == "" {
					bns = r.Namespace
				}
				if t.Service(bns, b.Name) == nil {
					rep.warnf("route %s rule %d: backend %s/%s not found; skipped", r.ID(), i, bns, b.Name)
					continue
				}
				mrule.Backends = append(mrule.Backends, mesh.Backend{Service: bns + "/" + b.Name, Port: uint16(b.Port), Weight: b.Weight})
			}
			if len(mrule.Backends) == 0 {
				rep.warnf("route %s rule %d: no usable backend; skipped", r.ID(), i)
				continue
			}
			mr.Rules = append(mr.Rules, mrule)
		}
		if len(mr.Rules) > 0 {
			m.Routes = append(m.Routes, mr)
		}
	}
}

// rulePair is one from×to combination of an Istio rule.
type rulePair struct {
	from topology.PeerSource
	to   topology.Operation
	when []topology.Condition
}

func pairs(r topology.Rule) []rulePair {
	froms := r.From
	if len(froms) == 0 {
		froms = []topology.PeerSource{{}}
	}
	tos := r.To
	if len(tos) == 0 {
		tos = []topology.Operation{{}}
	}
	var out []rulePair
	for _, f := range froms {
		for _, o := range tos {
			out = append(out, rulePair{from: f, to: o, when: r.When})
		}
	}
	return out
}

func (p rulePair) hasL7() bool {
	f, o := p.from, p.to
	return len(f.RequestPrincipals)+len(f.NotRequestPrincipals)+len(f.RemoteIPBlocks)+len(f.NotRemoteIPBlocks) > 0 ||
		len(o.Hosts)+len(o.NotHosts)+len(o.Methods)+len(o.NotMethods)+len(o.Paths)+len(o.NotPaths) > 0
}

// unsupported lists positive constraints the data plane cannot check.
func (p rulePair) unsupported(l7 bool) []string {
	var u []string
	f, o := p.from, p.to
	if len(f.IPBlocks)+len(f.NotIPBlocks) > 0 {
		u = append(u, "ipBlocks")
	}
	if len(p.when) > 0 {
		u = append(u, "when")
	}
	if l7 {
		if len(f.RequestPrincipals)+len(f.NotRequestPrincipals) > 0 {
			u = append(u, "requestPrincipals")
		}
		if len(f.RemoteIPBlocks)+len(f.NotRemoteIPBlocks) > 0 {
			u = append(u, "remoteIpBlocks")
		}
		if len(o.Hosts)+len(o.NotHosts)+len(o.NotMethods)+len(o.NotPaths) > 0 {
			u = append(u, "hosts/notMethods/notPaths")
		}
	}
	return u
}

func principals(td string, f topology.PeerSource) []string {
	out := make([]string, 0, len(f.Principals)+len(f.ServiceAccounts))
	for _, p := range f.Principals {
		out = append(out, strings.TrimPrefix(p, "spiffe://"))
	}
	for _, sa := range f.ServiceAccounts {
		ns, name, ok := strings.Cut(sa, "/")
		if ok {
			out = append(out, td+"/ns/"+ns+"/sa/"+name)
		}
	}
	return out
}

func ports(ps []string, rep *Report, where string) []uint16 {
	var out []uint16
	for _, p := range ps {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			rep.warnf("%s: port %q is not a number; ignored", where, p)
			continue
		}
		out = append(out, uint16(n))
	}
	return out
}

func translatePolicy(t *topology.Topology, ap *topology.AuthorizationPolicy, m *mesh.Mesh, podMode map[*topology.Pod]string, rep *Report) {
	action := l4policy.Action(strings.ToUpper(ap.Action))
	if action == "" {
		action = l4policy.Allow
	}
	if action != l4policy.Allow && action != l4policy.Deny {
		rep.warnf("policy %s: action %s is not enforced by the data plane; skipped", ap.ID(), ap.Action)
		return
	}
	td := m.TrustDomain
	if len(ap.TargetRefs) > 0 {
		var targets []string
		for _, ref := range ap.TargetRefs {
			ns := ref.Namespace
			if ns == "" {
				ns = ap.Namespace
			}
			switch ref.Kind {
			case "Service":
				targets = append(targets, ns+"/"+ref.Name)
			case "Gateway":
				if wp := t.Waypoint(ns, ref.Name); wp != nil {
					for _, s := range wp.Serves {
						targets = append(targets, s.ID())
					}
				}
			default:
				rep.warnf("policy %s: targetRef kind %s skipped", ap.ID(), ref.Kind)
			}
		}
		if len(targets) == 0 {
			return
		}
		m.L7Policies = append(m.L7Policies, mesh.L7Policy{Name: ap.Name, Namespace: ap.Namespace,
			TargetServices: targets, Action: action, Rules: l7Rules(ap, action, td, rep)})
		return
	}

	// Selector (or namespace-wide) policy: ztunnel enforces its L4 part on
	// ambient pods, sidecars enforce all of it on sidecar pods.
	var ambientPods []string
	var sidecarServices []string
	for _, p := range t.Pods {
		mode, ok := podMode[p]
		if !ok || (ap.Namespace != m.RootNamespace && p.Namespace != ap.Namespace) || !selects(ap.Selector, p.Labels) {
			continue
		}
		switch mode {
		case mesh.ModeAmbient:
			ambientPods = append(ambientPods, p.Name)
		case mesh.ModeSidecar:
			for _, s := range t.ServicesOf(p) {
				if !slices.Contains(sidecarServices, s.ID()) {
					sidecarServices = append(sidecarServices, s.ID())
				}
			}
		}
	}
	if len(ambientPods) > 0 {
		pol := l4policy.Policy{Name: ap.Name, Namespace: ap.Namespace, Action: action}
		if ap.Selector != nil {
			pol.Workloads = ambientPods
		}
		emit := true
		if ap.HasRules || len(ap.Rules) > 0 {
			for _, r := range ap.Rules {
				for _, pr := range pairs(r) {
					if u := pr.unsupported(false); len(u) > 0 {
						rep.warnf("policy %s: %v cannot be checked at L4; rule dropped", ap.ID(), u)
						continue
					}
					if pr.hasL7() {
						if action == l4policy.Allow {
							rep.warnf("policy %s: ztunnel drops an ALLOW rule with L7 fields", ap.ID())
							continue
						}
						if len(principals(td, pr.from))+len(pr.from.Namespaces)+len(pr.to.Ports) == 0 {
							rep.warnf("policy %s: a DENY rule with only L7 fields is a no-op at ztunnel", ap.ID())
							continue
						}
					}
					pol.Rules = append(pol.Rules, l4policy.Rule{
						Principals: principals(td, pr.from), NotPrincipals: trimAll(pr.from.NotPrincipals),
						Namespaces: pr.from.Namespaces, NotNamespaces: pr.from.NotNamespaces,
						Ports: ports(pr.to.Ports, rep, ap.ID()), NotPorts: ports(pr.to.NotPorts, rep, ap.ID()),
					})
				}
			}
		}
		if action == l4policy.Deny && len(pol.Rules) == 0 {
			emit = false // a DENY that matches nothing
		}
		if emit {
			m.L4Policies = append(m.L4Policies, pol)
		}
	}
	if len(sidecarServices) > 0 {
		m.L7Policies = append(m.L7Policies, mesh.L7Policy{Name: ap.Name + "-sidecar", Namespace: ap.Namespace,
			TargetServices: sidecarServices, Action: action, Rules: l7Rules(ap, action, td, rep)})
	}
}

func l7Rules(ap *topology.AuthorizationPolicy, action l4policy.Action, td string, rep *Report) []mesh.L7Rule {
	var out []mesh.L7Rule
	for _, r := range ap.Rules {
		for _, pr := range pairs(r) {
			if u := pr.unsupported(true); len(u) > 0 {
				if action == l4policy.Allow {
					rep.warnf("policy %s: %v not supported; ALLOW rule dropped (narrower)", ap.ID(), u)
					continue
				}
				rep.warnf("policy %s: %v not supported; DENY rule applied without them (broader)", ap.ID(), u)
			}
			if len(pr.from.NotPrincipals)+len(pr.from.NotNamespaces)+len(pr.to.NotPorts) > 0 {
				rep.warnf("policy %s: not* source fields are not applied at L7", ap.ID())
			}
			out = append(out, mesh.L7Rule{Principals: principals(td, pr.from), Namespaces: pr.from.Namespaces,
				Methods: pr.to.Methods, Paths: pr.to.Paths, Ports: ports(pr.to.Ports, rep, ap.ID())})
		}
	}
	return out
}

func trimAll(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.TrimPrefix(p, "spiffe://")
	}
	return out
}

func selects(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
