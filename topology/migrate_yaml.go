package topology

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The manifests the migration generates are built as yaml.Node trees and
// encoded by yaml.v3, so names and values taken from the input are always
// quoted as YAML needs; field order is fixed (apiVersion, kind, metadata,
// spec) so the output is deterministic.

// ymap builds a mapping from key, value pairs; nil values and empty
// slices and maps are left out.
func ymap(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		v := yval(kv[i+1])
		if v == nil {
			continue
		}
		n.Content = append(n.Content, ystr(kv[i].(string)), v)
	}
	return n
}

func ystr(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// yval converts a Go value to a node (nil when there is nothing to write).
func yval(v any) *yaml.Node {
	switch x := v.(type) {
	case nil:
		return nil
	case *yaml.Node:
		if x == nil || (x.Kind == yaml.MappingNode || x.Kind == yaml.SequenceNode) && len(x.Content) == 0 && x.Style != yaml.FlowStyle {
			return nil
		}
		return x
	case string:
		if x == "" {
			return nil
		}
		return ystr(x)
	case int:
		if x == 0 {
			return nil
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(x)}
	case float64:
		if x == 0 {
			return nil
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(x, 'g', -1, 64)}
	case []string:
		if len(x) == 0 {
			return nil
		}
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, s := range x {
			n.Content = append(n.Content, ystr(s))
		}
		return n
	case []*yaml.Node:
		if len(x) == 0 {
			return nil
		}
		return &yaml.Node{Kind: yaml.SequenceNode, Content: x}
	case map[string]string:
		if len(x) == 0 {
			return nil
		}
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range sortedKeys(x) {
			n.Content = append(n.Content, ystr(k), ystr(x[k]))
		}
		return n
	}
	panic(fmt.Sprintf("yval: unsupported %T", v))
}

// emptyMap is an explicit {} (e.g. a podSelector selecting every pod).
func emptyMap() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle} }

// encodeYAML renders one document with a two-space indent.
func encodeYAML(n *yaml.Node) string {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		// The nodes are built here from strings and ints: encoding
		// cannot fail on them.
		panic(fmt.Sprintf("encoding generated manifest: %v", err))
	}
	_ = enc.Close()
	return b.String()
}

func objectMetaNode(name, ns string, labels map[string]string) *yaml.Node {
	return ymap("name", name, "namespace", ns, "labels", labels,
		"annotations", map[string]string{"ambientsim.io/generated-by": "ambientsim migrate"})
}

// waypointYAML is what `istioctl waypoint apply -n ns` creates, with two
// replicas asked for through the Deployment istiod derives (a
// blast-radius choice; HPA and PodDisruptionBudget are the operator's).
func waypointYAML(ns string) string {
	return encodeYAML(ymap("apiVersion", "gateway.networking.k8s.io/v1", "kind", "Gateway",
		"metadata", objectMetaNode("waypoint", ns, map[string]string{lblWaypointFor: ForService}),
		"spec", ymap("gatewayClassName", waypointClass,
			"listeners", []*yaml.Node{ymap("name", "mesh", "port", hbonePort, "protocol", "HBONE")}))) +
		"# then: kubectl scale deployment -n " + ns + " waypoint --replicas=2 (or an HPA), and a PodDisruptionBudget\n"
}

func targetRefNodes(refs []TargetRef) []*yaml.Node {
	var out []*yaml.Node
	for _, r := range refs {
		group := ""
		if r.Kind == "Gateway" {
			group = "gateway.networking.k8s.io"
		}
		n := ymap("kind", r.Kind, "name", r.Name)
		// group "" (core) must be written out for a Service.
		n.Content = append([]*yaml.Node{ystr("group"), ystr(group)}, n.Content...)
		out = append(out, n)
	}
	return out
}

