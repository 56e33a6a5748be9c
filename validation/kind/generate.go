package kind

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// Labels the generated objects carry.
const (
	LabelNode      = "ambientsim.io/node" // on kind nodes: the plan's node name
	LabelZone      = "topology.kubernetes.io/zone"
	LabelNodeProxy = "ambientsim.io/nodeproxy" // on kind nodes that run a node proxy
	LabelProcess   = "ambientsim.io/process"   // on pods: harness process name, "/" → "."
	LabelPod       = "ambientsim.io/pod"       // on pods: the plan's pod name
	LabelService   = "ambientsim.io/service"   // on pods: the Service selecting them
	LabelRun       = "ambientsim.io/run"       // on every object: the run ID
)

// ConfigMapName is the ConfigMap holding Options.ConfigFiles, mounted at
// ConfigDir in every container.
const (
	ConfigMapName = "ambientsim-config"
	ConfigDir     = "/etc/ambientsim"
	ScratchDir    = "/var/run/ambientsim"
	// ResultPath is where a load generator writes its result on kind: its
	// standard output, read back with kubectl logs.
	ResultPath = "/dev/stdout"
)

// Binary is one data-plane program built into the image.
type Binary struct {
	Name    string // file name in the image, under /usr/local/bin
	Package string // Go package to build, e.g. ./validation/cmd/nodeproxy
}

// Options configures generation and the kind backend.
type Options struct {
	// RunID labels every object; "" picks harness.NewRunID().
	RunID string
	// ClusterName is the kind cluster's name (default "ambientsim").
	ClusterName string
	// Image is the data-plane image tag (default "ambientsim-dataplane:<run ID>").
	Image string
	// Binaries are built (CGO_ENABLED=0, -trimpath -ldflags "-s -w") into
	// the image.
	Binaries []Binary
	// ModuleDir is the Go module root to build from (default ".").
	ModuleDir string
	// WorkDir receives the generated files (default: a temporary directory).
	WorkDir string
	// Commander gives every container's command line (ProcessSpec.Backend
	// is "kind" and Layout is nil).
	Commander harness.Commander
	// SystemNamespace holds the node proxies (default "ambientsim-system").
	SystemNamespace string
	// ConfigFiles become the ConfigMap mounted at ConfigDir.
	ConfigFiles map[string]string
	// GOARCH of the image (default: this machine's).
	GOARCH string
	// WaitTimeout bounds every kubectl wait (default 180 s).
	WaitTimeout time.Duration
	// LoadGrace is how long a load-generator Job may run past its load's
	// duration (default 60 s).
	LoadGrace time.Duration
	// SharedDir, if set, is a host directory every kind node mounts and
	// every pod sees at SharedMount (hostPath): the data plane's mesh
	// file and the PKI its CA writes for the other processes.
	SharedDir string
	// InboundCapture routes, on every node with a node proxy, TCP to the
	// node's pod CIDR on port harness.HBONEPort to the node itself (policy
	// routing, as the local backend's inbound capture), where the node
	// proxy's transparent listener accepts it (see CaptureSteps).
	InboundCapture bool
}

func (o *Options) defaults() {
	if o.RunID == "" {
		o.RunID = harness.NewRunID()
	}
	if o.ClusterName == "" {
		o.ClusterName = "ambientsim"
	}
	if o.Image == "" {
		o.Image = "ambientsim-dataplane:" + o.RunID
	}
	if o.ModuleDir == "" {
		o.ModuleDir = "."
	}
	if o.SystemNamespace == "" {
		o.SystemNamespace = DefaultSystemNamespace
	}
	if o.GOARCH == "" {
		o.GOARCH = runtime.GOARCH
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = 180 * time.Second
	}
	if o.LoadGrace <= 0 {
		o.LoadGrace = 60 * time.Second
	}
}

// Bundle is everything generated for one plan.
type Bundle struct {
	Cluster    []byte // kind cluster configuration
	Dockerfile []byte
	Manifests  []byte // multi-document YAML: namespaces, config, node proxies, waypoints, workloads, services
	// NotEmulated lists the plan's wishes kind does not honour.
	NotEmulated []string
	// Processes maps each long-running process (harness name) to where
	// it runs: namespace and label selector value.
	Processes []Process
}

