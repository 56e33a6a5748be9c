package scenarios

import (
	"encoding/json"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/topology"
)

// sweepParams is the schema of a sweep's parameters mapping (and of one
// listed point): each parameter takes a scalar, a list, or a range.
func sweepParams() map[string]any {
	props := map[string]any{}
	for _, p := range sweep.ParameterInfos() {
		scalar := map[string]any{"type": []string{"number", "string"}}
		if len(p.Values) > 0 {
			scalar = map[string]any{"enum": p.Values}
		}
		rng := map[string]any{"type": "object", "additionalProperties": false, "required": []string{"from", "to"},
			"properties": map[string]any{
				"from": map[string]any{"type": "number"}, "to": map[string]any{"type": "number"},
				"step": map[string]any{"type": "number"}, "count": map[string]any{"type": "integer"},
				"scale": map[string]any{"enum": []string{"linear", "log"}},
			}}
		desc := p.Description
		if p.Unit != "" {
			desc += " (" + p.Unit + ")"
		}
		props[p.Name] = map[string]any{"description": desc,
			"anyOf": []any{scalar, map[string]any{"type": "array", "items": scalar}, rng}}
	}
	return map[string]any{"type": "object", "additionalProperties": false, "properties": props}
}

// SchemaID is the $id of the scenario JSON Schema.
const SchemaID = "https://ambientsim.dev/schema/scenario.json"

// enums lists the accepted values of string fields, keyed "Type.field".
var enums = map[string][]string{
	"EdgeTraffic.protocol":            {"http", "http2", "grpc", "tcp"},
	"EdgeTraffic.connections":         {"keep-alive", "per-request"},
	"EdgeTraffic.arrival":             {"poisson", "constant", "on-off"},
	"EdgeTraffic.load_balancing":      {"round-robin", "least-request", "random"},
	"MeshOpts.sidecar_scope":          {"mesh", "namespace", "calls"},
	"NamespaceSpec.mode":              {"out-of-mesh", "ambient", "sidecar"},
	"ServiceSpec.mode":                {"out-of-mesh", "ambient", "sidecar"},
	"WorkloadSpec.mode":               {"out-of-mesh", "ambient", "sidecar"},
	"WaypointSpec.scope":              {"namespace", "per-service", "service-account"},
	"WaypointSpec.for":                {"service", "workload", "all", "none"},
	"FailureSpec.kind":                FailureKinds,
	"WhatIfSpec.mode":                 ModeNames,
	"WhatIfSpec.waypoint_scope":       {"namespace", "per-service"},
	"WhatIfSpec.traffic_distribution": {"PreferClose"},
	"MeshOpts.traffic_distribution":   {"PreferClose"},
	"Spec.design":                     {"cartesian", "list"},
	"Spec.warmup":                     {"mser5", "scenario"},
	"SLOSpec.metric":                  {"p50", "p90", "p99", "p999", "error_rate"},
	"ObservedEdge.reporter":           ObservedReporters,
	"ObservedEdge.protocol":           ObservedProtocols,
	"LoadSpec.tool":                   {"fortio", "oha", "iperf"},
	"CapacitySpec.quantile":           {"p50", "p90", "p99", "p999"},
}

