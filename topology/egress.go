package topology

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// ServiceEntry is networking.istio.io ServiceEntry: a host the mesh knows
// but Kubernetes does not (an external API, a VM service).
type ServiceEntry struct {
	Namespace  string
	Name       string
	Hosts      []string
	Location   string // MESH_EXTERNAL (default) | MESH_INTERNAL
	Resolution string // NONE (default) | STATIC | DNS | DNS_ROUND_ROBIN | DYNAMIC_DNS
	Ports      []ServicePort
	Labels     map[string]string
	ExportTo   []string
	Endpoints  int // static endpoints listed
	Source     string

	// Waypoint is the waypoint its istio.io/use-waypoint label (or its
	// namespace's) binds, nil if none: in ambient, egress policy and
	// routing for the host happen there.
	Waypoint *Waypoint
	// UseWaypoint is the ns/name the label asked for, resolved or not.
	UseWaypoint string

	view *Service
}

// ID returns "ns/name".
func (s *ServiceEntry) ID() string { return s.Namespace + "/" + s.Name }

// External reports MESH_EXTERNAL.
func (s *ServiceEntry) External() bool { return s.Location != "MESH_INTERNAL" }

// ReferenceGrant is gateway.networking.k8s.io ReferenceGrant.
type ReferenceGrant struct {
	Namespace string
	Name      string
	From      []GrantFrom
	To        []GrantTo
}

// GrantFrom is a ReferenceGrant's from entry.
type GrantFrom struct{ Group, Kind, Namespace string }

// GrantTo is a ReferenceGrant's to entry ("" Name = every object of Kind).
type GrantTo struct{ Group, Kind, Name string }

// CatExternal is the category of a path to a MESH_EXTERNAL ServiceEntry.
const CatExternal Category = "external"

// HopExternal is the last hop of a path leaving the mesh: external/<host>.
const HopExternal = "external"

// AsService returns the ServiceEntry as a path-matrix destination: a
// Service named after its first host (ns/<host>), with its ports and
// waypoint, selecting no pods. The same value is returned every time.
func (s *ServiceEntry) AsService() *Service {
	if s.view == nil {
		s.view = &Service{Namespace: s.Namespace, Name: s.Hosts[0], Labels: s.Labels, Ports: s.Ports,
			Waypoint: s.Waypoint, UseWaypoint: s.UseWaypoint, Type: "ServiceEntry", Source: s.Source, entry: s}
	}
	return s.view
}

// EgressPath returns the path from src (nil = outside the cluster) to a
// ServiceEntry host on its first port; see EgressPathPort.
func (t *Topology) EgressPath(src *Pod, se *ServiceEntry) Path {
	port := 0
	if len(se.Ports) > 0 {
		port = se.Ports[0].Port
	}
	return t.EgressPathPort(src, se, port)
}

