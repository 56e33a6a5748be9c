package dataplane

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/kind"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// On kind (see validation/kind's Discovery) the mesh file names every
// address: pods and waypoints by their headless Services' DNS names,
// service VIPs by the Services' names (their ClusterIPs). meshnode
// resolves them at start-up, waiting up to KindResolveTimeout, and
// re-resolves every KindReResolve, exiting (status 3) to be restarted
// when a name moved. Listen addresses are $(POD_IP) and $(HOST_IP).
//
// Capture on kind: outbound, explicit. A load generator in an ambient pod
// dials its node proxy (host network) at $(HOST_IP):<port>, one listener
// per (ambient source pod on that node, destination), KindOutboundBase
// upwards in KindDestinations order; the listener, not the kernel, tells
// the proxy who the source is. Inbound, node-level policy routing (the
// kind backend's Options.InboundCapture): TCP to the node's pod CIDR on
// port 15008 is delivered to the node itself, where the node proxy's
// transparent listener (--inbound-listen 0.0.0.0:15008) accepts it with
// the pod's IP as local address.
const (
	// KindOutboundBase is the first host port of the node proxies'
	// explicit outbound listeners on kind.
	KindOutboundBase = 16000
	// KindResolveTimeout bounds every process's wait for its names.
	KindResolveTimeout = 120 * time.Second
	// KindReResolve is how often processes check their names moved.
	KindReResolve = 10 * time.Second
	// KindMeshFile is the mesh file's name in the shared directory.
	KindMeshFile = "mesh.yaml"
	// KindWaypointPort is where a waypoint pod listens for HBONE on kind:
	// its Service maps port 15008 there, so HBONE to the waypoint (its
	// ClusterIP:15008, DNATed to podIP:15009) escapes the inbound capture,
	// which takes every pod-CIDR destination on 15008.
	KindWaypointPort = 15009
)

// KindDestination is one destination an explicit listener leads to.
type KindDestination struct {
	Name string // plan service or pod name
	Addr string // DNS name:port
}

// KindDestinations lists, in a fixed order, every service (name:80) and
// every echo pod (name:8080) of plan: what a load may target.
func KindDestinations(p *harness.Plan) []KindDestination {
	var out []KindDestination
	seen := map[string]bool{}
	for _, pod := range p.Pods {
		ns := orDefault(pod.Namespace, "default")
		if pod.Service != "" && pod.HasRole(harness.RoleEcho) && !seen[ns+"/"+pod.Service] {
			seen[ns+"/"+pod.Service] = true
			out = append(out, KindDestination{pod.Service, kind.ServiceDNSName(pod.Service, ns) + ":" + strconv.Itoa(ServicePort)})
		}
	}
	for _, pod := range p.Pods {
		if pod.HasRole(harness.RoleEcho) {
			out = append(out, KindDestination{pod.Name, kind.PodDNSName(pod.Name, pod.Namespace) + ":" + strconv.Itoa(EchoHTTP)})
		}
	}
	return out
}

// kindSources lists the ambient load-generator pods on node, in plan order.
func kindSources(p *harness.Plan, node string) []harness.Pod {
	var out []harness.Pod
	for _, pod := range p.Pods {
		if pod.Node == node && pod.Mode == harness.ModeAmbient && pod.HasRole(harness.RoleLoadGen) {
			out = append(out, pod)
		}
	}
	return out
}

// KindOutboundPort is the host port of the explicit listener on pod's
// node that carries pod's traffic to target (a service or echo pod name).
func KindOutboundPort(p *harness.Plan, pod, target string) (int, error) {
	src, ok := p.PodByName(pod)
	if !ok {
		return 0, fmt.Errorf("dataplane: no pod %q", pod)
	}
	dests := KindDestinations(p)
	for i, s := range kindSources(p, src.Node) {
		if s.Name != pod {
			continue
		}
		for j, d := range dests {
			if d.Name == target {
				port := KindOutboundBase + i*len(dests) + j
				if port > 65535 {
					return 0, fmt.Errorf("dataplane: pod %s → %s: listener port %d out of range (too many sources × destinations on node %s)", pod, target, port, src.Node)
				}
				return port, nil
			}
		}
		return 0, fmt.Errorf("dataplane: load target %q: not a service or echo pod of the plan", target)
	}
	return 0, fmt.Errorf("dataplane: pod %q is not an ambient load-generator pod", pod)
}

