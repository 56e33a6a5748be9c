// Package models is the mesh on top of the sim kernel: requests flowing
// through a topology in every dataplane mode, with calibrated CPU, memory
// and latency costs and Istio-named telemetry.
//
// A Mesh is built from a topology (package topology), a cost Profile and
// per-edge traffic (Config). Every node's ztunnel, every waypoint replica,
// every sidecar and every app pod is a FIFO multi-server Station; HBONE and
// Envoy connection pools are slices indexed by precomputed slots; requests
// are pooled call structs moving through events on a sim.Sim. Nothing on the
// hot path allocates, builds strings or looks up maps.
//
// One file per component, each documenting its units (sim.Time is ns, sizes
// are bytes, memory MiB):
//
//	app.go          service time, worker concurrency, fan-out, L7 load balancing
//	station.go      the FIFO stations, their optional activity model (share of
//	                CPU on the path; wake-up CPU and latency growing with the
//	                idle gap as 1 − exp(−gap/τ)) and Hosts: nodes sharing one
//	                machine's cores, so a busy host wakes its processes less
//	ztunnel.go      node proxy: per-message (plus cross-node), per-byte, stream,
//	                handshake, authz CPU
//	hbone.go        ztunnel's connection pool (per source pod and next hop,
//	                min(100, peer) streams per connection, one dial per key,
//	                5-minute idle release)
//	waypoint.go     Envoy waypoint replicas: per-request and per-byte CPU,
//	                upstream HBONE pool, zone-preferring replica choice
//	sidecar.go      Envoy sidecars on both ends, mTLS upstream pool
//	egress.go       calls to ServiceEntry hosts on paths' egress row (egress
//	                waypoint, sidecar-era egress gateway); the host is a
//	                server outside the cluster (service time, round trip)
//	memory.go       memory that grows with the mesh: ztunnel (every workload,
//	                service, endpoint, policy cluster-wide; its node's pods,
//	                identities, connections), sidecars (their scope: Sidecar
//	                resource, sidecar_scope, discoverySelectors), waypoints
//	network.go      same-node / cross-node / cross-zone latency, NIC serialisation
//	controlplane.go workload certificates with a TTL, istiod outages
//	istiod.go       istiod CPU and memory: connected proxies, debounced full
//	                and incremental pushes, certificates (closed forms)
//	churn.go        pod churn (scaling, rollouts) as rates for the control plane
//	failure.go      scheduled failures (ztunnel crash/upgrade, node loss,
//	                waypoint crash/rollout, sidecar crash, istiod outage,
//	                CNI bypass, network faults, traffic surges) as windows
//	                on components; one branch per request when there are none
//	routing.go      the mesh's route tables per request class: backends,
//	                mirrors, rewrites, timeouts, retry policies
//	pertry.go       per-try timeouts: the routing proxy's 504 UT and retry;
//	                the abandoned try goes on upstream as a detached zombie
//	timeout.go      what each proxy reports for a request a timeout ended:
//	                the router's 504 UT, a client's close 0 DC, upstream
//	                proxies their answer or 0 DC (decision 074)
//	autoscale.go    HPA-like waypoint scale-out
//	series.go       per-edge 1-second buckets for blast-radius time series
//	telemetry.go    istio_requests_total & co. and ztunnel's istio_tcp_*
//	profile.go      versioned cost profiles (profiles/*.yaml, embedded)
//	provenance.go   one source per number: declared sources, excluded ones,
//	                every parameter [source-id], assumed: or neutral
//	calibration.go  a calibrated profile's optional calibration: section
//	                (metadata: machine, date, fits; never read by the model)
//
// Policy is decided by topology.Evaluate, cached per (edge, source pod,
// destination pod) — the request attributes are per-edge constants, so the
// cache is exact; a target no policy can apply to skips the table.
//
// The per-event path is laid out for the cache (docs/decisions/071): calls
// live in a slab of cache-line-aligned chunks with the fields every event
// reads in their first line; a pod's per-call fields are one 64-byte line of
// Mesh.podHot; edges, targets and routes keep their hot fields first; a
// backend's latencies are buffered (latrec.go) and recorded into its
// histogram in batches; exponential service times and added-latency draws
// come from stream state held inline (the same draws, no pointer chase). A request denied at L4 is reset by the enforcing ztunnel;
// one denied at L7 gets a 403 from the waypoint or sidecar.
//
// Usage:
//
//	top, _ := topology.LoadSpec("cluster.yaml")
//	prof, _ := models.LoadProfile("istio-1.24-published")
//	var edges []models.EdgeConfig
//	for _, c := range top.Calls {
//		edges = append(edges, models.EdgeConfig{Call: c, Rate: c.RateRPS, KeepAlive: true, Pool: 4})
//	}
//	mesh, _ := models.NewMesh(models.Config{Topology: top, Profile: prof, Mode: "ambient",
//		Seed: 1, Duration: 60 * sim.Second, Warmup: 5 * sim.Second, Edges: edges})
//	res, _ := mesh.Run(context.Background())
//	fmt.Println(res.Measured.Latency[0].P99Ms, res.Measured.Totals.CPUCores)
//	reg, _ := res.Metrics.Registry() // client_golang registry with Istio's metrics
//
// The package is deterministic (seeded streams named per entity, no wall
// clock, no map order in results) and does no I/O except reading profiles.
package models
