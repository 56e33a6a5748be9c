package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/topology"
)

// Mode names accepted in a scenario's modes list.
const (
	ModeOutOfMesh       = "out-of-mesh"
	ModeAmbient         = "ambient"
	ModeAmbientWaypoint = "ambient+waypoint"
	ModeSidecar         = "sidecar"
	ModeAsManifests     = "as-manifests"
)

// ModeNames lists the valid modes.
var ModeNames = []string{ModeOutOfMesh, ModeAmbient, ModeAmbientWaypoint, ModeSidecar, ModeAsManifests}

// Scenario is a scenario file: a topology, its traffic, the dataplane modes
// to compare on identical traffic, the cost profile, the simulated time and
// the outputs. docs/scenarios.md has an annotated example of every field.
type Scenario struct {
	Name        string   `yaml:"name" json:"name"`
	Description string   `yaml:"description" json:"description"`
	Question    string   `yaml:"question,omitempty" json:"question,omitempty"`
	Topology    Topology `yaml:"topology" json:"topology"`
	// Modes to simulate, each on the same random streams: out-of-mesh,
	// ambient, ambient+waypoint, sidecar, as-manifests (default
	// [as-manifests]).
	Modes    []string `yaml:"modes" json:"modes"`
	Profile  string   `yaml:"profile,omitempty" json:"profile,omitempty"`                                       // built-in name or file path
	Duration Duration `yaml:"duration" json:"duration" range:"(0s,720h]" unit:"simulated time"`                 // measured simulated time (default 60s)
	Warmup   Duration `yaml:"warmup,omitempty" json:"warmup,omitempty" range:"[0s,720h]" unit:"simulated time"` // discarded at the start (default 5s)
	Seed     uint64   `yaml:"seed,omitempty" json:"seed,omitempty" range:"any"`                                 // default 1
	Traffic  Traffic  `yaml:"traffic" json:"traffic"`                                                           // per-edge traffic
	Apps     []App    `yaml:"apps,omitempty" json:"apps,omitempty"`                                             // per-workload app behaviour
	// ExternalHosts describe the servers outside the cluster behind
	// ServiceEntry hosts that calls name (ns/<host>).
	ExternalHosts []ExternalHost `yaml:"external_hosts,omitempty" json:"external_hosts,omitempty"`
	Mesh          MeshOpts       `yaml:"mesh,omitempty" json:"mesh,omitempty"`       // mesh-wide options
	Outputs       Outputs        `yaml:"outputs,omitempty" json:"outputs,omitempty"` // which files to write
	// SLO makes slow calls count as bad in blast-radius results.
	SLO *SLO `yaml:"slo,omitempty" json:"slo,omitempty"`
	// Capacity asks for the largest load an edge sustains within a
	// latency bound (summary.json "capacity").
	Capacity *CapacitySpec `yaml:"capacity,omitempty" json:"capacity,omitempty"`
	// Failures are scheduled component failures; each gets a blast-radius
	// result per mode (summary.json "failures").
	Failures []FailureSpec `yaml:"failures,omitempty" json:"failures,omitempty"`
	// WhatIf lists alternative designs run under the same failures on the
	// same random streams (summary.json "what_if").
	WhatIf []WhatIfSpec `yaml:"what_if,omitempty" json:"what_if,omitempty"`
	// Observed is what a real cluster's Prometheus showed per edge
	// (written by `ambientsim import traffic`); run compares each mode
	// with it in summary.json "observed".
	Observed *Observed `yaml:"observed,omitempty" json:"observed,omitempty"`
	// Sweep is the optional `sweep:` section (see the sweep package): it is
	// validated strictly with sweep.DecodeSpec when the file is parsed and
	// used by `ambientsim sweep`; `ambientsim run` ignores it and runs the
	// scenario as written.
	Sweep yaml.Node `yaml:"sweep,omitempty" json:"-"`

	file     string
	sweep    *sweep.Spec
	raw      []byte
	spec     *topology.Spec
	embedded bool // from the built-in library
	// point is the sweep point applied by WithPoint (zero: as written).
	point sweep.Point
}

