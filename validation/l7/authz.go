package l7

import (
	"slices"
	"strings"

	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/l4policy"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// AuthzInput is what an L7 proxy knows about a request when it authorizes it.
type AuthzInput struct {
	Source   identity.ID // downstream peer; zero for plaintext
	Method   string
	Path     string // without query
	Port     uint16 // destination (service) port
	Services []*mesh.ServiceInfo
}

// Authorize applies the mesh's L7 policies that bind to any of in.Services
// (targetRefs), or to their namespace when a policy names no target; the root
// namespace makes a policy mesh-wide. DENY policies win; then, if any ALLOW
// applies, one must match.
func Authorize(ix *mesh.Index, in AuthzInput) l4policy.Decision {
	root := ix.Mesh.RootNamespace
	if root == "" {
		root = "istio-system"
	}
	anyAllow := false
	allowHit := ""
	for _, p := range ix.Mesh.L7Policies {
		if !binds(p, in.Services, root) {
			continue
		}
		matched := slices.ContainsFunc(p.Rules, func(r mesh.L7Rule) bool { return ruleMatches(r, in) })
		switch p.Action {
		case l4policy.Deny:
			if matched {
				return l4policy.Decision{Allowed: false, Policy: p.Namespace + "/" + p.Name, Reason: "matched DENY policy"}
			}
		case l4policy.Allow:
			anyAllow = true
			if matched && allowHit == "" {
				allowHit = p.Namespace + "/" + p.Name
			}
		}
	}
	switch {
	case !anyAllow:
		return l4policy.Decision{Allowed: true, Reason: "no ALLOW policy applies"}
	case allowHit != "":
		return l4policy.Decision{Allowed: true, Policy: allowHit, Reason: "matched ALLOW policy"}
	default:
		return l4policy.Decision{Allowed: false, Reason: "ALLOW policies apply but none matched"}
	}
}

func binds(p mesh.L7Policy, svcs []*mesh.ServiceInfo, root string) bool {
	for _, s := range svcs {
		if len(p.TargetServices) == 0 {
			if p.Namespace == root || p.Namespace == s.Namespace {
				return true
			}
			continue
		}
		for _, t := range p.TargetServices {
			if mesh.Qualify(t, p.Namespace) == s.Key {
				return true
			}
		}
	}
	return false
}

func ruleMatches(r mesh.L7Rule, in AuthzInput) bool {
	principal := ""
	if !in.Source.IsZero() {
		principal = strings.TrimPrefix(in.Source.String(), "spiffe://")
	}
	if len(r.Principals) > 0 && (principal == "" || !anyGlob(r.Principals, principal)) {
		return false
	}
	if len(r.Namespaces) > 0 && (in.Source.Namespace == "" || !anyGlob(r.Namespaces, in.Source.Namespace)) {
		return false
	}
	if len(r.Methods) > 0 && !slices.Contains(r.Methods, in.Method) {
		return false
	}
	if len(r.Paths) > 0 && !anyGlob(r.Paths, in.Path) {
		return false
	}
	if len(r.Ports) > 0 && !slices.Contains(r.Ports, in.Port) {
		return false
	}
	return true
}

func anyGlob(patterns []string, v string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return l4policy.Glob(p, v) })
}
