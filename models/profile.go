package models

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/sim"
)

//go:embed profiles/*.yaml
var profileFS embed.FS

// DefaultProfile is the profile used when a scenario names none.
const DefaultProfile = "istio-1.24-published"

// Quantity is one cost parameter with its provenance. Every number in a
// profile file carries its unit, where it comes from, when it was obtained
// and, when it is computed from a published figure, how.
type Quantity struct {
	Value      float64 `yaml:"value"`
	Unit       string  `yaml:"unit"`
	Source     string  `yaml:"source"`
	Date       string  `yaml:"date"`
	Derivation string  `yaml:"derivation,omitempty"`
}

// Profile is a versioned set of cost parameters. Field comments give the unit
// each Quantity must declare; Load rejects a file whose unit differs, so a
// profile written in the wrong unit fails loudly instead of silently scaling
// the results.
type Profile struct {
	Name        string `yaml:"name"`
	Version     string `yaml:"version"`
	Description string `yaml:"description"`
	Source      string `yaml:"source"`
	Date        string `yaml:"date"`
	Provenance  string `yaml:"provenance"` // "published" or "calibrated on <machine>"
	// Sources declare where the numbers come from and Excluded what was
	// deliberately left out (provenance.go); optional for older files.
	Sources  []Source         `yaml:"sources,omitempty"`
	Excluded []ExcludedSource `yaml:"excluded_sources,omitempty"`

	Ztunnel      ZtunnelCosts      `yaml:"ztunnel"`
	HBONE        HBONEParams       `yaml:"hbone"`
	Waypoint     EnvoyCosts        `yaml:"waypoint"`
	Sidecar      EnvoyCosts        `yaml:"sidecar"`
	Network      NetworkCosts      `yaml:"network"`
	App          AppDefaults       `yaml:"app"`
	LoadGen      LoadGenCosts      `yaml:"loadgen"`
	Node         NodeParams        `yaml:"node"`
	ControlPlane ControlPlaneCosts `yaml:"control_plane"`

	// Calibration records how a calibrated profile was measured (metadata:
	// the simulator does not read it); nil for a published profile.
	Calibration *Calibration `yaml:"calibration,omitempty"`

	// Hash is the sha256 of the profile file's bytes (set by Load).
	Hash string `yaml:"-"`
	// Raw is the profile file's bytes (set by Load), hashed into a run's
	// inputs hash.
	Raw []byte `yaml:"-"`
}

// ZtunnelCosts are the node proxy's costs. ztunnel is L4: it sees bytes and
// read/write "messages" (a request or a response crossing it), never HTTP.
type ZtunnelCosts struct {
	WorkerThreads Quantity `yaml:"worker_threads" unit:"threads"`
	PerMessageCPU Quantity `yaml:"per_message_cpu" unit:"us"` // one request or response crossing one ztunnel
	// CrossNodeMessageCPU is added to a message whose HBONE (or plaintext)
	// leg crosses nodes: the kernel's network work (veth/NIC, routing,
	// softirq) charged to the proxy, which a same-node leg over loopback
	// does not pay. Optional (absent = 0: same-node and cross-node
	// messages cost the same).
	CrossNodeMessageCPU Quantity `yaml:"cross_node_message_cpu" unit:"us" optional:"0"`
	PerByteCPU          Quantity `yaml:"per_byte_cpu" unit:"ns/B"`  // encrypt/decrypt + copy
	StreamOpenCPU       Quantity `yaml:"stream_open_cpu" unit:"us"` // one HBONE CONNECT stream, each side
	// Handshake costs are per new mTLS connection, on the dialling and the
	// accepting side.
	HandshakeClientCPU Quantity `yaml:"handshake_client_cpu" unit:"us"`
	HandshakeServerCPU Quantity `yaml:"handshake_server_cpu" unit:"us"`
	AuthzCPU           Quantity `yaml:"authz_cpu" unit:"us"`     // one L4 RBAC decision (per connection)
	AddedLatency       Quantity `yaml:"added_latency" unit:"us"` // non-CPU delay per crossing (wake-ups, socket hops)
	// AddedLatencySD is the standard deviation of the added latency: each
	// crossing draws it from a lognormal with mean AddedLatency (with a
	// zero mean a crossing adds nothing). Optional (absent = 0: a
	// constant delay).
	AddedLatencySD  Quantity `yaml:"added_latency_sd" unit:"us" optional:"0"`
	MemoryBase      Quantity `yaml:"memory_base" unit:"MiB"`
	MemoryPerPod    Quantity `yaml:"memory_per_pod" unit:"KiB"` // workload state per captured pod on the node
	MemoryPerConn   Quantity `yaml:"memory_per_connection" unit:"KiB"`
	MemoryPerStream Quantity `yaml:"memory_per_stream" unit:"KiB"`
	CPURequest      Quantity `yaml:"cpu_request" unit:"cores"`
	// CPULimit is the container's CPU limit (a CFS quota); optional,
	// absent = 0 = no limit.
	CPULimit      Quantity `yaml:"cpu_limit" unit:"cores" optional:"0"`
	MemoryRequest Quantity `yaml:"memory_request" unit:"MiB"`
	// Activity is how the proxy's CPU behaves between and across messages
	// (optional section; absent means every CPU microsecond is on the
	// request's path and a proxy never parks).
	Activity ActivityCosts `yaml:"activity"`

	// Cluster state: what ztunnel holds because of the mesh around it
	// (memory.go states the law and what each term stores). Optional
	// (absent = 0: memory does not grow with the cluster).
	MemoryPerWorkload    Quantity `yaml:"memory_per_workload" unit:"KiB" optional:"0"`    // every workload (pod) istiod discovered, cluster-wide
	MemoryPerService     Quantity `yaml:"memory_per_service" unit:"KiB" optional:"0"`     // every service, cluster-wide
	MemoryPerEndpoint    Quantity `yaml:"memory_per_endpoint" unit:"KiB" optional:"0"`    // every (service, endpoint) pair
	MemoryPerPolicy      Quantity `yaml:"memory_per_policy" unit:"KiB" optional:"0"`      // every AuthorizationPolicy ztunnel enforces
	MemoryPerCertificate Quantity `yaml:"memory_per_certificate" unit:"KiB" optional:"0"` // every identity with pods on its node
}