// Process is one long-running process as deployed.
type Process struct {
	Name        string // harness process name, e.g. "nodeproxy/node-a"
	Kind        harness.ProcessKind
	Node        string // plan node name
	Namespace   string
	MetricsPort int32 // 0 = none
	MetricsPath string
	// Controller is what runs it, for kubectl rollout status.
	Controller string // e.g. "daemonset/nodeproxy-node-a"
}

// ProcessLabel is the value of LabelProcess for a harness process name.
func ProcessLabel(name string) string { return strings.ReplaceAll(name, "/", ".") }

// Generate renders the kind cluster configuration, the Dockerfile and the
// manifests of plan.
func Generate(plan *harness.Plan, opts Options) (*Bundle, error) {
	opts.defaults()
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	if opts.Commander == nil {
		return nil, errors.New("kind: no Commander: the kind backend needs one to know the data plane's command lines")
	}
	g := &generator{plan: plan, opts: opts}
	b := &Bundle{}
	var err error
	if b.Cluster, err = g.cluster(); err != nil {
		return nil, err
	}
	b.Dockerfile = g.dockerfile()
	if b.Manifests, b.Processes, err = g.manifests(); err != nil {
		return nil, err
	}
	b.NotEmulated = notEmulated(plan.Network)
	if opts.InboundCapture {
		b.NotEmulated = append(b.NotEmulated, captureNotes(plan)...)
	}
	return b, nil
}

// captureNotes says how the kind backend's capture differs from
// ztunnel's in-pod redirection, for the plan at hand.
func captureNotes(p *harness.Plan) []string {
	out := []string{
		"capture differs from ztunnel's in-pod redirection: ambient load generators dial their node proxy's explicit listener at $(HOST_IP) (nothing is redirected inside the pod), and inbound HBONE reaches the node proxy by node-level policy routing of the node's pod CIDR on port 15008",
		"HBONE leaves a node proxy from the node's IP, not the source pod's: destination-reported istio_tcp_* metrics know the source by principal and namespace only (source_workload \"unknown\")",
	}
	hasSidecarServer, hasHBONEClient := false, len(p.Waypoints) > 0
	for _, pod := range p.Pods {
		if pod.Mode == harness.ModeSidecar && pod.HasRole(harness.RoleEcho) {
			hasSidecarServer = true
		}
		if pod.Mode == harness.ModeAmbient {
			hasHBONEClient = true
		}
	}
	if hasSidecarServer && hasHBONEClient {
		out = append(out, "HBONE to a sidecar-mode pod's port 15008 (from a node proxy or waypoint) is captured by that node's policy routing and refused by its node proxy on kind; sidecar-to-sidecar traffic (port 15006) is unaffected")
	}
	return out
}

func notEmulated(n harness.Network) []string {
	var out []string
	for _, l := range []struct {
		name  string
		shape harness.LinkShape
	}{{"cross-node", n.CrossNode}, {"cross-zone", n.CrossZone}} {
		if l.shape.Delay > 0 {
			out = append(out, fmt.Sprintf("%s latency %v not emulated: the kind backend does not shape links", l.name, l.shape.Delay))
		}
		if l.shape.BandwidthBitsPerSec > 0 {
			out = append(out, fmt.Sprintf("%s bandwidth %d bit/s not emulated: the kind backend does not shape links", l.name, l.shape.BandwidthBitsPerSec))
		}
	}
	return out
}

type generator struct {
	plan *harness.Plan
	opts Options
}

func (g *generator) cluster() ([]byte, error) {
	proxied := map[string]bool{}
	for _, np := range g.plan.NodeProxies {
		proxied[np.Node] = true
	}
	var mounts []Mount
	if g.opts.SharedDir != "" {
		mounts = []Mount{{HostPath: g.opts.SharedDir, ContainerPath: SharedMount}}
	}
	c := Cluster{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4", Name: g.opts.ClusterName,
		Nodes: []ClusterNode{{Role: "control-plane", ExtraMounts: mounts}}}
	for _, n := range g.plan.Nodes {
		labels := map[string]string{LabelNode: n.Name, LabelZone: orDefault(n.Zone, "zone-default")}
		if proxied[n.Name] {
			labels[LabelNodeProxy] = "true"
		}
		c.Nodes = append(c.Nodes, ClusterNode{Role: "worker", Labels: labels, ExtraMounts: mounts})
	}
	return marshalDocs(c)
}

