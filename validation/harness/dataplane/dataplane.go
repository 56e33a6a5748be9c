package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/kind"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// Ports the roles use.
const (
	CAPort      = 15012
	MetricsPort = 15020
	// ControlPlaneMetricsPort is istiod's monitoring port.
	ControlPlaneMetricsPort = 15014
	// SidecarInbound is where a sidecar terminates mTLS.
	SidecarInbound = 15006
	// SidecarOutboundBase is the first of the sidecars' explicit outbound
	// listener ports, one per destination (see Commander.destinations).
	SidecarOutboundBase = 15100
	// SidecarMetricsPort: a sidecar shares its pod's IP with the app.
	SidecarMetricsPort = 15021
	EchoHTTP           = 8080 // pod-addressed HTTP
	EchoTCP            = 9000
	ServicePort        = 80 // service VIPs forward 80 → EchoHTTP
)

// Options configures the data-plane wiring.
type Options struct {
	// Binary is the built meshnode (see Build).
	Binary string
	// Dir receives mesh.yaml and the pki/ directory the CA writes.
	Dir string
	// TrustDomain of the mesh ("cluster.local" if empty).
	TrustDomain string
	// ServiceTime is the echo app's time per HTTP request (0 = none).
	ServiceTimeArg string
	// LogLevel of every role ("warn" if empty: proxies log per connection at
	// info, which would cost CPU the measurement then charges them).
	LogLevel string
	// NodeProxyArgs are appended to every node proxy's command line, e.g.
	// {"--pool-max-streams", "1"} for one HBONE connection per stream.
	NodeProxyArgs []string
	// KindDir is Dir as the kind backend's containers see it
	// (kind.SharedMount if empty); Binary is then the path in the image.
	KindDir string
	// KindSystemNamespace holds the control plane's Service on kind
	// (kind.DefaultSystemNamespace if empty).
	KindSystemNamespace string
}

// Build compiles validation/cmd/meshnode from the module at moduleDir into
// outDir and returns the binary's path.
func Build(ctx context.Context, moduleDir, outDir string) (string, error) {
	out := filepath.Join(outDir, "meshnode")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./validation/cmd/meshnode")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build meshnode: %w: %s", err, b)
	}
	return out, nil
}

// Commander implements harness.Commander for meshnode.
type Commander struct {
	opts Options

	mu       sync.Mutex
	meshFor  string // run ID whose mesh.yaml is written
	meshPath string
	vips     map[string]netip.Addr // "ns/service" → VIP
	vipOrder []string              // keys of vips in mesh order
}

