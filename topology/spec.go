package topology

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"gopkg.in/yaml.v3"
)

// Spec is the compact generative topology description. It is decoded
// strictly (unknown fields are errors naming file, line and the closest
// valid field) and can be embedded in other YAML documents (a scenario's
// `topology:` key) and decoded with DecodeSpec.
type Spec struct {
	TrustDomain string          `yaml:"trustDomain"` // default cluster.local
	Nodes       NodesSpec       `yaml:"nodes"`
	Namespaces  []NamespaceSpec `yaml:"namespaces"`
	Calls       []CallSpec      `yaml:"calls"`
	// Policies are inline Kubernetes/Istio/Gateway-API objects, in exactly
	// the shape of manifests (apiVersion, kind, metadata, spec).
	Policies []yaml.Node `yaml:"policies"`
	// Manifests are files or directories of manifests, relative to the spec
	// file, loaded on top of the generated objects.
	Manifests []string `yaml:"manifests"`

	file string     // where the spec came from, for errors and relative paths
	node *yaml.Node // what it was decoded from, to give errors a line
}

// NodesSpec describes the nodes: either Count nodes spread round-robin over
// Zones, or an explicit List.
type NodesSpec struct {
	Count int        `yaml:"count" range:"[1,100000]" unit:"nodes" why:"a topology holds at most 100000 nodes"` // default 3 (when List is empty)
	Zones []string   `yaml:"zones"`                                                                             // default [zone-a]
	Name  string     `yaml:"name"`                                                                              // printf pattern, default node-%d (1-based)
	List  []NodeSpec `yaml:"list"`
}

// NodeSpec is one explicit node.
type NodeSpec struct {
	Name string `yaml:"name"`
	Zone string `yaml:"zone"`
}

// NamespaceSpec is one namespace, or Count namespaces when Name contains %d.
type NamespaceSpec struct {
	Name   string            `yaml:"name"`
	Count  int               `yaml:"count" range:"[1,100000]" unit:"namespaces"` // generative repetition; Name must contain %d
	Mode   Mode              `yaml:"mode"`                                       // out-of-mesh (default) | ambient | sidecar
	Labels map[string]string `yaml:"labels"`
	// Waypoint adds waypoints by scope: namespace (one waypoint, the
	// namespace uses it), per-service (one dedicated waypoint per service),
	// or service-account (one workload waypoint per service account).
	Waypoint *WaypointSpec `yaml:"waypoint"`
	// Waypoints are extra named waypoints that services or workloads pick
	// with their `waypoint:` field.
	Waypoints          []WaypointSpec `yaml:"waypoints"`
	IngressUseWaypoint bool           `yaml:"ingressUseWaypoint"`
	Services           []ServiceSpec  `yaml:"services"`
	Workloads          []WorkloadSpec `yaml:"workloads"` // workloads without a Service (clients, debug pods, gateways)
}

// WaypointSpec is a waypoint (a Gateway of class istio-waypoint).
type WaypointSpec struct {
	Name     string `yaml:"name"`                                               // default "waypoint" (per-service: <service>-waypoint; service-account: <sa>-waypoint)
	Scope    string `yaml:"scope"`                                              // namespace (default) | per-service | service-account (only in NamespaceSpec.Waypoint)
	For      string `yaml:"for"`                                                // service (default; service-account scope: workload) | workload | all | none
	Replicas int    `yaml:"replicas" range:"[1,1000]" unit:"waypoint replicas"` // default 1
}