func (g *generator) dockerfile() []byte {
	var b strings.Builder
	b.WriteString("# Generated by ambientsim (validation/kind): the data plane's static\n")
	b.WriteString("# binaries (CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\") and nothing else.\n")
	b.WriteString("FROM scratch\n")
	names := make([]string, len(g.opts.Binaries))
	for i, bin := range g.opts.Binaries {
		names[i] = bin.Name
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "COPY bin/%s /usr/local/bin/%s\n", n, n)
	}
	return []byte(b.String())
}

// labels for every object.
func (g *generator) meta(name, ns string, extra map[string]string) ObjectMeta {
	l := map[string]string{LabelRun: g.opts.RunID, "app.kubernetes.io/part-of": "ambientsim"}
	for k, v := range extra {
		l[k] = v
	}
	return ObjectMeta{Name: name, Namespace: ns, Labels: l}
}

// downwardEnv is set in every container; Args may use $(POD_IP) etc.
func downwardEnv() []EnvVar {
	f := func(name, path string) EnvVar {
		return EnvVar{Name: name, ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: path}}}
	}
	return []EnvVar{
		f("POD_IP", "status.podIP"), f("HOST_IP", "status.hostIP"), f("NODE_NAME", "spec.nodeName"),
		f("POD_NAME", "metadata.name"), f("POD_NAMESPACE", "metadata.namespace"),
	}
}

// container asks the Commander for spec's command and turns it into a
// container. It also returns the metrics port and path (0 = none).
func (g *generator) container(name string, spec harness.ProcessSpec) (Container, int32, string, error) {
	spec.Backend = "kind"
	spec.Name = harness.ProcessName(spec.Kind, spec.Owner)
	spec.Plan = g.plan
	spec.Dir = ScratchDir
	cmd, err := g.opts.Commander.Command(spec)
	if err != nil {
		return Container{}, 0, "", fmt.Errorf("kind: %s: command: %w", spec.Name, err)
	}
	if cmd.Path == "" {
		return Container{}, 0, "", fmt.Errorf("kind: %s: the Commander gave no program path", spec.Name)
	}
	c := Container{
		Name:            name,
		Image:           g.opts.Image,
		ImagePullPolicy: "IfNotPresent", // the image is loaded into the nodes, not pulled
		Command:         []string{cmd.Path},
		Args:            cmd.Args,
		Env:             downwardEnv(),
		VolumeMounts:    []VolumeMount{{Name: "scratch", MountPath: ScratchDir}},
	}
	if len(g.opts.ConfigFiles) > 0 {
		c.VolumeMounts = append(c.VolumeMounts, VolumeMount{Name: "config", MountPath: ConfigDir, ReadOnly: true})
	}
	if g.opts.SharedDir != "" {
		c.VolumeMounts = append(c.VolumeMounts, VolumeMount{Name: "shared", MountPath: SharedMount})
	}
	for _, kv := range cmd.Env {
		k, v, _ := strings.Cut(kv, "=")
		c.Env = append(c.Env, EnvVar{Name: k, Value: v})
	}
	if cmd.ReadyAddr != "" {
		port, err := portOf(cmd.ReadyAddr)
		if err != nil {
			return Container{}, 0, "", fmt.Errorf("kind: %s: ReadyAddr: %w", spec.Name, err)
		}
		c.Ports = append(c.Ports, ContainerPort{Name: "ready", ContainerPort: port, Protocol: "TCP"})
		c.ReadinessProbe = &Probe{TCPSocket: &TCPSocketAction{Port: port}, PeriodSeconds: 2, FailureThreshold: 3}
	}
	var metricsPort int32
	var metricsPath string
	if cmd.MetricsURL != "" {
		u, err := url.Parse(cmd.MetricsURL)
		if err != nil {
			return Container{}, 0, "", fmt.Errorf("kind: %s: MetricsURL: %w", spec.Name, err)
		}
		if metricsPort, err = portOf(u.Host); err != nil {
			return Container{}, 0, "", fmt.Errorf("kind: %s: MetricsURL: %w", spec.Name, err)
		}
		metricsPath = u.Path
		if len(c.Ports) == 0 || c.Ports[0].ContainerPort != metricsPort {
			c.Ports = append(c.Ports, ContainerPort{Name: "metrics", ContainerPort: metricsPort, Protocol: "TCP"})
		}
	}
	return c, metricsPort, metricsPath, nil
}