// NewCommander returns a Commander; it writes nothing until asked for the
// first command of a run.
func NewCommander(o Options) *Commander {
	if o.TrustDomain == "" {
		o.TrustDomain = "cluster.local"
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	if o.KindDir == "" {
		o.KindDir = kind.SharedMount
	}
	if o.KindSystemNamespace == "" {
		o.KindSystemNamespace = kind.DefaultSystemNamespace
	}
	return &Commander{opts: o}
}

// PKIDir is where the CA writes root.pem and the bootstrap credentials.
func (c *Commander) PKIDir() string { return filepath.Join(c.opts.Dir, "pki") }

// Command turns one process spec into a meshnode command line.
func (c *Commander) Command(spec harness.ProcessSpec) (harness.Command, error) {
	if c.opts.Binary == "" || c.opts.Dir == "" {
		return harness.Command{}, errors.New("dataplane: Options.Binary and Options.Dir are required")
	}
	switch {
	case spec.Backend == "kind":
		return c.kindCommand(spec)
	case spec.Backend != "local":
		return harness.Command{}, fmt.Errorf("dataplane: backend %q: want local or kind", spec.Backend)
	case spec.Layout == nil:
		return harness.Command{}, errors.New("dataplane: local backend: ProcessSpec.Layout is nil")
	}
	meshPath, err := c.ensureMesh(spec.Plan, spec.Layout)
	if err != nil {
		return harness.Command{}, err
	}
	l, p := spec.Layout, spec.Plan
	common := []string{"--mesh", meshPath, "--pki", c.PKIDir(), "--log-level", c.opts.LogLevel}
	caURL := ""
	if p.ControlPlane != "" {
		n, _ := l.Node(p.ControlPlane)
		caURL = fmt.Sprintf("https://%s", netip.AddrPortFrom(n.IP, CAPort))
	}
	needCA := func() error {
		if caURL == "" {
			return fmt.Errorf("dataplane: %s needs the CA: set Plan.ControlPlane to a node", spec.Name)
		}
		return nil
	}
	metrics := netip.AddrPortFrom(spec.IP, MetricsPort).String()
	metricsURL := "http://" + metrics + "/metrics"
	cmd := harness.Command{Path: c.opts.Binary, MetricsURL: metricsURL}
	switch spec.Kind {
	case harness.KindControlPlane:
		// It shares the node's namespace with the node proxy: istiod's
		// monitoring port keeps the metrics apart.
		listen := netip.AddrPortFrom(spec.IP, CAPort).String()
		cm := netip.AddrPortFrom(spec.IP, ControlPlaneMetricsPort).String()
		cmd.Args = append([]string{"ca"}, common...)
		cmd.Args = append(cmd.Args, "--listen", listen, "--metrics", cm)
		cmd.MetricsURL = "http://" + cm + "/metrics"
		cmd.ReadyAddr = listen
	case harness.KindNodeProxy:
		if err := needCA(); err != nil {
			return harness.Command{}, err
		}
		cmd.Args = append([]string{"ztunnel"}, common...)
		cmd.Args = append(cmd.Args, "--ca-url", caURL, "--node", spec.Owner, "--metrics", metrics,
			"--inbound-listen", "0.0.0.0:"+strconv.Itoa(harness.HBONEPort))
		for _, port := range p.CapturePorts {
			cmd.Args = append(cmd.Args, "--capture", fmt.Sprintf("listen=0.0.0.0:%d,mode=tproxy", port))
		}
		cmd.Args = append(cmd.Args, c.opts.NodeProxyArgs...)
		cmd.ReadyAddr = netip.AddrPortFrom(spec.IP, harness.HBONEPort).String()
	case harness.KindWaypoint:
		if err := needCA(); err != nil {
			return harness.Command{}, err
		}
		s, _ := l.Sandbox(spec.Owner)
		cmd.Args = append([]string{"waypoint"}, common...)
		cmd.Args = append(cmd.Args, "--ca-url", caURL, "--name", s.Namespace+"/"+s.Name, "--metrics", metrics)
		cmd.ReadyAddr = netip.AddrPortFrom(spec.IP, harness.HBONEPort).String()
	case harness.KindSidecar:
		if err := needCA(); err != nil {
			return harness.Command{}, err
		}
		s, _ := l.Sandbox(spec.Owner)
		cmd.Args = append([]string{"sidecar"}, common...)
		// It shares the pod's IP with the echo app, so its metrics take the
		// next port.
		sm := netip.AddrPortFrom(spec.IP, SidecarMetricsPort).String()
		cmd.Args = append(cmd.Args, "--ca-url", caURL, "--pod", s.Namespace+"/"+s.Name, "--app-port", strconv.Itoa(EchoHTTP), "--metrics", sm)
		cmd.MetricsURL = "http://" + sm + "/metrics"
		// One explicit outbound listener per possible destination (the
		// app's traffic is not redirected inside the pod; a load generator
		// in a sidecar pod dials these with --via).
		for _, d := range c.destinations(l) {
			cmd.Args = append(cmd.Args, "--outbound", fmt.Sprintf("listen=%s,dest=%s", netip.AddrPortFrom(spec.IP, d.port), d.addr))
		}
		cmd.ReadyAddr = netip.AddrPortFrom(spec.IP, SidecarInbound).String()
	case harness.KindEcho:
		httpAddr := netip.AddrPortFrom(spec.IP, EchoHTTP).String()
		cmd.Args = []string{"echo", "--name", spec.Owner, "--http", httpAddr,
			"--tcp", netip.AddrPortFrom(spec.IP, EchoTCP).String(), "--metrics", metrics, "--log-level", c.opts.LogLevel}
		if c.opts.ServiceTimeArg != "" {
			cmd.Args = append(cmd.Args, "--service-time", c.opts.ServiceTimeArg)
		}
		cmd.ReadyAddr = httpAddr
	case harness.KindLoadGen:
		args, err := c.loadArgs(spec)
		if err != nil {
			return harness.Command{}, err
		}
		cmd.Args, cmd.MetricsURL = args, ""
	default:
		return harness.Command{}, fmt.Errorf("dataplane: no meshnode role for %q", spec.Kind)
	}
	return cmd, nil
}

// destination is one address a sidecar forwards to, and the port of the
// explicit outbound listener that leads there.
type destination struct {
	name string // service or pod name
	addr netip.AddrPort
	port uint16
}

// destinations lists, in a fixed order, every service (VIP:80) and every
// echo pod (IP:8080) of the run; the index fixes the listener port.
func (c *Commander) destinations(l *harness.Layout) []destination {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []destination
	add := func(name string, addr netip.AddrPort) {
		out = append(out, destination{name: name, addr: addr, port: uint16(SidecarOutboundBase + len(out))})
	}
	for _, key := range c.vipOrder {
		_, name, _ := cut(key)
		add(name, netip.AddrPortFrom(c.vips[key], ServicePort))
	}
	for _, s := range l.Sandboxes {
		if s.Kind == harness.SandboxPod {
			add(s.Name, netip.AddrPortFrom(s.IP, EchoHTTP))
		}
	}
	return out
}

// loadCommon is the backend-independent part of `meshnode load`'s
// arguments for spec's load against url.
func loadCommon(spec harness.ProcessSpec, url string) []string {
	ld := spec.Load
	args := []string{"load", "--url", url, "--t", ld.Duration.String(), "--json", spec.ResultPath,
		"--c", strconv.Itoa(max(ld.Connections, 1)), "--labels", spec.Name}
	if ld.RatePerSec > 0 {
		args = append(args, "--qps", strconv.FormatFloat(ld.RatePerSec, 'f', -1, 64), "--mode", "open")
	} else {
		args = append(args, "--mode", "closed")
	}
	if ld.Mode == harness.ConnPerRequest {
		args = append(args, "--keepalive=false")
	}
	if ld.PayloadBytes > 0 {
		args = append(args, "--payload-size", strconv.Itoa(ld.PayloadBytes))
	}
	return args
}

// loadArgs maps a harness.Load onto `meshnode load`.
func (c *Commander) loadArgs(spec harness.ProcessSpec) ([]string, error) {
	ld := spec.Load
	if ld.Protocol == "tcp" {
		return nil, fmt.Errorf("dataplane: load from %s: meshnode load speaks HTTP only; use protocol http", ld.From)
	}
	target, err := c.targetURL(spec.Layout, ld.Target)
	if err != nil {
		return nil, err
	}
	args := loadCommon(spec, target)
	// From a sidecar pod, requests go to the sidecar's outbound listener
	// for the target.
	if pod, ok := spec.Plan.PodByName(ld.From); ok && pod.Mode == harness.ModeSidecar {
		via := ""
		for _, d := range c.destinations(spec.Layout) {
			if d.name == ld.Target {
				via = netip.AddrPortFrom(spec.IP, d.port).String()
			}
		}
		if via == "" {
			return nil, fmt.Errorf("dataplane: load from sidecar pod %s: target %q is not a service or pod of the plan", ld.From, ld.Target)
		}
		args = append(args, "--via", via)
	}
	return args, nil
}

// targetURL resolves a load target: a pod → its echo on EchoHTTP, a
// service → its VIP on ServicePort, an ip:port as is.
func (c *Commander) targetURL(l *harness.Layout, target string) (string, error) {
	if s, ok := l.Sandbox(target); ok {
		return "http://" + netip.AddrPortFrom(s.IP, EchoHTTP).String() + "/", nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, vip := range c.vips {
		if _, name, _ := cut(key); name == target || key == target {
			return "http://" + netip.AddrPortFrom(vip, ServicePort).String() + "/", nil
		}
	}
	if ap, err := netip.ParseAddrPort(target); err == nil {
		return "http://" + ap.String() + "/", nil
	}
	return "", fmt.Errorf("dataplane: load target %q: not a pod, a service or ip:port", target)
}

func cut(key string) (string, string, bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return "", key, false
}

// ensureMesh writes mesh.yaml for the run once and returns its path.
func (c *Commander) ensureMesh(p *harness.Plan, l *harness.Layout) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.meshFor == l.RunID {
		return c.meshPath, nil
	}
	m, vips, err := buildMesh(p, l, c.opts.TrustDomain)
	if err != nil {
		return "", err
	}
	var order []string
	for _, svc := range m.Services {
		order = append(order, svc.Namespace+"/"+svc.Name)
	}
	data, err := yaml.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("dataplane: render mesh: %w", err)
	}
	// The roles read it strictly; fail here rather than in every process.
	if _, err := mesh.Parse("mesh.yaml", data); err != nil {
		return "", fmt.Errorf("dataplane: generated mesh does not parse: %w", err)
	}
	if err := os.MkdirAll(c.PKIDir(), 0o700); err != nil {
		return "", fmt.Errorf("dataplane: %w", err)
	}
	path := filepath.Join(c.opts.Dir, "mesh-"+l.RunID+".yaml")
	if err := writeAtomic(path, data); err != nil {
		return "", err
	}
	c.meshFor, c.meshPath, c.vips, c.vipOrder = l.RunID, path, vips, order
	return path, nil
}

