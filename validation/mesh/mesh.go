package mesh

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
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
	TrustDomain string     `yaml:"trustDomain,omitempty"` // "cluster.local" if empty
	Workloads   []Workload `yaml:"workloads,omitempty"`
	Services    []Service  `yaml:"services,omitempty"`
	Waypoints   []Waypoint `yaml:"waypoints,omitempty"`
	Routes      []Route    `yaml:"routes,omitempty"`
	// L4Policies are enforced by the destination ztunnel (or sidecar).
	L4Policies []l4policy.Policy `yaml:"l4Policies"`
	// L7Policies are enforced by the waypoint in front of their target, or by
	// the destination sidecar.
	L7Policies    []L7Policy `yaml:"l7Policies"`
	RootNamespace string     `yaml:"rootNamespace,omitempty"` // "istio-system" if empty
}

// Workload is one pod.
type Workload struct {
	Name           string `yaml:"name,omitempty"`
	Namespace      string `yaml:"namespace,omitempty"`
	ServiceAccount string `yaml:"serviceAccount,omitempty"`
	IP             string `yaml:"ip,omitempty"`
	Node           string `yaml:"node,omitempty"`
	Mode           string `yaml:"mode,omitempty"` // ambient (default), sidecar, none
	App            string `yaml:"app,omitempty"`
	Version        string `yaml:"version,omitempty"`
	// Waypoint is the waypoint (namespace/name or name in the same
	// namespace) for traffic addressed to this pod's IP.
	Waypoint string `yaml:"waypoint,omitempty"`
	// SidecarPort is the sidecar's mTLS inbound port (15006 if zero).
	SidecarPort uint16 `yaml:"sidecarPort,omitempty"`
}

// ServicePort maps a service port to a container port.
type ServicePort struct {
	Port       uint16 `yaml:"port,omitempty"`
	TargetPort uint16 `yaml:"targetPort,omitempty"` // = Port if zero
	Protocol   string `yaml:"protocol,omitempty"`   // http (default) or tcp
}

// Service is a ClusterIP service.
type Service struct {
	Name      string        `yaml:"name,omitempty"`
	Namespace string        `yaml:"namespace,omitempty"`
	VIP       string        `yaml:"vip,omitempty"`
	Ports     []ServicePort `yaml:"ports,omitempty"`
	// Endpoints names the backing workloads (namespace/name or name).
	Endpoints []string `yaml:"endpoints,omitempty"`
	// Waypoint is the waypoint for traffic addressed to the service.
	Waypoint string `yaml:"waypoint,omitempty"`
}

// Waypoint is a waypoint proxy deployment (one replica per entry).
type Waypoint struct {
	Name           string `yaml:"name,omitempty"`
	Namespace      string `yaml:"namespace,omitempty"`
	ServiceAccount string `yaml:"serviceAccount,omitempty"` // = Name if empty
	IP             string `yaml:"ip,omitempty"`             // HBONE listens on IP:15008
	For            string `yaml:"for,omitempty"`            // service (default), workload, all
}

// Route is an HTTPRoute attached to a service (parentRef kind Service).
type Route struct {
	Name      string      `yaml:"name,omitempty"`
	Namespace string      `yaml:"namespace,omitempty"`
	Service   string      `yaml:"service,omitempty"` // namespace/name or name
	Rules     []RouteRule `yaml:"rules,omitempty"`
}

// RouteRule is one HTTPRoute rule. The first rule with a matching match wins.
type RouteRule struct {
	Matches       []RouteMatch  `yaml:"matches,omitempty"` // empty matches everything
	Backends      []Backend     `yaml:"backends,omitempty"`
	Timeout       time.Duration `yaml:"timeout,omitempty"` // whole request, all attempts; 0 = none
	Retries       int           `yaml:"retries,omitempty"` // extra attempts on connect failure or 5xx (idempotent requests)
	PerTryTimeout time.Duration `yaml:"perTryTimeout,omitempty"`
}

// RouteMatch matches a request; all set fields must match.
type RouteMatch struct {
	PathPrefix string            `yaml:"pathPrefix,omitempty"`
	PathExact  string            `yaml:"pathExact,omitempty"`
	Method     string            `yaml:"method,omitempty"`
	Headers    map[string]string `yaml:"headers,omitempty"` // exact values
}

// Backend is a weighted backendRef.
type Backend struct {
	Service string `yaml:"service,omitempty"` // namespace/name or name
	Port    uint16 `yaml:"port,omitempty"`    // service port; the request's port if zero
	Weight  int    `yaml:"weight,omitempty"`  // 1 if zero
}

// L7Policy is an AuthorizationPolicy with HTTP fields.
type L7Policy struct {
	Name      string `yaml:"name,omitempty"`
	Namespace string `yaml:"namespace,omitempty"`
	// TargetServices binds the policy to services (targetRefs); empty means
	// every service in Namespace (or the mesh, for the root namespace).
	TargetServices []string        `yaml:"targetServices,omitempty"`
	Action         l4policy.Action `yaml:"action,omitempty"`
	Rules          []L7Rule        `yaml:"rules,omitempty"`
}

// L7Rule is one rule: all non-empty fields must match, any value per field.
type L7Rule struct {
	Principals []string `yaml:"principals,omitempty"`
	Namespaces []string `yaml:"namespaces,omitempty"`
	Methods    []string `yaml:"methods,omitempty"`
	Paths      []string `yaml:"paths,omitempty"` // exact, "prefix*", "*suffix"
	Ports      []uint16 `yaml:"ports,omitempty"`
}

// Load reads a Mesh from a YAML file; unknown fields are errors.
func Load(path string) (*Mesh, error) {
	data, err := yamlcheck.ReadFile(path, yamlcheck.MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("load mesh: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes a Mesh from YAML; name is used in error messages.
func Parse(name string, data []byte) (*Mesh, error) {
	if _, err := yamlcheck.Document(name, data); err != nil {
		var fe *yamlcheck.FieldError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var m Mesh
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w (check field names against the mesh.Mesh YAML tags)", name, err)
	}
	return &m, nil
}

// Marshal encodes m as YAML that Load reads back.
func Marshal(m *Mesh) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode mesh: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode mesh: %w", err)
	}
	return buf.Bytes(), nil
}

// Write saves m as YAML to path atomically (for `meshnode --mesh`).
func Write(path string, m *Mesh) error {
	data, err := Marshal(m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mesh-*.yaml")
	if err != nil {
		return fmt.Errorf("write mesh %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write mesh %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write mesh %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write mesh %s: %w", path, err)
	}
	return nil
}