// portOf extracts the port of "host:port", where host may be a $(VAR).
func portOf(hostport string) (int32, error) {
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("port %q: want 1–65535", p)
	}
	return int32(n), nil
}

func (g *generator) volumes() []Volume {
	v := []Volume{{Name: "scratch", EmptyDir: &EmptyDirVolumeSource{}}}
	if len(g.opts.ConfigFiles) > 0 {
		v = append(v, Volume{Name: "config", ConfigMap: &ConfigMapVolumeSource{Name: ConfigMapName}})
	}
	if g.opts.SharedDir != "" {
		v = append(v, Volume{Name: "shared", HostPath: &HostPathVolumeSource{Path: SharedMount, Type: "DirectoryOrCreate"}})
	}
	return v
}

// manifestSet collects the generated objects and the processes they run.
type manifestSet struct {
	docs  []any
	procs []Process
}

func (g *generator) manifests() ([]byte, []Process, error) {
	ms := &manifestSet{docs: g.namespaceDocs()}
	for _, step := range []func(*manifestSet) error{g.controlPlaneDocs, g.nodeProxyDocs, g.waypointDocs, g.workloadDocs} {
		if err := step(ms); err != nil {
			return nil, nil, err
		}
	}
	out, err := marshalDocs(ms.docs...)
	return out, ms.procs, err
}

// namespaceDocs are the namespaces the plan uses (the system namespace
// first; "default" exists already) and, in each, the config files'
// ConfigMap.
func (g *generator) namespaceDocs() []any {
	var docs []any
	sys := g.opts.SystemNamespace
	namespaces := []string{sys}
	seen := map[string]bool{sys: true}
	addNS := func(ns string) {
		if !seen[ns] {
			seen[ns] = true
			namespaces = append(namespaces, ns)
		}
	}
	for _, p := range g.plan.Pods {
		addNS(orDefault(p.Namespace, "default"))
	}
	for _, w := range g.plan.Waypoints {
		addNS(orDefault(w.Namespace, "default"))
	}
	for _, ns := range namespaces {
		if ns != "default" {
			docs = append(docs, Namespace{TypeMeta: TypeMeta{"v1", "Namespace"}, Metadata: g.meta(ns, "", nil)})
		}
		if len(g.opts.ConfigFiles) > 0 {
			docs = append(docs, ConfigMap{TypeMeta: TypeMeta{"v1", "ConfigMap"}, Metadata: g.meta(ConfigMapName, ns, nil), Data: g.opts.ConfigFiles})
		}
	}
	return docs
}

// controlPlaneDocs: the control plane (the CA), a Deployment and a Service
// on its node.
func (g *generator) controlPlaneDocs(ms *manifestSet) error {
	cp := g.plan.ControlPlane
	if cp == "" {
		return nil
	}
	sys := g.opts.SystemNamespace
	grace := int64(5)
	spec := harness.ProcessSpec{Kind: harness.KindControlPlane, Owner: cp, Node: cp}
	c, mport, mpath, err := g.container("controlplane", spec)
	if err != nil {
		return err
	}
	c.Resources = ResourceRequirements{Requests: map[string]string{"cpu": "100m", "memory": "128Mi"}}
	pname := harness.ProcessName(harness.KindControlPlane, cp)
	podLabels := map[string]string{LabelProcess: ProcessLabel(pname), LabelPod: "controlplane"}
	ms.docs = append(ms.docs, g.deployment("controlplane", sys, cp, podLabels, []Container{c}, &grace))
	ms.docs = append(ms.docs, g.service("controlplane", sys, map[string]string{LabelPod: "controlplane"}, c.Ports, false))
	ms.procs = append(ms.procs, Process{Name: pname, Kind: harness.KindControlPlane, Node: cp, Namespace: sys,
		MetricsPort: mport, MetricsPath: mpath, Controller: "deployment/controlplane"})
	return nil
}

