package topology

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// The sidecar-era egress gateway (istio.io "Egress Gateways" task): an
// istio-egressgateway Deployment (labels istio=egressgateway), an Istio
// Gateway selecting it with a server for the external host, and a
// VirtualService bound to both "mesh" and that Gateway: its mesh rule sends
// the sidecars' traffic for the ServiceEntry host to the egress gateway's
// Service, its gateway rule sends it on to the host. Only proxies that apply
// VirtualServices follow it: sidecars, and a waypoint bound to the
// ServiceEntry (which applies VirtualServices for its hosts, alpha). ztunnel
// applies no VirtualService, so an ambient source without such a waypoint,
// and an out-of-mesh source, leave from their node and skip the egress
// gateway.

// IstioGateway is a networking.istio.io Gateway: a server configuration
// for the gateway pods its selector picks (in every namespace, Istio's
// default PILOT_SCOPE_GATEWAY_TO_NAMESPACE=false).
type IstioGateway struct {
	Namespace string
	Name      string
	Selector  map[string]string
	Servers   []IstioServer
	Source    string
}

// ID returns "ns/name".
func (g *IstioGateway) ID() string { return g.Namespace + "/" + g.Name }

// IstioServer is one server of an Istio Gateway.
type IstioServer struct {
	Port     int
	Protocol string
	Hosts    []string // "ns/host" or "host"; "*" matches every host
}

func decodeIstioGateway(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	g := &IstioGateway{Namespace: m.namespace, Name: m.name, Source: d.src(o)}
	d.fields(o.spec, o.p("spec"), []string{"selector", "servers"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "selector":
			g.Selector = d.strMap(v, p)
		case "servers":
			d.list(v, p, func(it *yaml.Node, ip string) {
				var sv IstioServer
				d.fields(it, ip, []string{"port", "hosts", "tls", "name", "bind", "defaultEndpoint"}, func(k string, v *yaml.Node, p string) {
					switch k {
					case "port":
						d.fields(v, p, []string{"number", "protocol", "name", "targetPort"}, func(k string, v *yaml.Node, p string) {
							switch k {
							case "number":
								sv.Port = d.integer(v, p)
							case "protocol":
								sv.Protocol = strings.ToUpper(d.str(v, p))
							}
						})
					case "hosts":
						sv.Hosts = d.strList(v, p)
					}
				})
				if sv.Port <= 0 || sv.Port > 65535 {
					d.errf(it, ip+".port.number", "port %d out of range 1-65535", sv.Port)
					return
				}
				g.Servers = append(g.Servers, sv)
			})
		}
	})
	d.b.t.IstioGateways = append(d.b.t.IstioGateways, g)
	d.b.ensureNamespace(m.namespace)
}

// EgressGatewayRoute is how a ServiceEntry port's traffic reaches the
// egress gateway and leaves from it.
type EgressGatewayRoute struct {
	VirtualService *Route        // the mesh-bound VirtualService sending the host to the gateway
	Service        *Service      // the egress gateway's Service it names
	Gateway        *Workload     // the egress gateway workload behind that Service
	IstioGateway   *IstioGateway // the Gateway with a server for the host and port, nil if none
	Onward         *Route        // the VirtualService bound to that Gateway routing the host on, nil if none
	Problem        string        // why requests end at the gateway ("" when they leave it)
	pod            *Pod
}

// Instance is the egress gateway hop: gateway/<ns>/<pod>.
func (r *EgressGatewayRoute) Instance() string {
	return "gateway/" + r.pod.Namespace + "/" + r.pod.Name
}

// EgressGatewayRoute returns the egress gateway route of a ServiceEntry
// port, nil when no VirtualService sends its host to an egress gateway.
func (t *Topology) EgressGatewayRoute(se *ServiceEntry, port int) *EgressGatewayRoute {
	ix := t.index()
	key := se.ID() + ":" + fmt.Sprint(port)
	ix.egwMu.Lock()
	defer ix.egwMu.Unlock()
	if r, ok := ix.egw[key]; ok {
		return r
	}
	r := t.egressGatewayRoute(se, port)
	ix.egw[key] = r
	return r
}

func hostIn(hosts []string, _ string, want []string) bool {
	for _, h := range hosts {
		if _, name, ok := strings.Cut(h, "/"); ok {
			h = name // Gateway server hosts may be ns/host
		}
		for _, w := range want {
			if h == "*" || strings.EqualFold(h, w) || (strings.HasPrefix(h, "*.") && strings.HasSuffix(w, h[1:])) {
				return true
			}
		}
	}
	return false
}

// ruleApplies says whether a VirtualService rule applies to traffic from
// the given gateway ("mesh" for sidecars) on port.
func ruleApplies(rr RouteRule, vsGateways []string, gw string, port int) bool {
	if len(rr.Matches) == 0 {
		return len(vsGateways) == 0 && gw == "mesh" || contains(vsGateways, gw)
	}
	for _, m := range rr.Matches {
		gws := m.Gateways
		if len(gws) == 0 {
			gws = vsGateways
			if len(gws) == 0 {
				gws = []string{"mesh"}
			}
		}
		if !contains(gws, gw) {
			continue
		}
		if m.Port != 0 && m.Port != port {
			continue
		}
		return true
	}
	return false
}