// Topology names the cluster: a generative spec inline, or manifests.
type Topology struct {
	// Spec is a compact generative topology (see the topology package).
	Spec yaml.Node `yaml:"spec,omitempty" json:"spec,omitempty"`
	// Manifests are Kubernetes/Istio/Gateway-API files or directories,
	// relative to the scenario file.
	Manifests []string `yaml:"manifests,omitempty" json:"manifests,omitempty"`
	// Machines give nodes their machines: an instance type, or cores
	// and speed. Every container of a node runs on its machine's cores.
	Machines []MachineSpec `yaml:"machines,omitempty" json:"machines,omitempty"`
	// Hosts groups nodes that share one machine's CPU cores (kind, a
	// lab on one VM): their containers all compete for the host's cores.
	Hosts []HostSpec `yaml:"hosts,omitempty" json:"hosts,omitempty"`
}

// HostSpec is one machine several nodes share: a name, its cores (or
// instance type) and the nodes it runs.
type HostSpec struct {
	Name         string   `yaml:"name" json:"name"`
	Cores        float64  `yaml:"cores" json:"cores" range:"[0,4096]" unit:"vCPUs"`
	Nodes        []string `yaml:"nodes" json:"nodes"`
	InstanceType string   `yaml:"instance_type,omitempty" json:"instance_type,omitempty"`
	Speed        float64  `yaml:"speed,omitempty" json:"speed,omitempty" range:"[0,100]" unit:"relative to the reference core"`
	SMT          int      `yaml:"smt,omitempty" json:"smt,omitempty" range:"[0,2]" unit:"hardware threads per core"`
	SMTYield     float64  `yaml:"smt_yield,omitempty" json:"smt_yield,omitempty" range:"[0,2]" unit:"relative throughput"`
}

// Traffic describes load on the call graph's edges.
type Traffic struct {
	// Defaults apply to every edge.
	Defaults EdgeTraffic `yaml:"defaults,omitempty" json:"defaults,omitempty"`
	// Edges override the defaults for edges matching from/to (ns/name,
	// '*' globs); later entries win.
	Edges []EdgeTraffic `yaml:"edges,omitempty" json:"edges,omitempty"`
	// Churn is pod churn while the traffic runs: scaling and rollouts. It
	// drives istiod's pushes and certificate signing (not the data plane's
	// topology, which stays fixed).
	Churn *ChurnSpec `yaml:"churn,omitempty" json:"churn,omitempty"`
}

// ChurnSpec is pod churn: pods_per_second scale events (each creates or
// deletes one pod of a churning workload, chosen in proportion to its
// replicas) and rollouts_per_hour rolling restarts (each replaces every pod
// of one churning workload).
type ChurnSpec struct {
	PodsPerSecond   float64  `yaml:"pods_per_second,omitempty" json:"pods_per_second,omitempty" range:"[0,100000]" unit:"pods/s"`
	RolloutsPerHour float64  `yaml:"rollouts_per_hour,omitempty" json:"rollouts_per_hour,omitempty" range:"[0,100000]" unit:"rollouts/h"`
	Workloads       []string `yaml:"workloads,omitempty" json:"workloads,omitempty"` // ns/name globs; default every app workload
}

