package topology

import (
	"fmt"
	"strings"
)

// Finding codes added with the Istio-semantics audit.
const (
	// CodeL7RulesOnTCP: an ALLOW policy at a waypoint whose rules all use
	// HTTP fields, on a TCP port: the waypoint's TCP filter chain skips
	// HTTP rules, so it matches nothing and every connection is denied.
	CodeL7RulesOnTCP = "L7_RULES_ON_TCP"
	// CodeServiceAliasBypass: a second Service selects the pods that a
	// Service-targeted waypoint policy protects; requests addressed to it
	// never see the policy.
	CodeServiceAliasBypass = "SERVICE_ALIAS_BYPASS"
	// CodeExternalPlaintextDenied: a LoadBalancer/NodePort Service exposes
	// meshed pods that require mTLS: clients outside the cluster are
	// refused.
	CodeExternalPlaintextDenied = "EXTERNAL_PLAINTEXT_DENIED"
	// CodeRouteNotAccepted: a route's status would be Accepted=False or
	// ResolvedRefs=False.
	CodeRouteNotAccepted = "ROUTE_NOT_ACCEPTED"
)

// l7OnTCP reports, per waypoint-served Service with a TCP port, the ALLOW
// policies enforced there whose HTTP rules the TCP chain drops, when they
// leave a plain caller denied.
func (t *Topology) l7OnTCP() []Finding {
	var fs []Finding
	for _, s := range t.Services {
		if s.Waypoint == nil {
			continue
		}
		for _, sp := range s.Ports {
			if !sp.IsTCP() {
				continue
			}
			var ep *Pod
			for _, p := range t.EndpointsOf(s) {
				ep = p
				break
			}
			if ep == nil {
				continue
			}
			src := t.firstCaller(s, true)
			if src == nil {
				continue
			}
			d := t.Evaluate(t.PodsOf(src)[0], ep, s.Waypoint, sp.TargetPort, Request{Service: s})
			if d.Allow || d.By != s.Waypoint.Instance() || d.Policy == "" {
				continue
			}
			ap := t.policyByID(d.Policy)
			if ap == nil || ap.Action != ActionAllow || !ap.HasL7() {
				continue
			}
			p := t.PathFrom(t.PodsOf(src)[0], s, sp.Port)
			fs = append(fs, Finding{Code: CodeL7RulesOnTCP, Severity: SevHigh, Policy: ap.ID(), Source: src.ID(), Destination: s.ID(),
				Message: fmt.Sprintf("AuthorizationPolicy %s allows only by HTTP attributes (%s), but port %d of %s is %s: waypoint %s builds a TCP filter chain for it, where HTTP rules are skipped, so the ALLOW matches nothing and every connection is denied",
					ap.ID(), strings.Join(ap.L7Fields(), ", "), sp.Port, s.ID(), sp.ProtocolName(), s.Waypoint.ID()),
				Proof: proof(src, s, sp.Port, p),
				Fix:   fmt.Sprintf("use L4 fields (from.source principals/namespaces, to.operation.ports) for port %d, or name the port http-* / set appProtocol: http if it really carries HTTP", sp.Port)})
		}
	}
	return fs
}

func (t *Topology) policyByID(id string) *AuthorizationPolicy {
	for _, ap := range t.AuthorizationPolicies {
		if ap.ID() == id {
			return ap
		}
	}
	return nil
}

// serviceAliasBypass: a policy targets Service S at its waypoint; another
// Service T selects some of S's pods and is not covered by the policy (no
// waypoint, another waypoint, or the policy targets only S). Callers that
// address T skip the policy (e.g. productpage-v1 next to productpage).
func (t *Topology) serviceAliasBypass(ap *AuthorizationPolicy, s *Service) []Finding {
	var fs []Finding
	seen := map[*Service]bool{s: true}
	for _, ep := range t.EndpointsOf(s) {
		for _, other := range t.ServicesOf(ep) {
			if seen[other] {
				continue
			}
			seen[other] = true
			if t.policyCovers(ap, other) {
				continue
			}
			port := firstPort(other)
			m := t.Matrix()
			tried := make([]bool, len(m.SourceClasses)) // the path and decision are the class's
			for _, w := range t.sources() {
				if t.selectsWorkload(other, w) || w.Mode == OutOfMesh {
					continue
				}
				c := m.srcClass[w]
				if tried[c.idx] {
					continue
				}
				tried[c.idx] = true
				pod := t.PodsOf(w)[0]
				p := t.PathFrom(pod, other, port)
				if p.Endpoint == nil {
					continue
				}
				d := t.Evaluate(pod, p.Endpoint, p.Waypoint, other.TargetPort(port), Request{Service: other})
				if !d.Allow {
					continue
				}
				why := "has no waypoint"
				if other.Waypoint != nil {
					why = "is served by waypoint " + other.Waypoint.ID() + ", where the policy (attached to Service " + s.ID() + ") does not apply"
				}
				fs = append(fs, Finding{Code: CodeServiceAliasBypass, Severity: SevHigh, Policy: ap.ID(), Source: w.ID(), Destination: other.ID(),
					Message: fmt.Sprintf("Service %s selects pods of %s (e.g. %s), and %s: requests addressed to it never see AuthorizationPolicy %s, which targets Service %s",
						other.ID(), s.ID(), ep.ID(), why, ap.ID(), s.ID()),
					Proof: proof(w, other, port, p),
					Fix: fmt.Sprintf("attach the policy to %s too (targetRefs: [{kind: Service, group: \"\", name: %s}], bound to a waypoint), target the waypoint Gateway instead of the Service, or delete the extra Service",
						other.ID(), other.Name)})
				break
			}
		}
	}
	return fs
}

