package harness

import (
	"crypto/rand"
	"fmt"
	"hash/fnv"
	"net/netip"
	"regexp"
	"strings"
)

// runIDPattern is what a run ID looks like: short enough that "as" + ID +
// a 5-character suffix fits a 15-byte Linux interface name.
var runIDPattern = regexp.MustCompile(`^[a-z0-9]{6}$`)

// NewRunID returns a fresh random run ID: 6 characters of [a-z0-9].
func NewRunID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// ValidRunID reports whether id has the form NewRunID produces.
func ValidRunID(id string) bool { return runIDPattern.MatchString(id) }

// NetnsPrefix is the prefix of every network namespace of run id; with id ""
// it matches every run's.
func NetnsPrefix(id string) string { return "as-" + id }

// LinkPrefix is the prefix of every interface name of run id.
func LinkPrefix(id string) string { return "as" + id }

// CgroupName is the name of the cgroup directory holding run id's
// processes (one per hierarchy).
func CgroupName(id string) string { return "ambientsim-" + id }

// RunEnv is the environment variable every process of a run carries, with
// the run ID as value, so Sweep can find processes of crashed runs.
const RunEnv = "AMBIENTSIM_HARNESS_RUN"

// SandboxKind says what a sandbox (a pod network namespace) holds.
type SandboxKind string

// Sandbox kinds.
const (
	SandboxPod      SandboxKind = "pod"
	SandboxWaypoint SandboxKind = "waypoint"
)

// Layout is a Plan resolved for one run: the name of every namespace and
// interface and every address. It is computed, never stored, so the same
// Plan and run ID always give the same Layout.
type Layout struct {
	RunID string
	// Fabric is the namespace whose bridge joins the nodes.
	Fabric       string
	FabricBridge string
	FabricPrefix netip.Prefix // the nodes' uplink subnet
	Nodes        []NodeLayout
	Sandboxes    []SandboxLayout
}

// NodeLayout is one node's namespace and addresses.
type NodeLayout struct {
	Name  string
	Zone  string
	Netns string
	// IP is the node's address on the fabric (its "InternalIP").
	IP netip.Addr
	// Gateway is the node bridge's address, the pods' default route; the
	// node proxy is reachable from pods there.
	Gateway netip.Addr
	PodCIDR netip.Prefix
	// Bridge is the node bridge, Uplink the node end and FabricPort the
	// fabric end of the node's veth to the fabric.
	Bridge, Uplink, FabricPort string
}

// SandboxLayout is one pod's (or waypoint's) namespace and address.
type SandboxLayout struct {
	Name      string
	Kind      SandboxKind
	Node      string
	Namespace string
	Service   string
	Mode      Mode // ModeNone for waypoints
	Netns     string
	IP        netip.Addr
	// NodePort is the node end of the pod's veth (in the node namespace);
	// the pod end is always "eth0".
	NodePort string
}

// PodInterface is the name of the interface inside every pod namespace.
const PodInterface = "eth0"

// maxNodes and maxSandboxesPerNode follow from the address plan: nodes are
// .1–.250 on the fabric /24, and each node's pods fill one /24.
const (
	maxNodes            = 250
	maxSandboxesPerNode = 250
)

