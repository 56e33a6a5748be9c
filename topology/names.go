package topology

import (
	"fmt"
	"strings"
)

// Kubernetes object naming rules (k8s.io/apimachinery/pkg/util/validation
// and the per-kind name validators in pkg/apis/*/validation). The API server
// rejects an object whose name breaks its kind's rule, so a manifest that
// does is an input error: we say which rule, at file:line:field, instead of
// building a topology no cluster could hold.
//
//   - DNS-1123 label: at most 63 characters, lowercase letters, digits and
//     '-', starting and ending with a letter or digit. Namespaces and
//     StatefulSets (the name becomes the pods' hostnames).
//   - DNS-1035 label: a DNS-1123 label that starts with a letter. Services
//     (ValidateServiceName, NameIsDNS1035Label).
//   - DNS-1123 subdomain: at most 253 characters, dot-separated DNS-1123
//     labels. Everything else we model: Deployments, DaemonSets,
//     ReplicaSets, Pods, Nodes, ServiceAccounts, NetworkPolicies and the
//     Istio and Gateway API custom resources.
//
// Label keys are qualified names (an optional DNS-1123 subdomain prefix and
// '/', then at most 63 characters of letters, digits, '-', '_' and '.',
// starting and ending with a letter or digit); label values are empty or
// at most 63 such characters.

// Name rules, as named in error messages.
const (
	ruleDNS1123Label     = "DNS-1123 label"
	ruleDNS1035Label     = "DNS-1035 label"
	ruleDNS1123Subdomain = "DNS-1123 subdomain"
)

// nameRuleFor returns the naming rule of an object kind.
func nameRuleFor(group, kind string) string {
	switch {
	case group == "" && kind == "Namespace":
		return ruleDNS1123Label
	case group == "" && kind == "Service":
		return ruleDNS1035Label
	case group == "apps" && kind == "StatefulSet":
		return ruleDNS1123Label
	}
	return ruleDNS1123Subdomain
}

// checkName returns why name breaks rule, or "".
func checkName(rule, name string) string {
	switch rule {
	case ruleDNS1123Label:
		return dns1123Label(name)
	case ruleDNS1035Label:
		if why := dns1123Label(name); why != "" {
			return why
		}
		if c := name[0]; c < 'a' || c > 'z' {
			return "must start with a lowercase letter"
		}
		return ""
	}
	return dns1123Subdomain(name)
}

// ruleText explains a rule in one phrase, for the fix part of an error.
func ruleText(rule string) string {
	switch rule {
	case ruleDNS1123Label:
		return "at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
	case ruleDNS1035Label:
		return "at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"
	}
	return "at most 253 characters of lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit"
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func dns1123Label(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > 63:
		return fmt.Sprintf("is %d characters long, more than 63", len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLowerAlnum(c) && c != '-' {
			return fmt.Sprintf("contains %q, which is not a lowercase letter, digit or '-'", c)
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return "must start and end with a lowercase letter or digit"
	}
	return ""
}

func dns1123Subdomain(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > 253:
		return fmt.Sprintf("is %d characters long, more than 253", len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLowerAlnum(c) && c != '-' && c != '.' {
			return fmt.Sprintf("contains %q, which is not a lowercase letter, digit, '-' or '.'", c)
		}
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || part[0] == '-' || part[len(part)-1] == '-' {
			return "each dot-separated part must start and end with a lowercase letter or digit"
		}
	}
	return ""
}

func isAlnum(c byte) bool { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }

// qualifiedNamePart checks the name part of a label key, or a non-empty
// label value: at most 63 characters of [A-Za-z0-9_.-], starting and ending
// with an alphanumeric.
func qualifiedNamePart(s string) string {
	if len(s) > 63 {
		return fmt.Sprintf("is %d characters long, more than 63", len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return fmt.Sprintf("contains %q, which is not a letter, digit, '-', '_' or '.'", c)
		}
	}
	if !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return "must start and end with a letter or digit"
	}
	return ""
}

// checkLabelKey returns why a label key is invalid, or "".
func checkLabelKey(k string) string {
	name := k
	if prefix, rest, ok := strings.Cut(k, "/"); ok {
		if why := dns1123Subdomain(prefix); why != "" {
			return "its prefix " + why
		}
		name = rest
	}
	if name == "" {
		return "has an empty name part"
	}
	return qualifiedNamePart(name)
}

// checkLabelValue returns why a label value is invalid, or "".
func checkLabelValue(v string) string {
	if v == "" {
		return ""
	}
	return qualifiedNamePart(v)
}
