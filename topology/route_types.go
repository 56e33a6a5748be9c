package topology

// Route kinds.
const (
	KindHTTPRoute = "HTTPRoute"
	KindGRPCRoute = "GRPCRoute"
	KindTCPRoute  = "TCPRoute"
	KindTLSRoute  = "TLSRoute"
	// KindVirtualService marks the routes of a VirtualService's http/tcp/tls
	// sections, converted to the same shape (list-order semantics).
	KindVirtualService = "VirtualService"
)

// Route is a Gateway API HTTPRoute, GRPCRoute, TCPRoute or TLSRoute (or a
// VirtualService's routes, Kind VirtualService). Rules keep the manifest's
// order; RouteTable applies the precedence.
type Route struct {
	Kind       string // HTTPRoute | GRPCRoute | TCPRoute | TLSRoute | VirtualService
	Namespace  string
	Name       string
	ParentRefs []ParentRef
	Hostnames  []string // HTTPRoute/GRPCRoute/TLSRoute hostnames; VirtualService hosts
	Rules      []RouteRule
	Created    string // metadata.creationTimestamp (RFC 3339), "" when absent; orders routes (oldest first)
	Source     string
	// Gateways is a VirtualService's spec.gateways ("mesh" = the
	// sidecars; empty means mesh only).
	Gateways []string
}

// ID returns "ns/name".
func (r *Route) ID() string { return r.Namespace + "/" + r.Name }

// Ref returns "Kind/ns/name".
func (r *Route) Ref() string { return r.Kind + "/" + r.ID() }

// ParentRef is a route's parent: a Service or ServiceEntry (GAMMA, mesh) or
// a Gateway.
type ParentRef struct {
	Group       string // "" for core (Service) — default gateway.networking.k8s.io
	Kind        string // default Gateway
	Namespace   string // default the route's namespace
	Name        string
	Port        int    // 0 = every port
	SectionName string // a Gateway listener name, "" = every listener
}

// RouteRule is one rule of a route.
type RouteRule struct {
	Name           string
	Matches        []RouteMatch // empty on TCP/TLS routes; HTTP rules default to PathPrefix "/"
	Filters        []RouteFilter
	BackendRefs    []BackendRef
	Timeout        string      // timeouts.request (HTTPRoute) / timeout (VirtualService), "" = none
	BackendTimeout string      // timeouts.backendRequest / retries.perTryTimeout, "" = none
	Retry          *RouteRetry // nil = the proxy's default policy

	// VSFields lists the VirtualService http route fields that have no
	// Gateway API counterpart (fault, corsPolicy, delegate,
	// directResponse, and matches on sourceLabels, sourceNamespace,
	// withoutHeaders, ignoreUriCase, authority, scheme, gateways): the
	// migration to HTTPRoute cannot carry them.
	VSFields []string

	tcp bool // a VirtualService tcp/tls rule
}

// RouteMatch is one match of a rule: every set field must match.
type RouteMatch struct {
	PathType    string // Exact | PathPrefix | RegularExpression ("" on gRPC and TCP)
	Path        string
	Method      string
	Headers     []ValueMatch
	QueryParams []ValueMatch
	GRPCService string // GRPCRoute method.service
	GRPCMethod  string // GRPCRoute method.method
	GRPCType    string // Exact (default) | RegularExpression
	Port        int    // VirtualService match.port, 0 = any
	// SourceLabels is a VirtualService match on the caller's labels; a
	// waypoint drops such matches (ambient has no source labels).
	SourceLabels map[string]string
	Gateways     []string // VirtualService match.gateways
}

// ValueMatch is a header or query-parameter match.
type ValueMatch struct {
	Name  string
	Type  string // Exact (default) | RegularExpression | Prefix (VirtualService)
	Value string
}

// Route filter types (Gateway API names; VirtualService fields map onto them).
const (
	FilterRequestHeaderModifier  = "RequestHeaderModifier"
	FilterResponseHeaderModifier = "ResponseHeaderModifier"
	FilterRequestMirror          = "RequestMirror"
	FilterRequestRedirect        = "RequestRedirect"
	FilterURLRewrite             = "URLRewrite"
	FilterCORS                   = "CORS"
	FilterExtensionRef           = "ExtensionRef"
)

// RouteFilter is one filter of a rule; the field of its Type is set.
type RouteFilter struct {
	Type     string
	Headers  *HeaderModifier // RequestHeaderModifier / ResponseHeaderModifier
	Mirror   *MirrorFilter
	Redirect *RedirectFilter
	Rewrite  *RewriteFilter
}

// HeaderModifier sets, adds and removes headers.
type HeaderModifier struct {
	Set    []Header
	Add    []Header
	Remove []string
}

// Header is a name and value.
type Header struct{ Name, Value string }

// MirrorFilter copies requests to another backend (responses ignored).
type MirrorFilter struct {
	Backend BackendRef
	Percent float64 // share of requests mirrored, 0-100 (default 100)
}

// RedirectFilter answers with a redirect instead of forwarding.
type RedirectFilter struct {
	Scheme     string
	Hostname   string
	PathType   string // ReplaceFullPath | ReplacePrefixMatch
	Path       string
	Port       int
	StatusCode int // default 302
}

// RewriteFilter rewrites the host or path before forwarding.
type RewriteFilter struct {
	Hostname string
	PathType string // ReplaceFullPath | ReplacePrefixMatch
	Path     string
}

// RouteRetry is HTTPRoute rules[].retry (or a VirtualService's retries).
type RouteRetry struct {
	Attempts int      // retries after the first try; -1 = unset (Istio uses 2)
	Codes    []int    // HTTP status codes retried
	RetryOn  []string // VirtualService retryOn conditions, "" entries dropped
	Backoff  string
	// KeepPreviousHosts: a VirtualService's retryIgnorePreviousHosts is
	// false (a retry may go to a host already tried).
	KeepPreviousHosts bool
}

// BackendRef is a weighted backend (weight defaults to 1).
type BackendRef struct {
	Group     string
	Kind      string // default Service
	Namespace string
	Name      string
	Port      int
	Weight    int
	Subset    string // VirtualService destination subset
}