// policyCovers reports whether ap (a targetRefs policy) is enforced for
// traffic addressed to s.
func (t *Topology) policyCovers(ap *AuthorizationPolicy, s *Service) bool {
	if s.Waypoint == nil {
		return false
	}
	for _, ref := range ap.TargetRefs {
		ns := refNS(ref.Namespace, ap.Namespace)
		switch ref.Kind {
		case "Service":
			if ns == s.Namespace && ref.Name == s.Name {
				return true
			}
		case "Gateway":
			if ns == s.Waypoint.Namespace && ref.Name == s.Waypoint.Name {
				return true
			}
		case "GatewayClass":
			if ap.Namespace == t.RootNamespace && ref.Name == waypointClass {
				return true
			}
		}
	}
	return false
}

// auditExternal reports exposed Services whose pods refuse plaintext: the
// denied rows of the client outside the cluster.
func (t *Topology) auditExternal() []Finding {
	var fs []Finding
	m := t.Matrix()
	c := m.srcClass[ExternalClient]
	if c == nil || m.CallGraph {
		return nil
	}
	for ui, u := range m.units {
		if !m.allowed(c, u) || m.Shapes[m.shapeOf[c.idx][m.unitClass[ui]]].Denied == "" {
			continue
		}
		p := m.pair(c, ExternalClient, ui)
		fs = append(fs, Finding{Code: CodeExternalPlaintextDenied, Severity: SevHigh, Source: ExternalClient.ID(), Destination: p.Destination.ID(),
			Message: fmt.Sprintf("%s Service %s exposes port %d outside the cluster, but its pods refuse the plaintext connections of external clients (%s by %s)",
				p.Destination.Type, p.Destination.ID(), p.Port, p.Path.Denied, noneIfEmpty(p.Path.DeniedBy)),
			Proof: proof(nil, p.Destination, p.Port, p.Path),
			Fix:   fmt.Sprintf("expose %s through an ingress gateway (a Gateway of class istio with an HTTPRoute) and make the Service ClusterIP, or set a PERMISSIVE PeerAuthentication portLevelMtls for its target port", p.Destination.ID())})
	}
	return fs
}

// auditRouteStatus reports routes istiod would not accept or resolve.
func (t *Topology) auditRouteStatus() []Finding {
	var fs []Finding
	for _, st := range t.RouteStatuses() {
		for _, c := range st.Conditions {
			if c.Status || (c.Type != "Accepted" && c.Type != "ResolvedRefs") {
				continue
			}
			fs = append(fs, Finding{Code: CodeRouteNotAccepted, Severity: SevMedium, Policy: st.Kind + "/" + st.Object, Destination: st.Parent,
				Message: fmt.Sprintf("%s %s on %s: %s=False (%s): %s", st.Kind, st.Object, st.Parent, c.Type, c.Reason, c.Message),
				Fix:     routeStatusFix(c.Reason)})
		}
	}
	return fs
}

func routeStatusFix(reason string) string {
	switch reason {
	case "NotAllowedByListeners":
		return "allow the route's namespace and kind on the Gateway listener (allowedRoutes.namespaces.from / kinds)"
	case "NoMatchingListenerHostname":
		return "make the route's hostnames match a listener hostname"
	case "NoMatchingParent":
		return "fix spec.parentRefs (name, namespace, port, sectionName)"
	case "BackendNotFound":
		return "fix backendRefs to name an existing Service (and port)"
	case "RefNotPermitted":
		return "add a ReferenceGrant in the backend's namespace admitting this route's kind and namespace"
	}
	return "fix the reference the condition names"
}