// policyYAML writes ap with its rules, attached by targetRefs (when refs is
// not nil) or a selector (empty: namespace-wide).
func policyYAML(ap *AuthorizationPolicy, ns, name string, refs []TargetRef, selector map[string]string) string {
	var rules []*yaml.Node
	for _, r := range ap.Rules {
		var from, to, when []*yaml.Node
		for _, s := range r.From {
			from = append(from, ymap("source", ymap(
				"principals", s.Principals, "notPrincipals", s.NotPrincipals,
				"requestPrincipals", s.RequestPrincipals, "notRequestPrincipals", s.NotRequestPrincipals,
				"namespaces", s.Namespaces, "notNamespaces", s.NotNamespaces,
				"serviceAccounts", s.ServiceAccounts, "notServiceAccounts", s.NotServiceAccounts,
				"ipBlocks", s.IPBlocks, "notIpBlocks", s.NotIPBlocks,
				"remoteIpBlocks", s.RemoteIPBlocks, "notRemoteIpBlocks", s.NotRemoteIPBlocks)))
		}
		for _, o := range r.To {
			to = append(to, ymap("operation", ymap(
				"hosts", o.Hosts, "notHosts", o.NotHosts, "ports", o.Ports, "notPorts", o.NotPorts,
				"methods", o.Methods, "notMethods", o.NotMethods, "paths", o.Paths, "notPaths", o.NotPaths)))
		}
		for _, c := range r.When {
			when = append(when, ymap("key", c.Key, "values", c.Values, "notValues", c.NotValues))
		}
		rule := ymap("from", from, "to", to, "when", when)
		if len(rule.Content) == 0 {
			rule.Style = yaml.FlowStyle // {} matches everything
		}
		rules = append(rules, rule)
	}
	spec := ymap("action", ap.Action)
	switch {
	case refs != nil:
		spec = ymap("targetRefs", targetRefNodes(refs), "action", ap.Action)
	case len(selector) > 0:
		spec = ymap("selector", ymap("matchLabels", selector), "action", ap.Action)
	}
	if ap.Provider != "" {
		spec.Content = append(spec.Content, ystr("provider"), ymap("name", ap.Provider))
	}
	if ap.HasRules {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Content: rules}
		spec.Content = append(spec.Content, ystr("rules"), seq)
	}
	return encodeYAML(ymap("apiVersion", "security.istio.io/v1", "kind", "AuthorizationPolicy",
		"metadata", objectMetaNode(name, ns, nil), "spec", spec))
}

// requestAuthYAML writes ra attached by targetRefs.
func requestAuthYAML(ra *RequestAuthentication, ns, name string, refs []TargetRef) string {
	return encodeYAML(ymap("apiVersion", "security.istio.io/v1", "kind", "RequestAuthentication",
		"metadata", objectMetaNode(name, ns, nil),
		"spec", ymap("targetRefs", targetRefNodes(refs), "jwtRules", ra.jwtRules)))
}

// requestAuthSelectorYAML writes ra on the pods of s.
func requestAuthSelectorYAML(ra *RequestAuthentication, s *Service) string {
	return encodeYAML(ymap("apiVersion", "security.istio.io/v1", "kind", "RequestAuthentication",
		"metadata", objectMetaNode(ra.Name+"-"+s.Name, s.Namespace, nil),
		"spec", ymap("selector", ymap("matchLabels", s.Selector), "jwtRules", ra.jwtRules)))
}

func labelSelectorNode(sel *LabelSelector) *yaml.Node {
	if sel == nil {
		return nil
	}
	var exprs []*yaml.Node
	for _, r := range sel.MatchExpressions {
		exprs = append(exprs, ymap("key", r.Key, "operator", r.Operator, "values", r.Values))
	}
	n := ymap("matchLabels", sel.MatchLabels, "matchExpressions", exprs)
	if len(n.Content) == 0 {
		return emptyMap()
	}
	return n
}