// NewLayout resolves p for run id. It validates p first.
func NewLayout(p *Plan, id string) (*Layout, error) {
	if !ValidRunID(id) {
		return nil, fmt.Errorf("layout: run ID %q: want 6 characters of [a-z0-9] (see NewRunID)", id)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(p.Nodes) > maxNodes {
		return nil, fmt.Errorf("layout: %d nodes: the local backend supports at most %d", len(p.Nodes), maxNodes)
	}
	// Every run gets its own /16 inside 100.64.0.0/10 (shared address
	// space), derived from the run ID. The addresses only ever exist inside
	// the run's own namespaces, so two runs never see each other's.
	h := fnv.New32a()
	h.Write([]byte(id))
	second := byte(64 + h.Sum32()%64)
	base := func(third, fourth byte) netip.Addr { return netip.AddrFrom4([4]byte{100, second, third, fourth}) }

	lp := LinkPrefix(id)
	l := &Layout{
		RunID:        id,
		Fabric:       NetnsPrefix(id) + "-fabric",
		FabricBridge: lp + "fb",
		FabricPrefix: netip.PrefixFrom(base(0, 0), 24),
	}
	nodeIndex := map[string]int{}
	for i, n := range p.Nodes {
		nodeIndex[n.Name] = i
		l.Nodes = append(l.Nodes, NodeLayout{
			Name:       n.Name,
			Zone:       orDefault(n.Zone, "zone-default"),
			Netns:      NetnsPrefix(id) + "-n-" + n.Name,
			IP:         base(0, byte(i+1)),
			Gateway:    base(byte(i+1), 1),
			PodCIDR:    netip.PrefixFrom(base(byte(i+1), 0), 24),
			Bridge:     lp + "br",
			Uplink:     lp + "up",
			FabricPort: fmt.Sprintf("%sf%d", lp, i),
		})
	}
	perNode := make([]int, len(p.Nodes))
	add := func(name string, kind SandboxKind, node, ns, svc string, mode Mode) error {
		ni := nodeIndex[node]
		if perNode[ni] >= maxSandboxesPerNode {
			return fmt.Errorf("layout: node %q: more than %d pods", node, maxSandboxesPerNode)
		}
		host := byte(perNode[ni] + 2) // .1 is the gateway
		perNode[ni]++
		l.Sandboxes = append(l.Sandboxes, SandboxLayout{
			Name:      name,
			Kind:      kind,
			Node:      node,
			Namespace: orDefault(ns, "default"),
			Service:   svc,
			Mode:      mode,
			Netns:     NetnsPrefix(id) + "-p-" + name,
			IP:        base(byte(ni+1), host),
			NodePort:  fmt.Sprintf("%sv%d", lp, len(l.Sandboxes)),
		})
		return nil
	}
	for _, pod := range p.Pods {
		if err := add(pod.Name, SandboxPod, pod.Node, pod.Namespace, pod.Service, Mode(orDefault(string(pod.Mode), string(ModeNone)))); err != nil {
			return nil, err
		}
	}
	for _, w := range p.Waypoints {
		if err := add(w.Name, SandboxWaypoint, w.Node, w.Namespace, "", ModeNone); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Node returns the layout of the node called name.
func (l *Layout) Node(name string) (NodeLayout, bool) {
	for _, n := range l.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return NodeLayout{}, false
}

// Sandbox returns the layout of the pod or waypoint called name.
func (l *Layout) Sandbox(name string) (SandboxLayout, bool) {
	for _, s := range l.Sandboxes {
		if s.Name == name {
			return s, true
		}
	}
	return SandboxLayout{}, false
}

// ServiceIPs returns the addresses of the pods behind service svc, in plan
// order.
func (l *Layout) ServiceIPs(svc string) []netip.Addr {
	var out []netip.Addr
	for _, s := range l.Sandboxes {
		if s.Service == svc && svc != "" {
			out = append(out, s.IP)
		}
	}
	return out
}

// Resolve turns a load target into addresses: a pod or waypoint name gives
// its IP, a service name its pods' IPs, an "ip:port" or IP itself.
func (l *Layout) Resolve(target string) ([]netip.Addr, error) {
	if s, ok := l.Sandbox(target); ok {
		return []netip.Addr{s.IP}, nil
	}
	if ips := l.ServiceIPs(target); len(ips) > 0 {
		return ips, nil
	}
	host := target
	if ap, err := netip.ParseAddrPort(target); err == nil {
		host = ap.Addr().String()
	}
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	return nil, fmt.Errorf("layout: target %q: not a pod, waypoint, service or address", target)
}