// ServiceSpec is a workload with a Service in front of it (Count of them
// when Name contains %d).
type ServiceSpec struct {
	Name               string            `yaml:"name"`
	Count              int               `yaml:"count" range:"[1,200000]" unit:"services"`
	Replicas           int               `yaml:"replicas" range:"[1,200000]" unit:"pods" why:"a topology holds at most 200000 pods"` // default 1
	Kind               string            `yaml:"kind"`                                                                               // Deployment (default) | StatefulSet | DaemonSet
	Ports              []PortSpec        `yaml:"ports"`                                                                              // default [{name: http, port: 8080, appProtocol: http}]
	Mode               Mode              `yaml:"mode"`                                                                               // overrides the namespace mode for its pods
	Waypoint           string            `yaml:"waypoint"`                                                                           // name or ns/name of a waypoint, or none
	ServiceAccount     string            `yaml:"serviceAccount"`
	Labels             map[string]string `yaml:"labels"` // extra pod labels
	IngressUseWaypoint bool              `yaml:"ingressUseWaypoint"`
	NodeName           string            `yaml:"nodeName"` // run every replica on this node (default: spread)
}

// WorkloadSpec is a workload without a Service.
type WorkloadSpec struct {
	Name           string            `yaml:"name"`
	Count          int               `yaml:"count" range:"[1,200000]" unit:"workloads"`
	Replicas       int               `yaml:"replicas" range:"[1,200000]" unit:"pods" why:"a topology holds at most 200000 pods"` // default 1
	Kind           string            `yaml:"kind"`                                                                               // Deployment (default) | StatefulSet | DaemonSet | Pod
	Mode           Mode              `yaml:"mode"`
	Waypoint       string            `yaml:"waypoint"` // workload waypoint (for workload/all), or none
	ServiceAccount string            `yaml:"serviceAccount"`
	Labels         map[string]string `yaml:"labels"`
	Ingress        bool              `yaml:"ingress"`  // an ingress gateway
	NodeName       string            `yaml:"nodeName"` // run every replica on this node (a load generator on a node of its own)
}

// PortSpec is a Service port; TargetPort defaults to Port.
type PortSpec struct {
	Name        string `yaml:"name"`
	Port        int    `yaml:"port" range:"[1,65535]"`
	TargetPort  int    `yaml:"targetPort" range:"[1,65535]"`
	Protocol    string `yaml:"protocol"` // default TCP
	AppProtocol string `yaml:"appProtocol"`
}

// CallSpec is a call-graph edge. From names a workload and To a service as
// ns/name; either may be a %d pattern naming every generated member. When
// both namespaces are the same %d pattern, edges stay within one generated
// namespace; otherwise the expansion is a cross product. To may instead
// name an external host as ns/<host> (a name with a dot): the ServiceEntry
// in namespace ns whose spec.hosts lists it, as the path matrix names the
// egress row.
type CallSpec struct {
	From    string  `yaml:"from"`
	To      string  `yaml:"to"`
	Port    int     `yaml:"port" range:"[1,65535]"`                                                                                               // default: the service's first port
	RateRPS float64 `yaml:"rate" range:"[0,1000000]" unit:"requests/s" why:"every arrival is simulated; the event budget bounds rate × duration"` // offered requests/s on this edge (optional)
}

// DecodeSpec decodes a Spec from a YAML node (a document or the value of a
// `topology:` key) strictly: unknown fields are errors with file, line, the
// field path and the closest valid field name.
func DecodeSpec(filename string, node *yaml.Node) (*Spec, error) {
	if node == nil {
		return nil, &FieldError{File: filename, Msg: "empty topology spec"}
	}
	if err := yamlcheck.CheckAliases(filename, node); err != nil {
		return nil, err
	}
	if err := checkKnownFields(filename, node, reflect.TypeOf(Spec{}), ""); err != nil {
		return nil, err
	}
	if err := yamlcheck.CheckNumbers(filename, node, reflect.TypeOf(Spec{}), ""); err != nil {
		return nil, err
	}
	var s Spec
	if err := node.Decode(&s); err != nil {
		return nil, yamlErr(filename, err)
	}
	s.file = filename
	s.node = node
	return &s, nil
}

// yamlErr words a yaml.v3 error with the file name (yamlcheck.WithFile).
func yamlErr(filename string, err error) error { return yamlcheck.WithFile(filename, err) }

