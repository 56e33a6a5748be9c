package scenarios

import (
	"encoding/json"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/topology"
)

// SchemaID is the $id of the scenario JSON Schema.
const SchemaID = "https://ambientsim.dev/schema/scenario.json"

// enums lists the accepted values of string fields, keyed "Type.field".
var enums = map[string][]string{
	"EdgeTraffic.protocol":       {"http", "http2", "grpc", "tcp"},
	"EdgeTraffic.connections":    {"keep-alive", "per-request"},
	"EdgeTraffic.arrival":        {"poisson", "constant", "on-off"},
	"EdgeTraffic.load_balancing": {"round-robin", "least-request", "random"},
	"MeshOpts.sidecar_scope":     {"mesh", "namespace", "calls"},
	"NamespaceSpec.mode":         {"out-of-mesh", "ambient", "sidecar"},
	"ServiceSpec.mode":           {"out-of-mesh", "ambient", "sidecar"},
	"WorkloadSpec.mode":          {"out-of-mesh", "ambient", "sidecar"},
	"WaypointSpec.scope":         {"namespace", "per-service", "service-account"},
	"WaypointSpec.for":           {"service", "workload", "all", "none"},
}

// docs gives descriptions, keyed "Type.field".
var docs = map[string]string{
	"Scenario.name":              "Scenario name (default: the file name).",
	"Scenario.description":       "One line: what the scenario shows.",
	"Scenario.question":          "The review question it answers.",
	"Scenario.topology":          "The cluster: an inline generative spec or manifest paths.",
	"Scenario.modes":             "Dataplane modes to simulate on identical traffic.",
	"Scenario.profile":           "Cost profile: built-in name (istio-1.24-published) or a YAML file.",
	"Scenario.duration":          "Measured simulated time, e.g. 60s.",
	"Scenario.warmup":            "Simulated time discarded first, e.g. 5s (default 5s).",
	"Scenario.seed":              "Random seed (default 1).",
	"Scenario.traffic":           "Traffic on the call graph's edges.",
	"Scenario.apps":              "Per-workload application behaviour.",
	"Scenario.mesh":              "Mesh-wide options.",
	"Scenario.outputs":           "Which metric files to write.",
	"Topology.spec":              "Compact generative topology (nodes, namespaces, services, calls, policies).",
	"Topology.manifests":         "Kubernetes/Istio/Gateway-API manifest files or directories, relative to the scenario.",
	"Traffic.defaults":           "Traffic settings for every edge.",
	"Traffic.edges":              "Overrides for edges matching from/to (globs); later entries win.",
	"EdgeTraffic.from":           "Source workload ns/name (glob).",
	"EdgeTraffic.to":             "Destination service ns/name (glob).",
	"EdgeTraffic.rate":           "External open-loop arrivals per second from the source's pods.",
	"EdgeTraffic.fanout":         "Calls on this edge per request the source serves (fraction = probability).",
	"EdgeTraffic.pool":           "Keep-alive connections per client pod (default 4).",
	"EdgeTraffic.on":             "on-off arrivals: mean on period.",
	"EdgeTraffic.off":            "on-off arrivals: mean off period.",
	"EdgeTraffic.timeout":        "Per-call timeout (504), e.g. 2s.",
	"EdgeTraffic.retries":        "Retries on reset/503/no upstream.",
	"App.workload":               "Workload ns/name (glob).",
	"App.service_time":           "Service time: a duration (constant) or {dist, mean, cv, alpha, min, max, samples}.",
	"App.concurrency":            "Worker threads per pod.",
	"Outputs.metrics":            "Write metrics.prom (default true).",
	"Outputs.openmetrics":        "Write metrics.om with timestamps (default true).",
	"Outputs.interval":           "metrics.om sample interval (default 10s).",
	"MeshOpts.waypoint_replicas": "Replicas of the waypoints added in ambient+waypoint mode (default 1).",
}

var (
	durationT = reflect.TypeOf(Duration(0))
	sizeT     = reflect.TypeOf(Size(0))
	timeDistT = reflect.TypeOf(TimeDist{})
	sizeDistT = reflect.TypeOf(SizeDist{})
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
	case durationT:
		return durValue
	case sizeT:
		return sizeValue
	case timeDistT:
		return distSchema(durValue)
	case sizeDistT:
		return distSchema(sizeValue)
	case reflect.TypeOf(yaml.Node{}):
		if key == "Topology.spec" {
			return schemaOf(reflect.TypeOf(topology.Spec{}), "")
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
