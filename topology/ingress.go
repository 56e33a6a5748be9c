package topology

import (
	"fmt"
	"sort"
	"strings"
)

// Istio deploys the proxy of a Gateway of class "istio" itself: a
// Deployment, a Service (LoadBalancer by default) and a ServiceAccount
// named <gateway>-istio (pilot/pkg/config/kube/gatewaycommon/
// deploymentcontroller.go, classinfo.go: the istio class appends its name;
// gateway_utils.go GetDefaultName), whose pods carry
// gateway.networking.k8s.io/gateway-name=<gateway> and no sidecar
// (manifests/.../files/kube-gateway.yaml).
const (
	ingressClass             = "istio"
	annGatewayNameOverride   = "gateway.istio.io/name-override"
	annGatewayServiceAccount = "gateway.istio.io/service-account"
	annGatewayServiceType    = "networking.istio.io/service-type"
)

// deployIstioGateways adds the Deployment and Service istiod creates for
// each class-istio Gateway whose proxy is not in the input.
func (b *builder) deployIstioGateways() {
	t := b.t
	for _, g := range t.Gateways {
		if g.Class != ingressClass {
			continue
		}
		for _, w := range t.Workloads {
			if w.Namespace == g.Namespace && w.Labels[lblGatewayName] == g.Name {
				g.Deployed = w
			}
		}
		name := g.Name + "-" + ingressClass
		if v := g.Annotations[annGatewayNameOverride]; v != "" {
			name = v
		}
		if g.Deployed == nil {
			sa := name
			if v := g.Annotations[annGatewayServiceAccount]; v != "" {
				sa = v
			}
			w := &Workload{Namespace: g.Namespace, Name: name, Kind: KindDeployment, ServiceAccount: sa, Replicas: 1,
				Labels: map[string]string{lblGatewayName: g.Name, lblInject: "false"},
				Source: "deployed by istiod for Gateway " + g.ID() + " (" + g.Source + ")"}
			if b.wlSeen[w.ID()] == nil {
				b.addWorkload(w)
				g.Deployed = w
			}
		}
		for _, s := range t.Services {
			if s.Namespace == g.Namespace && (s.Name == name || s.Selector[lblGatewayName] == g.Name) {
				g.Service = s
			}
		}
		if g.Service == nil && !b.svcSeen[g.Namespace+"/"+name] {
			typ := "LoadBalancer"
			if v := g.Annotations[annGatewayServiceType]; v != "" {
				typ = v
			}
			s := &Service{Namespace: g.Namespace, Name: name, Labels: map[string]string{lblGatewayName: g.Name},
				Selector: map[string]string{lblGatewayName: g.Name}, Type: typ, Source: "deployed by istiod for Gateway " + g.ID()}
			s.Ports = append(s.Ports, ServicePort{Name: "status-port", Port: 15021, Protocol: "TCP", AppProtocol: "tcp"})
			seen := map[int]bool{}
			for _, l := range g.Listeners {
				if seen[l.Port] {
					continue
				}
				seen[l.Port] = true
				s.Ports = append(s.Ports, ServicePort{Name: strings.ToLower(l.Protocol) + "-" + fmt.Sprint(l.Port), Port: l.Port, Protocol: "TCP"})
			}
			for i := range s.Ports {
				defaultServicePort(&s.Ports[i])
			}
			b.addService(s)
			g.Service = s
		}
	}
}

// IngressTargets returns, for an ingress workload, the Service ports its
// routes send to, and whether any routing is known for it at all. For a
// Gateway API gateway these are the backends of the routes accepted on it
// (no route: it reaches nothing, every request is a 404); for a classic
// istio-ingressgateway, the destinations of VirtualServices bound to a
// gateway. ok is false when nothing in the input says where it routes.
func (t *Topology) IngressTargets(w *Workload) (targets []ServiceTarget, ok bool) {
	t.index()
	add := func(ns string, b BackendRef, port int) {
		if b.Kind != "" && b.Kind != "Service" {
			return
		}
		s := t.Service(refNS(b.Namespace, ns), b.Name)
		if s == nil {
			return
		}
		p := b.Port
		if p == 0 {
			p = port
		}
		if p == 0 {
			p = firstPort(s)
		}
		targets = append(targets, ServiceTarget{Service: s, Port: p})
	}
	var g *Gateway
	for _, gw := range t.Gateways {
		if gw.Deployed == w {
			g = gw
		}
	}
	if g != nil {
		for _, r := range t.gatewayAPIRoutes() {
			for _, a := range t.RouteAttachments(r) {
				if a.Gateway != g || !a.Accepted {
					continue
				}
				for _, rule := range r.Rules {
					for _, b := range rule.BackendRefs {
						if b.Weight > 0 {
							add(r.Namespace, b, 0)
						}
					}
				}
			}
		}
		return dedupTargets(targets), true
	}
	for _, r := range t.Routes {
		if r.Kind != KindVirtualService || len(r.ParentRefs) == 0 {
			continue
		}
		ok = true
		for _, rule := range r.Rules {
			for _, b := range rule.BackendRefs {
				add(r.Namespace, b, 0)
			}
		}
	}
	return dedupTargets(targets), ok
}

// ServiceTarget is a Service port.
type ServiceTarget struct {
	Service *Service
	Port    int
}

func dedupTargets(ts []ServiceTarget) []ServiceTarget {
	seen := map[ServiceTarget]bool{}
	var out []ServiceTarget
	for _, x := range ts {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service.ID() != out[j].Service.ID() {
			return out[i].Service.ID() < out[j].Service.ID()
		}
		return out[i].Port < out[j].Port
	})
	return out
}

// Instance returns the name of the proxy instance a pod's traffic passes:
// gateway/<ns>/<pod> for an ingress gateway, sidecar/<ns>/<pod> for a
// sidecar, ztunnel/<node> for an ambient pod, "" for a pod out of the mesh.
func (p *Pod) Instance() string {
	switch {
	case p.Workload != nil && (p.Workload.Ingress || p.Workload.Egress):
		return "gateway/" + p.Namespace + "/" + p.Name
	case p.Mode == Sidecar:
		return "sidecar/" + p.Namespace + "/" + p.Name
	case p.Mode == Ambient:
		return "ztunnel/" + p.Node
	}
	return ""
}