// ParseSpec parses a compact spec document and builds the topology.
func ParseSpec(filename string, data []byte) (*Topology, error) {
	doc, err := yamlcheck.Document(filename, data)
	if err != nil {
		return nil, yamlErr(filename, err)
	}
	s, err := DecodeSpec(filename, doc)
	if err != nil {
		return nil, err
	}
	return s.Build()
}

// LoadSpec reads and builds a compact spec file.
func LoadSpec(path string) (*Topology, error) {
	data, err := yamlcheck.ReadFile(path, yamlcheck.MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("reading topology spec: %w", err)
	}
	return ParseSpec(path, data)
}

// SetFile records the file the spec came from (used for error messages and
// to resolve Manifests paths); DecodeSpec sets it.
func (s *Spec) SetFile(name string) { s.file = name }

// Build generates the topology the spec describes. Placement is
// deterministic: pods are spread round-robin over nodes ordered so that
// consecutive nodes are in different zones.
func (s *Spec) Build() (*Topology, error) {
	t, _, err := s.build()
	return t, err
}

// BuildWithReport is Build that also returns the LoadReport of any
// manifests and inline policies.
func (s *Spec) BuildWithReport() (*Topology, *LoadReport, error) { return s.build() }

// specBuild carries one Spec.Build through its steps.
type specBuild struct {
	s    *Spec
	b    *builder
	file string
}

// nsInstance is one generated namespace: a NamespaceSpec, expanded.
type nsInstance struct {
	spec  *NamespaceSpec
	name  string
	index int // position in Spec.Namespaces
}

func (sb *specBuild) ferr(field, format string, a ...any) error {
	return &FieldError{File: sb.file, Line: lineOf(sb.s.node, field), Field: field, Msg: fmt.Sprintf(format, a...)}
}

// build runs the steps in order: nodes, namespaces (with their waypoints,
// services and workloads), inline policies and manifests, the builder's
// resolution, and finally the call graph (which names resolved objects).
func (s *Spec) build() (*Topology, *LoadReport, error) {
	file := s.file
	if file == "" {
		file = "spec"
	}
	sb := &specBuild{s: s, file: file, b: newBuilder(LoadOptions{TrustDomain: s.TrustDomain, DefaultNamespace: "default"})}
	sb.b.rep.Files = append(sb.b.rep.Files, file)
	if err := sb.checkTotals(); err != nil {
		return nil, nil, err
	}
	if err := sb.nodes(); err != nil {
		return nil, nil, err
	}
	instances, err := sb.expandNamespaces()
	if err != nil {
		return nil, nil, err
	}
	for _, inst := range instances {
		if err := sb.namespace(inst); err != nil {
			return nil, nil, err
		}
	}
	if err := sb.inline(); err != nil {
		return nil, nil, err
	}
	if err := sb.b.err(); err != nil {
		return nil, nil, err
	}
	t, rep := sb.b.finish()
	if err := sb.b.err(); err != nil {
		return nil, nil, err
	}
	if err := sb.calls(t); err != nil {
		return nil, nil, err
	}
	return t, rep, nil
}

// checkName rejects a generated object name that Kubernetes would refuse
// (names.go).
func (sb *specBuild) checkName(field, what, rule, name string) error {
	if why := checkName(rule, name); why != "" {
		return sb.ferr(field, "invalid %s name %q: it must be a %s and %s (%s)", what, name, rule, why, ruleText(rule))
	}
	return nil
}

// checkLabels rejects label keys and values Kubernetes would refuse.
func (sb *specBuild) checkLabels(field string, labels map[string]string) error {
	for _, k := range sortedKeys(labels) {
		if why := checkLabelKey(k); why != "" {
			return sb.ferr(field, "invalid label key %q: %s", k, why)
		}
		if why := checkLabelValue(labels[k]); why != "" {
			return sb.ferr(joinPath(field, k), "invalid label value %q: %s", labels[k], why)
		}
	}
	return nil
}

