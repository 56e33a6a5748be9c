package topology

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file is the route engine: the routes attached to one parent (a
// Service behind a waypoint, an ingress Gateway) compiled once into a
// RouteTable, then matched per request without allocation.
//
// Precedence follows the Gateway API (sigs.k8s.io/gateway-api
// apis/v1/httproute_types.go, HTTPRouteRule.Matches): across all rules of
// the applicable routes, an Exact path match wins, then the PathPrefix
// match with the most characters, then a method match, then the most
// header matches, then the most query-parameter matches; remaining ties go
// to the oldest route (creationTimestamp), then "{namespace}/{name}" in
// alphabetical order, then rule order, then match order. Regular
// expression paths are implementation-specific: Istio ranks them below
// every prefix (pilot/pkg/config/kube/gateway/conversion.go getURIRank,
// Exact > Prefix > Regex, then the longer value) — so does this engine.
// Istio splits every rule into one route per match and stable-sorts them
// (route_collections.go HTTPRouteCollection, conversion.go
// sortHTTPRoutes/sortRoutesByCreationTime); Envoy takes the first that
// matches. A VirtualService keeps its own list order instead
// (listener_waypoint.go waypointInboundRoute).

// RouteParent names where routes attach.
type RouteParent struct {
	Kind      string // Service (mesh, applied by its waypoint) | Gateway (ingress)
	Namespace string
	Name      string
	Port      int // the Service port or Gateway listener port; 0 = any
}

func (p RouteParent) String() string {
	s := p.Kind + "/" + p.Namespace + "/" + p.Name
	if p.Port != 0 {
		s += ":" + strconv.Itoa(p.Port)
	}
	return s
}

// RouteRequest is what the proxy sees of one request.
type RouteRequest struct {
	Method  string            // GET, POST, ... (gRPC: POST)
	Path    string            // /a/b (a "?query" suffix is parsed when Query is nil)
	Query   map[string]string // query parameters
	Host    string            // Host / :authority (a ":port" suffix is ignored)
	Headers map[string]string // header names are matched case-insensitively
	Port    int               // destination port, 0 = the parent's
}

// WeightedBackend is one backend of a matched rule.
type WeightedBackend struct {
	Ref     BackendRef
	Service *Service // nil when the reference resolves to no Service (a 500 for its share)
	Weight  int
	// Pods are the endpoints this backend's share goes to: the Service's
	// pods, narrowed for a VirtualService subset to those carrying every
	// label of the DestinationRule subset (Istio's endpoint builder keeps
	// an endpoint when the subset labels are a subset of its labels:
	// pilot/pkg/xds/endpoints/endpoint_builder.go). Empty when the Service
	// has no pods or no DestinationRule defines the subset.
	Pods []*Pod
	// SubsetMissing is set when Ref.Subset names a subset no
	// DestinationRule of the Service defines: the route still points at
	// the subset's cluster (route.go GetDestinationCluster builds the
	// name from the subset unconditionally), which does not exist, so the
	// proxy answers 503 for this share (istioctl analyze IST0101).
	SubsetMissing bool
}

// RetryPolicy is the retry policy the proxy applies on a route.
type RetryPolicy struct {
	Attempts      int           // retries after the first try (0 = no retry)
	RetryOn       []string      // Envoy retry_on conditions
	Codes         []int         // retriable status codes (with retriable-status-codes)
	PerTryTimeout time.Duration // 0 = none
	Backoff       time.Duration // base interval, 0 = Envoy's default (25 ms)
	// RetryPreviousHosts lets a retry go to a host already tried. Istio
	// puts Envoy's previous_hosts predicate (with 5 host-selection
	// attempts) on every retry policy, so the zero value avoids them; a
	// VirtualService's retryIgnorePreviousHosts: false turns it off
	// (retry.go DefaultPolicy, ConvertPolicy).
	RetryPreviousHosts bool
}

// DefaultRetryPolicy is the policy Istio puts on every route whose
// configuration sets none: 2 retries on connect-failure, refused-stream,
// unavailable, cancelled and retriable-status-codes, with no status code
// since EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY defaults to true
// (pilot/pkg/networking/core/route/retry/retry.go defaultPolicy,
// pilot/pkg/features/pilot.go Exclude503FromDefaultRetries).
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: 2, RetryOn: []string{"connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"}}
}

// Route decision statuses besides forwarding (Status 0).
const (
	RouteStatusNotFound   = 404 // no rule matches (Gateway API: "a HTTP 404 status code MUST be returned")
	RouteStatusNoBackends = 500 // the rule's backends all have weight 0 (conversion.go: direct response 500)
)

// RouteDecision is what the proxy does with a request.
type RouteDecision struct {
	Status   int    // 0 = forwarded to Backends; 404; 500; 3xx = Redirect answered
	Route    string // Kind/ns/name of the matched route, "" for the default route to the Service itself
	Rule     int    // index in the route's rules (-1 for the default route)
	RuleName string
	Match    int // index in the rule's matches (-1 when the rule has none)

	Backends    []WeightedBackend
	TotalWeight int

	RequestHeaders  *HeaderModifier
	ResponseHeaders *HeaderModifier
	Mirrors         []MirrorFilter
	Redirect        *RedirectFilter
	Rewrite         *RewriteFilter

	Timeout time.Duration // whole-request timeout, 0 = none
	Retry   RetryPolicy
}

