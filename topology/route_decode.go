package topology

import (
	"strconv"

	"gopkg.in/yaml.v3"
)

// Decoding of Gateway API routes (HTTPRoute, GRPCRoute, TCPRoute, TLSRoute)
// into Route; field names follow sigs.k8s.io/gateway-api apis/v1
// httproute_types.go, grpcroute_types.go and apis/v1alpha2 tcproute/tlsroute.

func decodeRoute(d dec, o objectDoc) {
	kind := KindHTTPRoute
	for i := 0; i+1 < len(o.node.Content); i += 2 {
		if o.node.Content[i].Value == "kind" {
			kind = o.node.Content[i+1].Value
		}
	}
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	r := &Route{Kind: kind, Namespace: m.namespace, Name: m.name, Created: m.created, Source: d.src(o)}
	d.fields(o.spec, o.p("spec"), []string{"parentRefs", "hostnames", "rules", "useDefaultGateways"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "hostnames":
			r.Hostnames = d.strList(v, p)
		case "parentRefs":
			d.list(v, p, func(it *yaml.Node, ip string) {
				if pr, ok := d.parentRef(it, ip, m.namespace); ok {
					r.ParentRefs = append(r.ParentRefs, pr)
				}
			})
		case "rules":
			d.list(v, p, func(it *yaml.Node, ip string) { r.Rules = append(r.Rules, d.routeRule(it, ip, kind, m.namespace)) })
		}
	})
	d.b.t.Routes = append(d.b.t.Routes, r)
	d.b.ensureNamespace(m.namespace)
}

func (d dec) parentRef(n *yaml.Node, path, ns string) (ParentRef, bool) {
	pr := ParentRef{Group: "gateway.networking.k8s.io", Kind: "Gateway", Namespace: ns}
	d.fields(n, path, []string{"group", "kind", "namespace", "name", "port", "sectionName"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "group":
			pr.Group = d.str(v, p)
		case "kind":
			pr.Kind = d.str(v, p)
		case "namespace":
			pr.Namespace = d.str(v, p)
		case "name":
			pr.Name = d.str(v, p)
		case "port":
			pr.Port = d.integer(v, p)
		case "sectionName":
			pr.SectionName = d.str(v, p)
		}
	})
	if pr.Name == "" {
		d.errf(n, path+".name", "missing parentRef name")
		return pr, false
	}
	return pr, true
}

func (d dec) routeRule(n *yaml.Node, path, kind, ns string) RouteRule {
	var rr RouteRule
	known := []string{"name", "matches", "filters", "backendRefs", "timeouts", "retry", "sessionPersistence"}
	if kind == KindTCPRoute || kind == KindTLSRoute {
		known = []string{"name", "backendRefs"}
	}
	d.fields(n, path, known, func(k string, v *yaml.Node, p string) {
		switch k {
		case "name":
			rr.Name = d.str(v, p)
		case "matches":
			d.list(v, p, func(mt *yaml.Node, mp string) { rr.Matches = append(rr.Matches, d.routeMatch(mt, mp, kind)) })
		case "filters":
			d.list(v, p, func(ft *yaml.Node, fp string) { rr.Filters = append(rr.Filters, d.routeFilter(ft, fp, ns)) })
		case "timeouts":
			d.fields(v, p, []string{"request", "backendRequest"}, func(k string, v *yaml.Node, p string) {
				if k == "request" {
					rr.Timeout = d.duration(v, p)
				} else {
					rr.BackendTimeout = d.duration(v, p)
				}
			})
		case "retry":
			rr.Retry = &RouteRetry{Attempts: -1}
			d.fields(v, p, []string{"codes", "attempts", "backoff"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case "codes":
					d.list(v, p, func(c *yaml.Node, cp string) {
						code := d.integer(c, cp)
						if code < 400 || code > 599 {
							d.errf(c, cp, "retry code %d out of range 400-599", code)
							return
						}
						rr.Retry.Codes = append(rr.Retry.Codes, code)
					})
				case "attempts":
					rr.Retry.Attempts = d.integer(v, p)
					if rr.Retry.Attempts < 0 {
						d.errf(v, p, "attempts must not be negative, got %d", rr.Retry.Attempts)
						rr.Retry.Attempts = 0
					}
				case "backoff":
					rr.Retry.Backoff = d.duration(v, p)
				}
			})
		case "backendRefs":
			d.list(v, p, func(bt *yaml.Node, bp string) {
				rr.BackendRefs = append(rr.BackendRefs, d.backendRef(bt, bp, ns, true))
			})
		}
	})
	if len(rr.Matches) == 0 && kind == KindHTTPRoute {
		// API default: a prefix match on "/".
		rr.Matches = []RouteMatch{{PathType: "PathPrefix", Path: "/"}}
	}
	return rr
}