// docs gives descriptions, keyed "Type.field".
var docs = map[string]string{
	"Scenario.name":                    "Scenario name (default: the file name).",
	"Scenario.description":             "One line: what the scenario shows.",
	"Scenario.question":                "The review question it answers.",
	"Scenario.topology":                "The cluster: an inline generative spec or manifest paths.",
	"Scenario.modes":                   "Dataplane modes to simulate on identical traffic.",
	"Scenario.profile":                 "Cost profile: built-in name (istio-1.24-published) or a YAML file.",
	"Scenario.duration":                "Measured simulated time, e.g. 60s.",
	"Scenario.warmup":                  "Simulated time discarded first, e.g. 5s (default 5s).",
	"Scenario.seed":                    "Random seed (default 1).",
	"Scenario.traffic":                 "Traffic on the call graph's edges.",
	"Scenario.apps":                    "Per-workload application behaviour.",
	"Scenario.mesh":                    "Mesh-wide options.",
	"Scenario.outputs":                 "Which metric files to write.",
	"Scenario.observed":                "What a real cluster's Prometheus showed per edge (ambientsim import traffic); run compares predictions with it.",
	"Observed.source":                  "Where the observations came from, e.g. prometheus http://prom:9090.",
	"Observed.end":                     "RFC 3339 end of the observed range.",
	"Observed.range":                   "Length of the observed range, e.g. 1h.",
	"Observed.selector":                "Extra PromQL label matchers the import used.",
	"ObservedEdge.from":                "Source workload, ns/name.",
	"ObservedEdge.to":                  "Destination service, ns/name.",
	"ObservedEdge.reporter":            "The Istio reporter the figures come from.",
	"ObservedEdge.mean_rps":            "Mean rate over the range (requests/s; connections/s for tcp).",
	"ObservedEdge.peak_rps":            "Highest short-window rate in the range.",
	"ObservedEdge.p50_ms":              "Median of istio_request_duration_milliseconds (histogram_quantile).",
	"ObservedEdge.p99_ms":              "99th percentile of istio_request_duration_milliseconds (histogram_quantile).",
	"ObservedEdge.error_ratio":         "Share of 5xx responses.",
	"ObservedEdge.request_bytes":       "Mean request size in bytes (bytes sent per connection for tcp).",
	"ObservedEdge.response_bytes":      "Mean response size in bytes (bytes received per connection for tcp).",
	"ObservedEdge.mix":                 "Request mix by method and path, when the metrics carry such labels.",
	"Topology.spec":                    "Compact generative topology (nodes, namespaces, services, calls, policies).",
	"Topology.manifests":               "Kubernetes/Istio/Gateway-API manifest files or directories, relative to the scenario.",
	"Traffic.defaults":                 "Traffic settings for every edge.",
	"Traffic.edges":                    "Overrides for edges matching from/to (globs); later entries win.",
	"Traffic.churn":                    "Pod churn while the traffic runs (scaling, rollouts): drives istiod pushes and certificate signing.",
	"ChurnSpec.pods_per_second":        "Scale events per second, each creating or deleting one pod of a churning workload (chosen in proportion to replicas).",
	"ChurnSpec.rollouts_per_hour":      "Rolling restarts per hour, each replacing every pod of one churning workload.",
	"ChurnSpec.workloads":              "Churning workloads as ns/name globs (default every application workload).",
	"EdgeTraffic.from":                 "Source workload ns/name (glob).",
	"EdgeTraffic.to":                   "Destination service ns/name (glob).",
	"EdgeTraffic.rate":                 "External open-loop arrivals per second from the source's pods.",
	"EdgeTraffic.fanout":               "Calls on this edge per request the source serves (fraction = probability).",
	"EdgeTraffic.pool":                 "Keep-alive connections per client pod (default 4).",
	"EdgeTraffic.on":                   "on-off arrivals: mean on period.",
	"EdgeTraffic.off":                  "on-off arrivals: mean off period.",
	"EdgeTraffic.timeout":              "Per-call timeout (504), e.g. 2s.",
	"EdgeTraffic.retries":              "Retries on reset/503/no upstream.",
	"App.workload":                     "Workload ns/name (glob).",
	"App.service_time":                 "Service time: a duration (constant) or {dist, mean, cv, alpha, min, max, samples}.",
	"App.concurrency":                  "Worker threads per pod.",
	"Outputs.metrics":                  "Write metrics.prom (default true).",
	"Outputs.openmetrics":              "Write metrics.om with timestamps (default true).",
	"Outputs.interval":                 "metrics.om sample interval (default 10s).",
	"MeshOpts.waypoint_replicas":       "Replicas of the waypoints added in ambient+waypoint mode (default 1).",
	"MeshOpts.cert_ttl":                "Workload certificate lifetime, overriding the profile (renewed at half-life), e.g. 30s.",
	"MeshOpts.proxy_retries":           "Retries by waypoints and client sidecars on connection failure or reset (default 2, Istio's).",
	"MeshOpts.retry_budget":            "Cap on retries per edge as a fraction of its calls (plus 3); 0 = no cap.",
	"Scenario.slo":                     "Service-level objective: slower calls count as bad in blast-radius results.",
	"Scenario.failures":                "Scheduled failures; each gets a blast-radius result per mode.",
	"Scenario.what_if":                 "Alternative designs replayed under the same failures on the same random streams.",
	"SLO.p99":                          "Objective on the p99 end-to-end latency of successful requests, e.g. 25ms; the report judges every mode against it.",
	"SLO.error_ratio":                  "Objective on failed / offered external requests, a fraction in (0, 1], e.g. 0.001.",
	"Scenario.sweep":                   "Sweep study (ambientsim sweep): parameters, replications, SLO search, sizing, cost; ignored by ambientsim run.",
	"SLO.latency":                      "A call slower than this breaches the SLO, e.g. 500ms.",
	"FailureSpec.name":                 "Unique name (default <kind>-<n>).",
	"FailureSpec.kind":                 "What fails.",
	"FailureSpec.at":                   "Start, measured from the end of the warm-up, e.g. 10s.",
	"FailureSpec.duration":             "How long it lasts (restart time); 0 = until the end.",
	"FailureSpec.target":               "What fails: node/nodes/zone, waypoint, service, pod, replicas.",
	"FailureSpec.peer":                 "network: the other side (default every other node).",
	"FailureSpec.endpoint_delay":       "Until load balancers skip the failed endpoint (default 1s crash, 40s node loss).",
	"FailureSpec.replace_after":        "node-loss: replacement pods ready elsewhere after this.",
	"FailureSpec.drain":                "Drain deadline after SIGTERM (ztunnel-upgrade 25s, waypoint-rollout 5s).",
	"FailureSpec.max_unavailable":      "ztunnel-upgrade: nodes upgraded at a time (default 1).",
	"FailureSpec.latency":              "network: added one-way latency.",
	"FailureSpec.loss":                 "network: probability a transfer is lost (costs a 200 ms retransmission).",
	"FailureSpec.partition":            "network: nothing crosses.",
	"FailureSpec.factor":               "traffic-surge: rate multiplier.",
	"FailureSpec.from":                 "traffic-surge: source workload glob.",
	"FailureSpec.to":                   "traffic-surge: destination service glob.",
	"WhatIfSpec.name":                  "Design name shown in the comparison.",
	"WhatIfSpec.mode":                  "Dataplane mode of the design (default: the scenario's first mode).",
	"WhatIfSpec.waypoint_scope":        "Replace the waypoints: namespace (shared) or per-service (dedicated).",
	"WhatIfSpec.waypoint_replicas":     "Replicas of the design's waypoints.",
	"WhatIfSpec.waypoint_autoscale":    "HPA-like waypoint scale-out for the design (overrides mesh.waypoint_autoscale).",
	"MeshOpts.waypoint_autoscale":      "HPA-like waypoint scale-out: min/max replicas, target utilisation, delay, period.",
	"MeshOpts.traffic_distribution":    "PreferClose: every proxy prefers endpoints in its own zone (Kubernetes trafficDistribution).",
	"WhatIfSpec.traffic_distribution":  "PreferClose for the design (overrides mesh.traffic_distribution).",
	"AutoscaleSpec.min_replicas":       "Replicas serving at the start (default 1).",
	"AutoscaleSpec.max_replicas":       "Most replicas the autoscaler adds up to.",
	"AutoscaleSpec.target_utilisation": "Target busy fraction of the waypoint's worker threads (default 0.7).",
	"AutoscaleSpec.delay":              "From the scaling decision until the new replica serves (default 10s).",
	"AutoscaleSpec.period":             "Controller sync period (default 15s).",
	"Topology.machines":                "Machines of the nodes: an instance type (m5.2xlarge, n2-standard-8, Standard_D8s_v5, ...) or cores and speed; later entries win. Default: 8 reference cores per node.",
	"Topology.hosts":                   "Nodes sharing one machine's cores (kind, a lab VM): every container on them competes for the host's cores.",
	"MachineSpec.nodes":                "Node names or globs (default every node).",
	"MachineSpec.instance_type":        "Instance type from the built-in table (ambientsim docs: capacity.md): its vCPUs, per-vCPU speed and SMT.",
	"MachineSpec.cores":                "vCPUs (overrides the instance type's).",
	"MachineSpec.speed":                "Per-vCPU speed relative to the reference core (an AWS m5 vCPU is 1).",
	"MachineSpec.smt":                  "Hardware threads per physical core: 1, or 2 (hyperthreads; cloud vCPUs usually are).",
	"MachineSpec.smt_yield":            "Throughput of a physical core with both hyperthreads busy, relative to one (default 1.25).",
	"MachineSpec.nic_gbps":             "NIC bandwidth of each node, Gbit/s (default: the profile's network.nic_bandwidth).",
	"HostSpec.name":                    "Host name.",
	"HostSpec.cores":                   "The host's vCPUs (or give instance_type).",
	"HostSpec.nodes":                   "Nodes on the host.",
	"HostSpec.instance_type":           "The host's instance type (sets cores, speed and SMT).",
	"HostSpec.speed":                   "Per-vCPU speed relative to the reference core.",
	"App.cpu_fraction":                 "Share of the service time computed on the node's CPU; the rest the app waits (I/O). Default the profile's app.cpu_fraction (1).",
	"App.resources":                    "The app container's CPU request (its share of a contended node) and limit (CFS quota), as in a Pod spec.",
	"MeshOpts.ztunnel":                 "ztunnel's container: resources (default request 200m, no limit) and worker_threads.",
	"MeshOpts.waypoint":                "Waypoint replicas' container: resources (default request 100m, limit 2) and Envoy concurrency (default: the CPU limit rounded up).",
	"MeshOpts.sidecar":                 "Sidecars' container: resources (default request 100m, limit 2) and Envoy concurrency (default: the CPU limit rounded up).",
	"ProxySpec.resources":              "CPU requests and limits, as in a Pod spec: {requests: {cpu: 200m}, limits: {cpu: 2}}.",
	"ProxySpec.worker_threads":         "ztunnel worker threads (ZTUNNEL_WORKER_THREADS); a connection stays on one.",
	"ProxySpec.concurrency":            "Envoy worker threads (proxy concurrency); a connection stays on one.",
	"ResourcesSpec.requests":           "Requests: the container's weight on a contended node (CFS shares).",
	"ResourcesSpec.limits":             "Limits: a CPU limit throttles the container per 100-ms CFS period.",
	"ResourceList.cpu":                 "CPU in cores (2, 0.5) or millicores (\"500m\").",
	"EdgeTraffic.load":                 "A load generator drives the edge instead of open-loop arrivals: fortio/oha connections and qps, or iperf streams; optionally outside the cluster.",
	"LoadSpec.tool":                    "fortio (default: -c 8 -qps 8), oha (-c 50, no rate limit) or iperf (one stream, 128KiB writes, 256KiB in flight).",
	"LoadSpec.connections":             "fortio/oha -c: connections, each with one request outstanding (closed loop).",
	"LoadSpec.qps":                     "fortio -qps / oha -q: total target rate; 0 = as fast as responses allow.",
	"LoadSpec.streams":                 "iperf -P: parallel TCP streams.",
	"LoadSpec.window":                  "iperf: bytes a stream keeps in flight (default 256KiB); request_size is its write size.",
	"LoadSpec.external":                "The client runs outside the cluster: no node CPU, plus rtt per request.",
	"LoadSpec.rtt":                     "An external client's round trip to the cluster, e.g. 20ms.",
	"Scenario.capacity":                "Find the largest load an edge sustains within a latency bound (bisection over its rate; summary.json capacity).",
	"CapacitySpec.from":                "Source workload ns/name (glob matching one edge).",
	"CapacitySpec.to":                  "Destination service ns/name (glob).",
	"CapacitySpec.quantile":            "Latency quantile held to the bound (default p99).",
	"CapacitySpec.latency":             "The bound, e.g. 10ms.",
	"CapacitySpec.max_qps":             "Top of the search (default 64× the edge's rate).",
	"CapacitySpec.max_error_ratio":     "A point fails when more than this fraction of its calls fail or do not finish (default 0.001).",
}

