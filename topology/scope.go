package topology

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Configuration scope: which part of the cluster each proxy is told about.
// Istio offers three mechanisms (https://istio.io/latest/docs/ops/configuration/mesh/configuration-scoping/):
//
//   - meshConfig.discoverySelectors: istiod ignores namespaces that match
//     none of the selectors, so no proxy (sidecar, waypoint or ztunnel)
//     learns about their services and pods;
//   - the networking.istio.io Sidecar resource: the sidecars it selects
//     import only the services its egress hosts name;
//   - exportTo (not modelled: every service is exported everywhere).
//
// The memory model sizes each proxy's configuration from these.

// SidecarConfig is a networking.istio.io Sidecar resource (the "import"
// scope of the sidecars it applies to). Istio picks, for a pod, the Sidecar
// in its namespace whose workloadSelector matches it, else the one in its
// namespace without a selector, else the one without a selector in the
// root namespace (the mesh-wide default).
type SidecarConfig struct {
	Namespace string
	Name      string
	// Selector is spec.workloadSelector.labels; nil applies the resource
	// to every pod of its namespace.
	Selector map[string]string
	// EgressHosts are the "namespace/dnsName" entries of every egress
	// listener's hosts. An empty list imports nothing.
	EgressHosts []string
	Source      string // file:line
}

// ID returns "ns/name".
func (s *SidecarConfig) ID() string { return s.Namespace + "/" + s.Name }

// MeshConfig is the part of Istio's meshConfig the model reads, from the
// `istio` ConfigMap in the root namespace (data.mesh) or an IstioOperator's
// spec.meshConfig.
type MeshConfig struct {
	// DiscoverySelectors select the namespaces istiod watches; nil (or
	// empty) selects every namespace.
	DiscoverySelectors []LabelSelector
	Source             string // file:line
}

// Discovered reports whether istiod sees namespace ns: true when the mesh
// has no discovery selectors, else when the namespace's labels (plus the
// kubernetes.io/metadata.name label Kubernetes sets on every namespace)
// match any selector.
func (t *Topology) Discovered(ns string) bool {
	if t.MeshConfig == nil || len(t.MeshConfig.DiscoverySelectors) == 0 {
		return true
	}
	labels := map[string]string{"kubernetes.io/metadata.name": ns}
	for _, n := range t.Namespaces {
		if n.Name == ns {
			for k, v := range n.Labels {
				labels[k] = v
			}
		}
	}
	for i := range t.MeshConfig.DiscoverySelectors {
		if t.MeshConfig.DiscoverySelectors[i].Matches(labels) {
			return true
		}
	}
	return false
}

// SidecarConfigFor returns the Sidecar resource that applies to pod p, or
// nil when none does (the sidecar then imports every discovered service).
func (t *Topology) SidecarConfigFor(p *Pod) *SidecarConfig {
	var nsDefault, rootDefault *SidecarConfig
	for _, s := range t.SidecarConfigs {
		switch {
		case s.Namespace == p.Namespace && s.Selector != nil:
			if labelsMatch(s.Selector, p.Labels) {
				return s
			}
		case s.Namespace == p.Namespace && nsDefault == nil:
			nsDefault = s
		case s.Namespace == t.RootNamespace && s.Selector == nil && rootDefault == nil:
			rootDefault = s
		}
	}
	if nsDefault != nil {
		return nsDefault
	}
	return rootDefault
}

// Imports reports whether a sidecar in namespace podNS under this Sidecar
// resource is configured for service s. An egress host "ns/dnsName"
// matches when ns is "*", "." (the sidecar's own namespace) or s's
// namespace ("~" matches nothing), and dnsName is "*", a "*.suffix"
// wildcard of s's FQDN, or the FQDN itself.
func (sc *SidecarConfig) Imports(s *Service, podNS string) bool {
	fqdn := s.Name + "." + s.Namespace + ".svc.cluster.local"
	for _, h := range sc.EgressHosts {
		ns, host, ok := strings.Cut(h, "/")
		if !ok {
			continue // rejected at load time
		}
		switch ns {
		case "*":
		case ".":
			if s.Namespace != podNS {
				continue
			}
		case "~":
			continue
		default:
			if s.Namespace != ns {
				continue
			}
		}
		switch {
		case host == "*":
			return true
		case strings.HasPrefix(host, "*."):
			if strings.HasSuffix(fqdn, host[1:]) {
				return true
			}
		case host == fqdn:
			return true
		}
	}
	return false
}