// Mesh renders the mesh description of plan as laid out by l.
func Mesh(p *harness.Plan, l *harness.Layout, trustDomain string) (*mesh.Mesh, error) {
	m, _, err := buildMesh(p, l, trustDomain)
	return m, err
}

func buildMesh(p *harness.Plan, l *harness.Layout, trustDomain string) (*mesh.Mesh, map[string]netip.Addr, error) {
	if trustDomain == "" {
		trustDomain = "cluster.local"
	}
	m := &mesh.Mesh{TrustDomain: trustDomain}
	for _, pod := range p.Pods {
		s, ok := l.Sandbox(pod.Name)
		if !ok {
			return nil, nil, fmt.Errorf("dataplane: pod %q is not in the layout", pod.Name)
		}
		mode := mesh.ModeNone
		switch pod.Mode {
		case harness.ModeAmbient:
			mode = mesh.ModeAmbient
		case harness.ModeSidecar:
			mode = mesh.ModeSidecar
		}
		m.Workloads = append(m.Workloads, mesh.Workload{
			Name: pod.Name, Namespace: s.Namespace, ServiceAccount: orDefault(pod.ServiceAccount, pod.Name),
			IP: s.IP.String(), Node: pod.Node, Mode: mode, App: pod.Service,
		})
	}
	for _, w := range p.Waypoints {
		s, _ := l.Sandbox(w.Name)
		m.Waypoints = append(m.Waypoints, mesh.Waypoint{Name: w.Name, Namespace: s.Namespace, IP: s.IP.String(), For: mesh.ForService})
	}
	// Service VIPs: the run's /16, third octet 254 (node pod CIDRs use 1–250).
	vips := map[string]netip.Addr{}
	base := l.FabricPrefix.Addr().As4()
	var order []string
	endpoints := map[string][]string{}
	for _, pod := range p.Pods {
		if pod.Service == "" {
			continue
		}
		s, _ := l.Sandbox(pod.Name)
		key := s.Namespace + "/" + pod.Service
		if _, ok := endpoints[key]; !ok {
			order = append(order, key)
		}
		endpoints[key] = append(endpoints[key], pod.Name)
	}
	if len(order) > 250 {
		return nil, nil, fmt.Errorf("dataplane: %d services: at most 250 fit the VIP range", len(order))
	}
	waypointOf := map[string]string{}
	for _, w := range p.Waypoints {
		ns := orDefault(w.Namespace, "default")
		for _, svc := range w.Services {
			waypointOf[ns+"/"+svc] = w.Name
		}
	}
	for i, key := range order {
		ns, name, _ := cut(key)
		vip := netip.AddrFrom4([4]byte{base[0], base[1], 254, byte(i + 1)})
		vips[key] = vip
		m.Services = append(m.Services, mesh.Service{
			Name: name, Namespace: ns, VIP: vip.String(), Endpoints: endpoints[key], Waypoint: waypointOf[key],
			Ports: []mesh.ServicePort{{Port: ServicePort, TargetPort: EchoHTTP, Protocol: "http"}, {Port: EchoTCP, TargetPort: EchoTCP, Protocol: "tcp"}},
		})
	}
	return m, vips, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("dataplane: write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("dataplane: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("dataplane: write %s: %w", path, err)
	}
	return nil
}
