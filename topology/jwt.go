package topology

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// RequestAuthentication is security.istio.io RequestAuthentication: JWT
// validation. In ambient only an Envoy proxy validates JWTs — a waypoint,
// through targetRefs, or a sidecar through its selector. ztunnel works at
// L4 and never sees a token (its workload API carries no JWT rules:
// pilot/pkg/serviceregistry/ambient/authorization.go converts only
// AuthorizationPolicy, and requestPrincipals are among the fields it drops).
type RequestAuthentication struct {
	Namespace  string
	Name       string
	Selector   map[string]string // nil = namespace-wide
	TargetRefs []TargetRef
	Issuers    []string
	Source     string

	jwtRules *yaml.Node // spec.jwtRules as written, for the migration to copy
}

// ID returns "ns/name".
func (r *RequestAuthentication) ID() string { return r.Namespace + "/" + r.Name }

// CodeJWTWithoutWaypoint: a RequestAuthentication that only ztunnel would
// see (selector or namespace-wide on ambient pods, or targetRefs to a
// Service without a waypoint): no JWT is validated.
const CodeJWTWithoutWaypoint = "JWT_WITHOUT_WAYPOINT"

func decodeRequestAuthentication(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	ra := &RequestAuthentication{Namespace: m.namespace, Name: m.name, Source: d.src(o)}
	targetRef := func(v *yaml.Node, p string) {
		var ref TargetRef
		d.fields(v, p, []string{"group", "kind", "name", "namespace"}, func(k string, v *yaml.Node, p string) {
			switch k {
			case "group":
				ref.Group = d.str(v, p)
			case "kind":
				ref.Kind = d.str(v, p)
			case "name":
				ref.Name = d.str(v, p)
			case "namespace":
				ref.Namespace = d.str(v, p)
			}
		})
		ra.TargetRefs = append(ra.TargetRefs, ref)
	}
	d.fields(o.spec, o.p("spec"), []string{"selector", "targetRef", "targetRefs", "jwtRules"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "selector":
			ra.Selector = d.matchLabelsSelector(v, p)
		case "targetRef":
			targetRef(v, p)
		case "targetRefs":
			d.list(v, p, targetRef)
		case "jwtRules":
			budget := 10000
			ra.jwtRules = copyResolved(v, &budget)
			d.list(v, p, func(it *yaml.Node, ip string) {
				d.fields(it, ip, []string{"issuer", "audiences", "jwksUri", "jwks", "fromHeaders", "fromParams", "outputPayloadToHeader",
					"forwardOriginalToken", "outputClaimToHeaders", "fromCookies", "timeout"}, func(k string, v *yaml.Node, p string) {
					if k == "issuer" {
						ra.Issuers = append(ra.Issuers, d.str(v, p))
					}
				})
			})
		}
	})
	d.b.t.RequestAuthentications = append(d.b.t.RequestAuthentications, ra)
	d.b.ensureNamespace(m.namespace)
}

// requestAuthPlacements says where each RequestAuthentication validates
// tokens.
func (t *Topology) requestAuthPlacements() []Placement {
	var out []Placement
	for _, ra := range t.RequestAuthentications {
		pl := Placement{Kind: "RequestAuthentication", Policy: ra.ID()}
		if len(ra.TargetRefs) > 0 {
			for _, ref := range ra.TargetRefs {
				if wp := t.targetWaypoint(ra.Namespace, ref); wp != nil {
					pl.By = appendUnique(pl.By, wp.Instance())
				}
			}
			if len(pl.By) == 0 {
				pl.Note = "no waypoint serves its targets: no token is validated"
			}
		} else {
			amb, sc := t.podsSelectedBy(ra.Namespace, ra.Selector)
			if len(sc) > 0 {
				pl.By = append(pl.By, fmt.Sprintf("sidecar (%d pods)", len(sc)))
			}
			if len(amb) > 0 {
				pl.Note = fmt.Sprintf("%d ambient pods: ztunnel does not validate JWTs", len(amb))
			}
		}
		out = append(out, pl)
	}
	return out
}

