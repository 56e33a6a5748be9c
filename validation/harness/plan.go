package harness

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Role is a job a pod's processes do in an experiment.
type Role string

// Pod roles. A pod may hold several, e.g. an echo app with a sidecar.
const (
	RoleEcho    Role = "echo"    // the echo application (a server)
	RoleLoadGen Role = "loadgen" // a load generator (started by Run, not Setup)
	RoleSidecar Role = "sidecar" // a sidecar proxy next to the app in the same pod
)

// Mode is a pod's data-plane mode.
type Mode string

// Pod modes.
const (
	// ModeNone is out of the mesh: nothing captures the pod's traffic.
	ModeNone Mode = "none"
	// ModeAmbient pods have their traffic captured by their node's proxy:
	// inbound HBONE (port 15008) to the pod's IP, and outbound connections
	// to Plan.CapturePorts.
	ModeAmbient Mode = "ambient"
	// ModeSidecar pods run a sidecar process (RoleSidecar) that handles
	// their traffic itself.
	ModeSidecar Mode = "sidecar"
)

// HBONEPort is the port inbound HBONE is captured on.
const HBONEPort = 15008

// Plan is the cluster to build: nodes, pods and the mesh's proxies, plus
// the network the nodes should see between them. It names no backend: the
// local backend turns it into network namespaces, the kind backend into a
// kind cluster and manifests.
type Plan struct {
	Nodes       []Node
	Pods        []Pod
	NodeProxies []NodeProxy
	Waypoints   []Waypoint
	Network     Network
	// ControlPlane names the node whose namespace runs the control-plane
	// process (the CA, istiod's role) before any proxy starts; "" = none.
	ControlPlane string
	// CapturePorts are the destination TCP ports of ambient pods' outbound
	// connections that their node proxy captures (the apps' ports, e.g.
	// 8080); HBONEPort inbound is always captured for ambient pods.
	CapturePorts []int
}

// Node is one Kubernetes node.
type Node struct {
	Name string
	Zone string // topology.kubernetes.io/zone; "" = the default zone
}

// Pod is one workload pod.
type Pod struct {
	Name           string
	Node           string // name of the Node it runs on
	Namespace      string // Kubernetes namespace; "" = "default"
	ServiceAccount string // "" = "default"
	Service        string // Service fronting it; "" = none
	Roles          []Role
	Mode           Mode // "" = ModeNone
}

// HasRole reports whether the pod plays role r.
func (p Pod) HasRole(r Role) bool {
	for _, have := range p.Roles {
		if have == r {
			return true
		}
	}
	return false
}

// NodeProxy is the per-node L4 proxy (ztunnel-like) on one node.
type NodeProxy struct {
	Node string
}

// Waypoint is an L7 proxy (waypoint-like) running as its own pod.
type Waypoint struct {
	Name      string
	Node      string
	Namespace string // "" = "default"
	// Services are the services (in Namespace) whose service-addressed
	// traffic goes through this waypoint (istio.io/use-waypoint).
	Services []string
}

// Network holds the link properties wished for between nodes. The zero
// value asks for nothing: a plain, unshaped link.
type Network struct {
	CrossNode LinkShape // between two nodes of the same zone
	CrossZone LinkShape // between nodes of different zones
}

// LinkShape is what one direction of a link should look like.
type LinkShape struct {
	// Delay is the one-way delay added to each packet in each direction, so
	// the round trip grows by 2×Delay. Needs sch_netem.
	Delay time.Duration
	// BandwidthBitsPerSec caps each direction; 0 means unlimited.
	BandwidthBitsPerSec int64
}

// IsZero reports whether the shape asks for nothing.
func (s LinkShape) IsZero() bool { return s.Delay == 0 && s.BandwidthBitsPerSec == 0 }

// dnsLabel is a Kubernetes object name (RFC 1123 label), short enough to
// become part of a network namespace or cgroup name.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$`)