// nodeProxyDocs: one DaemonSet per node proxy, pinned by the node label,
// so each keeps the plan's node name (kind names its nodes itself).
func (g *generator) nodeProxyDocs(ms *manifestSet) error {
	sys := g.opts.SystemNamespace
	grace, root := int64(5), int64(0)
	for _, np := range g.plan.NodeProxies {
		name := "nodeproxy-" + np.Node
		spec := harness.ProcessSpec{Kind: harness.KindNodeProxy, Owner: np.Node, Node: np.Node}
		c, mport, mpath, err := g.container("nodeproxy", spec)
		if err != nil {
			return err
		}
		c.Resources = ResourceRequirements{Requests: map[string]string{"cpu": "200m", "memory": "512Mi"}}
		c.SecurityContext = &SecurityContext{Capabilities: &Capabilities{Add: []string{"NET_ADMIN"}}, RunAsUser: &root}
		pname := harness.ProcessName(harness.KindNodeProxy, np.Node)
		podLabels := map[string]string{LabelProcess: ProcessLabel(pname), "app": "nodeproxy"}
		ms.docs = append(ms.docs, DaemonSet{
			TypeMeta: TypeMeta{"apps/v1", "DaemonSet"},
			Metadata: g.meta(name, sys, nil),
			Spec: DaemonSetSpec{
				Selector: LabelSelector{MatchLabels: map[string]string{LabelProcess: ProcessLabel(pname)}},
				Template: PodTemplateSpec{
					Metadata: g.meta("", "", podLabels),
					Spec: PodSpec{
						NodeSelector:                  map[string]string{LabelNode: np.Node},
						HostNetwork:                   true, // reachable on the node IP, like a node agent
						DNSPolicy:                     "ClusterFirstWithHostNet",
						TerminationGracePeriodSeconds: &grace,
						Tolerations:                   []Toleration{{Operator: "Exists"}},
						Containers:                    []Container{c},
						Volumes:                       g.volumes(),
					},
				},
			},
		})
		ms.procs = append(ms.procs, Process{Name: pname, Kind: harness.KindNodeProxy, Node: np.Node, Namespace: sys,
			MetricsPort: mport, MetricsPath: mpath, Controller: "daemonset/" + name})
	}
	return nil
}

// waypointDocs: a Deployment and a Service per waypoint.
func (g *generator) waypointDocs(ms *manifestSet) error {
	grace := int64(5)
	for _, w := range g.plan.Waypoints {
		ns := orDefault(w.Namespace, "default")
		spec := harness.ProcessSpec{Kind: harness.KindWaypoint, Owner: w.Name, Node: w.Node}
		c, mport, mpath, err := g.container("waypoint", spec)
		if err != nil {
			return err
		}
		c.Resources = ResourceRequirements{
			Requests: map[string]string{"cpu": "100m", "memory": "128Mi"},
			Limits:   map[string]string{"cpu": "2", "memory": "1Gi"},
		}
		pname := harness.ProcessName(harness.KindWaypoint, w.Name)
		podLabels := map[string]string{LabelProcess: ProcessLabel(pname), LabelPod: w.Name, "gateway.networking.k8s.io/gateway-name": w.Name}
		ms.docs = append(ms.docs, g.deployment(w.Name, ns, w.Node, podLabels, []Container{c}, &grace))
		// The waypoint is reached at its ClusterIP, port 15008 (HBONE),
		// whatever port the pod listens on (the ready port).
		ports := append([]ContainerPort(nil), c.Ports...)
		svc := g.service(w.Name, ns, map[string]string{LabelPod: w.Name}, ports, false)
		if len(c.Ports) > 0 && c.Ports[0].Name == "ready" {
			svc.Spec.Ports[0].Name, svc.Spec.Ports[0].Port = "hbone", harness.HBONEPort
		}
		ms.docs = append(ms.docs, svc)
		ms.procs = append(ms.procs, Process{Name: pname, Kind: harness.KindWaypoint, Node: w.Node, Namespace: ns,
			MetricsPort: mport, MetricsPath: mpath, Controller: "deployment/" + w.Name})
	}
	return nil
}

