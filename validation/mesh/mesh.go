package mesh

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/validation/l4policy"
)

// Dataplane modes of a workload.
const (
	ModeAmbient = "ambient"
	ModeSidecar = "sidecar"
	ModeNone    = "none"
)

// Waypoint scopes (istio.io/waypoint-for).
const (
	ForService  = "service"
	ForWorkload = "workload"
	ForAll      = "all"
	ForNone     = "none"
)

// Mesh is the whole configuration.
type Mesh struct {
	TrustDomain string     `yaml:"trustDomain"` // "cluster.local" if empty
	Workloads   []Workload `yaml:"workloads"`
	Services    []Service  `yaml:"services"`
	Waypoints   []Waypoint `yaml:"waypoints"`
	Routes      []Route    `yaml:"routes"`
	// L4Policies are enforced by the destination ztunnel (or sidecar).
	L4Policies []l4policy.Policy `yaml:"l4Policies"`
	// L7Policies are enforced by the waypoint in front of their target, or by
	// the destination sidecar.
	L7Policies    []L7Policy `yaml:"l7Policies"`
	RootNamespace string     `yaml:"rootNamespace"` // "istio-system" if empty
}

// Workload is one pod.
type Workload struct {
	Name           string `yaml:"name"`
	Namespace      string `yaml:"namespace"`
	ServiceAccount string `yaml:"serviceAccount"`
	IP             string `yaml:"ip"`
	Node           string `yaml:"node"`
	Mode           string `yaml:"mode"` // ambient (default), sidecar, none
	App            string `yaml:"app"`
	Version        string `yaml:"version"`
	// Waypoint is the waypoint (namespace/name or name in the same
	// namespace) for traffic addressed to this pod's IP.
	Waypoint string `yaml:"waypoint"`
	// SidecarPort is the sidecar's mTLS inbound port (15006 if zero).
	SidecarPort uint16 `yaml:"sidecarPort"`
}

// ServicePort maps a service port to a container port.
type ServicePort struct {
	Port       uint16 `yaml:"port"`
	TargetPort uint16 `yaml:"targetPort"` // = Port if zero
	Protocol   string `yaml:"protocol"`   // http (default) or tcp
}

// Service is a ClusterIP service.
type Service struct {
	Name      string        `yaml:"name"`
	Namespace string        `yaml:"namespace"`
	VIP       string        `yaml:"vip"`
	Ports     []ServicePort `yaml:"ports"`
	// Endpoints names the backing workloads (namespace/name or name).
	Endpoints []string `yaml:"endpoints"`
	// Waypoint is the waypoint for traffic addressed to the service.
	Waypoint string `yaml:"waypoint"`
}

// Waypoint is a waypoint proxy deployment (one replica per entry).
type Waypoint struct {
	Name           string `yaml:"name"`
	Namespace      string `yaml:"namespace"`
	ServiceAccount string `yaml:"serviceAccount"` // = Name if empty
	IP             string `yaml:"ip"`             // HBONE listens on IP:15008
	For            string `yaml:"for"`            // service (default), workload, all
}

// Route is an HTTPRoute attached to a service (parentRef kind Service).
type Route struct {
	Name      string      `yaml:"name"`
	Namespace string      `yaml:"namespace"`
	Service   string      `yaml:"service"` // namespace/name or name
	Rules     []RouteRule `yaml:"rules"`
}

// RouteRule is one HTTPRoute rule. The first rule with a matching match wins.
type RouteRule struct {
	Matches       []RouteMatch  `yaml:"matches"` // empty matches everything
	Backends      []Backend     `yaml:"backends"`
	Timeout       time.Duration `yaml:"timeout"` // whole request, all attempts; 0 = none
	Retries       int           `yaml:"retries"` // extra attempts on connect failure or 5xx (idempotent requests)
	PerTryTimeout time.Duration `yaml:"perTryTimeout"`
}

// RouteMatch matches a request; all set fields must match.
type RouteMatch struct {
	PathPrefix string            `yaml:"pathPrefix"`
	PathExact  string            `yaml:"pathExact"`
	Method     string            `yaml:"method"`
	Headers    map[string]string `yaml:"headers"` // exact values
}

// Backend is a weighted backendRef.
type Backend struct {
	Service string `yaml:"service"` // namespace/name or name
	Port    uint16 `yaml:"port"`    // service port; the request's port if zero
	Weight  int    `yaml:"weight"`  // 1 if zero
}

// L7Policy is an AuthorizationPolicy with HTTP fields.
type L7Policy struct {
	Name      string `yaml:"name"`
	Namespace string `yaml:"namespace"`
	// TargetServices binds the policy to services (targetRefs); empty means
	// every service in Namespace (or the mesh, for the root namespace).
	TargetServices []string        `yaml:"targetServices"`
	Action         l4policy.Action `yaml:"action"`
	Rules          []L7Rule        `yaml:"rules"`
}

// L7Rule is one rule: all non-empty fields must match, any value per field.
type L7Rule struct {
	Principals []string `yaml:"principals"`
	Namespaces []string `yaml:"namespaces"`
	Methods    []string `yaml:"methods"`
	Paths      []string `yaml:"paths"` // exact, "prefix*", "*suffix"
	Ports      []uint16 `yaml:"ports"`
}

// Load reads a Mesh from a YAML file; unknown fields are errors.
func Load(path string) (*Mesh, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load mesh: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes a Mesh from YAML; name is used in error messages.
func Parse(name string, data []byte) (*Mesh, error) {
	var m Mesh
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w (check field names against the mesh.Mesh YAML tags)", name, err)
	}
	return &m, nil
}