// nodes adds the explicit node list, or Count nodes round-robin over Zones.
func (sb *specBuild) nodes() error {
	ns := sb.s.Nodes
	if len(ns.List) > 0 {
		for i, n := range ns.List {
			if n.Name == "" {
				return sb.ferr(fmt.Sprintf("nodes.list[%d].name", i), "missing node name")
			}
			if err := sb.checkName(fmt.Sprintf("nodes.list[%d].name", i), "Node", ruleDNS1123Subdomain, n.Name); err != nil {
				return err
			}
			sb.b.addNode(&Node{Name: n.Name, Zone: n.Zone})
		}
		return nil
	}
	count := ns.Count
	if count < 0 {
		return sb.ferr("nodes.count", "must be positive, got %d", count)
	}
	if count == 0 {
		count = 3
	}
	if count > MaxNodes {
		return sb.ferr("nodes.count", "%d nodes is more than the limit of %d", count, MaxNodes)
	}
	zones := ns.Zones
	if len(zones) == 0 {
		zones = []string{"zone-a"}
	}
	pattern := ns.Name
	if pattern == "" {
		pattern = "node-%d"
	}
	if !strings.Contains(pattern, "%d") {
		return sb.ferr("nodes.name", "pattern %q must contain %%d", pattern)
	}
	for i := 0; i < count; i++ {
		name := fmt.Sprintf(pattern, i+1)
		if err := sb.checkName("nodes.name", "Node", ruleDNS1123Subdomain, name); err != nil {
			return err
		}
		sb.b.addNode(&Node{Name: name, Zone: zones[i%len(zones)]})
	}
	return nil
}

// expandNamespaces expands %d namespace patterns and rejects duplicates.
func (sb *specBuild) expandNamespaces() ([]nsInstance, error) {
	var out []nsInstance
	seen := map[string]bool{}
	for i := range sb.s.Namespaces {
		ns := &sb.s.Namespaces[i]
		field := fmt.Sprintf("namespaces[%d]", i)
		names, err := expand(ns.Name, ns.Count)
		if err != nil {
			return nil, sb.ferr(field+".name", "%v", err)
		}
		if err := checkMode(ns.Mode); err != nil {
			return nil, sb.ferr(field+".mode", "%v", err)
		}
		for _, n := range names {
			if err := sb.checkName(field+".name", "namespace", ruleDNS1123Label, n); err != nil {
				return nil, err
			}
			if seen[n] {
				return nil, sb.ferr(field+".name", "namespace %q defined twice", n)
			}
			seen[n] = true
			out = append(out, nsInstance{spec: ns, name: n, index: i})
		}
	}
	return out, nil
}

// nsWaypoints are the waypoint scopes a namespace spec asks for that its
// services and workloads still have to apply.
type nsWaypoints struct {
	perService, perSA *WaypointSpec
	saDone            map[string]bool // service-account waypoints already added
}

// namespace adds one namespace: its labels, its waypoints, its services and
// its service-less workloads.
func (sb *specBuild) namespace(inst nsInstance) error {
	ns := inst.spec
	field := fmt.Sprintf("namespaces[%d]", inst.index)
	if err := sb.checkLabels(field+".labels", ns.Labels); err != nil {
		return err
	}
	labels := copyLabels(ns.Labels)
	switch ns.Mode {
	case Ambient:
		labels[lblDataplaneMode] = "ambient"
	case Sidecar:
		labels[lblInjection] = "enabled"
	}
	if ns.IngressUseWaypoint {
		labels[lblIngressUseWaypoint] = "true"
	}
	wps, err := sb.namespaceWaypoints(inst, field, labels)
	if err != nil {
		return err
	}
	sb.b.addNamespace(&Namespace{Name: inst.name, Labels: labels})
	for j := range ns.Services {
		if err := sb.service(inst, fmt.Sprintf("%s.services[%d]", field, j), &ns.Services[j], wps); err != nil {
			return err
		}
	}
	for j := range ns.Workloads {
		if err := sb.workload(inst, fmt.Sprintf("%s.workloads[%d]", field, j), &ns.Workloads[j]); err != nil {
			return err
		}
	}
	return nil
}