// EdgeTraffic is the traffic of one call-graph edge (source workload →
// destination service). Unset fields inherit.
type EdgeTraffic struct {
	From string `yaml:"from,omitempty" json:"from,omitempty"` // ns/workload (glob)
	To   string `yaml:"to,omitempty" json:"to,omitempty"`     // ns/service (glob)
	// Rate is the external open-loop arrival rate (requests/s) from the
	// source's pods; default: the topology call's rate.
	Rate *float64 `yaml:"rate,omitempty" json:"rate,omitempty" range:"[0,1000000]" unit:"requests/s" why:"every arrival is simulated; the event budget bounds rate × duration"`
	// Arrival: poisson (default), constant, or on-off (bursty).
	Arrival string `yaml:"arrival,omitempty" json:"arrival,omitempty"`
	// On and Off are the on-off process's mean on and off periods (named
	// on_period/off_period: a bare `on:` key is a boolean in YAML 1.1).
	On  Duration `yaml:"on_period,omitempty" json:"on_period,omitempty" range:"(0s,720h]"`
	Off Duration `yaml:"off_period,omitempty" json:"off_period,omitempty" range:"(0s,720h]"`
	// ArrivalStream names the random stream of the arrivals: edges naming
	// the same stream see identical arrival times (to compare two clients
	// on the same load).
	ArrivalStream string `yaml:"arrival_stream,omitempty" json:"arrival_stream,omitempty"`
	// FanOut is how many calls on this edge each request served by the
	// source makes (1.5 = one, plus a second with probability 0.5); default
	// 1 when the source serves requests, else 0.
	FanOut   *float64 `yaml:"fanout,omitempty" json:"fanout,omitempty" range:"[0,1000]" unit:"calls per request served" why:"each call is simulated; the event budget bounds the tree"`
	Protocol string   `yaml:"protocol,omitempty" json:"protocol,omitempty"` // http (HTTP/1.1, default) | http2 | grpc | tcp
	// Connections: keep-alive (a pool per client pod) or per-request.
	Connections   string    `yaml:"connections,omitempty" json:"connections,omitempty"`
	Pool          int       `yaml:"pool,omitempty" json:"pool,omitempty" range:"[1,10000]" unit:"keep-alive connections per client pod" why:"the model keeps state per connection"` // keep-alive connections per client pod (default 4)
	RequestSize   *SizeDist `yaml:"request_size,omitempty" json:"request_size,omitempty"`
	ResponseSize  *SizeDist `yaml:"response_size,omitempty" json:"response_size,omitempty"`
	LoadBalancing string    `yaml:"load_balancing,omitempty" json:"load_balancing,omitempty"` // round-robin | least-request | random
	Timeout       Duration  `yaml:"timeout,omitempty" json:"timeout,omitempty" range:"(0s,24h]"`
	Retries       *int      `yaml:"retries,omitempty" json:"retries,omitempty" range:"[0,100]" unit:"attempts after the first"`
	Method        string    `yaml:"method,omitempty" json:"method,omitempty"`
	Path          string    `yaml:"path,omitempty" json:"path,omitempty"`
	// Load drives the edge with a load generator (fortio, oha, iperf)
	// instead of open-loop arrivals at rate.
	Load *LoadSpec `yaml:"load,omitempty" json:"load,omitempty"`
	// Requests is the edge's request mix: each call is one of them, drawn
	// by weight, routed by the L7 proxy that routes the edge (its route
	// rules, weighted backends, retries, timeouts, mirrors) and checked by
	// L7 policies. Replaces method/path when given.
	Requests []RequestSpec `yaml:"requests,omitempty" json:"requests,omitempty"`
}

