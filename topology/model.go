package topology

import (
	"net/netip"
	"sort"
	"sync"
)

// Mode is the dataplane mode of a workload or pod.
type Mode string

const (
	OutOfMesh Mode = "out-of-mesh" // no proxy; plaintext
	Ambient   Mode = "ambient"     // captured by the node's ztunnel
	Sidecar   Mode = "sidecar"     // Envoy sidecar injected into the pod
)

// Category classifies a request path; see the table in doc.go.
type Category string

const (
	CatOutOfMesh       Category = "out-of-mesh"
	CatAmbientL4       Category = "ambient-l4"
	CatAmbientWaypoint Category = "ambient-waypoint"
	CatSidecar         Category = "sidecar"
	CatMixed           Category = "mixed"
)

// Hop kinds, as they appear in Hop.Kind.
const (
	HopZtunnel  = "ztunnel"
	HopWaypoint = "waypoint"
	HopSidecar  = "sidecar"
	HopGateway  = "gateway" // an ingress gateway source (Envoy, mesh identity)
)

// Waypoint-for values (istio.io/waypoint-for).
const (
	ForService  = "service"
	ForWorkload = "workload"
	ForAll      = "all"
	ForNone     = "none"
)

// Waypoint scopes, derived from what attaches to a waypoint.
const (
	ScopeNamespace      = "namespace"       // a Namespace's istio.io/use-waypoint names it
	ScopeService        = "service"         // several Services name it
	ScopeServiceAccount = "service-account" // only pods/workloads name it (workload waypoint)
	ScopeDedicated      = "dedicated"       // exactly one Service names it
)

// DefaultTrustDomain is the trust domain used when none is configured.
const DefaultTrustDomain = "cluster.local"

// DefaultRootNamespace is Istio's root (mesh-config) namespace.
const DefaultRootNamespace = "istio-system"

// Topology is a cluster as data. Build one with LoadSpec, ParseSpec,
// Spec.Build or LoadManifests; the lookup methods and analyses index it
// lazily, so mutate it only before the first query.
type Topology struct {
	TrustDomain   string // e.g. cluster.local
	RootNamespace string // mesh-wide policies live here (istio-system)

	Nodes                  []*Node
	Namespaces             []*Namespace
	Workloads              []*Workload
	Pods                   []*Pod
	Services               []*Service
	Waypoints              []*Waypoint
	AuthorizationPolicies  []*AuthorizationPolicy
	PeerAuthentications    []*PeerAuthentication
	NetworkPolicies        []*NetworkPolicy
	Routes                 []*Route           // HTTPRoute / GRPCRoute
	SidecarResources       []*SidecarResource // VirtualService / DestinationRule / EnvoyFilter (recognised, flagged)
	Gateways               []*Gateway         // every Gateway object, waypoint or not
	ServiceEntries         []*ServiceEntry
	IstioGateways          []*IstioGateway // networking.istio.io Gateway (sidecar-era ingress and egress gateways)
	RequestAuthentications []*RequestAuthentication
	ReferenceGrants        []*ReferenceGrant
	Calls                  []*Call // call-graph edges (compact spec); may be empty

	// SidecarConfigs are networking.istio.io Sidecar resources (sidecar
	// configuration scope, scope.go); MeshConfig is the meshConfig read
	// from the manifests (discovery selectors), nil when there is none.
	SidecarConfigs []*SidecarConfig
	MeshConfig     *MeshConfig

	// WaypointIssues records use-waypoint labels that did not apply
	// (missing or mismatched Gateway), found while resolving.
	WaypointIssues []WaypointIssue

	once sync.Once
	idx  *index

	mxOnce sync.Once
	mx     *Matrix
	fgOnce sync.Once
	fg     []FindingGroup
	// identityClasses makes every source and destination its own class
	// (the pairwise matrix); tests compare it with the real classes.
	identityClasses bool
}

// Node is a Kubernetes node.
type Node struct {
	Name string
	Zone string // topology.kubernetes.io/zone

	// From an exported Node's status ("" when the input has none).
	Ready          string // the Ready condition: True | False | Unknown
	KubeletVersion string // status.nodeInfo.kubeletVersion
	Created        string // metadata.creationTimestamp (RFC 3339)
	Unschedulable  bool   // spec.unschedulable (cordoned)
}