// KindMesh renders the mesh description of plan for kind: names instead
// of addresses.
func KindMesh(p *harness.Plan, trustDomain string) (*mesh.Mesh, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if trustDomain == "" {
		trustDomain = "cluster.local"
	}
	m := &mesh.Mesh{TrustDomain: trustDomain}
	for _, pod := range p.Pods {
		ns := orDefault(pod.Namespace, "default")
		m.Workloads = append(m.Workloads, mesh.Workload{
			Name: pod.Name, Namespace: ns, ServiceAccount: orDefault(pod.ServiceAccount, pod.Name),
			IP: kind.PodDNSName(pod.Name, ns), Node: pod.Node, Mode: meshMode(pod.Mode), App: pod.Service,
		})
	}
	for _, w := range p.Waypoints {
		ns := orDefault(w.Namespace, "default")
		// Its Service's ClusterIP: see KindWaypointPort.
		m.Waypoints = append(m.Waypoints, mesh.Waypoint{Name: w.Name, Namespace: ns, IP: kind.ServiceDNSName(w.Name, ns), For: mesh.ForService})
	}
	order, endpoints := serviceEndpoints(p)
	waypointOf := waypointsByService(p)
	for _, key := range order {
		ns, name, _ := cut(key)
		m.Services = append(m.Services, mesh.Service{
			Name: name, Namespace: ns, VIP: kind.ServiceDNSName(name, ns), Endpoints: endpoints[key], Waypoint: waypointOf[key],
			Ports: servicePorts(),
		})
	}
	return m, nil
}

// sourceOnly lists the workloads (ns/name) that exist only as load
// generators (Jobs, during a Run): their names may stay unresolved.
func sourceOnly(p *harness.Plan) string {
	var out []string
	for _, pod := range p.Pods {
		if !pod.HasRole(harness.RoleEcho) && !pod.HasRole(harness.RoleSidecar) {
			out = append(out, orDefault(pod.Namespace, "default")+"/"+pod.Name)
		}
	}
	return strings.Join(out, ",")
}

// ensureKindMesh writes the kind mesh file into Options.Dir (the host
// side of the shared directory) once per plan. The control plane's
// command, asked for first by every generation of manifests, starts a
// fresh cluster: the mesh is rewritten and the previous cluster's PKI
// removed, so no process can pick up a stale root before the new CA
// writes its own.
func (c *Commander) ensureKindMesh(p *harness.Plan, fresh bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := fmt.Sprintf("kind:%p", p)
	hostPath := filepath.Join(c.opts.Dir, KindMeshFile)
	if c.meshFor == key && !fresh {
		if _, err := os.Stat(hostPath); err == nil {
			return nil
		}
	}
	if fresh {
		if err := os.RemoveAll(c.PKIDir()); err != nil {
			return fmt.Errorf("dataplane: clear the previous PKI: %w", err)
		}
	}
	m, err := KindMesh(p, c.opts.TrustDomain)
	if err != nil {
		return err
	}
	data, err := mesh.Marshal(m)
	if err != nil {
		return fmt.Errorf("dataplane: render mesh: %w", err)
	}
	if _, err := mesh.Parse("mesh.yaml", data); err != nil {
		return fmt.Errorf("dataplane: generated mesh does not parse: %w", err)
	}
	if err := os.MkdirAll(c.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("dataplane: %w", err)
	}
	if err := writeAtomic(hostPath, data); err != nil {
		return err
	}
	c.meshFor, c.meshPath, c.vips, c.vipOrder = key, hostPath, nil, nil
	return nil
}

