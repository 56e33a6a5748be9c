package topology

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// decodeVirtualServiceRoutes turns a VirtualService's http, tcp and tls
// sections into a Route of Kind VirtualService (field names from
// istio.io/api networking/v1 virtual_service.proto), so the route engine
// can say what a waypoint does with it. Mesh-bound VirtualServices (no
// gateways, or "mesh" among them) have no ParentRefs; gateway-bound ones
// get a Gateway ParentRef per gateway.
func (d dec) decodeVirtualServiceRoutes(spec *yaml.Node, path string, m objectMeta, hosts, gateways []string) *Route {
	r := &Route{Kind: KindVirtualService, Namespace: m.namespace, Name: m.name, Hostnames: hosts, Created: m.created, Source: d.file, Gateways: gateways}
	if len(gateways) > 0 && !contains(gateways, "mesh") {
		for _, g := range gateways {
			ns, name, ok := strings.Cut(g, "/")
			if !ok {
				ns, name = m.namespace, g
			}
			r.ParentRefs = append(r.ParentRefs, ParentRef{Group: "networking.istio.io", Kind: "Gateway", Namespace: ns, Name: name})
		}
	}
	d.fields(spec, path, []string{"hosts", "gateways", "http", "tcp", "tls", "exportTo"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "http":
			d.list(v, p, func(it *yaml.Node, ip string) { r.Rules = append(r.Rules, d.vsHTTPRoute(it, ip, m.namespace)) })
		case "tcp", "tls":
			d.list(v, p, func(it *yaml.Node, ip string) {
				rr := RouteRule{tcp: true}
				d.fields(it, ip, []string{"match", "route"}, func(k string, v *yaml.Node, p string) {
					if k == "route" {
						rr.BackendRefs = d.vsDestinations(v, p, m.namespace)
						return
					}
					d.list(v, p, func(mt *yaml.Node, mp string) {
						var rm RouteMatch
						d.fields(mt, mp, []string{"port", "sniHosts", "destinationSubnets", "sourceLabels", "gateways", "sourceNamespace"}, func(k string, v *yaml.Node, p string) {
							switch k {
							case "port":
								rm.Port = d.integer(v, p)
							case "sourceLabels":
								rm.SourceLabels = d.strMap(v, p)
							case "gateways":
								rm.Gateways = d.strList(v, p)
							}
						})
						rr.Matches = append(rr.Matches, rm)
					})
				})
				r.Rules = append(r.Rules, rr)
			})
		}
	})
	return r
}

var vsHTTPFields = []string{"name", "match", "route", "redirect", "directResponse", "delegate", "rewrite", "timeout", "retries",
	"fault", "mirror", "mirrors", "mirrorPercentage", "mirror_percent", "mirrorPercent", "corsPolicy", "headers"}