// EgressPathPort returns the path from src (nil = outside the cluster) to
// a ServiceEntry host on port: an ambient source's ztunnel sends it to the
// ServiceEntry's waypoint when one is bound (the ambient egress gateway),
// else straight out; sidecars and out-of-mesh sources go straight out
// (sidecars do not use waypoints); the last hop is external/<host> for
// MESH_EXTERNAL entries. When a VirtualService sends the host's mesh
// traffic to a sidecar-era egress gateway (EgressGatewayRoute), sidecars
// and a waypoint follow it (a gateway hop before the host); ztunnel and
// out-of-mesh sources do not, and skip the gateway (Bypass).
func (t *Topology) EgressPathPort(src *Pod, se *ServiceEntry, port int) Path {
	p := Path{Category: CatExternal, Reason: "no waypoint serves the host: traffic leaves the mesh from the source's node"}
	if src != nil {
		if h := src.Instance(); h != "" {
			kind := HopSidecar
			switch {
			case strings.HasPrefix(h, "ztunnel/"):
				kind = HopZtunnel
			case strings.HasPrefix(h, "gateway/"):
				kind = HopGateway
			}
			p.Hops = append(p.Hops, Hop{Kind: kind, Instance: h})
		}
	}
	ingress := src != nil && src.Workload != nil && src.Workload.Ingress
	if se.Waypoint != nil {
		switch {
		case src != nil && src.Mode == Ambient && !ingress:
			p.Waypoint = se.Waypoint
			p.Hops = append(p.Hops, Hop{Kind: HopWaypoint, Instance: se.Waypoint.Instance()})
			p.Reason = "the source ztunnel sends traffic for the ServiceEntry host to its waypoint (egress through the waypoint)"
		case src != nil && src.Mode == Sidecar:
			p.Bypass, p.Reason = true, "sidecars do not use waypoints; the sidecar sends egress straight out"
		default:
			p.Bypass, p.Reason = true, "an out-of-mesh source knows nothing of waypoints and connects straight to the external host"
		}
	}
	if r := t.EgressGatewayRoute(se, port); r != nil {
		via := ""
		switch {
		case p.Waypoint != nil:
			via = "the waypoint"
		case src != nil && src.Mode == Sidecar && !ingress:
			via = "the sidecar"
		}
		if via != "" {
			p.Hops = append(p.Hops, Hop{Kind: HopGateway, Instance: r.Instance()})
			p.Reason += fmt.Sprintf("; %s applies VirtualService %s: %s leaves through egress gateway %s", via, r.VirtualService.ID(), se.Hosts[0], r.Gateway.ID())
			if r.Problem != "" {
				p.Denied, p.DeniedBy = r.Problem, r.Instance()
			}
		} else {
			who := "an out-of-mesh source applies no VirtualService"
			if src != nil && src.Mode == Ambient {
				who = "ztunnel applies no VirtualService (no waypoint serves the host)"
			}
			p.Bypass = true
			p.Reason = fmt.Sprintf("%s: it skips egress gateway %s, which VirtualService %s routes %s through, and leaves from the source's node", who, r.Gateway.ID(), r.VirtualService.ID(), se.Hosts[0])
		}
	}
	if se.External() {
		p.Hops = append(p.Hops, Hop{Kind: HopExternal, Instance: "external/" + se.Hosts[0]})
	} else {
		p.Category = CatMixed
	}
	return p
}

// ServiceEntryHost returns the path-matrix destination (AsService) of the
// ServiceEntry in namespace ns that declares host, or nil when none does.
// A call-graph edge names an external host this way: ns/<host>, as the
// path matrix names the row. The first declaring ServiceEntry wins.
func (t *Topology) ServiceEntryHost(ns, host string) *Service {
	for _, s := range t.ServiceEntries {
		if s.Namespace != ns {
			continue
		}
		for _, h := range s.Hosts {
			if strings.EqualFold(h, host) {
				return s.AsService()
			}
		}
	}
	return nil
}

// ServiceEntryHosts lists every ServiceEntry host as ns/<host>, for
// errors that suggest what a call may name.
func (t *Topology) ServiceEntryHosts() []string {
	var out []string
	for _, s := range t.ServiceEntries {
		for _, h := range s.Hosts {
			out = append(out, s.Namespace+"/"+h)
		}
	}
	return out
}

// IsHostRef reports whether ref (ns/name) names an external host rather
// than a Service: Service names are DNS labels without dots, hosts have
// them.
func IsHostRef(ref string) bool {
	_, name, _ := strings.Cut(ref, "/")
	return strings.Contains(name, ".")
}

