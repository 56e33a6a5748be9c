// Package harness runs ambientsim's real Go data plane on a real (if
// small) network and measures it, so the simulator's cost models can be
// calibrated and cross-checked against something that actually ran.
//
// A [Plan] describes the cluster: nodes (with zones), pods and their roles
// (echo app, load generator, sidecar), one node proxy per node, waypoints,
// and the cross-node and cross-zone link shape wished for. An [Experiment]
// says which load generators send what to whom, for how long, and which
// failures to inject when. A [Backend] builds the plan, runs experiments
// on it and tears it down again:
//
//   - [Local] (this package) builds the plan out of Linux network
//     namespaces on this machine: one per node, with a bridge; one per pod
//     (and waypoint), wired to its node's bridge by a veth pair; and a
//     "fabric" namespace whose bridge joins the nodes' uplinks, so
//     cross-node traffic really crosses links. Bandwidth wishes become htb
//     classes on each node's uplink; latency wishes become netem qdiscs
//     where the kernel has sch_netem, and are otherwise listed in
//     [Measurement].NotEmulated. Every process runs in its namespace (`ip
//     netns exec`) and in its own cgroup, which gives its CPU seconds and
//     peak memory (cgroup v2 cpu.stat/memory.peak, v1 cpuacct/memory, or
//     /proc and rusage when there are no cgroups). It needs root.
//   - The kind backend (package validation/kind) builds the same plan as a
//     kind cluster from generated manifests.
//
// In the local backend, ambient pods' traffic reaches their node's proxy
// the way ztunnel's redirection does, by policy routing alone (no
// iptables): inbound HBONE to the pod, and outbound connections to
// [Plan].CapturePorts; the node proxy may also use the pods' IPs as source.
//
// The harness does not know the data plane's flags: a [Commander] (package
// validation/harness/dataplane has the one for meshnode) turns
// each [ProcessSpec] (a node proxy on node-a, an echo app in pod server-b,
// a load generator with its Load) into a [Command]: program, arguments,
// the address that accepts connections once it is ready, and its
// Prometheus endpoint, which Run scrapes and parses with client_golang's
// text parser. Load generators write fortio-style JSON ([FortioResult]).
//
// Everything the local backend creates is named after its run ID (network
// namespaces "as-<id>-…", interfaces "as<id>…", cgroups "ambientsim-<id>",
// processes carrying AMBIENTSIM_HARNESS_RUN=<id>) and recorded in a
// [Journal] as it is created. Teardown unwinds the journal newest first;
// Setup unwinds it itself when it fails or its context is cancelled, and
// [Session] tears down on SIGINT/SIGTERM. Children die with the harness
// (PR_SET_PDEATHSIG). Which process owns a run is recorded in an owner file
// it holds locked while it lives (/run/ambientsim/owners; [ClaimRun],
// [MakeOwnedTempDir] for scratch directories holding credentials, children
// carry [OwnerEnv]): after a SIGKILL, [CleanupOrphans] — run by every
// Setup, and by `ambientsim validate|calibrate --cleanup` — removes
// everything the dead owner still claims and never touches a live owner's
// runs. [Sweep] removes a given run unconditionally.
//
// A typical use, as the calibrate and validate commands do:
//
//	b, err := harness.NewLocal(harness.LocalOptions{Commander: dataplane})
//	if err != nil { ... }
//	m, err := harness.Session(ctx, b, plan, exp, 30*time.Second)
//	if err != nil { ... }   // e.g. harness.ErrNeedsRoot: exit non-zero
//	for _, ne := range m.NotEmulated { fmt.Println("not emulated:", ne) }
//	p99, _ := m.Loads[0].Result.DurationHistogram.Percentile(99)
//	np, _ := m.Process("nodeproxy/node-a") // np.CPUSeconds, np.PeakMemoryBytes
package harness