func (d dec) vsHTTPRoute(n *yaml.Node, path, ns string) RouteRule {
	var rr RouteRule
	var mirrorPct float64 = 100
	var mirror *BackendRef
	d.fields(n, path, vsHTTPFields, func(k string, v *yaml.Node, p string) {
		switch k {
		case "fault", "corsPolicy", "delegate", "directResponse":
			rr.VSFields = appendUnique(rr.VSFields, k)
		}
		switch k {
		case "name":
			rr.Name = d.str(v, p)
		case "match":
			d.list(v, p, func(mt *yaml.Node, mp string) {
				m := d.vsMatch(mt, mp)
				for _, f := range []string{"sourceLabels", "sourceNamespace", "withoutHeaders", "ignoreUriCase", "authority", "scheme", "gateways"} {
					if valueOf(mt, f) != nil {
						rr.VSFields = appendUnique(rr.VSFields, "match."+f)
					}
				}
				rr.Matches = append(rr.Matches, m)
			})
		case "route":
			rr.BackendRefs = d.vsDestinations(v, p, ns)
		case "timeout":
			rr.Timeout = d.duration(v, p)
		case "retries":
			rr.Retry = &RouteRetry{Attempts: -1}
			d.fields(v, p, []string{"attempts", "perTryTimeout", "retryOn", "retryRemoteLocalities", "retryIgnorePreviousHosts", "backoff"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case "attempts":
					rr.Retry.Attempts = d.integer(v, p)
				case "perTryTimeout":
					rr.BackendTimeout = d.duration(v, p)
				case "retryOn":
					for _, part := range strings.Split(d.str(v, p), ",") {
						part = strings.TrimSpace(part)
						if c := atoiOr(part, 0); c >= 100 && c < 600 {
							rr.Retry.Codes = append(rr.Retry.Codes, c)
						} else if part != "" {
							rr.Retry.RetryOn = append(rr.Retry.RetryOn, part)
						}
					}
				case "backoff":
					rr.Retry.Backoff = d.duration(v, p)
				case "retryIgnorePreviousHosts":
					rr.Retry.KeepPreviousHosts = !d.boolean(v, p)
				}
			})
			if rr.Retry.Attempts < 0 {
				rr.Retry.Attempts = 0 // VirtualService: retries without attempts disables them (retry.go ConvertPolicy)
			}
		case "redirect":
			red := &RedirectFilter{StatusCode: 301}
			d.fields(v, p, []string{"uri", "authority", "port", "derivePort", "scheme", "redirectCode"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case "uri":
					red.PathType, red.Path = "ReplaceFullPath", d.str(v, p)
				case "authority":
					red.Hostname = d.str(v, p)
				case "port":
					red.Port = d.integer(v, p)
				case "scheme":
					red.Scheme = d.str(v, p)
				case "redirectCode":
					red.StatusCode = d.integer(v, p)
				}
			})
			rr.Filters = append(rr.Filters, RouteFilter{Type: FilterRequestRedirect, Redirect: red})
		case "rewrite":
			rw := &RewriteFilter{}
			d.fields(v, p, []string{"uri", "authority", "uriRegexRewrite"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case "uri":
					rw.PathType, rw.Path = "ReplacePrefixMatch", d.str(v, p)
				case "authority":
					rw.Hostname = d.str(v, p)
				}
			})
			rr.Filters = append(rr.Filters, RouteFilter{Type: FilterURLRewrite, Rewrite: rw})
		case "headers":
			d.fields(v, p, []string{"request", "response"}, func(k string, v *yaml.Node, p string) {
				hm := &HeaderModifier{}
				d.fields(v, p, []string{"set", "add", "remove"}, func(k string, v *yaml.Node, p string) {
					if k == "remove" {
						hm.Remove = d.strList(v, p)
						return
					}
					m := d.strMap(v, p)
					for _, name := range sortedKeys(m) {
						if k == "set" {
							hm.Set = append(hm.Set, Header{Name: name, Value: m[name]})
						} else {
							hm.Add = append(hm.Add, Header{Name: name, Value: m[name]})
						}
					}
				})
				typ := FilterRequestHeaderModifier
				if k == "response" {
					typ = FilterResponseHeaderModifier
				}
				rr.Filters = append(rr.Filters, RouteFilter{Type: typ, Headers: hm})
			})
		case "mirror":
			b := d.vsDestination(v, p, ns)
			mirror = &b
		case "mirrorPercentage":
			d.fields(v, p, []string{"value"}, func(_ string, v *yaml.Node, p string) {
				mirrorPct = d.float(v, p)
			})
		case "mirrors":
			d.list(v, p, func(it *yaml.Node, ip string) {
				mf := &MirrorFilter{Percent: 100}
				d.fields(it, ip, []string{"destination", "percentage"}, func(k string, v *yaml.Node, p string) {
					if k == "destination" {
						mf.Backend = d.vsDestination(v, p, ns)
					} else {
						d.fields(v, p, []string{"value"}, func(_ string, v *yaml.Node, p string) { mf.Percent = d.float(v, p) })
					}
				})
				rr.Filters = append(rr.Filters, RouteFilter{Type: FilterRequestMirror, Mirror: mf})
			})
		}
	})
	if mirror != nil {
		rr.Filters = append(rr.Filters, RouteFilter{Type: FilterRequestMirror, Mirror: &MirrorFilter{Backend: *mirror, Percent: mirrorPct}})
	}
	return rr
}