// networkPolicyYAML writes np, with port 15008 added to every ingress rule
// that lists ports when addHBONE is set.
func networkPolicyYAML(np *NetworkPolicy, addHBONE bool) string {
	rules := func(list []NetworkPolicyRule, peersKey string, add bool) []*yaml.Node {
		var out []*yaml.Node
		for _, r := range list {
			var peers, ports []*yaml.Node
			for _, p := range r.Peers {
				var ipb *yaml.Node
				if p.IPBlock != nil {
					ipb = ymap("cidr", p.IPBlock.CIDR, "except", p.IPBlock.Except)
				}
				peers = append(peers, ymap("podSelector", labelSelectorNode(p.PodSelector), "namespaceSelector", labelSelectorNode(p.NamespaceSelector), "ipBlock", ipb))
			}
			for _, p := range r.Ports {
				var port any = p.Port
				if p.Name != "" {
					port = p.Name
				}
				ports = append(ports, ymap("protocol", p.Protocol, "port", port, "endPort", p.EndPort))
			}
			if add && len(r.Ports) > 0 {
				ports = append(ports, ymap("protocol", "TCP", "port", hbonePort))
			}
			rule := ymap(peersKey, peers, "ports", ports)
			if len(rule.Content) == 0 {
				rule.Style = yaml.FlowStyle
			}
			out = append(out, rule)
		}
		return out
	}
	spec := ymap("podSelector", labelSelectorNode(&np.PodSelector), "policyTypes", np.PolicyTypes,
		"ingress", rules(np.Ingress, "from", addHBONE), "egress", rules(np.Egress, "to", false))
	return encodeYAML(ymap("apiVersion", "networking.k8s.io/v1", "kind", "NetworkPolicy",
		"metadata", objectMetaNode(np.Name, np.Namespace, nil), "spec", spec))
}

// vsConversion is a VirtualService rewritten as HTTPRoute(s).
type vsConversion struct {
	generated []string
	manual    []string // what the HTTPRoute cannot carry
	notes     []string // semantic differences the reader must check
}

// convertVirtualService writes one HTTPRoute per VirtualService (parented
// to every Service it routes) and the per-version Services its subsets
// need. Rules with matches Gateway API cannot express (source labels,
// source namespaces, gateways) are left out and reported; fault injection
// and CORS are reported and dropped from the rule.
func (mg *migration) convertVirtualService(r *Route, svcs []*Service) vsConversion {
	var conv vsConversion
	obj := "VirtualService " + r.ID()
	var parents []*yaml.Node
	for _, s := range svcs {
		n := ymap("kind", "Service", "name", s.Name)
		n.Content = append([]*yaml.Node{ystr("group"), ystr("")}, n.Content...)
		if s.Namespace != r.Namespace {
			n.Content = append(n.Content, ystr("namespace"), ystr(s.Namespace))
		}
		parents = append(parents, n)
	}
	var rules []*yaml.Node
	prefixNote := false
	for i, rr := range r.Rules {
		if rr.tcp {
			conv.manual = append(conv.manual, fmt.Sprintf("tcp/tls rule %d: a TCPRoute or TLSRoute", i))
			continue
		}
		skip := ""
		var dropped []string
		for _, f := range rr.VSFields {
			switch {
			case strings.HasPrefix(f, "match."):
				skip = f
			default:
				dropped = append(dropped, f)
			}
		}
		if skip != "" {
			conv.manual = append(conv.manual, fmt.Sprintf("http[%d] matches on %s, which HTTPRoute cannot express: left out", i, strings.TrimPrefix(skip, "match.")))
			continue
		}
		for _, f := range dropped {
			conv.manual = append(conv.manual, fmt.Sprintf("http[%d] %s has no HTTPRoute field (fault injection: a test-only EnvoyFilter on the waypoint; CORS: the experimental CORS filter)", i, f))
		}
		var matches []*yaml.Node
		for _, m := range rr.Matches {
			var path *yaml.Node
			if m.PathType != "" {
				path = ymap("type", m.PathType, "value", m.Path)
				if m.PathType == "PathPrefix" && m.Path != "/" && !strings.HasSuffix(m.Path, "/") {
					prefixNote = true
				}
			}
			matches = append(matches, ymap("path", path, "headers", valueMatchNodes(m.Headers), "queryParams", valueMatchNodes(m.QueryParams), "method", m.Method))
		}
		var filters []*yaml.Node
		for _, f := range rr.Filters {
			filters = append(filters, filterNode(f, rr))
		}
		var backends []*yaml.Node
		for _, b := range rr.BackendRefs {
			bn, problem := mg.backendNode(r, b, obj, &conv)
			if problem != "" {
				conv.manual = append(conv.manual, fmt.Sprintf("http[%d]: %s", i, problem))
				continue
			}
			backends = append(backends, bn)
		}
		var timeouts *yaml.Node
		if rr.Timeout != "" || rr.BackendTimeout != "" {
			timeouts = ymap("request", rr.Timeout, "backendRequest", rr.BackendTimeout)
		}
		var retry *yaml.Node
		if rr.Retry != nil {
			var codes []*yaml.Node
			for _, c := range rr.Retry.Codes {
				codes = append(codes, yval(c))
			}
			attempts := yval(rr.Retry.Attempts)
			if rr.Retry.Attempts == 0 {
				attempts = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "0"}
			}
			retry = ymap("attempts", attempts, "codes", codes, "backoff", rr.Retry.Backoff)
			conv.notes = appendUnique(conv.notes, "retry is in the Gateway API experimental channel; retryOn conditions other than status codes have no field")
			if rr.Retry.KeepPreviousHosts {
				conv.manual = append(conv.manual, fmt.Sprintf("http[%d] retries.retryIgnorePreviousHosts: false has no HTTPRoute field (its retries will avoid hosts already tried)", i))
			}
		}
		rule := ymap("name", rr.Name, "matches", matches, "filters", filters, "backendRefs", backends, "timeouts", timeouts, "retry", retry)
		rules = append(rules, rule)
	}
	if inv := orderInversion(r.Rules); inv != "" {
		conv.notes = appendUnique(conv.notes, inv)
	}
	if prefixNote {
		conv.notes = appendUnique(conv.notes, "PathPrefix matches whole path segments, a VirtualService prefix matched characters (/api no longer matches /apix)")
	}
	name := r.Name
	y := encodeYAML(ymap("apiVersion", "gateway.networking.k8s.io/v1", "kind", "HTTPRoute",
		"metadata", objectMetaNode(name, r.Namespace, nil),
		"spec", ymap("parentRefs", parents, "rules", rules)))
	conv.generated = append(conv.generated, mg.manifest("HTTPRoute", r.Namespace, name, obj, y))
	return conv
}