// Namespace is a Kubernetes namespace with the labels that decide enrolment.
type Namespace struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	Mode        Mode // mode its pods get unless they override it
}

// Workload kinds.
const (
	KindDeployment  = "Deployment"
	KindStatefulSet = "StatefulSet"
	KindDaemonSet   = "DaemonSet"
	KindReplicaSet  = "ReplicaSet"
	KindPod         = "Pod"
)

// Workload is a Deployment, StatefulSet, DaemonSet, ReplicaSet or bare Pod.
type Workload struct {
	Namespace      string
	Name           string
	Kind           string // Deployment | StatefulSet | DaemonSet | ReplicaSet | Pod
	ServiceAccount string
	Replicas       int
	Labels         map[string]string // pod template labels
	Mode           Mode
	UseWaypoint    string    // resolved ns/name of the workload-addressed waypoint, or ""
	Waypoint       *Waypoint // resolved workload waypoint (for workload/all), nil if none
	Ingress        bool      // an ingress gateway (Envoy with a mesh identity)
	Egress         bool      // a sidecar-era egress gateway (istio=egressgateway): Envoy with a mesh identity, never a source
	NodeName       string    // every generated replica runs on this node ("" = spread)
	System         bool      // mesh infrastructure (istiod, ztunnel, CNI, egress gateways): never a source in the matrix
	Source         string    // file:line it came from, or "spec"
	// Status is an exported workload's status (nil when the input has
	// none): the readiness checks read the ztunnel and istio-cni
	// DaemonSets' here.
	Status *WorkloadStatus

	ports map[string]int // named container ports, to resolve named targetPorts
}

// WorkloadStatus is the part of a Deployment's or DaemonSet's status the
// readiness checks use. For a Deployment, Desired is status.replicas.
type WorkloadStatus struct {
	Desired   int // DaemonSet desiredNumberScheduled / Deployment replicas
	Current   int // DaemonSet currentNumberScheduled
	Ready     int // numberReady / readyReplicas
	Available int // numberAvailable / availableReplicas
	Updated   int // updatedNumberScheduled / updatedReplicas
}

// ID returns "ns/name".
func (w *Workload) ID() string { return w.Namespace + "/" + w.Name }

// Pod is one replica of a workload, placed on a node.
type Pod struct {
	Namespace      string
	Name           string
	Node           string
	IP             string
	ServiceAccount string
	Workload       *Workload
	Labels         map[string]string
	Mode           Mode
	Waypoint       *Waypoint // workload-addressed waypoint (for workload/all), nil if none

	// Exported is true for a Pod object of the input (false for pods
	// generated from a workload's replicas); Ready and Redirected are
	// read from it: the Ready condition (True | False | Unknown | "") and
	// the ambient.istio.io/redirection=enabled annotation istio-cni sets
	// when it has captured the pod's traffic.
	Exported   bool
	Ready      string
	Redirected bool

	idx       int        // position in Topology.Pods
	addr      netip.Addr // parsed IP (zero if unparsable)
	principal string     // td/ns/<ns>/sa/<sa>, without spiffe://
}

// ID returns "ns/name".
func (p *Pod) ID() string { return p.Namespace + "/" + p.Name }

// Identity returns the pod's SPIFFE identity, spiffe://td/ns/<ns>/sa/<sa>.
func (p *Pod) Identity(trustDomain string) string {
	return "spiffe://" + principalOf(trustDomain, p.Namespace, p.ServiceAccount)
}

func principalOf(td, ns, sa string) string {
	if td == "" {
		td = DefaultTrustDomain
	}
	if sa == "" {
		sa = "default"
	}
	return td + "/ns/" + ns + "/sa/" + sa
}

// Service is a Kubernetes Service.
type Service struct {
	Namespace          string
	Name               string
	Labels             map[string]string
	Annotations        map[string]string
	Selector           map[string]string
	Ports              []ServicePort
	Waypoint           *Waypoint // resolved service waypoint (for service/all), nil if none
	UseWaypoint        string    // the use-waypoint it asked for (ns/name), resolved or not
	IngressUseWaypoint bool      // istio.io/ingress-use-waypoint=true on the Service or its Namespace
	Type               string    // ClusterIP (default) | NodePort | LoadBalancer | ExternalName; "ServiceEntry" for AsService
	Source             string

	entry *ServiceEntry // set on a ServiceEntry's AsService view
}