func (d dec) float(n *yaml.Node, path string) float64 {
	s := d.str(n, path)
	f, err := parseFloat(s)
	if err != nil {
		d.errf(n, path, "expected a number, got %q", s)
	}
	return f
}

func (d dec) vsMatch(n *yaml.Node, path string) RouteMatch {
	var rm RouteMatch
	strMatch := func(v *yaml.Node, p string) (typ, val string) {
		d.fields(v, p, []string{"exact", "prefix", "regex"}, func(k string, v *yaml.Node, p string) {
			val = d.str(v, p)
			typ = map[string]string{"exact": "Exact", "prefix": "Prefix", "regex": "RegularExpression"}[k]
		})
		return typ, val
	}
	valueMatches := func(v *yaml.Node, p string) []ValueMatch {
		var out []ValueMatch
		m := resolve(v)
		if m == nil || m.Kind != yaml.MappingNode {
			d.errf(v, p, "expected a mapping of name to {exact|prefix|regex}")
			return nil
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			typ, val := strMatch(m.Content[i+1], joinPath(p, m.Content[i].Value))
			out = append(out, ValueMatch{Name: m.Content[i].Value, Type: typ, Value: val})
		}
		return out
	}
	d.fields(n, path, []string{"name", "uri", "scheme", "method", "authority", "headers", "port", "sourceLabels", "gateways",
		"queryParams", "ignoreUriCase", "withoutHeaders", "sourceNamespace", "statPrefix"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "uri":
			typ, val := strMatch(v, p)
			rm.Path = val
			switch typ {
			case "Prefix":
				rm.PathType = "PathPrefix"
			default:
				rm.PathType = typ
			}
		case "method":
			_, rm.Method = strMatch(v, p)
		case "headers":
			rm.Headers = valueMatches(v, p)
		case "queryParams":
			rm.QueryParams = valueMatches(v, p)
		case "port":
			rm.Port = d.integer(v, p)
		case "sourceLabels":
			rm.SourceLabels = d.strMap(v, p)
		case "gateways":
			rm.Gateways = d.strList(v, p)
		}
	})
	return rm
}

func (d dec) vsDestinations(n *yaml.Node, path, ns string) []BackendRef {
	var out []BackendRef
	d.list(n, path, func(it *yaml.Node, ip string) {
		var b BackendRef
		weight := -1
		d.fields(it, ip, []string{"destination", "weight", "headers"}, func(k string, v *yaml.Node, p string) {
			if k == "destination" {
				b = d.vsDestination(v, p, ns)
			} else if k == "weight" {
				weight = d.integer(v, p)
			}
		})
		b.Weight = weight
		out = append(out, b)
	})
	// A single destination without a weight takes all traffic; several
	// without weights is invalid in Istio (weights must add up to 100).
	for i := range out {
		if out[i].Weight < 0 {
			if len(out) == 1 {
				out[i].Weight = 100
			} else {
				out[i].Weight = 0
			}
		}
	}
	return out
}

// vsDestination maps destination {host, subset, port} to a BackendRef: a
// short or FQDN Service host becomes the Service; anything else keeps the
// host as its name (Kind Hostname).
func (d dec) vsDestination(n *yaml.Node, path, ns string) BackendRef {
	b := BackendRef{Kind: "Service", Namespace: ns}
	d.fields(n, path, []string{"host", "subset", "port"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "host":
			b.Name = d.str(v, p)
		case "subset":
			b.Subset = d.str(v, p)
		case "port":
			d.fields(v, p, []string{"number"}, func(_ string, v *yaml.Node, p string) { b.Port = d.integer(v, p) })
		}
	})
	h := strings.TrimSuffix(b.Name, ".")
	h = strings.TrimSuffix(h, ".cluster.local")
	h = strings.TrimSuffix(h, ".svc")
	if name, hns, ok := strings.Cut(h, "."); ok {
		if strings.Contains(hns, ".") {
			b.Kind = "Hostname" // an external or ServiceEntry host
			return b
		}
		b.Name, b.Namespace = name, hns
	} else {
		b.Name = h
	}
	return b
}