func valueMatchNodes(vs []ValueMatch) []*yaml.Node {
	var out []*yaml.Node
	for _, v := range vs {
		typ, val := v.Type, v.Value
		switch typ {
		case "Prefix": // no Gateway API prefix match: the equivalent regex
			typ, val = "RegularExpression", "^"+regexp.QuoteMeta(v.Value)+".*"
		case "", "Exact":
			typ = ""
		}
		out = append(out, ymap("name", v.Name, "type", typ, "value", val))
	}
	return out
}

func filterNode(f RouteFilter, rr RouteRule) *yaml.Node {
	hm := func(h *HeaderModifier) *yaml.Node {
		var set, add []*yaml.Node
		for _, x := range h.Set {
			set = append(set, ymap("name", x.Name, "value", x.Value))
		}
		for _, x := range h.Add {
			add = append(add, ymap("name", x.Name, "value", x.Value))
		}
		return ymap("set", set, "add", add, "remove", h.Remove)
	}
	switch f.Type {
	case FilterRequestHeaderModifier:
		return ymap("type", f.Type, "requestHeaderModifier", hm(f.Headers))
	case FilterResponseHeaderModifier:
		return ymap("type", f.Type, "responseHeaderModifier", hm(f.Headers))
	case FilterRequestRedirect:
		r := f.Redirect
		var path *yaml.Node
		if r.Path != "" {
			path = ymap("type", "ReplaceFullPath", "replaceFullPath", r.Path)
		}
		return ymap("type", f.Type, "requestRedirect", ymap("scheme", r.Scheme, "hostname", r.Hostname, "path", path, "port", r.Port, "statusCode", r.StatusCode))
	case FilterURLRewrite:
		w := f.Rewrite
		var path *yaml.Node
		if w.Path != "" {
			// ReplacePrefixMatch needs a PathPrefix match; after an exact
			// match the whole path is replaced.
			prefix := len(rr.Matches) > 0
			for _, m := range rr.Matches {
				prefix = prefix && m.PathType == "PathPrefix"
			}
			if prefix {
				path = ymap("type", "ReplacePrefixMatch", "replacePrefixMatch", w.Path)
			} else {
				path = ymap("type", "ReplaceFullPath", "replaceFullPath", w.Path)
			}
		}
		return ymap("type", f.Type, "urlRewrite", ymap("hostname", w.Hostname, "path", path))
	case FilterRequestMirror:
		m := f.Mirror
		var pct any
		if m.Percent > 0 && m.Percent < 100 {
			pct = int(m.Percent + 0.5)
		}
		return ymap("type", f.Type, "requestMirror", ymap("backendRef", ymap("name", m.Backend.Name, "port", m.Backend.Port), "percent", pct))
	}
	return ymap("type", f.Type)
}