// Validate checks that names are well formed and unique and that every
// reference resolves. It returns all problems at once, each naming the
// offending field.
func (p *Plan) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if len(p.Nodes) == 0 {
		bad("plan: nodes: at least one node is required")
	}
	nodes := map[string]bool{}
	for i, n := range p.Nodes {
		if !dnsLabel.MatchString(n.Name) {
			bad("plan: nodes[%d].name %q: want a lowercase DNS label of at most 42 characters (e.g. %q)", i, n.Name, "node-a")
		}
		if nodes[n.Name] {
			bad("plan: nodes[%d].name %q: duplicate node name", i, n.Name)
		}
		nodes[n.Name] = true
	}
	// Pods and waypoints share one name space: both become pod sandboxes.
	sandboxes := map[string]string{}
	checkSandbox := func(field, name, node string) {
		if !dnsLabel.MatchString(name) {
			bad("plan: %s.name %q: want a lowercase DNS label of at most 42 characters", field, name)
		}
		if prev, dup := sandboxes[name]; dup {
			bad("plan: %s.name %q: already used by %s", field, name, prev)
		}
		sandboxes[name] = field
		if !nodes[node] {
			bad("plan: %s.node %q: no such node (nodes are %v)", field, node, nodeNames(p.Nodes))
		}
	}
	for i, pod := range p.Pods {
		field := fmt.Sprintf("pods[%d]", i)
		checkSandbox(field, pod.Name, pod.Node)
		if len(pod.Roles) == 0 {
			bad("plan: %s.roles: empty; give at least one of %q, %q, %q", field, RoleEcho, RoleLoadGen, RoleSidecar)
		}
		for j, r := range pod.Roles {
			switch r {
			case RoleEcho, RoleLoadGen, RoleSidecar:
			default:
				bad("plan: %s.roles[%d] %q: unknown role; want %q, %q or %q", field, j, r, RoleEcho, RoleLoadGen, RoleSidecar)
			}
		}
		switch pod.Mode {
		case "", ModeNone:
		case ModeAmbient:
			if !hasNodeProxy(p, pod.Node) {
				bad("plan: %s.mode %q: node %q has no node proxy to capture the pod's traffic; add nodeProxies: [{node: %s}]", field, pod.Mode, pod.Node, pod.Node)
			}
		case ModeSidecar:
			if !pod.HasRole(RoleSidecar) {
				bad("plan: %s.mode %q: the pod has no %q role", field, pod.Mode, RoleSidecar)
			}
		default:
			bad("plan: %s.mode %q: want %q, %q or %q", field, pod.Mode, ModeNone, ModeAmbient, ModeSidecar)
		}
		if pod.Service != "" && !dnsLabel.MatchString(pod.Service) {
			bad("plan: %s.service %q: want a lowercase DNS label", field, pod.Service)
		}
	}
	services := map[string]bool{}
	for _, pod := range p.Pods {
		if pod.Service != "" {
			services[orDefault(pod.Namespace, "default")+"/"+pod.Service] = true
		}
	}
	for i, w := range p.Waypoints {
		checkSandbox(fmt.Sprintf("waypoints[%d]", i), w.Name, w.Node)
		for j, svc := range w.Services {
			if !services[orDefault(w.Namespace, "default")+"/"+svc] {
				bad("plan: waypoints[%d].services[%d] %q: no pod in namespace %q has this service", i, j, svc, orDefault(w.Namespace, "default"))
			}
		}
	}
	proxied := map[string]bool{}
	for i, np := range p.NodeProxies {
		if !nodes[np.Node] {
			bad("plan: nodeProxies[%d].node %q: no such node", i, np.Node)
		}
		if proxied[np.Node] {
			bad("plan: nodeProxies[%d].node %q: a node has at most one node proxy", i, np.Node)
		}
		proxied[np.Node] = true
	}
	for _, l := range []struct {
		field string
		shape LinkShape
	}{{"crossNode", p.Network.CrossNode}, {"crossZone", p.Network.CrossZone}} {
		if l.shape.Delay < 0 || l.shape.BandwidthBitsPerSec < 0 {
			bad("plan: network.%s: delay and bandwidth must not be negative", l.field)
		}
	}
	if p.ControlPlane != "" && !nodes[p.ControlPlane] {
		bad("plan: controlPlane %q: no such node (nodes are %v)", p.ControlPlane, nodeNames(p.Nodes))
	}
	for i, port := range p.CapturePorts {
		if port <= 0 || port > 65535 || port == HBONEPort {
			bad("plan: capturePorts[%d] %d: want a TCP port other than %d", i, port, HBONEPort)
		}
	}
	return errors.Join(errs...)
}

func hasNodeProxy(p *Plan, node string) bool {
	for _, np := range p.NodeProxies {
		if np.Node == node {
			return true
		}
	}
	return false
}

// NodeByName returns the node called name.
func (p *Plan) NodeByName(name string) (Node, bool) {
	for _, n := range p.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// PodByName returns the pod called name.
func (p *Plan) PodByName(name string) (Pod, bool) {
	for _, pod := range p.Pods {
		if pod.Name == name {
			return pod, true
		}
	}
	return Pod{}, false
}

func nodeNames(nodes []Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
