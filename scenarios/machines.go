package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// MachineSpec gives the nodes matching Nodes a machine: an instance type
// from the built-in table, or cores and speed (which also override the
// type's).
type MachineSpec struct {
	// Nodes are node names or globs (default every node); later entries win.
	Nodes        []string `yaml:"nodes,omitempty" json:"nodes,omitempty"`
	InstanceType string   `yaml:"instance_type,omitempty" json:"instance_type,omitempty"`
	Cores        float64  `yaml:"cores,omitempty" json:"cores,omitempty" range:"[0,4096]" unit:"vCPUs (0 = the instance type's)"`
	Speed        float64  `yaml:"speed,omitempty" json:"speed,omitempty" range:"[0,100]" unit:"per-vCPU speed relative to the reference core"`
	SMT          int      `yaml:"smt,omitempty" json:"smt,omitempty" range:"[0,2]" unit:"hardware threads per core"`
	SMTYield     float64  `yaml:"smt_yield,omitempty" json:"smt_yield,omitempty" range:"[0,2]" unit:"relative throughput"`
	NICGbps      float64  `yaml:"nic_gbps,omitempty" json:"nic_gbps,omitempty" range:"[0,10000]" unit:"Gbit/s (0 = the instance type's)"`
}

// ProxySpec overrides a proxy kind's container: CPU requests and limits
// (Kubernetes' shape) and its worker threads (ztunnel worker_threads,
// Envoy concurrency).
type ProxySpec struct {
	Resources     *ResourcesSpec `yaml:"resources,omitempty" json:"resources,omitempty"`
	WorkerThreads int            `yaml:"worker_threads,omitempty" json:"worker_threads,omitempty" range:"[0,1024]" unit:"threads (0 = the default)"`
	Concurrency   int            `yaml:"concurrency,omitempty" json:"concurrency,omitempty" range:"[0,1024]" unit:"Envoy worker threads (0 = from the CPU limit)"`
}

// ResourcesSpec is a container's resources, as in a Pod spec (CPU only).
type ResourcesSpec struct {
	Requests *ResourceList `yaml:"requests,omitempty" json:"requests,omitempty"`
	Limits   *ResourceList `yaml:"limits,omitempty" json:"limits,omitempty"`
}

// ResourceList is a resource quantity list (CPU only).
type ResourceList struct {
	CPU *CPU `yaml:"cpu,omitempty" json:"cpu,omitempty" range:"[0,4096]" unit:"cores"`
}

// CPU is a Kubernetes CPU quantity in cores: 2, 0.5, "500m".
type CPU float64

// ParseCPU parses a CPU quantity.
func ParseCPU(s string) (CPU, error) {
	s = strings.TrimSpace(s)
	mult := 1.0
	if strings.HasSuffix(s, "m") {
		s, mult = strings.TrimSuffix(s, "m"), 1e-3
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a CPU quantity; write cores (2, 0.5) or millicores (\"500m\")", s)
	}
	return CPU(v * mult), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *CPU) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a CPU quantity like 2, 0.5 or \"500m\"", n.Line)
	}
	v, err := ParseCPU(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*c = v
	return nil
}

// LoadSpec is a load generator driving an edge as users run one.
type LoadSpec struct {
	// Tool is fortio (default), oha or iperf; it sets the defaults of the
	// fields below as the tool does.
	Tool string `yaml:"tool,omitempty" json:"tool,omitempty"`
	// Connections is fortio/oha -c: connections, each one request at a
	// time (default fortio 8, oha 50).
	Connections int `yaml:"connections,omitempty" json:"connections,omitempty" range:"[0,100000]" unit:"connections (0 = the tool's default)" why:"the model keeps state per connection"`
	// QPS is the total target rate (fortio -qps, oha -q); 0 = as fast as
	// responses allow (default fortio 8, oha 0).
	QPS *float64 `yaml:"qps,omitempty" json:"qps,omitempty" range:"[0,1000000]" unit:"requests/s (0 = as fast as responses allow)" why:"every request is simulated; the event budget bounds qps × duration"`
	// Streams is iperf -P: parallel TCP streams (default 1).
	Streams int `yaml:"streams,omitempty" json:"streams,omitempty" range:"[0,10000]" unit:"parallel TCP streams (0 = 1)"`
	// Window is the bytes an iperf stream keeps in flight (default 256KiB);
	// request_size is its write size (default 128KiB).
	Window *Size `yaml:"window,omitempty" json:"window,omitempty" range:"(0,1GiB]" unit:"bytes in flight per stream"`
	// External puts the client outside the cluster, RTT away from it.
	External bool     `yaml:"external,omitempty" json:"external,omitempty"`
	RTT      Duration `yaml:"rtt,omitempty" json:"rtt,omitempty" range:"[0s,10s]" unit:"client round trip"`
}