// backendNode maps a VirtualService destination to a backendRef: a subset
// becomes the per-version Service <host>-<subset> (generated when the input
// has no such Service), selecting the host's pods that carry the subset's
// DestinationRule labels; a missing port takes the Service's only port.
func (mg *migration) backendNode(r *Route, b BackendRef, obj string, conv *vsConversion) (*yaml.Node, string) {
	t := mg.t
	if b.Kind == "Hostname" {
		return nil, fmt.Sprintf("destination %s is not a Kubernetes Service: a ServiceEntry host needs a ServiceEntry backendRef (Istio extension kind Hostname)", b.Name)
	}
	s := t.Service(b.Namespace, b.Name)
	if s == nil {
		return nil, fmt.Sprintf("destination %s/%s is not a Service of the input", b.Namespace, b.Name)
	}
	port := b.Port
	if port == 0 {
		if len(s.Ports) != 1 {
			return nil, fmt.Sprintf("destination %s has %d ports and names none: a backendRef needs a port", s.ID(), len(s.Ports))
		}
		port = s.Ports[0].Port
	}
	name := s.Name
	if b.Subset != "" {
		labels, ok := t.subsetLabels(s, b.Subset)
		if !ok {
			return nil, fmt.Sprintf("subset %s of %s has no DestinationRule with its labels", b.Subset, s.ID())
		}
		name = s.Name + "-" + b.Subset
		mg.usedSubsets[s.ID()+"/"+b.Subset] = s.Namespace + "/" + name
		if existing := t.Service(s.Namespace, name); existing == nil {
			conv.generated = append(conv.generated, mg.manifest("Service", s.Namespace, name, obj, versionServiceYAML(s, name, labels)))
		} else if !sameSelector(existing.Selector, mergeLabels(s.Selector, labels)) {
			return nil, fmt.Sprintf("subset %s of %s would become Service %s, which exists with another selector", b.Subset, s.ID(), existing.ID())
		}
	}
	n := ymap("name", name, "port", port)
	if s.Namespace != r.Namespace {
		n.Content = append(n.Content, ystr("namespace"), ystr(s.Namespace))
	}
	w := b.Weight
	if w > 0 && w != 100 || w == 0 {
		n.Content = append(n.Content, ystr("weight"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(w)})
	}
	return n, ""
}