// namespaceWaypoints adds the namespace-scoped waypoint (labelling the
// namespace to use it) and the named extra waypoints, and returns the
// per-service and per-service-account scopes for the services to apply.
func (sb *specBuild) namespaceWaypoints(inst nsInstance, field string, labels map[string]string) (*nsWaypoints, error) {
	ns := inst.spec
	wps := &nsWaypoints{saDone: map[string]bool{}}
	if wp := ns.Waypoint; wp != nil {
		switch wp.Scope {
		case "", ScopeNamespace:
			name := wp.Name
			if name == "" {
				name = "waypoint"
			}
			if err := sb.b.addSpecWaypoint(inst.name, name, wp.For, wp.Replicas); err != nil {
				return nil, sb.ferr(field+".waypoint", "%v", err)
			}
			labels[lblUseWaypoint] = name
		case "per-service":
			wps.perService = wp
		case ScopeServiceAccount:
			wps.perSA = wp
		default:
			return nil, sb.ferr(field+".waypoint.scope", "unknown value %q (want namespace, per-service, service-account)", wp.Scope)
		}
	}
	for j, wp := range ns.Waypoints {
		if wp.Scope != "" {
			return nil, sb.ferr(fmt.Sprintf("%s.waypoints[%d].scope", field, j), "scope is only valid on the namespace's `waypoint:` field")
		}
		if wp.Name == "" {
			return nil, sb.ferr(fmt.Sprintf("%s.waypoints[%d].name", field, j), "missing waypoint name")
		}
		if err := sb.b.addSpecWaypoint(inst.name, wp.Name, wp.For, wp.Replicas); err != nil {
			return nil, sb.ferr(fmt.Sprintf("%s.waypoints[%d]", field, j), "%v", err)
		}
	}
	return wps, nil
}

// servicePorts validates and defaults a service spec's ports.
func (sb *specBuild) servicePorts(sfield string, ports []PortSpec) ([]ServicePort, error) {
	if len(ports) == 0 {
		ports = []PortSpec{{Name: "http", Port: 8080, AppProtocol: "http"}}
	}
	out := make([]ServicePort, len(ports))
	for k, p := range ports {
		if p.Port <= 0 || p.Port > 65535 {
			return nil, sb.ferr(fmt.Sprintf("%s.ports[%d].port", sfield, k), "port %d out of range 1-65535", p.Port)
		}
		out[k] = ServicePort{Name: p.Name, Port: p.Port, TargetPort: p.TargetPort, Protocol: p.Protocol, AppProtocol: p.AppProtocol}
		defaultServicePort(&out[k])
	}
	return out, nil
}