// targetWaypoint resolves a targetRef (Service, ServiceEntry, Gateway) to
// the waypoint that enforces it, or nil.
func (t *Topology) targetWaypoint(ns string, ref TargetRef) *Waypoint {
	rns := refNS(ref.Namespace, ns)
	switch ref.Kind {
	case "Service":
		if s := t.Service(rns, ref.Name); s != nil {
			return s.Waypoint
		}
	case "ServiceEntry":
		if se := t.ServiceEntry(rns, ref.Name); se != nil {
			return se.Waypoint
		}
	case "Gateway":
		return t.Waypoint(rns, ref.Name)
	}
	return nil
}

func (t *Topology) podsSelectedBy(ns string, sel map[string]string) (ambient, sidecar []*Pod) {
	for _, p := range t.Pods {
		if ns != t.RootNamespace && p.Namespace != ns {
			continue
		}
		if sel != nil && !labelsMatch(sel, p.Labels) {
			continue
		}
		switch p.Mode {
		case Ambient:
			ambient = append(ambient, p)
		case Sidecar:
			sidecar = append(sidecar, p)
		}
	}
	return ambient, sidecar
}

// auditJWT reports RequestAuthentications no Envoy applies.
func (t *Topology) auditJWT() []Finding {
	var fs []Finding
	for _, ra := range t.RequestAuthentications {
		if len(ra.TargetRefs) > 0 {
			for _, ref := range ra.TargetRefs {
				if t.targetWaypoint(ra.Namespace, ref) == nil {
					fs = append(fs, Finding{Code: CodeJWTWithoutWaypoint, Severity: SevHigh, Policy: "RequestAuthentication/" + ra.ID(),
						Destination: refNS(ref.Namespace, ra.Namespace) + "/" + ref.Name,
						Message: fmt.Sprintf("RequestAuthentication %s targets %s %s/%s, which no waypoint serves: targetRefs are applied only by a waypoint, so no token is validated and requestPrincipals policies cannot match",
							ra.ID(), ref.Kind, refNS(ref.Namespace, ra.Namespace), ref.Name),
						Fix: "bind the target to a waypoint (istio.io/use-waypoint)"})
				}
			}
			continue
		}
		amb, _ := t.podsSelectedBy(ra.Namespace, ra.Selector)
		for _, s := range t.servicesOfPods(amb) {
			f := Finding{Code: CodeJWTWithoutWaypoint, Severity: SevHigh, Policy: "RequestAuthentication/" + ra.ID(), Destination: s.ID(),
				Message: fmt.Sprintf("RequestAuthentication %s selects ambient pods of %s: JWTs are validated only by Envoy (a waypoint or sidecar), ztunnel never sees them, so tokens are not checked and requestPrincipals rules fail", ra.ID(), s.ID()),
				Fix:     fmt.Sprintf("attach it to the Service at its waypoint: targetRefs: [{kind: Service, group: \"\", name: %s}] (and bind %s to a waypoint)", s.Name, s.ID())}
			fs = append(fs, f)
		}
	}
	return fs
}

// JWTIssuer returns the issuer of the first RequestAuthentication whose
// tokens an Envoy validates on a request to dst addressed to svc: at the
// waypoint via (nil = none) when the RequestAuthentication targets via's
// Gateway or a Service via serves (svc, when svc is given), or at dst's
// sidecar when it selects dst. "" when no Envoy on the path validates
// tokens (ztunnel never does): a request's token then gives it no request
// principal. The simulator uses it to give requests that carry a token
// their principal ("<issuer>/<subject>").
func (t *Topology) JWTIssuer(via *Waypoint, svc *Service, dst *Pod) string {
	for _, ra := range t.RequestAuthentications {
		if len(ra.Issuers) == 0 {
			continue
		}
		if len(ra.TargetRefs) > 0 {
			if via == nil {
				continue
			}
			for _, ref := range ra.TargetRefs {
				if t.targetWaypoint(ra.Namespace, ref) != via {
					continue
				}
				if ref.Kind == "Service" && svc != nil && (refNS(ref.Namespace, ra.Namespace) != svc.Namespace || ref.Name != svc.Name) {
					continue
				}
				return ra.Issuers[0]
			}
			continue
		}
		if dst == nil || dst.Mode != Sidecar {
			continue
		}
		if ra.Namespace != dst.Namespace && ra.Namespace != t.RootNamespace {
			continue
		}
		if ra.Selector == nil || labelsMatch(ra.Selector, dst.Labels) {
			return ra.Issuers[0]
		}
	}
	return ""
}