func mergeLabels(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func sameSelector(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// versionServiceYAML is the per-version Service that replaces a subset.
func versionServiceYAML(s *Service, name string, subset map[string]string) string {
	var ports []*yaml.Node
	for _, p := range s.Ports {
		tp := any(p.TargetPort)
		if p.TargetName != "" {
			tp = p.TargetName
		}
		ports = append(ports, ymap("name", p.Name, "port", p.Port, "targetPort", tp, "appProtocol", p.AppProtocol))
	}
	labels := map[string]string{}
	for k, v := range s.Labels {
		if !strings.HasPrefix(k, "istio.io/") {
			labels[k] = v
		}
	}
	for k, v := range subset {
		labels[k] = v
	}
	return encodeYAML(ymap("apiVersion", "v1", "kind", "Service",
		"metadata", objectMetaNode(name, s.Namespace, labels),
		"spec", ymap("selector", mergeLabels(s.Selector, subset), "ports", ports)))
}

// copyResolved deep-copies n with aliases expanded and anchors dropped, so
// it can be written into another document; it gives up (nil) past budget
// nodes (an alias bomb).
func copyResolved(n *yaml.Node, budget *int) *yaml.Node {
	n = resolve(n)
	if n == nil {
		return nil
	}
	if *budget--; *budget < 0 {
		return nil
	}
	c := &yaml.Node{Kind: n.Kind, Style: n.Style &^ yaml.FlowStyle, Tag: n.Tag, Value: n.Value}
	for _, ch := range n.Content {
		cc := copyResolved(ch, budget)
		if cc == nil {
			return nil
		}
		c.Content = append(c.Content, cc)
	}
	return c
}

// effectivePath is a match's path test: none is PathPrefix "/" (Gateway
// API's default, and what a VirtualService match without uri matches).
func effectivePath(m RouteMatch) (typ, path string) {
	if m.PathType == "" {
		return "PathPrefix", "/"
	}
	return m.PathType, m.Path
}

// matchScore ranks a match as Gateway API precedence does (exact path,
// longer prefix, regular expressions below prefixes as Istio sorts them,
// then method, more headers, more query parameters).
func matchScore(m RouteMatch) int {
	typ, path := effectivePath(m)
	score := 0
	switch typ {
	case "Exact":
		score += 3_000_000
	case "PathPrefix":
		score += 2_000_000
	case "RegularExpression":
		score += 1_000_000
	}
	score += 1000 * min(len(path), 999)
	if m.Method != "" {
		score += 100
	}
	return score + 10*min(len(m.Headers), 9) + min(len(m.QueryParams), 9)
}

// matchesOverlap reports whether some request could match both a and b
// (conservatively: regular expressions are assumed to overlap anything).
func matchesOverlap(a, b RouteMatch) bool {
	ta, pa := effectivePath(a)
	tb, pb := effectivePath(b)
	switch {
	case ta == "RegularExpression" || tb == "RegularExpression":
	case ta == "Exact" && tb == "Exact":
		if pa != pb {
			return false
		}
	case ta == "Exact":
		if !strings.HasPrefix(pa, pb) {
			return false
		}
	case tb == "Exact":
		if !strings.HasPrefix(pb, pa) {
			return false
		}
	default:
		if !strings.HasPrefix(pa, pb) && !strings.HasPrefix(pb, pa) {
			return false
		}
	}
	if a.Method != "" && b.Method != "" && a.Method != b.Method {
		return false
	}
	for _, ha := range a.Headers {
		for _, hb := range b.Headers {
			if strings.EqualFold(ha.Name, hb.Name) && exactMatch(ha) && exactMatch(hb) && ha.Value != hb.Value {
				return false
			}
		}
	}
	return true
}

func exactMatch(v ValueMatch) bool { return v.Type == "" || v.Type == "Exact" }

// orderInversion finds a later VirtualService rule that Gateway API
// precedence would try before an earlier one it overlaps (a VirtualService
// is first-match in list order; an HTTPRoute orders its rules' matches by
// specificity, ties in rule order).
func orderInversion(rules []RouteRule) string {
	norm := func(rr RouteRule) []RouteMatch {
		if len(rr.Matches) == 0 {
			return []RouteMatch{{}}
		}
		return rr.Matches
	}
	for i := range rules {
		for j := i + 1; j < len(rules); j++ {
			for _, a := range norm(rules[i]) {
				for _, b := range norm(rules[j]) {
					if matchesOverlap(a, b) && matchScore(b) > matchScore(a) {
						return fmt.Sprintf("http[%d] is more specific than http[%d] and overlaps it: the VirtualService tries http[%d] first, the HTTPRoute http[%d] (Gateway API precedence); check that requests matching both go where you want", j, i, i, j)
					}
				}
			}
		}
	}
	return ""
}