// Entry returns the ServiceEntry a path-matrix destination stands for, or
// nil for a Kubernetes Service.
func (s *Service) Entry() *ServiceEntry { return s.entry }

// Exposed reports whether clients outside the cluster reach the Service
// directly (type LoadBalancer or NodePort).
func (s *Service) Exposed() bool { return s.Type == "LoadBalancer" || s.Type == "NodePort" }

// ID returns "ns/name".
func (s *Service) ID() string { return s.Namespace + "/" + s.Name }

// TargetPort maps a service port to the pod port it forwards to; unknown
// ports map to themselves.
func (s *Service) TargetPort(port int) int {
	for _, p := range s.Ports {
		if p.Port == port {
			if p.TargetPort != 0 {
				return p.TargetPort
			}
			return p.Port
		}
	}
	return port
}

// Port returns the service port with the given number.
func (s *Service) Port(port int) (ServicePort, bool) {
	for _, p := range s.Ports {
		if p.Port == port {
			return p, true
		}
	}
	return ServicePort{}, false
}

// ServicePort is one port of a Service. TargetPort defaults to Port and
// Protocol to TCP.
type ServicePort struct {
	Name        string
	Port        int
	TargetPort  int
	TargetName  string // a named targetPort, resolved against container ports (TargetPort holds the result)
	Protocol    string
	AppProtocol string
}

// Waypoint is a Gateway with gatewayClassName istio-waypoint.
type Waypoint struct {
	Namespace string
	Name      string
	For       string // service | workload | all | none (default service)
	Replicas  int
	Scope     string // namespace | service | service-account | dedicated (derived)
	Pods      []*Pod // synthesised replicas (or real pods when exported)
	Serves    []*Service
	Workloads []*Workload // workloads whose pods use it for pod-addressed traffic
	Source    string
}

// ID returns "ns/name".
func (w *Waypoint) ID() string { return w.Namespace + "/" + w.Name }

// Instance returns "waypoint/<ns>/<name>".
func (w *Waypoint) Instance() string { return "waypoint/" + w.Namespace + "/" + w.Name }

// ServiceAccount is the waypoint's service account: the Gateway's name.
func (w *Waypoint) ServiceAccount() string { return w.Name }

// Identity returns spiffe://td/ns/<ns>/sa/<gateway-name>.
func (w *Waypoint) Identity(trustDomain string) string {
	return "spiffe://" + principalOf(trustDomain, w.Namespace, w.Name)
}

// ServesServices reports whether service-addressed traffic may use it.
func (w *Waypoint) ServesServices() bool { return w.For == ForService || w.For == ForAll }

// ServesWorkloads reports whether pod-addressed traffic may use it.
func (w *Waypoint) ServesWorkloads() bool { return w.For == ForWorkload || w.For == ForAll }

// Gateway is any Gateway API Gateway (waypoints are also listed in
// Topology.Waypoints).
type Gateway struct {
	Namespace   string
	Name        string
	Class       string
	Labels      map[string]string
	Annotations map[string]string
	Listeners   []Listener
	Source      string

	// Deployed is the workload that runs the gateway's proxy: exported, or
	// the one Istio deploys for gatewayClassName istio (Deployment, Service
	// and ServiceAccount <name>-istio); nil for waypoints and other classes.
	Deployed *Workload
	// Service is the gateway proxy's Service (<name>-istio for class istio).
	Service *Service
}

// Listener is one Gateway listener.
type Listener struct {
	Name     string
	Port     int
	Protocol string // HTTP | HTTPS | TLS | TCP | HBONE | ...
	Hostname string // "" = any
	// AllowedFrom is allowedRoutes.namespaces.from: Same (default) | All |
	// Selector.
	AllowedFrom string
	Selector    *LabelSelector // allowedRoutes.namespaces.selector
	Kinds       []string       // allowedRoutes.kinds; empty = the protocol's defaults
}

// ID returns "ns/name".
func (g *Gateway) ID() string { return g.Namespace + "/" + g.Name }

// WaypointIssue is a use-waypoint label that did not take effect.
type WaypointIssue struct {
	Object string // "Namespace ns", "Service ns/name", "Pod ns/name", "Workload ns/name"
	Target string // the waypoint it named, ns/name
	Reason string // not-found | not-a-waypoint | unsupported-traffic-type
	Detail string
}