// service adds the workloads and Services of one service spec (Count of
// them for a %d name), with the waypoints its namespace's scope implies.
func (sb *specBuild) service(inst nsInstance, sfield string, ss *ServiceSpec, wps *nsWaypoints) error {
	field := fmt.Sprintf("namespaces[%d]", inst.index)
	names, err := expand(ss.Name, ss.Count)
	if err != nil {
		return sb.ferr(sfield+".name", "%v", err)
	}
	if err := checkMode(ss.Mode); err != nil {
		return sb.ferr(sfield+".mode", "%v", err)
	}
	kind, err := checkKind(ss.Kind, false)
	if err != nil {
		return sb.ferr(sfield+".kind", "%v", err)
	}
	if ss.Replicas < 0 || ss.Replicas > MaxPods {
		return sb.ferr(sfield+".replicas", "must be between 0 and %d, got %d", MaxPods, ss.Replicas)
	}
	svcPorts, err := sb.servicePorts(sfield, ss.Ports)
	if err != nil {
		return err
	}
	if err := sb.checkLabels(sfield+".labels", ss.Labels); err != nil {
		return err
	}
	for _, name := range names {
		if err := sb.checkName(sfield+".name", "Service", ruleDNS1035Label, name); err != nil {
			return err
		}
		sa := ss.ServiceAccount
		if sa == "" {
			sa = name
		}
		podLabels := copyLabels(ss.Labels)
		podLabels["app"] = name
		applyModeLabels(podLabels, ss.Mode)
		svcLabels := map[string]string{}
		if ss.IngressUseWaypoint {
			svcLabels[lblIngressUseWaypoint] = "true"
		}
		switch {
		case ss.Waypoint != "":
			setUseWaypoint(svcLabels, ss.Waypoint)
		case wps.perService != nil:
			wpName := name + "-waypoint"
			if wps.perService.Name != "" {
				wpName = name + "-" + wps.perService.Name
			}
			if err := sb.b.addSpecWaypoint(inst.name, wpName, wps.perService.For, wps.perService.Replicas); err != nil {
				return sb.ferr(field+".waypoint", "%v", err)
			}
			svcLabels[lblUseWaypoint] = wpName
		}
		if wps.perSA != nil {
			wpName := sa + "-waypoint"
			if !wps.saDone[wpName] {
				wps.saDone[wpName] = true
				f := wps.perSA.For
				if f == "" {
					f = ForWorkload
				}
				if err := sb.b.addSpecWaypoint(inst.name, wpName, f, wps.perSA.Replicas); err != nil {
					return sb.ferr(field+".waypoint", "%v", err)
				}
			}
			podLabels[lblUseWaypoint] = wpName
		}
		replicas := ss.Replicas
		if replicas == 0 {
			replicas = 1
		}
		if ss.NodeName != "" && !sb.b.nodeSeen[ss.NodeName] {
			return sb.ferr(field+".nodeName", "no node %q in nodes", ss.NodeName)
		}
		sb.b.addWorkload(&Workload{Namespace: inst.name, Name: name, Kind: kind, ServiceAccount: sa,
			Replicas: replicas, Labels: podLabels, NodeName: ss.NodeName, Source: sb.file})
		sb.b.addService(&Service{Namespace: inst.name, Name: name, Labels: svcLabels,
			Selector: map[string]string{"app": name}, Ports: svcPorts, Source: sb.file})
	}
	return nil
}

// workload adds the workloads of one service-less workload spec.
func (sb *specBuild) workload(inst nsInstance, wfield string, ws *WorkloadSpec) error {
	names, err := expand(ws.Name, ws.Count)
	if err != nil {
		return sb.ferr(wfield+".name", "%v", err)
	}
	if err := checkMode(ws.Mode); err != nil {
		return sb.ferr(wfield+".mode", "%v", err)
	}
	kind, err := checkKind(ws.Kind, true)
	if err != nil {
		return sb.ferr(wfield+".kind", "%v", err)
	}
	if ws.Replicas < 0 || ws.Replicas > MaxPods {
		return sb.ferr(wfield+".replicas", "must be between 0 and %d, got %d", MaxPods, ws.Replicas)
	}
	if err := sb.checkLabels(wfield+".labels", ws.Labels); err != nil {
		return err
	}
	for _, name := range names {
		if err := sb.checkName(wfield+".name", kind, nameRuleFor("apps", kind), name); err != nil {
			return err
		}
		sa := ws.ServiceAccount
		if sa == "" {
			sa = name
		}
		podLabels := copyLabels(ws.Labels)
		podLabels["app"] = name
		applyModeLabels(podLabels, ws.Mode)
		if ws.Waypoint != "" {
			setUseWaypoint(podLabels, ws.Waypoint)
		}
		replicas := ws.Replicas
		if replicas == 0 || kind == KindPod {
			replicas = 1
		}
		if ws.NodeName != "" && !sb.b.nodeSeen[ws.NodeName] {
			return sb.ferr(wfield+".nodeName", "no node %q in nodes", ws.NodeName)
		}
		sb.b.addWorkload(&Workload{Namespace: inst.name, Name: name, Kind: kind, ServiceAccount: sa,
			Replicas: replicas, Labels: podLabels, Ingress: ws.Ingress, NodeName: ws.NodeName, Source: sb.file})
	}
	return nil
}

