package topology

// AuthorizationPolicy actions.
const (
	ActionAllow  = "ALLOW"
	ActionDeny   = "DENY"
	ActionCustom = "CUSTOM"
	ActionAudit  = "AUDIT"
)

// AuthorizationPolicy is security.istio.io AuthorizationPolicy (v1 or v1beta1).
type AuthorizationPolicy struct {
	Namespace  string
	Name       string
	Action     string            // ALLOW (default) | DENY | CUSTOM | AUDIT
	Selector   map[string]string // spec.selector.matchLabels; nil = namespace-wide
	TargetRefs []TargetRef       // spec.targetRefs (and legacy spec.targetRef)
	Rules      []Rule            // nil = no rules (ALLOW: matches nothing; DENY: matches nothing)
	HasRules   bool              // spec.rules present (an empty rule `{}` matches everything)
	Provider   string            // CUSTOM provider name
	Source     string            // file:line
}

// ID returns "ns/name".
func (p *AuthorizationPolicy) ID() string { return p.Namespace + "/" + p.Name }

// TargetRef is a policy attachment (Service, Gateway, ServiceEntry, GatewayClass).
type TargetRef struct {
	Group     string
	Kind      string
	Name      string
	Namespace string // defaults to the policy's namespace
}

// Rule is one AuthorizationPolicy rule: from AND to AND when; entries within
// from/to/when are OR'd (to/from) or AND'd (when).
type Rule struct {
	From []PeerSource
	To   []Operation
	When []Condition
}

// PeerSource is rules[].from[].source.
type PeerSource struct {
	Principals, NotPrincipals               []string
	Namespaces, NotNamespaces               []string
	ServiceAccounts, NotServiceAccounts     []string
	IPBlocks, NotIPBlocks                   []string
	RemoteIPBlocks, NotRemoteIPBlocks       []string // L7
	RequestPrincipals, NotRequestPrincipals []string // L7
}

// Operation is rules[].to[].operation.
type Operation struct {
	Hosts, NotHosts     []string // L7
	Ports, NotPorts     []string
	Methods, NotMethods []string // L7
	Paths, NotPaths     []string // L7
}

// Condition is rules[].when[].
type Condition struct {
	Key       string
	Values    []string
	NotValues []string
}

// PeerAuthentication modes.
const (
	MTLSUnset      = "UNSET"
	MTLSStrict     = "STRICT"
	MTLSPermissive = "PERMISSIVE"
	MTLSDisable    = "DISABLE"
)

// PeerAuthentication is security.istio.io PeerAuthentication.
type PeerAuthentication struct {
	Namespace string
	Name      string
	Selector  map[string]string // nil = namespace-wide (mesh-wide in the root namespace)
	Mode      string            // STRICT | PERMISSIVE | DISABLE | UNSET
	PortModes map[int]string    // portLevelMtls
	Source    string
}

// ID returns "ns/name".
func (p *PeerAuthentication) ID() string { return p.Namespace + "/" + p.Name }

// LabelSelector is a Kubernetes label selector.
type LabelSelector struct {
	MatchLabels      map[string]string
	MatchExpressions []LabelRequirement
}

// LabelRequirement is one matchExpressions entry.
type LabelRequirement struct {
	Key      string
	Operator string // In | NotIn | Exists | DoesNotExist
	Values   []string
}

// Matches reports whether labels satisfy the selector. A nil selector matches
// nothing; an empty one matches everything.
func (s *LabelSelector) Matches(labels map[string]string) bool {
	if s == nil {
		return false
	}
	if !labelsMatch(s.MatchLabels, labels) {
		return false
	}
	for _, r := range s.MatchExpressions {
		v, ok := labels[r.Key]
		switch r.Operator {
		case "In":
			if !ok || !contains(r.Values, v) {
				return false
			}
		case "NotIn":
			if ok && contains(r.Values, v) {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// NetworkPolicy is networking.k8s.io/v1 NetworkPolicy. Only ingress rules
// affect the analyses; egress rules are parsed and kept.
type NetworkPolicy struct {
	Namespace   string
	Name        string
	PodSelector LabelSelector
	Ingress     []NetworkPolicyRule
	Egress      []NetworkPolicyRule
	PolicyTypes []string // Ingress, Egress (defaulted as the API server does)
	Source      string
}

// ID returns "ns/name".
func (p *NetworkPolicy) ID() string { return p.Namespace + "/" + p.Name }

// AffectsIngress reports whether the policy isolates selected pods for ingress.
func (p *NetworkPolicy) AffectsIngress() bool { return contains(p.PolicyTypes, "Ingress") }

// NetworkPolicyRule is one ingress (from) or egress (to) rule.
type NetworkPolicyRule struct {
	Peers []NetworkPolicyPeer // empty = all peers
	Ports []NetworkPolicyPort // empty = all ports
}

// NetworkPolicyPeer is a from/to entry.
type NetworkPolicyPeer struct {
	PodSelector       *LabelSelector
	NamespaceSelector *LabelSelector
	IPBlock           *IPBlock
}

// IPBlock is a CIDR with exceptions.
type IPBlock struct {
	CIDR   string
	Except []string
}

// NetworkPolicyPort is a port (number or name) with protocol (default TCP).
type NetworkPolicyPort struct {
	Protocol string
	Port     int    // 0 = all ports (unless Name is set)
	Name     string // named port
	EndPort  int
}

// SidecarResource is a sidecar-era networking.istio.io object that ambient
// workloads without a sidecar ignore (VirtualService, DestinationRule,
// EnvoyFilter); kept only so the audit can flag it.
type SidecarResource struct {
	Kind          string // VirtualService | DestinationRule | EnvoyFilter
	Namespace     string
	Name          string
	Hosts         []string          // VirtualService hosts / DestinationRule host
	Subsets       []string          // DestinationRule subsets
	Selector      map[string]string // EnvoyFilter workloadSelector / DestinationRule workloadSelector
	Gateways      []string          // VirtualService gateways ("mesh" when empty)
	ExportTo      []string
	Source        string
	HasSelector   bool
	HasTargetRefs bool // EnvoyFilter targetRefs (a waypoint or gateway)
	// SubsetLabels are a DestinationRule's subsets' labels, by subset name.
	SubsetLabels map[string]map[string]string
	// TrafficPolicy lists the DestinationRule traffic policy parts in use
	// (loadBalancer, connectionPool, outlierDetection, tls, ...), its own
	// and its subsets'.
	TrafficPolicy []string
}

// ID returns "ns/name".
func (r *SidecarResource) ID() string { return r.Namespace + "/" + r.Name }