// Call is a call-graph edge: From's pods call To on Port.
type Call struct {
	From    *Workload
	To      *Service
	Port    int
	RateRPS float64 // offered rate, 0 if unspecified
}

// Hop is one proxy on a request path.
type Hop struct {
	Kind     string // ztunnel | waypoint | sidecar | gateway
	Instance string // ztunnel/<node>, waypoint/<ns>/<name>, sidecar/<ns>/<pod>, gateway/<ns>/<pod>
}

// Path is the proxies a request traverses, in order, from the source's own
// proxy (if any) to the destination-side proxy of the chosen endpoint.
type Path struct {
	Category Category
	Bypass   bool      // a waypoint serves the destination but this path skips it
	Hops     []Hop     // empty for out-of-mesh to out-of-mesh
	Waypoint *Waypoint // nil if not via a waypoint
	Endpoint *Pod      // the destination pod the hops lead to (nil if the service has none)
	Reason   string    // one sentence: why this path (e.g. "sidecars do not use waypoints")
	// Denied is why a plain request (GET /) on this path is refused, ""
	// when every proxy admits it (set by Paths); DeniedBy names the proxy
	// and policy.
	Denied   string
	DeniedBy string
}

// Request is the L7 view of a request, used by Evaluate at waypoints and
// sidecars. Service, when set, is the Service the request was addressed to
// (used to pick targetRefs policies at a waypoint).
type Request struct {
	Method           string
	Path             string
	Host             string
	Headers          map[string]string
	RequestPrincipal string
	Service          *Service
}

// Decision is the outcome of policy evaluation for one request.
type Decision struct {
	Allow  bool
	By     string // instance of the deciding proxy (ztunnel/<node>, waypoint/<ns>/<name>, sidecar/<ns>/<pod>), "networkpolicy", or ""
	Layer  string // L3 | L4 | L7
	Policy string // ns/name or ""
	Reason string
}

// index holds lookups built once.
type index struct {
	nodes      map[string]*Node
	namespaces map[string]*Namespace
	workloads  map[string]*Workload
	services   map[string]*Service
	waypoints  map[string]*Waypoint
	gateways   map[string]*Gateway
	podsOf     map[*Workload][]*Pod
	endpoints  map[*Service][]*Pod
	servicesOf map[*Pod][]*Service
	pol        *policyIndex
	// svcBySelector indexes Services by namespace and their first selector
	// label (key=value, keys sorted), to find a workload's own Services.
	svcBySelector  map[string][]*Service
	sources        []*Workload // Sources(), computed once
	ambientSources []*Workload // the ambient, non-ingress ones, in the same order
	callsTo        map[*Service][]*Call
	egwMu          sync.Mutex
	egw            map[string]*EgressGatewayRoute // EgressGatewayRoute by ServiceEntry ns/name:port
}

func (t *Topology) index() *index {
	t.once.Do(func() { t.idx = t.buildIndex() })
	return t.idx
}