func (t *Topology) egressGatewayRoute(se *ServiceEntry, port int) *EgressGatewayRoute {
	if !se.External() {
		return nil
	}
	for _, r := range t.Routes {
		if r.Kind != KindVirtualService || !hostIn(r.Hostnames, r.Namespace, se.Hosts) {
			continue
		}
		if len(r.Gateways) > 0 && !contains(r.Gateways, "mesh") {
			continue
		}
		for _, rr := range r.Rules {
			if !ruleApplies(rr, r.Gateways, "mesh", port) {
				continue
			}
			for _, b := range rr.BackendRefs {
				if b.Kind != "Service" || b.Weight <= 0 {
					continue
				}
				s := t.Service(b.Namespace, b.Name)
				if s == nil {
					continue
				}
				eps := t.EndpointsOf(s)
				if len(eps) == 0 || eps[0].Workload == nil || !eps[0].Workload.Egress {
					continue
				}
				out := &EgressGatewayRoute{VirtualService: r, Service: s, Gateway: eps[0].Workload, pod: eps[0]}
				gwPort := b.Port
				if gwPort == 0 {
					gwPort = port
				}
				t.egressOnward(out, se, gwPort)
				return out
			}
			break // the first rule that applies decides (VirtualService order)
		}
	}
	return nil
}

// egressOnward finds the Gateway server and the gateway-bound
// VirtualService that take the host on from the egress gateway.
func (t *Topology) egressOnward(out *EgressGatewayRoute, se *ServiceEntry, gwPort int) {
	for _, g := range t.IstioGateways {
		if len(g.Selector) == 0 || !labelsMatch(g.Selector, out.Gateway.Labels) {
			continue
		}
		for _, sv := range g.Servers {
			if sv.Port == gwPort && hostIn(sv.Hosts, g.Namespace, se.Hosts) {
				out.IstioGateway = g
				break
			}
		}
		if out.IstioGateway != nil {
			break
		}
	}
	if out.IstioGateway == nil {
		out.Problem = fmt.Sprintf("no Istio Gateway selecting egress gateway %s has a server for %s on port %d: the gateway has no listener for it and refuses the connection", out.Gateway.ID(), se.Hosts[0], gwPort)
		return
	}
	g := out.IstioGateway
	for _, r := range t.Routes {
		if r.Kind != KindVirtualService || !hostIn(r.Hostnames, r.Namespace, se.Hosts) {
			continue
		}
		name := ""
		for _, gw := range r.Gateways {
			if gw == g.ID() || (gw == g.Name && r.Namespace == g.Namespace) {
				name = gw
			}
		}
		if name == "" {
			continue
		}
		for _, rr := range r.Rules {
			if !ruleApplies(rr, r.Gateways, name, gwPort) {
				continue
			}
			for _, b := range rr.BackendRefs {
				// A one-dot host (httpbin.org) decodes as Service
				// httpbin in "namespace" org: compare it whole.
				if b.Weight > 0 && (hostIn([]string{b.Name}, r.Namespace, se.Hosts) || b.Kind == "Service" && hostIn([]string{b.Name + "." + b.Namespace}, r.Namespace, se.Hosts)) {
					out.Onward = r
					return
				}
			}
		}
	}
	out.Problem = fmt.Sprintf("no VirtualService bound to Gateway %s routes %s on from egress gateway %s: requests end there (404)", g.ID(), se.Hosts[0], out.Gateway.ID())
}

// CodeEgressGatewayBypass: a VirtualService sends a ServiceEntry host's
// mesh traffic through an egress gateway, but some sources leave directly
// (ambient sources whose ztunnel applies no VirtualService, out-of-mesh
// sources): the gateway's policy, monitoring and fixed egress addresses do
// not cover them.
const CodeEgressGatewayBypass = "EGRESS_GATEWAY_BYPASS"

// auditEgressGateway reports, per ServiceEntry routed through an egress
// gateway, the source classes that skip it.
func (t *Topology) auditEgressGateway() []FindingGroup {
	var gs []FindingGroup
	for _, se := range t.ServiceEntries {
		var r *EgressGatewayRoute
		port := 0
		for _, sp := range se.Ports {
			if r = t.EgressGatewayRoute(se, sp.Port); r != nil {
				port = sp.Port
				break
			}
		}
		if r == nil {
			continue
		}
		v := se.AsService()
		for _, c := range t.Matrix().SourceClasses {
			if c.External || c.Ingress {
				continue
			}
			if p := t.EgressPathPort(c.repPod, se, port); hasHop(p, r.Instance()) {
				continue
			}
			gs = append(gs, classGroup(c, c.Members, func(w *Workload) Finding {
				p := t.EgressPathPort(t.PodsOf(w)[0], se, port)
				f := Finding{Code: CodeEgressGatewayBypass, Severity: SevHigh, Policy: "VirtualService/" + r.VirtualService.ID(), Source: w.ID(), Destination: v.ID(),
					Message: fmt.Sprintf("VirtualService %s sends mesh traffic for %s through egress gateway %s, but %s (%s) leaves directly from its node: the egress gateway's policies, telemetry and egress addresses do not cover it",
						r.VirtualService.ID(), se.Hosts[0], r.Gateway.ID(), w.ID(), w.Mode),
					Proof: proof(w, v, port, p)}
				if w.Mode == Ambient {
					f.Fix = fmt.Sprintf("bind the ServiceEntry to a waypoint (kubectl label serviceentry -n %s %s istio.io/use-waypoint=<waypoint>): the waypoint applies the VirtualService; or replace the egress gateway by an ambient egress waypoint; and block direct egress with a NetworkPolicy egress rule", se.Namespace, se.Name)
				} else {
					f.Fix = fmt.Sprintf("enrol %s in the mesh, and block direct egress from its namespace with a NetworkPolicy egress rule admitting only the egress gateway", w.ID())
				}
				return f
			})...)
		}
	}
	return gs
}

func hasHop(p Path, instance string) bool {
	for _, h := range p.Hops {
		if h.Instance == instance {
			return true
		}
	}
	return false
}