// PickBackend returns the index in Backends that a uniform draw u in [0,1)
// selects, by weight. Envoy picks the weighted cluster once per request and
// keeps it for every retry (retries re-pick hosts within that cluster), so
// the simulator should draw once per request. It returns -1 when there is
// nothing to pick.
func (d *RouteDecision) PickBackend(u float64) int {
	if d.TotalWeight <= 0 {
		return -1
	}
	x := int(u * float64(d.TotalWeight))
	for i, b := range d.Backends {
		if x < b.Weight {
			return i
		}
		x -= b.Weight
	}
	return len(d.Backends) - 1
}

// RouteTable is the compiled route set of one parent. Build it once with
// Topology.RouteTable; Match is safe for concurrent use and allocates
// nothing.
type RouteTable struct {
	Parent   RouteParent
	Protocol string   // the parent port's protocol (ProtocolName), "" when unknown
	Sources  []string // Kind/ns/name of the routes compiled in, in precedence order of first appearance
	HTTP     bool     // HTTP routing applies (false: TCP, first matching TCP/TLS route)

	entries []routeEntry
	tcp     *RouteDecision // TCP/TLS routing: the chosen route's decision
	def     RouteDecision  // no route attached: straight to the parent Service
	noRoute bool           // routes exist but none could match (404 for everything)
}

type routeEntry struct {
	m        RouteMatch
	pathRe   *regexp.Regexp
	headerRe []*regexp.Regexp // parallel to m.Headers (nil for exact)
	queryRe  []*regexp.Regexp
	plainPfx bool     // VirtualService prefix: plain string prefix
	hosts    []string // Gateway parents: route hostnames ("" = any)
	decision RouteDecision
	// sort keys
	rank, length, nHeaders, nQuery int
	hasMethod                      bool
	created                        string
	id                             string
	order                          int
	vs                             bool
}

// Match returns the decision for req.
func (rt *RouteTable) Match(req RouteRequest) RouteDecision {
	if !rt.HTTP {
		if rt.tcp != nil {
			return *rt.tcp
		}
		return rt.def
	}
	if len(rt.entries) == 0 {
		if rt.noRoute {
			return RouteDecision{Status: RouteStatusNotFound, Rule: -1, Match: -1}
		}
		return rt.def
	}
	path, query := req.Path, req.Query
	rawQuery := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, rawQuery = path[:i], path[i+1:]
	}
	if path == "" {
		path = "/"
	}
	host := req.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	for i := range rt.entries {
		e := &rt.entries[i]
		if e.matches(req.Method, path, query, rawQuery, host, req.Headers, req.Port) {
			return e.decision
		}
	}
	return RouteDecision{Status: RouteStatusNotFound, Rule: -1, Match: -1}
}

func (e *routeEntry) matches(method, path string, query map[string]string, rawQuery, host string, headers map[string]string, port int) bool {
	if len(e.hosts) > 0 && !hostnameMatchesAny(e.hosts, host) {
		return false
	}
	if e.m.Port != 0 && port != 0 && e.m.Port != port {
		return false
	}
	switch {
	case e.pathRe != nil:
		if !e.pathRe.MatchString(path) {
			return false
		}
	case e.m.PathType == "Exact":
		if path != e.m.Path {
			return false
		}
	case e.m.PathType == "PathPrefix":
		if e.plainPfx {
			if !strings.HasPrefix(path, e.m.Path) {
				return false
			}
		} else if !pathSeparatedPrefix(path, e.m.Path) {
			return false
		}
	}
	if e.m.Method != "" && method != e.m.Method {
		return false
	}
	for i, h := range e.m.Headers {
		v, ok := headerValue(headers, h.Name)
		if !ok || !valueMatches(h, e.headerRe[i], v) {
			return false
		}
	}
	for i, q := range e.m.QueryParams {
		v, ok := query[q.Name]
		if query == nil {
			v, ok = queryValue(rawQuery, q.Name)
		}
		if !ok || !valueMatches(q, e.queryRe[i], v) {
			return false
		}
	}
	return true
}

func valueMatches(m ValueMatch, re *regexp.Regexp, v string) bool {
	switch {
	case re != nil:
		return re.MatchString(v)
	case m.Type == "Prefix":
		return strings.HasPrefix(v, m.Value)
	}
	return v == m.Value
}

// pathSeparatedPrefix is Envoy's path_separated_prefix, which Istio uses for
// Gateway API PathPrefix (pilot/pkg/networking/core/route/route.go
// translateRouteMatch): "/foo" matches /foo and /foo/bar, not /foobar; a
// trailing "/" in the prefix is ignored (conversion.go createURIMatch).
func pathSeparatedPrefix(path, prefix string) bool {
	if prefix == "/" || prefix == "" {
		return true
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/' || path[len(prefix)] == '?'
}

func headerValue(headers map[string]string, name string) (string, bool) {
	if v, ok := headers[name]; ok {
		return v, true
	}
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// queryValue finds name in a raw query string (first occurrence, no
// unescaping beyond what the caller passed).
func queryValue(raw, name string) (string, bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == name {
			return v, true
		}
	}
	return "", false
}

// hostnameMatchesAny matches a request host against route hostnames
// ("*.example.com" matches one or more leading labels).
func hostnameMatchesAny(hosts []string, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range hosts {
		h = strings.ToLower(h)
		if h == "" || h == "*" || h == host {
			return true
		}
		if strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:]) && len(host) > len(h)-1 {
			return true
		}
	}
	return false
}

// compileRouteRegex compiles an RE2 expression as Envoy's safe_regex uses
// it: it must match the whole value.
func compileRouteRegex(expr string) (*regexp.Regexp, error) {
	return regexp.Compile("^(?:" + expr + ")$")
}

// parseRouteDuration parses a Gateway API / Istio duration (Go syntax: 10s,
// 500ms, 1m30s).
func parseRouteDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, nil
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(strings.TrimSpace(s), 64) }