// duration checks a Gateway API duration (e.g. 10s, 500ms, 1h).
func (d dec) duration(n *yaml.Node, path string) string {
	s := d.str(n, path)
	if s == "" {
		return ""
	}
	if _, err := parseRouteDuration(s); err != nil {
		d.errf(n, path, "invalid duration %q (want e.g. 10s, 500ms, 1m)", s)
		return ""
	}
	return s
}

func (d dec) backendRef(n *yaml.Node, path, ns string, weighted bool) BackendRef {
	br := BackendRef{Kind: "Service", Namespace: ns, Weight: 1}
	known := []string{"group", "kind", "namespace", "name", "port"}
	if weighted {
		known = append(known, "weight", "filters")
	}
	d.fields(n, path, known, func(k string, v *yaml.Node, p string) {
		switch k {
		case "group":
			br.Group = d.str(v, p)
		case "kind":
			br.Kind = d.str(v, p)
		case "namespace":
			br.Namespace = d.str(v, p)
		case "name":
			br.Name = d.str(v, p)
		case "port":
			br.Port = d.integer(v, p)
		case "weight":
			br.Weight = d.integer(v, p)
			if br.Weight < 0 {
				d.errf(v, p, "weight must not be negative, got %d", br.Weight)
				br.Weight = 0
			}
		}
	})
	return br
}

func (d dec) routeMatch(n *yaml.Node, path, kind string) RouteMatch {
	rm := RouteMatch{PathType: "PathPrefix", Path: "/"}
	if kind == KindGRPCRoute {
		rm = RouteMatch{}
	}
	d.fields(n, path, []string{"path", "headers", "queryParams", "method"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "path":
			d.fields(v, p, []string{"type", "value"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case "type":
					if t := d.enum(v, p, "Exact", "PathPrefix", "RegularExpression"); t != "" {
						rm.PathType = t
					}
				case "value":
					rm.Path = d.str(v, p)
				}
			})
		case "method":
			if kind == KindGRPCRoute {
				d.fields(v, p, []string{"type", "service", "method"}, func(k string, v *yaml.Node, p string) {
					switch k {
					case "type":
						rm.GRPCType = d.enum(v, p, "Exact", "RegularExpression")
					case "service":
						rm.GRPCService = d.str(v, p)
					case "method":
						rm.GRPCMethod = d.str(v, p)
					}
				})
			} else {
				rm.Method = d.enum(v, p, "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
			}
		case "headers":
			rm.Headers = d.valueMatches(v, p)
		case "queryParams":
			rm.QueryParams = d.valueMatches(v, p)
		}
	})
	return rm
}

func (d dec) valueMatches(n *yaml.Node, path string) []ValueMatch {
	var out []ValueMatch
	d.list(n, path, func(h *yaml.Node, hp string) {
		vm := ValueMatch{Type: "Exact"}
		d.fields(h, hp, []string{"type", "name", "value"}, func(k string, v *yaml.Node, p string) {
			switch k {
			case "type":
				if t := d.enum(v, p, "Exact", "RegularExpression"); t != "" {
					vm.Type = t
				}
			case "name":
				vm.Name = d.str(v, p)
			case "value":
				vm.Value = d.str(v, p)
			}
		})
		if vm.Type == "RegularExpression" {
			if _, err := compileRouteRegex(vm.Value); err != nil {
				d.errf(h, hp+".value", "invalid regular expression %q: %v", vm.Value, err)
			}
		}
		out = append(out, vm)
	})
	return out
}