// ActivityCosts describe what a proxy process costs beyond its per-message
// work: how much of that work delays the message (the rest is bookkeeping
// done after the message has been passed on: stats, buffer release, garbage
// collection), and what it costs to wake the process after it has been idle
// (futex/epoll wake-ups, the Go runtime's spinning then parking threads,
// scheduler and CPU idle-state exit latency, hypervisor halt polling). The
// longer a process idles the deeper it sleeps: a message arriving g after
// the process's last work pays the fraction 1 − exp(−g/τ) of the full
// wake-up CPU and latency, τ = sleep_time_constant. The wake-up term is why
// CPU per request falls as the rate grows and why a proxy that handles both
// sides of a same-node call costs less than two proxies: the second message
// finds it awake.
//
// Every field is optional; an absent field takes its neutral value
// (critical_path_fraction 1, the others 0: the mechanism is off), recorded
// as such in its Source.
type ActivityCosts struct {
	CriticalPathFraction Quantity `yaml:"critical_path_fraction" unit:"ratio" optional:"1" max:"1"`
	WakeupCPU            Quantity `yaml:"wakeup_cpu" unit:"us" optional:"0"`          // CPU per wake-up of a parked proxy, off the critical path
	WakeupLatency        Quantity `yaml:"wakeup_latency" unit:"us" optional:"0"`      // delay of a message that wakes a parked proxy
	SleepTimeConstant    Quantity `yaml:"sleep_time_constant" unit:"us" optional:"0"` // τ of the sleep depth; 0 = never sleeps
}

// HBONEParams are the pooling and protocol constants of ztunnel's HBONE
// client (ambient-internals.md §2, §10).
type HBONEParams struct {
	MaxStreamsPerConn Quantity `yaml:"max_streams_per_connection" unit:"streams"`
	PeerMaxStreams    Quantity `yaml:"peer_max_streams_ztunnel" unit:"streams"`
	WaypointMaxStream Quantity `yaml:"peer_max_streams_waypoint" unit:"streams"`
	IdleTimeout       Quantity `yaml:"idle_timeout" unit:"s"`
	HandshakeRTTs     Quantity `yaml:"handshake_rtts" unit:"RTT"` // TCP + TLS 1.3 before the first CONNECT
	ConnectTimeout    Quantity `yaml:"connect_timeout" unit:"s"`
}