func (t *Topology) buildIndex() *index {
	ix := &index{
		nodes:      make(map[string]*Node, len(t.Nodes)),
		namespaces: make(map[string]*Namespace, len(t.Namespaces)),
		workloads:  make(map[string]*Workload, len(t.Workloads)),
		services:   make(map[string]*Service, len(t.Services)),
		waypoints:  make(map[string]*Waypoint, len(t.Waypoints)),
		gateways:   make(map[string]*Gateway, len(t.Gateways)),
		podsOf:     make(map[*Workload][]*Pod, len(t.Workloads)),
		endpoints:  make(map[*Service][]*Pod, len(t.Services)),
		servicesOf: make(map[*Pod][]*Service),
	}
	if t.TrustDomain == "" {
		t.TrustDomain = DefaultTrustDomain
	}
	if t.RootNamespace == "" {
		t.RootNamespace = DefaultRootNamespace
	}
	for _, n := range t.Nodes {
		ix.nodes[n.Name] = n
	}
	for _, n := range t.Namespaces {
		ix.namespaces[n.Name] = n
	}
	for _, w := range t.Workloads {
		ix.workloads[w.ID()] = w
	}
	for _, s := range t.Services {
		ix.services[s.ID()] = s
	}
	for _, w := range t.Waypoints {
		ix.waypoints[w.ID()] = w
	}
	for _, g := range t.Gateways {
		ix.gateways[g.ID()] = g
	}
	for i, p := range t.Pods {
		p.idx = i
		p.principal = principalOf(t.TrustDomain, p.Namespace, p.ServiceAccount)
		if a, err := netip.ParseAddr(p.IP); err == nil {
			p.addr = a
		}
		if p.Workload != nil {
			ix.podsOf[p.Workload] = append(ix.podsOf[p.Workload], p)
		}
	}
	for _, wp := range t.Waypoints {
		for _, p := range wp.Pods {
			p.idx = -1
			p.principal = principalOf(t.TrustDomain, p.Namespace, p.ServiceAccount)
			if a, err := netip.ParseAddr(p.IP); err == nil {
				p.addr = a
			}
		}
	}
	// Endpoints: pods in the service's namespace whose labels match the
	// selector. Group pods by namespace first so this stays linear-ish.
	podsByNS := make(map[string][]*Pod)
	for _, p := range t.Pods {
		podsByNS[p.Namespace] = append(podsByNS[p.Namespace], p)
	}
	for _, s := range t.Services {
		if len(s.Selector) == 0 {
			continue
		}
		for _, p := range podsByNS[s.Namespace] {
			if labelsMatch(s.Selector, p.Labels) {
				ix.endpoints[s] = append(ix.endpoints[s], p)
				ix.servicesOf[p] = append(ix.servicesOf[p], s)
			}
		}
	}
	ix.svcBySelector = map[string][]*Service{}
	for _, s := range t.Services {
		if len(s.Selector) == 0 {
			continue
		}
		k := sortedKeys(s.Selector)[0]
		key := s.Namespace + "\x00" + k + "=" + s.Selector[k]
		ix.svcBySelector[key] = append(ix.svcBySelector[key], s)
	}
	for _, w := range t.Workloads {
		if !w.System && len(ix.podsOf[w]) > 0 {
			ix.sources = append(ix.sources, w)
			if isAmbient(w) {
				ix.ambientSources = append(ix.ambientSources, w)
			}
		}
	}
	ix.egw = map[string]*EgressGatewayRoute{}
	ix.callsTo = map[*Service][]*Call{}
	for _, c := range t.Calls {
		ix.callsTo[c.To] = append(ix.callsTo[c.To], c)
	}
	ix.pol = t.buildPolicyIndex(ix)
	return ix
}

// labelsMatch reports whether every selector label is present in labels.
func labelsMatch(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Node returns the node with the given name, or nil.
func (t *Topology) Node(name string) *Node { return t.index().nodes[name] }

// Namespace returns the namespace with the given name, or nil.
func (t *Topology) Namespace(name string) *Namespace { return t.index().namespaces[name] }

// Workload returns the workload ns/name, or nil.
func (t *Topology) Workload(ns, name string) *Workload { return t.index().workloads[ns+"/"+name] }

// Service returns the service ns/name, or nil.
func (t *Topology) Service(ns, name string) *Service { return t.index().services[ns+"/"+name] }

// Waypoint returns the waypoint ns/name, or nil.
func (t *Topology) Waypoint(ns, name string) *Waypoint { return t.index().waypoints[ns+"/"+name] }

// Gateway returns the Gateway ns/name (waypoint or not), or nil.
func (t *Topology) Gateway(ns, name string) *Gateway { return t.index().gateways[ns+"/"+name] }

// PodsOf returns the pods of a workload, in name order.
func (t *Topology) PodsOf(w *Workload) []*Pod { return t.index().podsOf[w] }

// EndpointsOf returns the pods a Service selects, in topology order.
func (t *Topology) EndpointsOf(s *Service) []*Pod { return t.index().endpoints[s] }

// ServicesOf returns the Services that select a pod.
func (t *Topology) ServicesOf(p *Pod) []*Service { return t.index().servicesOf[p] }

// WaypointFor returns the waypoint serving service-addressed traffic to s,
// or nil.
func (t *Topology) WaypointFor(s *Service) *Waypoint { return s.Waypoint }

// sortStrings returns a sorted copy of the keys of m.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// defaultServicePort applies the API defaults: targetPort = port, protocol TCP.
func defaultServicePort(p *ServicePort) {
	if p.TargetPort == 0 {
		p.TargetPort = p.Port
	}
	if p.Protocol == "" {
		p.Protocol = "TCP"
	}
}