// workloadDocs: one Deployment per pod with an echo app or a sidecar (pure
// load-generator pods exist only as Jobs, during Run), every pod's DNS
// Service, and a Service per echo service.
func (g *generator) workloadDocs(ms *manifestSet) error {
	zero := int64(0)
	services := map[string][]ContainerPort{}
	var serviceOrder []string
	for _, p := range g.plan.Pods {
		ns := orDefault(p.Namespace, "default")
		containers, err := g.podContainers(ms, p, ns, func(svc string, ports []ContainerPort) {
			key := ns + "/" + svc
			if _, ok := services[key]; !ok {
				serviceOrder = append(serviceOrder, key)
			}
			services[key] = ports
		})
		if err != nil {
			return err
		}
		// Every plan pod gets its DNS name; a pure load-generator pod's
		// Service selects its Jobs' pods while a load runs.
		// (Plan validation limits pod names to 42 characters, so
		// pod-<name> fits a Service name's 63.)
		ms.docs = append(ms.docs, g.podService(p.Name, ns))
		if len(containers) == 0 {
			continue
		}
		podLabels := map[string]string{LabelPod: p.Name, LabelDNS: p.Name, LabelProcess: ProcessLabel(harness.ProcessName(harness.KindEcho, p.Name))}
		if p.Service != "" {
			podLabels[LabelService] = p.Service
		}
		if p.HasRole(harness.RoleSidecar) {
			podLabels["sidecar.istio.io/inject"] = "false" // our own sidecar, not Istio's
		}
		ms.docs = append(ms.docs, g.deployment(p.Name, ns, p.Node, podLabels, containers, &zero))
	}
	for _, key := range serviceOrder {
		ns, name, _ := strings.Cut(key, "/")
		ms.docs = append(ms.docs, g.service(name, ns, map[string]string{LabelService: name}, services[key], true))
	}
	return nil
}

// podContainers are the echo and sidecar containers of plan pod p, their
// processes added to ms; an echo app's ports are handed to echoService
// when the pod backs a service.
func (g *generator) podContainers(ms *manifestSet, p harness.Pod, ns string, echoService func(svc string, ports []ContainerPort)) ([]Container, error) {
	var containers []Container
	for _, role := range []struct {
		role harness.Role
		kind harness.ProcessKind
	}{{harness.RoleEcho, harness.KindEcho}, {harness.RoleSidecar, harness.KindSidecar}} {
		if !p.HasRole(role.role) {
			continue
		}
		spec := harness.ProcessSpec{Kind: role.kind, Owner: p.Name, Node: p.Node}
		c, mport, mpath, err := g.container(string(role.kind), spec)
		if err != nil {
			return nil, err
		}
		c.Resources = ResourceRequirements{Requests: map[string]string{"cpu": "50m", "memory": "32Mi"}}
		containers = append(containers, c)
		ms.procs = append(ms.procs, Process{Name: harness.ProcessName(role.kind, p.Name), Kind: role.kind, Node: p.Node, Namespace: ns,
			MetricsPort: mport, MetricsPath: mpath, Controller: "deployment/" + p.Name})
		if role.kind == harness.KindEcho && p.Service != "" {
			echoService(p.Service, c.Ports)
		}
	}
	return containers, nil
}

func (g *generator) deployment(name, ns, node string, podLabels map[string]string, cs []Container, grace *int64) Deployment {
	return Deployment{
		TypeMeta: TypeMeta{"apps/v1", "Deployment"},
		Metadata: g.meta(name, ns, nil),
		Spec: DeploymentSpec{
			Replicas: 1,
			Selector: LabelSelector{MatchLabels: map[string]string{LabelPod: podLabels[LabelPod]}},
			Template: PodTemplateSpec{
				Metadata: g.meta("", "", podLabels),
				Spec: PodSpec{
					NodeSelector:                  map[string]string{LabelNode: node},
					TerminationGracePeriodSeconds: grace,
					Containers:                    cs,
					Volumes:                       g.volumes(),
				},
			},
		},
	}
}