// EnvoyCosts are the costs of an Envoy proxy: a waypoint or a sidecar.
type EnvoyCosts struct {
	WorkerThreads Quantity `yaml:"worker_threads" unit:"threads"`
	// PerRequestCPU is the fixed cost of one HTTP request/response pair
	// through this proxy (parse, route, authz, stats), split evenly between
	// the request and the response direction.
	PerRequestCPU Quantity `yaml:"per_request_cpu" unit:"us"`
	// InboundRequestCPU is added to each request a sidecar handles in its
	// inbound (server-side) role: terminating mTLS, authorising, reporting
	// as destination. Optional (absent = 0: both roles cost the same);
	// a waypoint ignores it.
	InboundRequestCPU Quantity `yaml:"inbound_request_cpu" unit:"us" optional:"0"`
	PerByteCPU        Quantity `yaml:"per_byte_cpu" unit:"ns/B"`
	HandshakeCPU      Quantity `yaml:"handshake_cpu" unit:"us"` // one mTLS handshake, either side
	AddedLatency      Quantity `yaml:"added_latency" unit:"us"` // non-CPU delay per crossing
	// AddedLatencySD: see ZtunnelCosts.AddedLatencySD.
	AddedLatencySD Quantity `yaml:"added_latency_sd" unit:"us" optional:"0"`
	MemoryBase     Quantity `yaml:"memory_base" unit:"MiB"`
	MemoryPerSvc   Quantity `yaml:"memory_per_service" unit:"KiB"`  // per service in its xDS config
	MemoryPerEP    Quantity `yaml:"memory_per_endpoint" unit:"KiB"` // per endpoint in its xDS config
	MemoryPerRoute Quantity `yaml:"memory_per_route" unit:"KiB"`
	MemoryPerConn  Quantity `yaml:"memory_per_connection" unit:"KiB"`
	CPURequest     Quantity `yaml:"cpu_request" unit:"cores"`
	// CPULimit is the container's CPU limit (a CFS quota; Envoy's
	// concurrency follows it, rounded up, when worker_threads is not
	// overridden); optional, absent = 0 = no limit.
	CPULimit        Quantity `yaml:"cpu_limit" unit:"cores" optional:"0"`
	MemoryRequest   Quantity `yaml:"memory_request" unit:"MiB"`
	UpstreamIdleTTL Quantity `yaml:"upstream_idle_timeout" unit:"s"`
	// Activity: see ActivityCosts (optional section).
	Activity ActivityCosts `yaml:"activity"`

	// MemoryPerPolicy is the RBAC filter state of one AuthorizationPolicy
	// applying to the proxy (memory.go). Optional (absent = 0).
	MemoryPerPolicy Quantity `yaml:"memory_per_policy" unit:"KiB" optional:"0"`
}

// NetworkCosts are one-way propagation latencies and NIC bandwidth.
type NetworkCosts struct {
	SameNode      Quantity `yaml:"same_node_latency" unit:"us"`
	CrossNode     Quantity `yaml:"cross_node_latency" unit:"us"`
	CrossZone     Quantity `yaml:"cross_zone_latency" unit:"us"`
	NICBandwidth  Quantity `yaml:"nic_bandwidth" unit:"Gbit/s"`
	TCPHandshakes Quantity `yaml:"tcp_handshake_rtts" unit:"RTT"` // added for a new plain TCP connection
	// TCPHandshakeCPU is the kernel CPU of one TCP connection set-up and
	// tear-down on one side (connect or accept, close), charged to the
	// process on that side. Optional (absent = 0).
	TCPHandshakeCPU Quantity `yaml:"tcp_handshake_cpu" unit:"us" optional:"0"`
}

// AppDefaults are used for workloads the scenario does not describe.
type AppDefaults struct {
	ServiceTimeMean Quantity `yaml:"service_time_mean" unit:"us" range:"[0.001,1e9]" why:"a lognormal or exponential service time needs a positive mean"`
	ServiceTimeCV   Quantity `yaml:"service_time_cv" unit:"ratio" range:"(0,100]" why:"a lognormal service time needs a positive coefficient of variation"`
	Concurrency     Quantity `yaml:"concurrency" unit:"workers"`
	MemoryBase      Quantity `yaml:"memory_base" unit:"MiB"`
	// WakeupLatency and SleepTimeConstant model an app process sleeping
	// when idle, as ActivityCosts does for proxies (optional; absent =
	// never sleeps): a request arriving g after the app's last work is
	// delayed by (1 − exp(−g/SleepTimeConstant)) × WakeupLatency.
	WakeupLatency     Quantity `yaml:"wakeup_latency" unit:"us" optional:"0"`
	SleepTimeConstant Quantity `yaml:"sleep_time_constant" unit:"us" optional:"0"`
	// CPURequest is an app container's CPU request when the scenario
	// gives none (its weight on a contended node). Optional (absent = 0:
	// BestEffort, the minimal weight).
	CPURequest Quantity `yaml:"cpu_request" unit:"cores" optional:"0"`
	// CPUFraction is the share of the service time the app computes on
	// its node's CPU; the rest it waits (I/O) without using a core.
	// Optional (absent = 1: a CPU-bound app).
	CPUFraction Quantity `yaml:"cpu_fraction" unit:"ratio" optional:"1" max:"1"`
}