func (d dec) headerModifier(n *yaml.Node, path string) *HeaderModifier {
	hm := &HeaderModifier{}
	headers := func(v *yaml.Node, p string) []Header {
		var out []Header
		d.list(v, p, func(h *yaml.Node, hp string) {
			var hd Header
			d.fields(h, hp, []string{"name", "value"}, func(k string, v *yaml.Node, p string) {
				if k == "name" {
					hd.Name = d.str(v, p)
				} else {
					hd.Value = d.str(v, p)
				}
			})
			out = append(out, hd)
		})
		return out
	}
	d.fields(n, path, []string{"set", "add", "remove"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "set":
			hm.Set = headers(v, p)
		case "add":
			hm.Add = headers(v, p)
		case "remove":
			hm.Remove = d.strList(v, p)
		}
	})
	return hm
}

func (d dec) pathModifier(n *yaml.Node, path string) (typ, value string) {
	d.fields(n, path, []string{"type", "replaceFullPath", "replacePrefixMatch"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "type":
			typ = d.enum(v, p, "ReplaceFullPath", "ReplacePrefixMatch")
		default:
			value = d.str(v, p)
		}
	})
	return typ, value
}

func (d dec) routeFilter(n *yaml.Node, path, ns string) RouteFilter {
	var f RouteFilter
	d.fields(n, path, []string{"type", "requestHeaderModifier", "responseHeaderModifier", "requestMirror",
		"requestRedirect", "urlRewrite", "cors", "extensionRef", "externalAuth"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "type":
			f.Type = d.str(v, p)
		case "requestHeaderModifier", "responseHeaderModifier":
			f.Headers = d.headerModifier(v, p)
		case "requestMirror":
			f.Mirror = &MirrorFilter{Percent: 100}
			d.fields(v, p, []string{"backendRef", "percent", "fraction"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case "backendRef":
					f.Mirror.Backend = d.backendRef(v, p, ns, false)
				case "percent":
					f.Mirror.Percent = float64(d.integer(v, p))
				case "fraction":
					num, den := 0, 100
					d.fields(v, p, []string{"numerator", "denominator"}, func(k string, v *yaml.Node, p string) {
						if k == "numerator" {
							num = d.integer(v, p)
						} else {
							den = d.integer(v, p)
						}
					})
					if den > 0 {
						f.Mirror.Percent = 100 * float64(num) / float64(den)
					}
				}
			})
		case "requestRedirect":
			f.Redirect = &RedirectFilter{StatusCode: 302}
			d.fields(v, p, []string{"scheme", "hostname", "path", "port", "statusCode"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case "scheme":
					f.Redirect.Scheme = d.str(v, p)
				case "hostname":
					f.Redirect.Hostname = d.str(v, p)
				case "path":
					f.Redirect.PathType, f.Redirect.Path = d.pathModifier(v, p)
				case "port":
					f.Redirect.Port = d.integer(v, p)
				case "statusCode":
					f.Redirect.StatusCode = d.integer(v, p)
				}
			})
		case "urlRewrite":
			f.Rewrite = &RewriteFilter{}
			d.fields(v, p, []string{"hostname", "path"}, func(k string, v *yaml.Node, p string) {
				if k == "hostname" {
					f.Rewrite.Hostname = d.str(v, p)
				} else {
					f.Rewrite.PathType, f.Rewrite.Path = d.pathModifier(v, p)
				}
			})
		}
	})
	switch f.Type {
	case FilterRequestHeaderModifier, FilterResponseHeaderModifier, FilterRequestMirror, FilterRequestRedirect,
		FilterURLRewrite, FilterCORS, FilterExtensionRef, "ExternalAuth":
	case "":
		d.errf(n, path+".type", "missing filter type")
	default:
		d.errf(n, path+".type", "unknown filter type %q", f.Type)
	}
	return f
}

// atoiOr parses s, or returns def.
func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}