// inline decodes the spec's inline policies and loads its manifests
// (relative to the spec file).
func (sb *specBuild) inline() error {
	s := sb.s
	for i := range s.Policies {
		sb.b.decodeDocument(sb.file, &s.Policies[i], fmt.Sprintf("policies[%d]", i))
	}
	if len(s.Manifests) == 0 {
		return nil
	}
	var paths []string
	for _, m := range s.Manifests {
		if !filepath.IsAbs(m) && s.file != "" {
			m = filepath.Join(filepath.Dir(s.file), m)
		}
		paths = append(paths, m)
	}
	return sb.b.loadPaths(paths)
}

// calls expands the call-graph edges against the built topology.
func (sb *specBuild) calls(t *Topology) error {
	for i, c := range sb.s.Calls {
		field := fmt.Sprintf("calls[%d]", i)
		froms, err := matchIDs(c.From, t.Workloads, func(w *Workload) (string, string) { return w.Namespace, w.Name })
		if err != nil {
			return sb.ferr(field+".from", "%v", err)
		}
		var tos []*Service
		if IsHostRef(c.To) {
			// An external host: ns/<host> of a ServiceEntry (the row
			// name the path matrix gives it).
			ns, host, _ := strings.Cut(c.To, "/")
			to := t.ServiceEntryHost(ns, host)
			if to == nil {
				known := "none declared"
				if hs := t.ServiceEntryHosts(); len(hs) > 0 {
					known = strings.Join(hs, ", ")
				}
				return sb.ferr(field+".to", "no ServiceEntry in namespace %q declares host %q (a call to an external host names it namespace/host, the ServiceEntry's namespace and one of its spec.hosts; hosts: %s)", ns, host, known)
			}
			tos = []*Service{to}
		} else if tos, err = matchIDs(c.To, t.Services, func(s *Service) (string, string) { return s.Namespace, s.Name }); err != nil {
			return sb.ferr(field+".to", "%v", err)
		}
		fromNSPat, _, _ := strings.Cut(c.From, "/")
		toNSPat, _, _ := strings.Cut(c.To, "/")
		sameNS := strings.Contains(fromNSPat, "%d") && fromNSPat == toNSPat
		if c.RateRPS < 0 {
			return sb.ferr(field+".rate", "must not be negative")
		}
		if err := sb.checkCalls(field, len(t.Calls), callPairs(froms, tos, sameNS)); err != nil {
			return err
		}
		for _, f := range froms {
			for _, to := range tos {
				if sameNS && f.Namespace != to.Namespace {
					continue
				}
				port := c.Port
				if port == 0 && len(to.Ports) == 0 {
					return sb.ferr(field+".to", "service %s has no ports to call", to.ID())
				}
				if port == 0 {
					port = to.Ports[0].Port
				} else if _, ok := to.Port(port); !ok {
					return sb.ferr(field+".port", "service %s has no port %d", to.ID(), port)
				}
				t.Calls = append(t.Calls, &Call{From: f, To: to, Port: port, RateRPS: c.RateRPS})
			}
		}
	}
	return nil
}

func checkMode(m Mode) error {
	switch m {
	case "", OutOfMesh, Ambient, Sidecar:
		return nil
	}
	return fmt.Errorf("unknown value %q (want out-of-mesh, ambient, sidecar)", m)
}