// Load generator defaults, as the tools have them.
const (
	fortioConnections = 8
	fortioQPS         = 8.0
	ohaConnections    = 50
	iperfChunk        = 128 << 10
	iperfWindow       = 256 << 10
)

// validateMachines checks topology.machines, topology.hosts, mesh proxy
// overrides and app resources where they are written.
func (s *Scenario) validateMachines(ferr func(field, format string, a ...any) error) error {
	for i, ms := range s.Topology.Machines {
		f := fmt.Sprintf("topology.machines[%d]", i)
		if err := checkMachineFields(ferr, f, ms.InstanceType, ms.Cores, ms.Speed, ms.SMT, ms.SMTYield, ms.NICGbps); err != nil {
			return err
		}
		if ms.InstanceType == "" && ms.Cores == 0 {
			return ferr(f, "give instance_type (e.g. m5.2xlarge, n2-standard-8, Standard_D8s_v5) or cores")
		}
		for j, n := range ms.Nodes {
			if n == "" {
				return ferr(fmt.Sprintf("%s.nodes[%d]", f, j), "empty node name or glob")
			}
		}
	}
	for i, h := range s.Topology.Hosts {
		f := fmt.Sprintf("topology.hosts[%d]", i)
		if err := checkMachineFields(ferr, f, h.InstanceType, h.Cores, h.Speed, h.SMT, h.SMTYield, 0); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		name string
		spec *ProxySpec
	}{{"ztunnel", s.Mesh.Ztunnel}, {"waypoint", s.Mesh.Waypoint}, {"sidecar", s.Mesh.Sidecar}} {
		if p.spec == nil {
			continue
		}
		f := "mesh." + p.name
		if err := checkResources(ferr, f+".resources", p.spec.Resources); err != nil {
			return err
		}
		switch {
		case p.spec.WorkerThreads < 0:
			return ferr(f+".worker_threads", "negative")
		case p.spec.Concurrency < 0:
			return ferr(f+".concurrency", "negative")
		case p.name == "ztunnel" && p.spec.Concurrency != 0:
			return ferr(f+".concurrency", "ztunnel's threads are worker_threads (ZTUNNEL_WORKER_THREADS); concurrency is Envoy's")
		case p.name != "ztunnel" && p.spec.WorkerThreads != 0:
			return ferr(f+".worker_threads", "an Envoy's worker threads are its concurrency (proxy.istio.io/config concurrency)")
		}
	}
	check := func(f string, l *LoadSpec) error {
		if l == nil {
			return nil
		}
		switch l.Tool {
		case "", "fortio", "oha":
			if l.Streams != 0 || l.Window != nil {
				return ferr(f+".streams", "streams and window are iperf's; for %s give connections (-c) and qps", firstNonEmpty(l.Tool, "fortio"))
			}
		case "iperf":
			if l.Connections != 0 || l.QPS != nil {
				return ferr(f+".connections", "iperf runs streams (-P) as fast as they go; connections and qps are fortio's and oha's")
			}
		default:
			return ferr(f+".tool", "unknown tool %q; want fortio, oha or iperf", l.Tool)
		}
		switch {
		case l.Connections < 0:
			return ferr(f+".connections", "negative")
		case l.Streams < 0:
			return ferr(f+".streams", "negative")
		case l.QPS != nil && (*l.QPS < 0 || math.IsNaN(*l.QPS)):
			return ferr(f+".qps", "negative; 0 means as fast as responses allow (fortio -qps 0)")
		case l.Window != nil && *l.Window <= 0:
			return ferr(f+".window", "want the bytes a stream keeps in flight, e.g. 256KiB")
		case l.RTT > 0 && !l.External:
			return ferr(f+".rtt", "rtt is the round trip of an external client; set external: true")
		}
		return nil
	}
	if err := check("traffic.defaults.load", s.Traffic.Defaults.Load); err != nil {
		return err
	}
	for i := range s.Traffic.Edges {
		if err := check(fmt.Sprintf("traffic.edges[%d].load", i), s.Traffic.Edges[i].Load); err != nil {
			return err
		}
		if e := &s.Traffic.Edges[i]; e.Load != nil && e.Rate != nil && *e.Rate > 0 {
			return ferr(fmt.Sprintf("traffic.edges[%d].rate", i), "an edge is driven by open-loop arrivals (rate) or by a load generator (load), not both")
		}
	}
	for i, a := range s.Apps {
		f := fmt.Sprintf("apps[%d]", i)
		if err := checkResources(ferr, f+".resources", a.Resources); err != nil {
			return err
		}
		if a.CPUFraction != nil && (*a.CPUFraction < 0 || *a.CPUFraction > 1) {
			return ferr(f+".cpu_fraction", "%v, want within [0, 1] (the share of the service time the app computes on its node's CPU)", *a.CPUFraction)
		}
	}
	return nil
}