func decodeSidecarScope(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	sc := &SidecarConfig{Namespace: m.namespace, Name: m.name, Source: d.src(o)}
	known := []string{"workloadSelector", "egress", "ingress", "outboundTrafficPolicy", "inboundConnectionPool"}
	d.fields(o.spec, o.p("spec"), known, func(k string, v *yaml.Node, p string) {
		switch k {
		case "workloadSelector":
			d.fields(v, p, []string{"labels"}, func(_ string, v *yaml.Node, p string) {
				sc.Selector = d.strMap(v, p)
			})
			if sc.Selector == nil {
				sc.Selector = map[string]string{} // selects every pod, like Istio
			}
		case "egress":
			d.list(v, p, func(it *yaml.Node, ip string) {
				d.fields(it, ip, []string{"port", "bind", "captureMode", "hosts"}, func(k string, v *yaml.Node, p string) {
					if k != "hosts" {
						return
					}
					d.list(v, p, func(h *yaml.Node, hp string) {
						host := d.str(h, hp)
						ns, name, ok := strings.Cut(host, "/")
						if !ok || ns == "" || name == "" {
							d.errf(h, hp, "egress host %q: want namespace/dnsName, e.g. \"./*\", \"istio-system/*\" or \"prod/reviews.prod.svc.cluster.local\"", host)
							return
						}
						sc.EgressHosts = append(sc.EgressHosts, host)
					})
				})
			})
		}
	})
	d.b.t.SidecarConfigs = append(d.b.t.SidecarConfigs, sc)
	d.b.ensureNamespace(m.namespace)
}

// isMeshConfigMap reports whether a ConfigMap document is Istio's mesh
// configuration: named istio or istio-<revision> (the root namespace is
// checked when it is decoded).
func isMeshConfigMap(n *yaml.Node) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "metadata" {
			continue
		}
		md := resolve(n.Content[i+1])
		if md == nil || md.Kind != yaml.MappingNode {
			return false
		}
		for j := 0; j+1 < len(md.Content); j += 2 {
			if md.Content[j].Value == "name" {
				name := md.Content[j+1].Value
				return name == "istio" || strings.HasPrefix(name, "istio-")
			}
		}
	}
	return false
}

// decodeMeshConfigMap reads discoverySelectors from the mesh config YAML
// held in the ConfigMap's data.mesh (a string: its errors name the line in
// the file).
func decodeMeshConfigMap(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.namespace != "" && m.namespace != d.b.opts.RootNamespace {
		return // a ConfigMap named istio elsewhere is not the mesh config
	}
	var data *yaml.Node
	for i := 0; i+1 < len(o.node.Content); i += 2 {
		if o.node.Content[i].Value == "data" {
			data = resolve(o.node.Content[i+1])
		}
	}
	if data == nil || data.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(data.Content); i += 2 {
		if data.Content[i].Value != "mesh" {
			continue
		}
		v := resolve(data.Content[i+1])
		if v == nil || v.Kind != yaml.ScalarNode {
			d.errf(v, o.p("data.mesh"), "expected the mesh config as a YAML string")
			return
		}
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(v.Value), &doc); err != nil {
			d.errf(v, o.p("data.mesh"), "mesh config: %v", err)
			return
		}
		// Lines inside the block scalar count from the line after its key.
		shiftLines(&doc, v.Line)
		d.meshConfig(resolve(&doc), o.p("data.mesh"), d.src(o))
	}
}

// decodeIstioOperator reads spec.meshConfig.discoverySelectors; every
// other IstioOperator setting is installation detail the model ignores.
func decodeIstioOperator(d dec, o objectDoc) {
	d.meta(o.meta, true)
	spec := resolve(o.spec)
	if spec == nil || spec.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(spec.Content); i += 2 {
		if spec.Content[i].Value == "meshConfig" {
			d.meshConfig(resolve(spec.Content[i+1]), o.p("spec.meshConfig"), d.src(o))
		}
	}
}

// meshConfig decodes the discoverySelectors of a meshConfig mapping
// (other meshConfig fields are not modelled and not warned about).
func (d dec) meshConfig(n *yaml.Node, path, src string) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "discoverySelectors" {
			continue
		}
		mc := &MeshConfig{Source: src}
		d.list(n.Content[i+1], joinPath(path, "discoverySelectors"), func(it *yaml.Node, ip string) {
			mc.DiscoverySelectors = append(mc.DiscoverySelectors, *d.labelSelector(it, ip))
		})
		if d.b.t.MeshConfig != nil && len(d.b.t.MeshConfig.DiscoverySelectors) > 0 {
			d.errf(n.Content[i], joinPath(path, "discoverySelectors"), "a second mesh config with discoverySelectors (the first is at %s); keep one", d.b.t.MeshConfig.Source)
			return
		}
		d.b.t.MeshConfig = mc
	}
}

// shiftLines adds off to the line of every node, so a document parsed from
// a block scalar whose indicator is on line off reports file lines.
func shiftLines(n *yaml.Node, off int) {
	if n == nil {
		return
	}
	if n.Line > 0 {
		n.Line += off
	}
	for _, c := range n.Content {
		shiftLines(c, off)
	}
}

// String describes the scope for reports, e.g. "Sidecar team-a/default
// (2 egress hosts)".
func (s *SidecarConfig) String() string {
	return fmt.Sprintf("Sidecar %s (%d egress hosts)", s.ID(), len(s.EgressHosts))
}