// LoadGenCosts are a load generator's costs (fortio, oha, iperf, or the
// source pods of open-loop traffic): CPU on its node per request and per
// byte. The work is charged to the generator's container off the
// request's path (it competes for the node's cores; its on-path part is
// inside the measured app and network latencies). Every field is optional
// (absent = 0: generators cost nothing).
type LoadGenCosts struct {
	PerRequestCPU Quantity `yaml:"per_request_cpu" unit:"us" optional:"0"`
	PerByteCPU    Quantity `yaml:"per_byte_cpu" unit:"ns/B" optional:"0"`
	CPURequest    Quantity `yaml:"cpu_request" unit:"cores" optional:"0"`
}

// NodeParams describe the machine the profile's costs were measured on.
type NodeParams struct {
	// ReferenceSpeed is the per-vCPU speed of the cores the profile's
	// CPU costs were measured on, relative to the machine table's
	// reference core (models.MachineTypes): costs are divided by
	// node speed / ReferenceSpeed. Optional (absent = 1).
	ReferenceSpeed Quantity `yaml:"reference_speed" unit:"ratio" optional:"1"`
}

// ControlPlaneCosts describe istiod: config pushes and workload certificates.
type ControlPlaneCosts struct {
	CertTTL         Quantity `yaml:"cert_ttl" unit:"h"`
	RefreshFraction Quantity `yaml:"cert_refresh_fraction" unit:"ratio" range:"(0,1]" why:"renewal comes before expiry"`
	CSRSignCPU      Quantity `yaml:"csr_sign_cpu" unit:"us"`
	PushCPUPerProxy Quantity `yaml:"push_cpu_per_proxy" unit:"us"` // fixed part of a full push to one proxy
	// PushLatency is the quiet period istiod waits after a change before
	// it pushes (PILOT_DEBOUNCE_AFTER): changes closer together than this
	// share one push.
	PushLatency      Quantity `yaml:"push_latency" unit:"ms"`
	MemoryBase       Quantity `yaml:"memory_base" unit:"MiB"`
	MemoryPerProxy   Quantity `yaml:"memory_per_proxy" unit:"KiB"`
	MemoryPerService Quantity `yaml:"memory_per_service" unit:"KiB"`

	// Growth with the mesh (controlplane.go states the laws). Optional
	// (absent = 0: the term is off).
	MemoryPerPod            Quantity `yaml:"memory_per_pod" unit:"KiB" optional:"0"`             // every discovered pod (informer + workload index)
	MemoryPerEndpoint       Quantity `yaml:"memory_per_endpoint" unit:"KiB" optional:"0"`        // every (service, endpoint) pair (endpoint shards)
	MemoryPerConfig         Quantity `yaml:"memory_per_config" unit:"KiB" optional:"0"`          // every Istio/Gateway API config object
	MemoryPerPushedResource Quantity `yaml:"memory_per_pushed_resource" unit:"KiB" optional:"0"` // per proxy, per xDS resource it was sent
	CPUBase                 Quantity `yaml:"cpu_base" unit:"cores" optional:"0"`                 // informers, GC, status with no proxy connected
	CPUPerProxy             Quantity `yaml:"cpu_per_proxy" unit:"millicores" optional:"0"`       // steady cost of one connected proxy
	PushCPUPerResource      Quantity `yaml:"push_cpu_per_resource" unit:"us" optional:"0"`       // generating and sending one xDS resource
	PushCPUPerEndpoint      Quantity `yaml:"push_cpu_per_endpoint" unit:"us" optional:"0"`       // one endpoint inside an EDS resource
	IncrementalPushCPU      Quantity `yaml:"incremental_push_cpu_per_proxy" unit:"us" optional:"0"`
	PushDebounceMax         Quantity `yaml:"push_debounce_max" unit:"s" optional:"0"` // PILOT_DEBOUNCE_MAX; 0 = no cap
}