var (
	durationT = reflect.TypeOf(Duration(0))
	sizeT     = reflect.TypeOf(Size(0))
	timeDistT = reflect.TypeOf(TimeDist{})
	sizeDistT = reflect.TypeOf(SizeDist{})
	cpuT      = reflect.TypeOf(CPU(0))
)

const durationPattern = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`

// JSONSchema returns the scenario file's JSON Schema (draft-07), generated
// by reflection from the Go types, for yaml-language-server and editors.
func JSONSchema() ([]byte, error) {
	s := schemaOf(reflect.TypeOf(Scenario{}), "")
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	s["$id"] = SchemaID
	s["title"] = "ambientsim scenario"
	s["required"] = []string{"topology"}
	return json.MarshalIndent(s, "", "  ")
}

func distSchema(value map[string]any) map[string]any {
	return map[string]any{"oneOf": []any{
		value,
		map[string]any{"type": "object", "additionalProperties": false, "required": []string{"dist"},
			"properties": map[string]any{
				"dist":    map[string]any{"enum": []string{"exponential", "lognormal", "pareto", "constant", "deterministic", "uniform", "empirical"}},
				"mean":    value,
				"cv":      map[string]any{"type": "number", "exclusiveMinimum": 0},
				"alpha":   map[string]any{"type": "number", "exclusiveMinimum": 1},
				"min":     value,
				"max":     value,
				"samples": map[string]any{"type": "array", "items": value},
			}},
	}}
}

func schemaOf(t reflect.Type, key string) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	sizeValue := map[string]any{"type": []string{"string", "integer"}, "pattern": `^[0-9.]+\s*(B|KB|MB|GB|KiB|MiB|GiB)?$`}
	durValue := map[string]any{"type": "string", "pattern": durationPattern}
	switch t {
	case cpuT:
		return map[string]any{"type": []string{"string", "number"}, "pattern": `^[0-9.]+m?$`}
	case durationT:
		return durValue
	case sizeT:
		return sizeValue
	case timeDistT:
		return distSchema(durValue)
	case sizeDistT:
		return distSchema(sizeValue)
	case reflect.TypeOf(sweep.Axes{}):
		return sweepParams()
	case reflect.TypeOf(sweep.PointSpec{}):
		return sweepParams()
	case reflect.TypeOf(yaml.Node{}):
		if key == "Topology.spec" {
			return schemaOf(reflect.TypeOf(topology.Spec{}), "")
		}
		if key == "Scenario.sweep" {
			return schemaOf(reflect.TypeOf(sweep.Spec{}), "")
		}
		return map[string]any{} // any value (inline manifests)
	}
	switch t.Kind() {
	case reflect.Struct:
		props := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			k := t.Name() + "." + name
			p := schemaOf(f.Type, k)
			rangeSchema(p, f)
			if e, ok := enums[k]; ok {
				p = map[string]any{"enum": e}
			}
			if d, ok := docs[k]; ok {
				p["description"] = d
			}
			props[name] = p
		}
		return map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), key)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), key)}
	case reflect.String:
		if key == "Scenario.modes" {
			return map[string]any{"enum": ModeNames}
		}
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}

// rangeSchema adds a numeric field's range tag (yamlcheck) to its schema
// as minimum/maximum, so an editor flags what the parser will refuse;
// for a list of numbers, to its items. Durations and sizes are strings
// in the schema and keep their pattern only.
func rangeSchema(p map[string]any, f reflect.StructField) {
	r, ok := yamlcheck.FieldRange(f)
	if !ok || r.Any {
		return
	}
	if items, ok := p["items"].(map[string]any); ok {
		p = items
	}
	switch p["type"] {
	case "integer", "number":
	default:
		return
	}
	if r.LoOpen {
		p["exclusiveMinimum"] = r.Lo
	} else {
		p["minimum"] = r.Lo
	}
	if r.HiOpen {
		p["exclusiveMaximum"] = r.Hi
	} else {
		p["maximum"] = r.Hi
	}
}
