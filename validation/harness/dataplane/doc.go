// Package dataplane wires the harness to the real validation data plane:
// the meshnode binary (validation/cmd/meshnode) and its roles ca, ztunnel,
// waypoint, sidecar, echo and load.
//
// [Mesh] renders the mesh description every role reads (package mesh's
// YAML) from a harness.Plan as the local backend lays it out: workloads
// with their pod IPs, nodes and modes, services with virtual IPs from the
// run's address range, waypoints with their IPs. [Commander] implements
// harness.Commander: it writes that mesh.yaml (once per run) and turns
// each process spec into a meshnode command line:
//
//	controlplane  meshnode ca       --listen <node IP>:15012 (writes the PKI directory first)
//	nodeproxy     meshnode ztunnel  --node N --inbound-listen 0.0.0.0:15008 --capture listen=0.0.0.0:<port>,mode=tproxy ...
//	waypoint      meshnode waypoint --name NS/NAME
//	sidecar       meshnode sidecar  --pod NS/POD --outbound listen=<pod IP>:<15100+i>,dest=<service VIP:80 or pod IP:8080> ...
//	echo          meshnode echo     --name POD --http <pod IP>:8080 --tcp <pod IP>:9000
//	loadgen       meshnode load     --url http://<target>/ --qps R --c C --t D [--keepalive=false] [--via <own sidecar listener>] --json <result>
//
// with --mesh, --pki, --ca-url and --metrics <own IP>:15020 where the role
// takes them. A sidecar gets one explicit outbound listener per service
// and echo pod of the run (no redirection inside the pod); a load
// generator in a sidecar pod dials its target's listener with --via. The
// node proxy's transparent listeners receive what the
// local backend's policy-routing capture delivers (see harness.Plan
// CapturePorts): pod-addressed traffic to port 8080, service traffic to
// port 80, inbound HBONE to 15008.
//
// On the kind backend (Backend "kind", see validation/kind) the same
// Commander writes [KindMesh] — every address a DNS name: pods by their
// headless Services, service VIPs and waypoints by their ClusterIP
// Services — into the directory shared with every pod, and gives command
// lines with $(POD_IP) and $(HOST_IP), --resolve-timeout 120s and
// --re-resolve 10s (see meshnode's doc), and --optional for the pure
// load-generator pods, which exist only as Jobs. Capture there: an ambient
// load generator dials --via $(HOST_IP):<KindOutboundPort>, the node
// proxy's explicit listener for (that pod, that target); the node proxy
// takes inbound HBONE on a transparent 0.0.0.0:15008 that the kind
// backend's policy routing feeds; a waypoint listens on
// KindWaypointPort behind its Service's 15008; a sidecar-pod load
// generator (a Job of its own) dials its sidecar's listener by the pod's
// name. [KindBackend] wires it all: meshnode built into the image, the
// shared directory, the capture. TestKindCommandsInNetns runs these
// exact command lines in network namespaces standing in for kind nodes;
// no real kind cluster has run them (none on the machine they were
// written on).
//
//	b, _ := dataplane.KindBackend(dataplane.KindOptions{Dir: tmp})  // from the source tree
//	m, err := harness.Session(ctx, b, dataplane.TwoNodeAmbient(), exp, 5*time.Minute)
//
// Usage story (what `ambientsim calibrate --backend local` does):
//
//	bin, _ := dataplane.Build(ctx, moduleDir, tmp)   // go build ./validation/cmd/meshnode
//	cmdr := dataplane.NewCommander(dataplane.Options{Binary: bin, Dir: tmp})
//	plan := dataplane.TwoNodeAmbient()              // or TwoNodeWaypoint, TwoNodeSidecar, your own with ControlPlane set
//	b, _ := harness.NewLocal(harness.LocalOptions{Commander: cmdr})
//	m, err := harness.Session(ctx, b, plan, exp, 30*time.Second)
package dataplane