// RequestSpec is one request of an edge's mix.
type RequestSpec struct {
	Name    string            `yaml:"name,omitempty" json:"name,omitempty"`                                                                   // label in results (default "METHOD path")
	Weight  float64           `yaml:"weight,omitempty" json:"weight,omitempty" range:"[0,1000000]" unit:"relative share of the edge's calls"` // default 1
	Method  string            `yaml:"method,omitempty" json:"method,omitempty"`                                                               // default GET
	Path    string            `yaml:"path,omitempty" json:"path,omitempty"`                                                                   // path with an optional ?query; default /
	Host    string            `yaml:"host,omitempty" json:"host,omitempty"`                                                                   // Host header; default the service's cluster-local name
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Token: the request carries a valid JWT (the issuer of the
	// RequestAuthentication applied on its path).
	Token bool `yaml:"token,omitempty" json:"token,omitempty"`
}

// App is the behaviour of the workloads matching Workload (ns/name glob).
type App struct {
	Workload    string    `yaml:"workload" json:"workload"`
	ServiceTime *TimeDist `yaml:"service_time,omitempty" json:"service_time,omitempty"`
	Concurrency int       `yaml:"concurrency,omitempty" json:"concurrency,omitempty" range:"[1,100000]" unit:"requests served at once per pod" why:"the model keeps a slot per worker"`
	// CPUFraction is the share of the service time computed on the node's
	// CPU (default the profile's app.cpu_fraction, 1: CPU-bound).
	CPUFraction *float64 `yaml:"cpu_fraction,omitempty" json:"cpu_fraction,omitempty" range:"[0,1]" unit:"share of the service time"`
	// Resources are the app container's CPU request and limit.
	Resources *ResourcesSpec `yaml:"resources,omitempty" json:"resources,omitempty"`
}

// ExternalHost is a server outside the cluster behind ServiceEntry hosts:
// Host names them as ns/<host> ('*' globs; the last matching entry wins
// per field). Without an entry a host answers after the profile's app
// service time, 20 ms away.
type ExternalHost struct {
	Host        string    `yaml:"host" json:"host"`
	ServiceTime *TimeDist `yaml:"service_time,omitempty" json:"service_time,omitempty"`
	// RTT is the round trip between the cluster and the host (default
	// 20ms): each request crosses it once, plus once for a TCP connect on
	// a new connection.
	RTT Duration `yaml:"rtt,omitempty" json:"rtt,omitempty" range:"[0s,10s]" unit:"round-trip time"`
}

// MeshOpts are mesh-wide options.
type MeshOpts struct {
	// SidecarScope: mesh (default; every sidecar knows every service),
	// namespace, or calls (only what the workload calls), for pods no
	// Sidecar resource selects.
	SidecarScope string `yaml:"sidecar_scope,omitempty" json:"sidecar_scope,omitempty"`
	// ConfigChangesPerMinute makes istiod full-push the Envoys whose scope
	// holds the changed config.
	ConfigChangesPerMinute float64 `yaml:"config_changes_per_minute,omitempty" json:"config_changes_per_minute,omitempty" range:"[0,60000]" unit:"config changes per minute"`
	// WaypointReplicas is the replica count of waypoints added for the
	// ambient+waypoint mode (default 1).
	WaypointReplicas int `yaml:"waypoint_replicas,omitempty" json:"waypoint_replicas,omitempty" range:"[1,1000]" unit:"replicas per waypoint"`
	// CertTTL overrides the profile's workload certificate lifetime
	// (renewed at the profile's refresh fraction, half-life by default).
	CertTTL Duration `yaml:"cert_ttl,omitempty" json:"cert_ttl,omitempty" range:"[1s,8760h]" why:"certificates renew at a fraction of it; below 1s renewals outnumber requests"`
	// ProxyRetries is how often waypoints and client sidecars retry a
	// connection failure or reset (Istio default 2).
	ProxyRetries *int `yaml:"proxy_retries,omitempty" json:"proxy_retries,omitempty" range:"[0,100]" unit:"retries per request"`
	// RetryBudget caps retries per edge at this fraction of its calls
	// (plus 3); 0 = no cap.
	RetryBudget float64 `yaml:"retry_budget,omitempty" json:"retry_budget,omitempty" range:"[0,1]" unit:"fraction of an edge's calls"`
	// WaypointAutoscale scales waypoints out HPA-like under load.
	WaypointAutoscale *AutoscaleSpec `yaml:"waypoint_autoscale,omitempty" json:"waypoint_autoscale,omitempty"`
	// TrafficDistribution PreferClose makes every proxy prefer endpoints
	// in its own zone (Kubernetes trafficDistribution).
	TrafficDistribution string `yaml:"traffic_distribution,omitempty" json:"traffic_distribution,omitempty"`
	// Ztunnel, Waypoint and Sidecar override the proxies' containers: CPU
	// requests and limits, worker threads (ztunnel) or concurrency (Envoy).
	Ztunnel  *ProxySpec `yaml:"ztunnel,omitempty" json:"ztunnel,omitempty"`
	Waypoint *ProxySpec `yaml:"waypoint,omitempty" json:"waypoint,omitempty"`
	Sidecar  *ProxySpec `yaml:"sidecar,omitempty" json:"sidecar,omitempty"`
}

// Outputs selects the files run writes.
type Outputs struct {
	Metrics     *bool    `yaml:"metrics,omitempty" json:"metrics,omitempty"`                                                                                                // metrics.prom (default true)
	OpenMetrics *bool    `yaml:"openmetrics,omitempty" json:"openmetrics,omitempty"`                                                                                        // metrics.om (default true)
	Interval    Duration `yaml:"interval,omitempty" json:"interval,omitempty" range:"[1s,24h]" unit:"simulated time between samples" why:"each sample copies every series"` // metrics.om sample interval (default 10s)
}

// File returns the file the scenario was read from.
func (s *Scenario) File() string { return s.file }

// Raw returns the scenario file's bytes.
func (s *Scenario) Raw() []byte { return s.raw }

// Load reads a scenario by path, or by built-in library name.
func Load(nameOrPath string) (*Scenario, error) {
	data, err := yamlcheck.ReadFile(nameOrPath, yamlcheck.MaxConfigBytes)
	if err != nil {
		if lib, lerr := libraryFile(nameOrPath); lerr == nil && !isLimit(err) {
			sc, err := Parse(libraryName(nameOrPath), lib)
			if sc != nil {
				sc.embedded = true
			}
			return sc, err
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("scenario %q: no such file and no built-in scenario of that name (try `ambientsim scenarios list`)", nameOrPath)
		}
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	return Parse(nameOrPath, data)
}

// Parse decodes a scenario strictly: an unknown or misspelt field is an
// error naming the file, line and field, with the closest valid name.
func Parse(filename string, data []byte) (*Scenario, error) {
	s, doc, err := decode(filename, data)
	if err != nil {
		return nil, err
	}
	if err := s.validate(doc); err != nil {
		return nil, err
	}
	if s.Sweep.Kind != 0 {
		sp, err := sweep.DecodeSpec(filename, &s.Sweep)
		if err != nil {
			return nil, err
		}
		s.sweep = sp
	}
	return s, nil
}

// decode reads a scenario document strictly, without validating it: within
// the input budgets (size, alias expansion), every field known, every
// number finite and in its field's range.
func decode(filename string, data []byte) (*Scenario, *yaml.Node, error) {
	if len(data) > yamlcheck.MaxConfigBytes {
		return nil, nil, &yamlcheck.LimitError{File: filename, Limit: yamlcheck.MaxConfigBytes, What: "file"}
	}
	doc, err := yamlcheck.Document(filename, data)
	if err != nil {
		return nil, nil, fileErr(filename, err)
	}
	if err := checkKnown(filename, doc, reflect.TypeOf(Scenario{}), ""); err != nil {
		return nil, nil, err
	}
	if err := yamlcheck.CheckNumbers(filename, doc, reflect.TypeOf(Scenario{}), ""); err != nil {
		return nil, nil, err
	}
	var s Scenario
	if err := doc.Decode(&s); err != nil {
		return nil, nil, fileErr(filename, err)
	}
	s.file, s.raw = filename, data
	return &s, doc, nil
}

// isLimit reports whether err is an input over a budget (not a missing
// file, which may be a built-in name).
func isLimit(err error) bool {
	var le *yamlcheck.LimitError
	return errors.As(err, &le)
}

// SweepSpec is the decoded `sweep:` section, or nil when the scenario has
// none.
func (s *Scenario) SweepSpec() *sweep.Spec { return s.sweep }

// fileErr words a yaml.v3 error with the file name (yamlcheck.WithFile).
func fileErr(filename string, err error) error { return yamlcheck.WithFile(filename, err) }

func (s *Scenario) validate(doc *yaml.Node) error {
	ferr := func(field, format string, a ...any) error {
		return &FieldError{File: s.file, Line: lineOf(doc, field), Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(s.file), filepath.Ext(s.file))
	}
	if len(s.Modes) == 0 {
		s.Modes = []string{ModeAsManifests}
	}
	for _, check := range []func(func(field, format string, a ...any) error) error{
		s.validateModes, s.validateHosts, s.validateTopology,
	} {
		if err := check(ferr); err != nil {
			return err
		}
	}
	if s.Duration == 0 {
		s.Duration = Duration(60e9)
	}
	if s.Warmup == 0 && !hasKey(doc, "warmup") {
		s.Warmup = Duration(5e9)
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	for _, check := range []func(func(field, format string, a ...any) error) error{
		s.validateTraffic, s.validateProfile, s.validateMesh, s.validateMachines, s.validateCapacity, s.validateObserved, s.validateFailures,
	} {
		if err := check(ferr); err != nil {
			return err
		}
	}
	return nil
}

// validateModes: known modes, each once.
func (s *Scenario) validateModes(ferr func(field, format string, a ...any) error) error {
	seen := map[string]bool{}
	for i, m := range s.Modes {
		ok := false
		for _, v := range ModeNames {
			ok = ok || v == m
		}
		if !ok {
			msg := fmt.Sprintf("unknown mode %q; want one of %s", m, strings.Join(ModeNames, ", "))
			if c := yamlcheck.DidYouMean(m, ModeNames); c != "" {
				msg = fmt.Sprintf("unknown mode %q%s", m, c)
			}
			return ferr(fmt.Sprintf("modes[%d]", i), "%s", msg)
		}
		if seen[m] {
			return ferr(fmt.Sprintf("modes[%d]", i), "mode %q listed twice", m)
		}
		seen[m] = true
	}
	return nil
}

// validateHosts: topology.hosts name distinct machines with cores and
// nodes, each node on one host.
func (s *Scenario) validateHosts(ferr func(field, format string, a ...any) error) error {
	hostNames, hostOfNode := map[string]bool{}, map[string]string{}
	for i, h := range s.Topology.Hosts {
		f := fmt.Sprintf("topology.hosts[%d]", i)
		switch {
		case h.Name == "":
			return ferr(f+".name", "a host needs a name")
		case hostNames[h.Name]:
			return ferr(f+".name", "host %q listed twice", h.Name)
		case h.Cores <= 0 && h.InstanceType == "":
			return ferr(f+".cores", "host %q: %v cores; give the machine's CPU count (> 0) or its instance_type", h.Name, h.Cores)
		case len(h.Nodes) == 0:
			return ferr(f+".nodes", "host %q lists no nodes", h.Name)
		}
		hostNames[h.Name] = true
		for j, n := range h.Nodes {
			if prev, dup := hostOfNode[n]; dup {
				return ferr(fmt.Sprintf("%s.nodes[%d]", f, j), "node %q is already on host %q", n, prev)
			}
			hostOfNode[n] = h.Name
		}
	}
	return nil
}

// validateTopology: exactly one of spec or manifests (a manifest topology
// runs only as-manifests); the spec decodes.
func (s *Scenario) validateTopology(ferr func(field, format string, a ...any) error) error {
	hasSpec := s.Topology.Spec.Kind != 0
	if hasSpec == (len(s.Topology.Manifests) > 0) {
		return ferr("topology", "give exactly one of topology.spec (inline generative spec) or topology.manifests (paths relative to the scenario)")
	}
	if hasSpec {
		sp, err := topology.DecodeSpec(s.file, &s.Topology.Spec)
		if err != nil {
			return specErr(s.file, err)
		}
		s.spec = sp
	} else {
		for i, m := range s.Modes {
			if m != ModeAsManifests {
				return ferr(fmt.Sprintf("modes[%d]", i), "mode %q needs a generative topology.spec; a manifest topology runs only as-manifests", m)
			}
		}
	}
	return nil
}

// validateTraffic: the traffic defaults, every edge, and churn.
func (s *Scenario) validateTraffic(ferr func(field, format string, a ...any) error) error {
	check := func(path string, e *EdgeTraffic) error {
		switch e.Protocol {
		case "", "http", "http1", "http/1.1", "http2", "grpc", "tcp":
		default:
			return ferr(path+".protocol", "unknown protocol %q; want http, http2, grpc or tcp", e.Protocol)
		}
		switch e.Connections {
		case "", "keep-alive", "per-request":
		default:
			return ferr(path+".connections", "want keep-alive or per-request, got %q", e.Connections)
		}
		switch e.Arrival {
		case "", "poisson", "constant", "on-off":
		default:
			return ferr(path+".arrival", "want poisson, constant or on-off, got %q", e.Arrival)
		}
		switch e.LoadBalancing {
		case "", "round-robin", "least-request", "random":
		default:
			return ferr(path+".load_balancing", "want round-robin, least-request or random, got %q", e.LoadBalancing)
		}
		if e.Rate != nil && *e.Rate < 0 {
			return ferr(path+".rate", "negative rate")
		}
		if e.FanOut != nil && *e.FanOut < 0 {
			return ferr(path+".fanout", "negative fanout")
		}
		if e.Path != "" && !strings.HasPrefix(e.Path, "/") {
			return ferr(path+".path", "path %q must start with /", e.Path)
		}
		for i, r := range e.Requests {
			f := fmt.Sprintf("%s.requests[%d]", path, i)
			switch {
			case r.Weight < 0:
				return ferr(f+".weight", "negative weight")
			case r.Path != "" && !strings.HasPrefix(r.Path, "/"):
				return ferr(f+".path", "path %q must start with /, e.g. /reviews/1?user=alice", r.Path)
			case r.Method != "" && strings.ToUpper(r.Method) != r.Method:
				return ferr(f+".method", "method %q: HTTP methods are upper case (%s)", r.Method, strings.ToUpper(r.Method))
			}
		}
		return nil
	}
	if err := check("traffic.defaults", &s.Traffic.Defaults); err != nil {
		return err
	}
	for i := range s.Traffic.Edges {
		if err := check(fmt.Sprintf("traffic.edges[%d]", i), &s.Traffic.Edges[i]); err != nil {
			return err
		}
	}
	// Negative or absurd rates are rejected by the range tags.
	if c := s.Traffic.Churn; c != nil {
		if c.PodsPerSecond == 0 && c.RolloutsPerHour == 0 {
			return ferr("traffic.churn", "no churn: give pods_per_second and/or rollouts_per_hour (or remove the section)")
		}
		for i, w := range c.Workloads {
			if _, err := path.Match(w, ""); err != nil || !strings.Contains(w, "/") {
				return ferr(fmt.Sprintf("traffic.churn.workloads[%d]", i), "%q: want a namespace/name glob, e.g. \"shop/*\"", w)
			}
		}
	}
	return nil
}

// validateProfile: a built-in profile name exists (a file is checked when
// it is loaded).
func (s *Scenario) validateProfile(ferr func(field, format string, a ...any) error) error {
	if s.Profile != "" && !isFile(s.Profile) {
		names := models.ProfileNames()
		if !slices.Contains(names, s.Profile) {
			msg := fmt.Sprintf("no built-in profile %q (have %s); give a .yaml file for your own", s.Profile, strings.Join(names, ", "))
			if c := yamlcheck.DidYouMean(s.Profile, names); c != "" {
				msg = fmt.Sprintf("no built-in profile %q%s", s.Profile, c)
			}
			return ferr("profile", "%s", msg)
		}
	}
	return nil
}

// validateMesh: mesh-wide options.
func (s *Scenario) validateMesh(ferr func(field, format string, a ...any) error) error {
	switch s.Mesh.SidecarScope {
	case "", "mesh", "namespace", "calls":
	default:
		return ferr("mesh.sidecar_scope", "want mesh, namespace or calls, got %q", s.Mesh.SidecarScope)
	}
	return nil
}

// lineOf finds the line of a dotted path (with [i] indices) in doc.
func lineOf(doc *yaml.Node, path string) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, part := range strings.Split(path, ".") {
		idx := -1
		if k := strings.IndexByte(part, '['); k >= 0 {
			fmt.Sscanf(part[k:], "[%d]", &idx)
			part = part[:k]
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return line
		}
		if idx >= 0 && n.Kind == yaml.SequenceNode && idx < len(n.Content) {
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

// hasKey reports whether the document's top-level mapping has key.
func hasKey(doc *yaml.Node, key string) bool {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}
