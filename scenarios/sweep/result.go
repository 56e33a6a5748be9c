package sweep

import "github.com/ambientsim/ambientsim/scenarios/results"

// metricInfos documents the figures of results.SweepModeStats.
var metricInfos = []results.SweepMetric{
	{Name: "p50_ms", Unit: "ms", Description: "median end-to-end request latency, all path categories"},
	{Name: "p90_ms", Unit: "ms", Description: "90th percentile end-to-end request latency"},
	{Name: "p99_ms", Unit: "ms", Description: "99th percentile end-to-end request latency"},
	{Name: "p999_ms", Unit: "ms", Description: "99.9th percentile end-to-end request latency"},
	{Name: "mean_ms", Unit: "ms", Description: "mean end-to-end request latency"},
	{Name: "throughput_rps", Unit: "requests/s", Description: "completed requests per simulated second after warm-up"},
	{Name: "error_rate", Unit: "fraction", Description: "failed / (succeeded + failed) requests"},
	{Name: "mesh_cpu_cores", Unit: "cores", Description: "mean CPU used by all mesh proxies (ztunnel, waypoint, sidecar)"},
	{Name: "mesh_memory_gib", Unit: "GiB", Description: "memory of all mesh proxies"},
	{Name: "components[].cpu_cores", Unit: "cores", Description: "mean CPU used by all instances of one component kind"},
	{Name: "components[].memory_gib", Unit: "GiB", Description: "memory of all instances of one component kind"},
	{Name: "components[].instances", Unit: "instances", Description: "number of instances of one component kind"},
}