// kindCommand is Command for the kind backend.
func (c *Commander) kindCommand(spec harness.ProcessSpec) (harness.Command, error) {
	p := spec.Plan
	if p == nil {
		return harness.Command{}, errors.New("dataplane: kind: ProcessSpec.Plan is nil")
	}
	if err := c.ensureKindMesh(p, spec.Kind == harness.KindControlPlane); err != nil {
		return harness.Command{}, err
	}
	dir := c.opts.KindDir
	common := []string{"--mesh", path.Join(dir, KindMeshFile), "--pki", path.Join(dir, "pki"), "--log-level", c.opts.LogLevel,
		"--resolve-timeout", KindResolveTimeout.String()}
	proxyCommon := append(append([]string(nil), common...), "--re-resolve", KindReResolve.String())
	if opt := sourceOnly(p); opt != "" {
		proxyCommon = append(proxyCommon, "--optional", opt)
	}
	caURL := fmt.Sprintf("https://%s:%d", kind.ServiceDNSName(kind.ControlPlaneService, c.opts.KindSystemNamespace), CAPort)
	if p.ControlPlane == "" && spec.Kind != harness.KindEcho && spec.Kind != harness.KindLoadGen {
		return harness.Command{}, fmt.Errorf("dataplane: %s needs the CA: set Plan.ControlPlane to a node", spec.Name)
	}
	podAddr := func(port int) string { return "$(POD_IP):" + strconv.Itoa(port) }
	cmd := harness.Command{Path: c.opts.Binary, MetricsURL: "http://" + podAddr(MetricsPort) + "/metrics"}
	switch spec.Kind {
	case harness.KindControlPlane:
		cmd.Args = append([]string{"ca"}, common...)
		cmd.Args = append(cmd.Args, "--listen", podAddr(CAPort), "--metrics", podAddr(ControlPlaneMetricsPort))
		cmd.MetricsURL = "http://" + podAddr(ControlPlaneMetricsPort) + "/metrics"
		cmd.ReadyAddr = podAddr(CAPort)
	case harness.KindNodeProxy:
		// Host network: $(POD_IP) is the node's IP.
		cmd.Args = append([]string{"ztunnel"}, proxyCommon...)
		cmd.Args = append(cmd.Args, "--ca-url", caURL, "--node", spec.Owner, "--metrics", "$(HOST_IP):"+strconv.Itoa(MetricsPort),
			"--inbound-listen", "0.0.0.0:"+strconv.Itoa(harness.HBONEPort))
		dests := KindDestinations(p)
		for _, src := range kindSources(p, spec.Owner) {
			for _, d := range dests {
				port, err := KindOutboundPort(p, src.Name, d.Name)
				if err != nil {
					return harness.Command{}, err
				}
				cmd.Args = append(cmd.Args, "--outbound", fmt.Sprintf("source=%s/%s,listen=0.0.0.0:%d,dest=%s",
					orDefault(src.Namespace, "default"), src.Name, port, d.Addr))
			}
		}
		cmd.Args = append(cmd.Args, c.opts.NodeProxyArgs...)
		cmd.MetricsURL = "http://$(HOST_IP):" + strconv.Itoa(MetricsPort) + "/metrics"
		cmd.ReadyAddr = "$(HOST_IP):" + strconv.Itoa(harness.HBONEPort)
	case harness.KindWaypoint:
		w, ok := waypointByName(p, spec.Owner)
		if !ok {
			return harness.Command{}, fmt.Errorf("dataplane: no waypoint %q", spec.Owner)
		}
		cmd.Args = append([]string{"waypoint"}, proxyCommon...)
		cmd.Args = append(cmd.Args, "--ca-url", caURL, "--name", orDefault(w.Namespace, "default")+"/"+w.Name,
			"--listen", podAddr(KindWaypointPort), "--metrics", podAddr(MetricsPort))
		cmd.ReadyAddr = podAddr(KindWaypointPort)
	case harness.KindSidecar:
		pod, ok := p.PodByName(spec.Owner)
		if !ok {
			return harness.Command{}, fmt.Errorf("dataplane: no pod %q", spec.Owner)
		}
		cmd.Args = append([]string{"sidecar"}, proxyCommon...)
		cmd.Args = append(cmd.Args, "--ca-url", caURL, "--pod", orDefault(pod.Namespace, "default")+"/"+pod.Name,
			"--app-port", strconv.Itoa(EchoHTTP), "--metrics", podAddr(SidecarMetricsPort))
		cmd.MetricsURL = "http://" + podAddr(SidecarMetricsPort) + "/metrics"
		for i, d := range KindDestinations(p) {
			cmd.Args = append(cmd.Args, "--outbound", fmt.Sprintf("listen=%s,dest=%s", podAddr(SidecarOutboundBase+i), d.Addr))
		}
		cmd.ReadyAddr = podAddr(SidecarInbound)
	case harness.KindEcho:
		cmd.Args = []string{"echo", "--name", spec.Owner, "--http", podAddr(EchoHTTP), "--tcp", podAddr(EchoTCP),
			"--metrics", podAddr(MetricsPort), "--log-level", c.opts.LogLevel}
		if c.opts.ServiceTimeArg != "" {
			cmd.Args = append(cmd.Args, "--service-time", c.opts.ServiceTimeArg)
		}
		cmd.ReadyAddr = podAddr(EchoHTTP)
	case harness.KindLoadGen:
		args, err := c.kindLoadArgs(spec)
		if err != nil {
			return harness.Command{}, err
		}
		cmd.Args, cmd.MetricsURL = args, ""
	default:
		return harness.Command{}, fmt.Errorf("dataplane: no meshnode role for %q", spec.Kind)
	}
	return cmd, nil
}