func checkMachineFields(ferr func(field, format string, a ...any) error, f, typ string, cores, speed float64, smt int, yield, nic float64) error {
	if typ != "" {
		if _, err := models.LookupMachine(typ); err != nil {
			return ferr(f+".instance_type", "%v", err)
		}
	}
	switch {
	case cores < 0 || math.IsNaN(cores):
		return ferr(f+".cores", "%v cores; give the machine's vCPU count (> 0)", cores)
	case speed < 0 || math.IsNaN(speed):
		return ferr(f+".speed", "%v; give the per-vCPU speed relative to the reference core (> 0; an AWS m5 vCPU is 1)", speed)
	case smt != 0 && smt != 1 && smt != 2:
		return ferr(f+".smt", "%d; want 1 (no SMT) or 2 (hyperthreads)", smt)
	case yield != 0 && (yield < 1 || yield > 2):
		return ferr(f+".smt_yield", "%v; want within [1, 2] (a core's throughput with both hyperthreads busy, relative to one)", yield)
	case nic < 0 || math.IsNaN(nic):
		return ferr(f+".nic_gbps", "negative")
	}
	return nil
}

func checkResources(ferr func(field, format string, a ...any) error, f string, r *ResourcesSpec) error {
	if r == nil {
		return nil
	}
	req, lim := cpuOf(r.Requests), cpuOf(r.Limits)
	if lim > 0 && req > lim {
		return ferr(f+".requests.cpu", "request %vm is above the limit %vm", math.Round(req*1000), math.Round(lim*1000))
	}
	if r.Limits != nil && r.Limits.CPU != nil && lim == 0 {
		return ferr(f+".limits.cpu", "a CPU limit of 0 would never run; leave limits.cpu out for no limit")
	}
	return nil
}

func cpuOf(l *ResourceList) float64 {
	if l == nil || l.CPU == nil {
		return 0
	}
	return float64(*l.CPU)
}

// resources returns a ResourcesSpec as the model's Resources: a missing
// request is the limit (as Kubernetes defaults it) or def's.
func (r *ResourcesSpec) resources(def models.Resources) *models.Resources {
	if r == nil {
		return nil
	}
	out := models.Resources{Request: def.Request, Limit: cpuOf(r.Limits)}
	if r.Requests != nil && r.Requests.CPU != nil {
		out.Request = float64(*r.Requests.CPU)
	} else if out.Limit > 0 {
		out.Request = out.Limit
	}
	return &out
}

// machineOf resolves a machine's fields: the instance type's (if any),
// overridden by cores, speed and SMT.
func machineOf(typ string, cores, speed float64, smt int, yield float64) models.Machine {
	m := models.Machine{Type: "custom", Speed: 1, SMT: 1, Source: "scenario: cores and speed given"}
	if typ != "" {
		m, _ = models.LookupMachine(typ) // validated when parsed
	}
	if cores > 0 {
		m.Cores = cores
	}
	if speed > 0 {
		m.Speed = speed
	}
	if smt > 0 {
		m.SMT = smt
	}
	if yield > 0 {
		m.SMTYield = yield
	}
	if m.SMT == 2 && m.SMTYield == 0 {
		m.SMTYield = 1.25
	}
	return m
}

