// Package topology is the cluster as data, and the static analysis every
// ambient-mesh architecture review starts with: which path does each request
// take, and where is each policy enforced? It has pure functions only; it
// simulates nothing.
//
// # A review in four calls
//
//	top, rep, err := topology.LoadManifests([]string{"cluster.yaml"}, topology.LoadOptions{})
//	// rep.Warnings: unknown fields (file:line: field: ...); rep.Skipped: kinds not modelled
//	report := top.Paths()     // the request-path matrix and the findings
//	for _, f := range report.Findings {
//		fmt.Println(f.Code, f.Policy, f.Source, "->", f.Destination, f.Fix)
//	}
//	d := top.Evaluate(srcPod, dstPod, waypoint, port, topology.Request{Method: "GET", Path: "/admin"})
//
// The same topology comes from a compact generative spec (LoadSpec,
// ParseSpec, or Spec embedded in a scenario and decoded with DecodeSpec):
// node counts and zones, namespaces with a dataplane mode and waypoints,
// services with replicas and ports, repetition ("svc-%d", count: 12), call
// graph edges and inline policies in manifest shape.
//
// # The model
//
// Nodes (zone), namespaces (labels), workloads (Deployment, StatefulSet,
// DaemonSet, ReplicaSet, bare Pod) whose replicas become pods placed on
// nodes (real exported Pods are used as they are), Services (selector,
// ports, appProtocol, type), Gateways with their listeners and waypoints
// (gatewayClassName istio-waypoint), AuthorizationPolicy,
// PeerAuthentication, NetworkPolicy, HTTPRoute/GRPCRoute/TCPRoute/TLSRoute,
// ReferenceGrant, ServiceEntry, and the sidecar-era VirtualService (whose
// routes a waypoint applies), DestinationRule and EnvoyFilter. Configuration
// scope (scope.go): networking.istio.io Sidecar resources (SidecarConfigFor,
// Imports: which services a sidecar is configured for) and meshConfig
// discoverySelectors from the istio ConfigMap or an IstioOperator
// (Discovered: which namespaces istiod, and so every proxy, sees).
//
// Each pod's dataplane mode: sidecar when injected (istio-injection=enabled
// or istio.io/rev on the namespace, sidecar.istio.io/inject=true on the pod,
// or an istio-proxy container in an exported pod; inject=false opts out);
// otherwise ambient when istio.io/dataplane-mode=ambient is on the pod or
// its namespace (none on the pod opts out); otherwise out of the mesh.
// Waypoints follow istio.io/use-waypoint on the namespace, Service or pod
// (the object's own label wins; none opts out; istio.io/use-waypoint-namespace
// crosses namespaces) and istio.io/waypoint-for (service by default,
// workload, all, none): Services bind only to service/all waypoints, pods
// only to workload/all ones. A label naming a missing Gateway, a Gateway of
// another class, or a waypoint for the other traffic type applies no
// waypoint (and becomes a WAYPOINT_NOT_APPLIED finding).
//
// # Paths
//
// PathFrom decides the path as the source's proxy does (see
// ambient-internals.md §3): an ambient source's ztunnel sends
// service-addressed traffic to the Service's waypoint and pod-addressed
// traffic to the pod's workload waypoint; out-of-mesh sources, sidecars and
// ingress gateways (unless istio.io/ingress-use-waypoint=true on the Service
// or namespace) go straight to the destination and bypass the waypoint. A
// waypoint hop is two HBONE legs, and the destination ztunnel sees the
// waypoint's identity. Hops name concrete instances: ztunnel/<node>,
// waypoint/<ns>/<name>, sidecar/<ns>/<pod>, gateway/<ns>/<pod>.
//
// Categories (first matching row):
//
//	via a waypoint, destination sidecar        mixed
//	via a waypoint                             ambient-waypoint
//	source or destination out of the mesh      out-of-mesh   (also out-of-mesh -> ambient)
//	ambient -> ambient                         ambient-l4
//	sidecar -> sidecar (ingress counts as one) sidecar
//	ambient <-> sidecar, ingress -> ambient    mixed
//
// # Policy enforcement
//
// Evaluate applies, in order: the waypoint's targetRefs policies (full L7,
// client identity), the NetworkPolicy on the connection that reaches the
// pod (port 15008 for HBONE), then the destination's own proxy: ztunnel with
// selector and namespace policies converted to L4 (ALLOW rules with HTTP
// fields dropped, DENY rules stripped to their L4 part, CUSTOM and AUDIT
// ignored) and STRICT PeerAuthentication as a deny of identity-less traffic,
// or the sidecar with full L7. Within one proxy: any matching DENY denies;
// no ALLOW policies allows; otherwise an ALLOW must match. Policies are
// compiled once per enforcement point; a decision does not allocate.
// EvaluateWaypoint is the waypoint's check alone, with no destination
// endpoint: what it decides before routing, so a request it refuses gets
// 403 even when its route table would answer it (404, a redirect).
//
// Audit reports, each finding with a stable code, the policy, source,
// destination, the concrete path as proof and a suggested fix:
// POLICY_UNENFORCED, L7_RULES_AT_ZTUNNEL, WAYPOINT_BYPASS,
// WAYPOINT_IDENTITY_DENIED, PLAINTEXT_ACCEPTED, ROUTE_WITHOUT_WAYPOINT,
// SIDECAR_ONLY_RESOURCE, WAYPOINT_NOT_APPLIED, NOT_ENROLLED,
// L7_RULES_ON_TCP, SERVICE_ALIAS_BYPASS, EXTERNAL_PLAINTEXT_DENIED,
// ROUTE_NOT_ACCEPTED. Paths also sets each row's verdict (Path.Denied when a
// proxy refuses every connection on it) and the Gateway and route status
// istiod would write (GatewayStatuses, RouteStatuses).
//
// # Ingress
//
// A Gateway of class istio gets the proxy istiod deploys for it
// (Deployment, Service and ServiceAccount <name>-istio) when the input
// lacks it. Ingress rows reach only the backends of the routes accepted on
// the gateway; LoadBalancer and NodePort Services get rows from
// ExternalClient.
//
// # Routes: the API the simulator calls
//
// RouteTable compiles, once per parent, the routes a proxy applies: for a
// Service (its waypoint) the HTTPRoutes/GRPCRoutes on HTTP or sniffed ports,
// TCPRoutes/TLSRoutes on TCP ports, then VirtualServices for its host;
// for a Gateway (ingress) the routes accepted on it. Match takes a
// RouteRequest (method, path with query, host, headers, port) and returns a
// RouteDecision without allocating:
//
//	rt := top.RouteTable(topology.RouteParent{Kind: "Service", Namespace: "shop", Name: "reviews", Port: 9080})
//	d := rt.Match(topology.RouteRequest{Method: "GET", Path: "/r/1", Headers: hdr})
//	switch {
//	case d.Status == topology.RouteStatusNotFound: // no rule: 404
//	case d.Status == topology.RouteStatusNoBackends: // rule with weight-0 backends: 500
//	case d.Redirect != nil: // answered by the proxy with d.Status
//	default:
//		b := d.Backends[d.PickBackend(u)] // one draw per request, kept for every retry
//		_ = b.Service                     // nil: a missing backend (its share fails)
//		_ = d.Retry                       // attempts, retry_on, codes, per-try timeout, backoff
//		_ = d.Timeout                     // whole request, 0 = none
//		_ = d.Mirrors                     // copies, percent; responses ignored
//		_ = d.RequestHeaders              // set/add/remove before forwarding
//	}
//
// Precedence is the Gateway API's (exact path, longest path-separated
// prefix, regex below prefixes as in Istio, method, header count, query
// count, then oldest route, namespace/name, rule and match order);
// VirtualServices keep list order. DefaultRetryPolicy is Istio's policy for
// routes that set none. A VirtualService destination's subset is in
// Backends[i].Ref.Subset; the pods it selects (Backends[i].Pods) are the
// Service's endpoints that carry every label of the DestinationRule subset;
// a subset no DestinationRule defines is SubsetMissing (a 503).
//
// # Migration
//
// Migrate plans moving a topology's sidecar-mode namespaces to ambient (or
// ambient ones back to sidecars): an item per object saying what happens
// to it, the steps in order (each a kubectl command and the ObjectEdit it
// makes), the generated manifests (waypoint Gateways, targetRefs
// AuthorizationPolicies and RequestAuthentications, HTTPRoutes converted
// from VirtualServices with per-version Services for their subsets,
// NetworkPolicies admitting HBONE, and the waypoint-only lock applied
// last) and the rollback:
//
//	m, _ := top.Migrate(topology.Ambient)
//	_ = m.WriteTable(os.Stdout)              // items, COMMANDS, ROLLBACK, manifests
//	f, _ := m.Files(paths, topology.LoadOptions{})
//	_ = f.After                              // the manifests after every step: Load them to check the plan
//
// Files applies the steps to the input manifests, so the cluster after the
// plan, and after its rollback, can be loaded and audited like any other;
// docs/migrate.md shows the round trip.
package topology