func checkKind(k string, allowPod bool) (string, error) {
	switch k {
	case "":
		return KindDeployment, nil
	case KindDeployment, KindStatefulSet, KindDaemonSet:
		return k, nil
	case KindPod:
		if allowPod {
			return k, nil
		}
	}
	want := "Deployment, StatefulSet, DaemonSet"
	if allowPod {
		want += ", Pod"
	}
	return "", fmt.Errorf("unknown value %q (want %s)", k, want)
}

// applyModeLabels sets the pod labels that put a pod in mode m (overriding
// its namespace).
func applyModeLabels(labels map[string]string, m Mode) {
	switch m {
	case Ambient:
		labels["istio.io/dataplane-mode"] = "ambient"
		labels["sidecar.istio.io/inject"] = "false"
	case Sidecar:
		labels["sidecar.istio.io/inject"] = "true"
	case OutOfMesh:
		labels["istio.io/dataplane-mode"] = "none"
		labels["sidecar.istio.io/inject"] = "false"
	}
}

func setUseWaypoint(labels map[string]string, ref string) {
	if ns, name, ok := strings.Cut(ref, "/"); ok {
		labels["istio.io/use-waypoint"] = name
		labels["istio.io/use-waypoint-namespace"] = ns
		return
	}
	labels["istio.io/use-waypoint"] = ref
}

func copyLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// expand turns a name (with %d when count > 1) into count names, 1-based.
func expand(name string, count int) ([]string, error) {
	if name == "" {
		return nil, errors.New("missing name")
	}
	if count < 0 {
		return nil, fmt.Errorf("count must not be negative, got %d", count)
	}
	if count > MaxPods {
		return nil, fmt.Errorf("count %d is more than the limit of %d", count, MaxPods)
	}
	if !strings.Contains(name, "%d") {
		if count > 1 {
			return nil, fmt.Errorf("name %q must contain %%d when count is %d", name, count)
		}
		return []string{name}, nil
	}
	if strings.Count(name, "%") != 1 {
		return nil, fmt.Errorf("name %q must contain exactly one %%d", name)
	}
	if count == 0 {
		count = 1
	}
	out := make([]string, count)
	for i := range out {
		out[i] = fmt.Sprintf(name, i+1)
	}
	return out, nil
}

// matchIDs resolves "ns/name" (either part may be a %d pattern) to objects.
func matchIDs[T any](ref string, objs []T, id func(T) (string, string)) ([]T, error) {
	nsPat, namePat, ok := strings.Cut(ref, "/")
	if !ok || nsPat == "" || namePat == "" {
		return nil, fmt.Errorf("%q must be namespace/name", ref)
	}
	var out []T
	for _, o := range objs {
		ns, name := id(o)
		if patternMatch(nsPat, ns) && patternMatch(namePat, name) {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q matches nothing", ref)
	}
	return out, nil
}

// patternMatch matches s against a name with at most one %d (1+ digits).
func patternMatch(pat, s string) bool {
	pre, post, ok := strings.Cut(pat, "%d")
	if !ok {
		return pat == s
	}
	if !strings.HasPrefix(s, pre) || !strings.HasSuffix(s, post) || len(s) <= len(pre)+len(post) {
		return false
	}
	for _, c := range s[len(pre) : len(s)-len(post)] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// lineOf finds the line of a field path like namespaces[0].services[2].name
// in the node a spec was decoded from (0 when unknown).
func lineOf(n *yaml.Node, path string) int {
	n = resolve(n)
	line := 0
	if n != nil {
		line = n.Line
	}
	for _, part := range strings.Split(path, ".") {
		if n == nil {
			return line
		}
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			if n.Kind != yaml.MappingNode {
				return line
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					line = n.Content[i].Line
					next = resolve(n.Content[i+1])
				}
			}
			if next == nil {
				return line
			}
			n = next
		}
		for rest != "" {
			idx, tail, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
				return line
			}
			n = resolve(n.Content[i])
			line = n.Line
			rest = strings.TrimPrefix(tail, "[")
		}
	}
	return line
}