// machineConfig passes topology.hosts and topology.machines to the model:
// a node on a host runs on the host's machine; every other node on the
// machine of the last topology.machines entry matching it, else the
// model's default.
func (sc *Scenario) machineConfig(cfg *models.Config, top *topology.Topology) error {
	have := map[string]bool{}
	var names []string
	add := func(n string) {
		if !have[n] {
			have[n] = true
			names = append(names, n)
		}
	}
	for _, n := range top.Nodes {
		add(n.Name)
	}
	for _, p := range top.Pods {
		add(p.Node)
	}
	onHost := map[string]bool{}
	for i, h := range sc.Topology.Hosts {
		for j, n := range h.Nodes {
			if !have[n] {
				field := fmt.Sprintf("topology.hosts[%d].nodes[%d]", i, j)
				return sc.fieldErr(field, "host %q: node %q is not in the topology (its nodes: %s)", h.Name, n, strings.Join(sortedKeys(have), ", "))
			}
			onHost[n] = true
		}
		cfg.Machines = append(cfg.Machines, models.MachineConfig{Name: h.Name, Nodes: h.Nodes,
			Machine: machineOf(h.InstanceType, h.Cores, h.Speed, h.SMT, h.SMTYield)})
	}
	if len(sc.Topology.Machines) == 0 {
		return nil
	}
	for i := range sc.Topology.Machines {
		ms := &sc.Topology.Machines[i]
		matched := false
		for _, n := range names {
			if matchNodes(ms.Nodes, n) {
				matched = true
			}
		}
		if !matched {
			return sc.fieldErr(fmt.Sprintf("topology.machines[%d].nodes", i), "matches no node (the nodes: %s)", strings.Join(sortedKeys(have), ", "))
		}
	}
	for _, n := range names {
		if onHost[n] {
			continue
		}
		for i := len(sc.Topology.Machines) - 1; i >= 0; i-- {
			ms := &sc.Topology.Machines[i]
			if matchNodes(ms.Nodes, n) {
				cfg.Machines = append(cfg.Machines, models.MachineConfig{Name: n, Nodes: []string{n}, NICGbps: ms.NICGbps,
					Machine: machineOf(ms.InstanceType, ms.Cores, ms.Speed, ms.SMT, ms.SMTYield)})
				break
			}
		}
	}
	return nil
}

func matchNodes(globs []string, n string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if matchGlob(g, n) {
			return true
		}
	}
	return false
}

// fieldErr is a FieldError at field of the scenario file.
func (sc *Scenario) fieldErr(field, format string, a ...any) error {
	var doc yaml.Node
	_ = yaml.Unmarshal(sc.raw, &doc) // it parsed once already
	return &FieldError{File: sc.file, Line: lineOf(&doc, field), Field: field, Msg: fmt.Sprintf(format, a...)}
}

// proxyConfig turns a mesh proxy override into the model's.
func proxyConfig(p *ProxySpec, def models.Resources) models.ProxyConfig {
	if p == nil {
		return models.ProxyConfig{}
	}
	return models.ProxyConfig{Resources: p.Resources.resources(def), Workers: max(p.WorkerThreads, p.Concurrency)}
}

// generator turns an edge's load section into the model's generator and
// adjusts the edge as the tool runs (iperf: TCP, write size, no response).
func (l *LoadSpec) generator(e *models.EdgeConfig, sizeSet bool) *models.Generator {
	g := &models.Generator{External: l.External, RTT: l.RTT.T()}
	switch l.Tool {
	case "iperf":
		g.Connections = max(l.Streams, 1)
		chunk := float64(iperfChunk)
		if sizeSet && e.ReqSize.Mean > 0 {
			chunk = e.ReqSize.Mean
		} else {
			e.ReqSize = sim.DistSpec{Kind: sim.DistConstant, Mean: chunk}
		}
		window := float64(iperfWindow)
		if l.Window != nil {
			window = float64(*l.Window)
		}
		g.Window = max(1, int(math.Round(window/chunk)))
		e.RespSize = sim.DistSpec{Kind: sim.DistConstant, Mean: 0}
		e.Protocol = models.TCP
		e.KeepAlive = true
	case "oha":
		g.Connections = ohaConnections
	default:
		g.Connections = fortioConnections
		g.QPS = fortioQPS
	}
	if l.Connections > 0 {
		g.Connections = l.Connections
	}
	if l.QPS != nil {
		g.QPS = *l.QPS
	}
	return g
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
