package topology

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// ServiceEntry is networking.istio.io ServiceEntry: a host the mesh knows
// but Kubernetes does not (an external API, a VM service).
type ServiceEntry struct {
	Namespace  string
	Name       string
	Hosts      []string
	Location   string // MESH_EXTERNAL (default) | MESH_INTERNAL
	Resolution string // NONE (default) | STATIC | DNS | DNS_ROUND_ROBIN | DYNAMIC_DNS
	Ports      []ServicePort
	Labels     map[string]string
	ExportTo   []string
	Endpoints  int // static endpoints listed
	Source     string

	// Waypoint is the waypoint its istio.io/use-waypoint label (or its
	// namespace's) binds, nil if none: in ambient, egress policy and
	// routing for the host happen there.
	Waypoint *Waypoint
	// UseWaypoint is the ns/name the label asked for, resolved or not.
	UseWaypoint string
}

// ID returns "ns/name".
func (s *ServiceEntry) ID() string { return s.Namespace + "/" + s.Name }

// External reports MESH_EXTERNAL.
func (s *ServiceEntry) External() bool { return s.Location != "MESH_INTERNAL" }

// ReferenceGrant is gateway.networking.k8s.io ReferenceGrant.
type ReferenceGrant struct {
	Namespace string
	Name      string
	From      []GrantFrom
	To        []GrantTo
}

// GrantFrom is a ReferenceGrant's from entry.
type GrantFrom struct{ Group, Kind, Namespace string }

// GrantTo is a ReferenceGrant's to entry ("" Name = every object of Kind).
type GrantTo struct{ Group, Kind, Name string }

// ServiceEntry returns the ServiceEntry ns/name, or nil.
func (t *Topology) ServiceEntry(ns, name string) *ServiceEntry {
	for _, s := range t.ServiceEntries {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

func decodeServiceEntry(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	se := &ServiceEntry{Namespace: m.namespace, Name: m.name, Labels: m.labels, Location: "MESH_EXTERNAL", Resolution: "NONE", Source: d.src(o)}
	d.fields(o.spec, o.p("spec"), []string{"hosts", "addresses", "ports", "location", "resolution", "endpoints", "workloadSelector", "exportTo", "subjectAltNames"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "hosts":
			se.Hosts = d.strList(v, p)
		case "location":
			if l := d.enum(v, p, "MESH_EXTERNAL", "MESH_INTERNAL"); l != "" {
				se.Location = l
			}
		case "resolution":
			if r := d.enum(v, p, "NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"); r != "" {
				se.Resolution = r
			}
		case "exportTo":
			se.ExportTo = d.strList(v, p)
		case "endpoints":
			d.list(v, p, func(*yaml.Node, string) { se.Endpoints++ })
		case "ports":
			d.list(v, p, func(it *yaml.Node, ip string) {
				var sp ServicePort
				d.fields(it, ip, []string{"number", "protocol", "name", "targetPort"}, func(k string, v *yaml.Node, p string) {
					switch k {
					case "number":
						sp.Port = d.integer(v, p)
					case "protocol":
						sp.AppProtocol = strings.ToLower(d.str(v, p))
					case "name":
						sp.Name = d.str(v, p)
					case "targetPort":
						sp.TargetPort = d.integer(v, p)
					}
				})
				if sp.Port <= 0 || sp.Port > 65535 {
					d.errf(it, ip+".number", "port %d out of range 1-65535", sp.Port)
					return
				}
				defaultServicePort(&sp)
				se.Ports = append(se.Ports, sp)
			})
		}
	})
	if len(se.Hosts) == 0 {
		d.errf(o.spec, o.p("spec.hosts"), "a ServiceEntry needs at least one host")
		return
	}
	d.b.t.ServiceEntries = append(d.b.t.ServiceEntries, se)
	d.b.ensureNamespace(m.namespace)
}

func decodeReferenceGrant(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	g := &ReferenceGrant{Namespace: m.namespace, Name: m.name}
	d.fields(o.spec, o.p("spec"), []string{"from", "to"}, func(k string, v *yaml.Node, p string) {
		d.list(v, p, func(it *yaml.Node, ip string) {
			var grp, kind, ns, name string
			d.fields(it, ip, []string{"group", "kind", "namespace", "name"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case "group":
					grp = d.str(v, p)
				case "kind":
					kind = d.str(v, p)
				case "namespace":
					ns = d.str(v, p)
				case "name":
					name = d.str(v, p)
				}
			})
			if k == "from" {
				g.From = append(g.From, GrantFrom{Group: grp, Kind: kind, Namespace: ns})
			} else {
				g.To = append(g.To, GrantTo{Group: grp, Kind: kind, Name: name})
			}
		})
	})
	d.b.t.ReferenceGrants = append(d.b.t.ReferenceGrants, g)
}