// ServiceEntry returns the ServiceEntry ns/name, or nil.
func (t *Topology) ServiceEntry(ns, name string) *ServiceEntry {
	for _, s := range t.ServiceEntries {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

func decodeServiceEntry(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	se := &ServiceEntry{Namespace: m.namespace, Name: m.name, Labels: m.labels, Location: "MESH_EXTERNAL", Resolution: "NONE", Source: d.src(o)}
	d.fields(o.spec, o.p("spec"), []string{"hosts", "addresses", "ports", "location", "resolution", "endpoints", "workloadSelector", "exportTo", "subjectAltNames"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "hosts":
			se.Hosts = d.strList(v, p)
		case "location":
			if l := d.enum(v, p, "MESH_EXTERNAL", "MESH_INTERNAL"); l != "" {
				se.Location = l
			}
		case "resolution":
			if r := d.enum(v, p, "NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"); r != "" {
				se.Resolution = r
			}
		case "exportTo":
			se.ExportTo = d.strList(v, p)
		case "endpoints":
			d.list(v, p, func(*yaml.Node, string) { se.Endpoints++ })
		case "ports":
			d.list(v, p, func(it *yaml.Node, ip string) {
				var sp ServicePort
				d.fields(it, ip, []string{"number", "protocol", "name", "targetPort"}, func(k string, v *yaml.Node, p string) {
					switch k {
					case "number":
						sp.Port = d.integer(v, p)
					case "protocol":
						sp.AppProtocol = strings.ToLower(d.str(v, p))
					case "name":
						sp.Name = d.str(v, p)
					case "targetPort":
						sp.TargetPort = d.integer(v, p)
					}
				})
				if sp.Port <= 0 || sp.Port > 65535 {
					d.errf(it, ip+".number", "port %d out of range 1-65535", sp.Port)
					return
				}
				defaultServicePort(&sp)
				se.Ports = append(se.Ports, sp)
			})
		}
	})
	if len(se.Hosts) == 0 {
		d.errf(o.spec, o.p("spec.hosts"), "a ServiceEntry needs at least one host")
		return
	}
	d.b.t.ServiceEntries = append(d.b.t.ServiceEntries, se)
	d.b.ensureNamespace(m.namespace)
}

func decodeReferenceGrant(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	g := &ReferenceGrant{Namespace: m.namespace, Name: m.name}
	d.fields(o.spec, o.p("spec"), []string{"from", "to"}, func(k string, v *yaml.Node, p string) {
		d.list(v, p, func(it *yaml.Node, ip string) {
			var grp, kind, ns, name string
			d.fields(it, ip, []string{"group", "kind", "namespace", "name"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case "group":
					grp = d.str(v, p)
				case "kind":
					kind = d.str(v, p)
				case "namespace":
					ns = d.str(v, p)
				case "name":
					name = d.str(v, p)
				}
			})
			if k == "from" {
				g.From = append(g.From, GrantFrom{Group: grp, Kind: kind, Namespace: ns})
			} else {
				g.To = append(g.To, GrantTo{Group: grp, Kind: kind, Name: name})
			}
		})
	})
	d.b.t.ReferenceGrants = append(d.b.t.ReferenceGrants, g)
}

// egressPolicyFindings checks a policy attached to a ServiceEntry: it is
// enforced only by the ServiceEntry's waypoint, so it is unenforced without
// one, and sources whose egress path skips the waypoint (sidecars,
// out-of-mesh workloads) are not checked.
func (t *Topology) egressPolicyFindings(ap *AuthorizationPolicy, ns, name string) []FindingGroup {
	se := t.ServiceEntry(ns, name)
	if se == nil {
		return singleGroups([]Finding{{Code: CodePolicyUnenforced, Severity: SevHigh, Policy: ap.ID(), Destination: ns + "/" + name,
			Message: fmt.Sprintf("AuthorizationPolicy %s targets ServiceEntry %s/%s, which does not exist (TargetNotFound): nothing enforces it", ap.ID(), ns, name),
			Fix:     "fix spec.targetRefs to name an existing ServiceEntry"}})
	}
	v := se.AsService()
	if se.Waypoint == nil {
		return singleGroups([]Finding{{Code: CodePolicyUnenforced, Severity: SevHigh, Policy: ap.ID(), Destination: v.ID(),
			Message: fmt.Sprintf("AuthorizationPolicy %s targets ServiceEntry %s (%s), which is not bound to a waypoint (AncestorNotBound): egress to it is checked by nothing", ap.ID(), se.ID(), strings.Join(se.Hosts, ", ")),
			Fix:     fmt.Sprintf("bind the ServiceEntry to a waypoint (an egress waypoint): kubectl label serviceentry -n %s %s istio.io/use-waypoint=<waypoint>", se.Namespace, se.Name)}})
	}
	port := 0
	if len(se.Ports) > 0 {
		port = se.Ports[0].Port
	}
	var gs []FindingGroup
	for _, c := range t.Matrix().SourceClasses {
		if c.External || c.Ingress || !t.EgressPath(c.repPod, se).Bypass {
			continue
		}
		gs = append(gs, classGroup(c, c.Members, func(w *Workload) Finding {
			p := t.EgressPath(t.PodsOf(w)[0], se)
			return Finding{Code: CodeWaypointBypass, Severity: SevHigh, Policy: ap.ID(), Source: w.ID(), Destination: v.ID(),
				Message: fmt.Sprintf("AuthorizationPolicy %s on ServiceEntry %s is enforced only by waypoint %s, but %s (%s) sends egress to %s without it",
					ap.ID(), se.ID(), se.Waypoint.ID(), w.ID(), w.Mode, se.Hosts[0]),
				Proof: proof(w, v, port, p),
				Fix:   fmt.Sprintf("enrol %s in ambient so its ztunnel uses the egress waypoint, and block direct egress (NetworkPolicy egress rules)", w.ID())}
		})...)
	}
	return gs
}