// ProfileInfo names an embedded profile.
type ProfileInfo struct {
	Name        string
	Description string
}

// Profiles lists the embedded profiles, sorted by name.
func Profiles() []ProfileInfo {
	entries, _ := fs.ReadDir(profileFS, "profiles")
	var out []ProfileInfo
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".yaml")
		p, err := LoadProfile(name)
		desc := ""
		if err == nil {
			desc = p.Description
		}
		out = append(out, ProfileInfo{Name: name, Description: desc})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LoadProfile loads a profile by embedded name (e.g. "istio-1.24-published")
// or by file path. An empty name selects DefaultProfile.
func LoadProfile(nameOrPath string) (*Profile, error) {
	if nameOrPath == "" {
		nameOrPath = DefaultProfile
	}
	if !strings.ContainsAny(nameOrPath, `/\`) && !strings.HasSuffix(nameOrPath, ".yaml") && !strings.HasSuffix(nameOrPath, ".yml") {
		data, err := profileFS.ReadFile(path.Join("profiles", nameOrPath+".yaml"))
		if err != nil {
			return nil, fmt.Errorf("profile %q: no such built-in profile (have %s); give a file path to load your own", nameOrPath, strings.Join(ProfileNames(), ", "))
		}
		return ParseProfile(nameOrPath+".yaml", data)
	}
	data, err := yamlcheck.ReadFile(nameOrPath, yamlcheck.MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return ParseProfile(nameOrPath, data)
}

// ProfileNames lists the built-in profiles' names, sorted, without parsing
// them (Profiles also reads each description).
func ProfileNames() []string {
	entries, _ := fs.ReadDir(profileFS, "profiles")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return names
}

// ParseProfile decodes and validates a profile. filename is used in errors.
// Unknown fields, missing values and wrong units are errors.
func ParseProfile(filename string, data []byte) (*Profile, error) {
	if len(data) > yamlcheck.MaxConfigBytes {
		return nil, &yamlcheck.LimitError{File: filename, Limit: yamlcheck.MaxConfigBytes, What: "file"}
	}
	if _, err := yamlcheck.Document(filename, data); err != nil {
		var fe *yamlcheck.FieldError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	if err := errors.Join(checkQuantities(filename, reflect.ValueOf(&p).Elem(), "", &root), checkCalibration(filename, p.Calibration, &root)); err != nil {
		return nil, err
	}
	if err := checkProvenance(filename, &p, &root); err != nil {
		return nil, err
	}
	if p.Name == "" {
		return nil, fmt.Errorf("%s: field name: missing", filename)
	}
	p.Raw = data
	p.Hash = sha256Hex(data)
	return &p, nil
}

// checkQuantities walks the profile and verifies every Quantity has a
// positive-or-zero value, the declared unit, a source and a date.
func checkQuantities(filename string, v reflect.Value, prefix string, root *yaml.Node) error {
	t := v.Type()
	var errs []error
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, ok := yamlPath(f, prefix)
		if !ok {
			continue
		}
		fv := v.Field(i)
		switch fv.Type() {
		case reflect.TypeOf(Quantity{}):
			q := fv.Interface().(Quantity)
			line, present := nodeLine(root, name)
			want := f.Tag.Get("unit")
			if neutral, ok := f.Tag.Lookup("optional"); ok && !present {
				// An optional mechanism the profile does not describe: its
				// neutral value switches it off, and the Source says so.
				var v float64
				if _, err := fmt.Sscan(neutral, &v); err != nil {
					errs = append(errs, fmt.Errorf("models: field %s: bad optional tag %q", name, neutral))
					continue
				}
				fv.Set(reflect.ValueOf(Quantity{Value: v, Unit: want, Source: "not in the profile: neutral value, mechanism off", Date: "-"}))
				continue
			}
			switch {
			case q.Unit == "" && q.Source == "" && q.Value == 0:
				errs = append(errs, fmt.Errorf("%s:%d: %s: missing (every parameter needs value, unit %q, source and date)", filename, line, name, want))
			case q.Unit != want:
				errs = append(errs, fmt.Errorf("%s:%d: %s: unit %q, want %q", filename, line, name, q.Unit, want))
			case math.IsNaN(q.Value) || math.IsInf(q.Value, 0):
				errs = append(errs, fmt.Errorf("%s:%d: %s: value %v is not a finite number", filename, line, name, q.Value))
			case q.Value < 0:
				errs = append(errs, fmt.Errorf("%s:%d: %s: negative value %v", filename, line, name, q.Value))
			case f.Tag.Get("max") != "" && q.Value > atof(f.Tag.Get("max")):
				errs = append(errs, fmt.Errorf("%s:%d: %s: value %v is above its maximum %s", filename, line, name, q.Value, f.Tag.Get("max")))
			case !quantityRange(f).Contains(q.Value):
				r := quantityRange(f)
				errs = append(errs, fmt.Errorf("%s:%d: %s: value %v is out of range; want %s %s (%s)", filename, line, name, q.Value, r.Text, want, r.Why))
			case q.Source == "" || q.Date == "":
				errs = append(errs, fmt.Errorf("%s:%d: %s: needs a source and a date", filename, line, name))
			}
		default:
			if fv.Kind() == reflect.Struct {
				if err := checkQuantities(filename, fv, name, root); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// unitRanges bound every Quantity by its unit, so a new parameter is
// range-checked from the day it is added; a field's own range tag (on the
// Quantity field, applying to its value) narrows it. Upper bounds keep the
// model's arithmetic finite and its allocations sane, not physics
// (docs/limits.md).
var unitRanges = map[string]string{
	"threads":    "[1,1024]",
	"workers":    "[1,100000]",
	"streams":    "[1,1000000]",
	"us":         "[0,1e9]",
	"ms":         "[0,1e7]",
	"s":          "[0,1e6]",
	"h":          "[0.0002778,87600]", // 1 s to 10 years
	"ns/B":       "[0,1e6]",
	"KiB":        "[0,1e9]",
	"MiB":        "[0,1e7]",
	"cores":      "[0,10000]",
	"millicores": "[0,1e7]",
	"RTT":        "[0,100]",
	"Gbit/s":     "(0,100000]",
	"ratio":      "[0,100]",
}

// quantityRange is the range of a Quantity field: its range tag, else its
// unit's; a unit without one allows any finite non-negative value (and
// TestEveryProfileQuantityHasARange fails).
func quantityRange(f reflect.StructField) yamlcheck.Range {
	if r, ok := yamlcheck.FieldRange(f); ok {
		if r.Why == "" {
			r.Why = "docs/limits.md"
		}
		return r
	}
	if tag, ok := unitRanges[f.Tag.Get("unit")]; ok {
		r, err := yamlcheck.ParseRange(tag)
		if err == nil {
			r.Why = "the range of every parameter in " + f.Tag.Get("unit") + ", docs/limits.md"
			return r
		}
	}
	return yamlcheck.Range{Lo: 0, Hi: math.MaxFloat64, Text: "[0,max]", Why: "any finite value"}
}

// yamlPath is the dotted YAML path of struct field f under prefix; false
// for a field YAML does not see.
func yamlPath(f reflect.StructField, prefix string) (string, bool) {
	tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
	if tag == "" || tag == "-" {
		return "", false
	}
	if prefix != "" {
		return prefix + "." + tag, true
	}
	return tag, true
}

// atof parses a struct tag's number (tags are constants of this package).
func atof(s string) float64 {
	var v float64
	fmt.Sscan(s, &v)
	return v
}

// nodeLine finds the line of a dotted key path in a YAML document (or of
// its deepest present ancestor, or 0) and whether the whole path is there.
func nodeLine(root *yaml.Node, dotted string) (int, bool) {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, key := range strings.Split(dotted, ".") {
		if n.Kind != yaml.MappingNode {
			return line, false
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line, false
		}
	}
	return line, true
}

// Micros converts a Quantity in µs to sim.Time.
func (q Quantity) Micros() sim.Time { return sim.FromNanoseconds(q.Value * 1e3) }

// Millis converts a Quantity in ms to sim.Time.
func (q Quantity) Millis() sim.Time { return sim.FromNanoseconds(q.Value * 1e6) }

// SecondsT converts a Quantity in s to sim.Time.
func (q Quantity) SecondsT() sim.Time { return sim.FromSeconds(q.Value) }

// Int returns the value rounded to an int, at least min.
func (q Quantity) Int(min int) int {
	n := int(q.Value + 0.5)
	if n < min {
		return min
	}
	return n
}
