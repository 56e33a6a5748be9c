package l4policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ambientsim/ambientsim/validation/identity"
)

// Action is what a matching policy does.
type Action string

// Actions ztunnel enforces (AUDIT and CUSTOM are not modelled).
const (
	Allow Action = "ALLOW"
	Deny  Action = "DENY"
)

// Workload names a destination workload.
type Workload struct {
	Name      string
	Namespace string
}

// Policy is an AuthorizationPolicy reduced to its L4 content.
type Policy struct {
	Name      string `yaml:"name,omitempty"`
	Namespace string `yaml:"namespace,omitempty"` // the root namespace makes the policy mesh-wide
	// Workloads restricts the policy to these workload names in Namespace;
	// empty means every workload in the namespace (or mesh, for the root).
	Workloads []string `yaml:"workloads,omitempty"`
	Action    Action   `yaml:"action,omitempty"`
	// Rules are OR'ed. An ALLOW policy with no rules matches nothing (deny
	// all); a DENY policy with no rules matches nothing either.
	Rules []Rule `yaml:"rules,omitempty"`
}

// Rule is one `rules:` entry: every non-empty field must match (AND), each
// field matches if any of its values matches (OR). Principals use Istio's
// form without the spiffe:// scheme and may use "*", "prefix*" or "*suffix".
type Rule struct {
	Principals    []string `yaml:"principals,omitempty"`
	NotPrincipals []string `yaml:"notPrincipals,omitempty"`
	Namespaces    []string `yaml:"namespaces,omitempty"`
	NotNamespaces []string `yaml:"notNamespaces,omitempty"`
	Ports         []uint16 `yaml:"ports,omitempty"`
	NotPorts      []uint16 `yaml:"notPorts,omitempty"`
}

// Set is every policy the destination proxy knows.
type Set struct {
	RootNamespace string // "istio-system" if empty
	Policies      []Policy
}

// Connection is what ztunnel knows about an inbound connection.
type Connection struct {
	Source      identity.ID // zero for plaintext (no identity)
	Destination Workload
	Port        uint16
}

// Decision is the verdict and the policy that produced it.
type Decision struct {
	Allowed bool
	Policy  string // namespace/name of the deciding policy, empty if default
	Reason  string
}

// Evaluate applies DENY-before-ALLOW semantics.
func (s Set) Evaluate(c Connection) Decision {
	root := s.RootNamespace
	if root == "" {
		root = "istio-system"
	}
	anyAllow := false
	var allowHit string
	for _, p := range s.Policies {
		if !p.appliesTo(c.Destination, root) {
			continue
		}
		switch p.Action {
		case Deny:
			if p.matches(c) {
				return Decision{Allowed: false, Policy: p.Namespace + "/" + p.Name, Reason: "matched DENY policy"}
			}
		case Allow:
			anyAllow = true
			if allowHit == "" && p.matches(c) {
				allowHit = p.Namespace + "/" + p.Name
			}
		}
	}
	switch {
	case !anyAllow:
		return Decision{Allowed: true, Reason: "no ALLOW policy applies"}
	case allowHit != "":
		return Decision{Allowed: true, Policy: allowHit, Reason: "matched ALLOW policy"}
	default:
		return Decision{Allowed: false, Reason: "ALLOW policies apply but none matched"}
	}
}

// Validate reports the first malformed policy.
func (s Set) Validate() error {
	for i, p := range s.Policies {
		if p.Name == "" || p.Namespace == "" {
			return fmt.Errorf("policies[%d]: name and namespace are required", i)
		}
		if p.Action != Allow && p.Action != Deny {
			return fmt.Errorf("policies[%d] %s/%s: action %q, want ALLOW or DENY", i, p.Namespace, p.Name, p.Action)
		}
	}
	return nil
}

func (p Policy) appliesTo(w Workload, root string) bool {
	if p.Namespace != root && p.Namespace != w.Namespace {
		return false
	}
	return len(p.Workloads) == 0 || slices.Contains(p.Workloads, w.Name)
}

func (p Policy) matches(c Connection) bool {
	for _, r := range p.Rules {
		if r.matches(c) {
			return true
		}
	}
	return false
}

func (r Rule) matches(c Connection) bool {
	principal := ""
	if !c.Source.IsZero() {
		principal = strings.TrimPrefix(c.Source.String(), "spiffe://")
	}
	if len(r.Principals) > 0 && (principal == "" || !anyGlob(r.Principals, principal)) {
		return false
	}
	if len(r.NotPrincipals) > 0 && principal != "" && anyGlob(r.NotPrincipals, principal) {
		return false
	}
	ns := c.Source.Namespace
	if len(r.Namespaces) > 0 && (ns == "" || !anyGlob(r.Namespaces, ns)) {
		return false
	}
	if len(r.NotNamespaces) > 0 && ns != "" && anyGlob(r.NotNamespaces, ns) {
		return false
	}
	if len(r.Ports) > 0 && !slices.Contains(r.Ports, c.Port) {
		return false
	}
	if len(r.NotPorts) > 0 && slices.Contains(r.NotPorts, c.Port) {
		return false
	}
	return true
}

func anyGlob(patterns []string, v string) bool {
	for _, p := range patterns {
		if Glob(p, v) {
			return true
		}
	}
	return false
}

// Glob matches Istio's string patterns: exact, "*", "prefix*" or "*suffix".
func Glob(pattern, v string) bool {
	switch {
	case pattern == "*":
		return v != ""
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(v, strings.TrimSuffix(pattern, "*"))
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(v, strings.TrimPrefix(pattern, "*"))
	default:
		return pattern == v
	}
}