// kindLoadArgs is loadArgs on kind: the URL names the target; an ambient
// pod's requests go to its node proxy's listener ($(HOST_IP)), a sidecar
// pod's to its sidecar's listener (in the pod's Deployment, by its DNS
// name: the Job is a pod of its own), an out-of-mesh pod's straight to
// the name.
func (c *Commander) kindLoadArgs(spec harness.ProcessSpec) ([]string, error) {
	ld := spec.Load
	if ld == nil {
		return nil, errors.New("dataplane: load generator without a Load")
	}
	if ld.Protocol == "tcp" {
		return nil, fmt.Errorf("dataplane: load from %s: meshnode load speaks HTTP only; use protocol http", ld.From)
	}
	p := spec.Plan
	dests := KindDestinations(p)
	idx := -1
	for i, d := range dests {
		if d.Name == ld.Target {
			idx = i
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("dataplane: load target %q: not a service or echo pod of the plan", ld.Target)
	}
	args := loadCommon(spec, "http://"+dests[idx].Addr+"/")
	pod, _ := p.PodByName(ld.From)
	switch pod.Mode {
	case harness.ModeAmbient:
		port, err := KindOutboundPort(p, ld.From, ld.Target)
		if err != nil {
			return nil, err
		}
		args = append(args, "--via", "$(HOST_IP):"+strconv.Itoa(port))
	case harness.ModeSidecar:
		args = append(args, "--via", kind.PodDNSName(pod.Name, pod.Namespace)+":"+strconv.Itoa(SidecarOutboundBase+idx))
	}
	return args, nil
}

func waypointByName(p *harness.Plan, name string) (harness.Waypoint, bool) {
	for _, w := range p.Waypoints {
		if w.Name == name {
			return w, true
		}
	}
	return harness.Waypoint{}, false
}

func meshMode(m harness.Mode) string {
	switch m {
	case harness.ModeAmbient:
		return mesh.ModeAmbient
	case harness.ModeSidecar:
		return mesh.ModeSidecar
	}
	return mesh.ModeNone
}

// serviceEndpoints lists the plan's services (namespace/name) in first-use
// order, and each one's pods.
func serviceEndpoints(p *harness.Plan) ([]string, map[string][]string) {
	var order []string
	endpoints := map[string][]string{}
	for _, pod := range p.Pods {
		if pod.Service == "" {
			continue
		}
		key := orDefault(pod.Namespace, "default") + "/" + pod.Service
		if _, ok := endpoints[key]; !ok {
			order = append(order, key)
		}
		endpoints[key] = append(endpoints[key], pod.Name)
	}
	return order, endpoints
}

// waypointsByService maps namespace/service to the waypoint in front of it.
func waypointsByService(p *harness.Plan) map[string]string {
	out := map[string]string{}
	for _, w := range p.Waypoints {
		ns := orDefault(w.Namespace, "default")
		for _, svc := range w.Services {
			out[ns+"/"+svc] = w.Name
		}
	}
	return out
}

func servicePorts() []mesh.ServicePort {
	return []mesh.ServicePort{{Port: ServicePort, TargetPort: EchoHTTP, Protocol: "http"}, {Port: EchoTCP, TargetPort: EchoTCP, Protocol: "tcp"}}
}

// KindOptions configure KindBackend.
type KindOptions struct {
	// ModuleDir is the checkout meshnode is built from ("" = the one
	// around the working directory).
	ModuleDir string
	// Dir receives the generated files (kind/) and the directory shared
	// with every pod (shared/: the mesh file and the PKI). Required.
	Dir string
	// ClusterName of the kind cluster ("ambientsim" if empty).
	ClusterName string
	// NodeProxyArgs are extra node-proxy flags (see Options.NodeProxyArgs).
	NodeProxyArgs []string
	// Runner runs docker, kind, kubectl and go; nil runs them for real.
	Runner harness.Runner
}

// KindBinary is meshnode's path in the kind backend's image.
const KindBinary = "/usr/local/bin/meshnode"

// KindBackend returns the kind backend running the real data plane:
// meshnode built into the FROM-scratch image, a Commander in kind mode
// (names, $(POD_IP)/$(HOST_IP)), the shared directory for the mesh file
// and the PKI, and the inbound capture. Its Setup fails first with
// kind.CheckPrerequisites' message where docker, kind or an engine is
// missing.
func KindBackend(o KindOptions) (*kind.Backend, error) {
	if o.Dir == "" {
		return nil, errors.New("dataplane: KindOptions.Dir is required")
	}
	mod := o.ModuleDir
	if mod == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if mod, err = FindModule(wd); err != nil {
			return nil, fmt.Errorf("dataplane: the kind backend builds meshnode into its image from the ambientsim source tree, and there is no checkout of %s above %s: run from the source tree", ModulePath, wd)
		}
	}
	shared, err := filepath.Abs(filepath.Join(o.Dir, "shared"))
	if err != nil {
		return nil, err
	}
	cmdr := NewCommander(Options{Binary: KindBinary, Dir: shared, NodeProxyArgs: o.NodeProxyArgs})
	return kind.New(kind.Options{
		ClusterName:    o.ClusterName,
		Commander:      cmdr,
		Binaries:       []kind.Binary{{Name: "meshnode", Package: "./validation/cmd/meshnode"}},
		ModuleDir:      mod,
		WorkDir:        filepath.Join(o.Dir, "kind"),
		SharedDir:      shared,
		InboundCapture: true,
	}, o.Runner)
}