// podService is the headless Service giving plan pod name
// its DNS name, PodDNSName(name, ns): it selects exactly that pod (label
// LabelDNS) and publishes it before it is ready.
func (g *generator) podService(name, ns string) Service {
	return Service{TypeMeta: TypeMeta{"v1", "Service"}, Metadata: g.meta(PodServiceName(name), ns, nil),
		Spec: ServiceSpec{ClusterIP: "None", Selector: map[string]string{LabelDNS: name}, PublishNotReadyAddresses: true}}
}

// service exposes ports as themselves; for an app (app true) the ready
// port becomes port 80, as an HTTP Service in front of an echo app does.
func (g *generator) service(name, ns string, selector map[string]string, ports []ContainerPort, app bool) Service {
	s := Service{TypeMeta: TypeMeta{"v1", "Service"}, Metadata: g.meta(name, ns, nil), Spec: ServiceSpec{Selector: selector}}
	for i, p := range ports {
		sp := ServicePort{Name: p.Name, Port: p.ContainerPort, TargetPort: p.ContainerPort, Protocol: "TCP"}
		if app && i == 0 && p.Name == "ready" {
			sp.Name, sp.Port = "http", 80
		}
		s.Spec.Ports = append(s.Spec.Ports, sp)
	}
	return s
}

// Jobs renders one load-generator Job per load of exp. runNo numbers the
// Runs of one cluster so Job names do not collide.
func Jobs(plan *harness.Plan, exp *harness.Experiment, runNo int, opts Options) ([]byte, []JobRef, error) {
	opts.defaults()
	if err := exp.Validate(plan); err != nil {
		return nil, nil, err
	}
	g := &generator{plan: plan, opts: opts}
	var docs []any
	var refs []JobRef
	for i := range exp.Loads {
		load := exp.Loads[i]
		pod, _ := plan.PodByName(load.From)
		ns := orDefault(pod.Namespace, "default")
		name := fmt.Sprintf("loadgen-r%d-%d", runNo, i)
		spec := harness.ProcessSpec{Kind: harness.KindLoadGen, Owner: fmt.Sprintf("%s.r%d.%d", load.From, runNo, i),
			Node: pod.Node, Load: &load, ResultPath: ResultPath}
		c, _, _, err := g.container("loadgen", spec)
		if err != nil {
			return nil, nil, err
		}
		c.ReadinessProbe = nil
		c.Resources = ResourceRequirements{Requests: map[string]string{"cpu": "100m", "memory": "64Mi"}}
		deadline := int64((load.Duration + opts.LoadGrace).Seconds())
		podLabels := map[string]string{LabelPod: load.From, LabelProcess: ProcessLabel(harness.ProcessName(harness.KindLoadGen, spec.Owner))}
		if !pod.HasRole(harness.RoleEcho) && !pod.HasRole(harness.RoleSidecar) {
			podLabels[LabelDNS] = load.From // the pod exists only as this Job
		}
		if pod.Service != "" {
			podLabels[LabelService] = pod.Service
		}
		docs = append(docs, Job{
			TypeMeta: TypeMeta{"batch/v1", "Job"},
			Metadata: g.meta(name, ns, nil),
			Spec: JobSpec{
				BackoffLimit:          0, // a failed load is a result, not something to retry
				ActiveDeadlineSeconds: deadline,
				Template: PodTemplateSpec{
					Metadata: g.meta("", "", podLabels),
					Spec: PodSpec{
						NodeSelector:  map[string]string{LabelNode: pod.Node},
						RestartPolicy: "Never",
						Containers:    []Container{c},
						Volumes:       g.volumes(),
					},
				},
			},
		})
		refs = append(refs, JobRef{Name: name, Namespace: ns, Load: i, Process: harness.ProcessName(harness.KindLoadGen, spec.Owner),
			Timeout: load.Duration + opts.LoadGrace})
	}
	out, err := marshalDocs(docs...)
	return out, refs, err
}

// JobRef names one generated Job.
type JobRef struct {
	Name, Namespace string
	Load            int // index into Experiment.Loads
	Process         string
	Timeout         time.Duration
}

// marshalDocs writes objects as one multi-document YAML stream.
func marshalDocs(docs ...any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("kind: render manifest: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("kind: render manifest: %w", err)
	}
	return buf.Bytes(), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
