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
// Usage story (what `ambientsim calibrate --backend local` does):
//
//	bin, _ := dataplane.Build(ctx, moduleDir, tmp)   // go build ./validation/cmd/meshnode
//	cmdr := dataplane.NewCommander(dataplane.Options{Binary: bin, Dir: tmp})
//	plan := dataplane.TwoNodeAmbient()              // or TwoNodeWaypoint, TwoNodeSidecar, your own with ControlPlane set
//	b, _ := harness.NewLocal(harness.LocalOptions{Commander: cmdr})
//	m, err := harness.Session(ctx, b, plan, exp, 30*time.Second)
package dataplane
