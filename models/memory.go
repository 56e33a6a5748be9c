package models

import (
	"slices"

	"github.com/ambientsim/ambientsim/topology"
)

// Memory that grows with the mesh. Each proxy's memory is its base plus,
// for each kind of thing it stores, how many it holds times the profile's
// cost of one (KiB). The counts come from the topology and the run; the
// costs from the profile (memory_* fields).
//
// ztunnel (one per node; what it stores is read from istio/ztunnel
// src/state/*.rs, src/xds/client.rs, src/identity/manager.rs,
// src/proxy/pool.rs):
//
//	M_zt = memory_base
//	     + W·memory_per_workload   every pod istiod discovered, cluster-wide: one WDS Workload
//	                               (uid, name, namespace, service account, node, IPs, canonical
//	                               names, locality, its services and policies) in WorkloadStore
//	                               by_uid and by_addr, plus its name and version in the xDS
//	                               client's known_resources
//	     + S·memory_per_service    every service: a WDS Service (hostname, VIPs, ports, SANs,
//	                               waypoint, load balancing) in ServiceStore by_vip and by_host,
//	                               plus its known_resources entry
//	     + E·memory_per_endpoint   every (service, endpoint) pair: the service's EndpointSet entry
//	     + P·memory_per_policy     every AuthorizationPolicy ztunnel enforces (PolicyStore)
//	     + L·memory_per_pod        ambient pods on its node: in-pod listeners, netns, proxy tasks
//	     + I·memory_per_certificate identities (namespace, service account) with ambient pods on
//	                               its node: the SecretManager's certificate chain and key each
//	     + C·memory_per_connection + T·memory_per_stream
//	                               peak HBONE connections (rustls + h2 state) and streams (copy
//	                               buffers, 1 KiB growing to 16/256 KiB under load)
//
// W, S, E and P are cluster-wide: ambient pushes every workload and service
// to every ztunnel (no scoping by Sidecar resources), so ztunnel memory
// grows with the cluster, not with its node. Only meshConfig
// discoverySelectors shrink them.
//
// Sidecar (Envoy, one per pod), in its configuration scope:
//
//	M_sc = memory_base + S_s·memory_per_service + E_s·memory_per_endpoint
//	     + R_s·memory_per_route + P_s·memory_per_policy + C·memory_per_connection
//
// S_s are the services the sidecar is configured for (one outbound cluster,
// route virtual host and listener chain each), E_s their endpoints, R_s the
// HTTPRoute rules on them, P_s the AuthorizationPolicies selecting the pod.
// The scope is the Sidecar resource that applies to the pod (its egress
// hosts), else the scenario's sidecar scope (mesh | namespace | calls),
// always within the discovered namespaces (discoverySelectors).
//
// Waypoint (Envoy, per replica): the same terms over the services attached
// to it, the routes on them, and the policies targeting it or them.
//
// The sums are closed forms of the counts; memory_test.go checks them.

// clusterView is what istiod discovered: every proxy's universe, and
// everything a ztunnel holds.
type clusterView struct {
	pods, services, endpoints int
	ztPolicies                int // AuthorizationPolicies ztunnel enforces
	configs                   int // Istio / Gateway API config objects
}

// scopeCount is one Envoy's configuration: services, their endpoints,
// the route rules and the policies it holds.
type scopeCount struct {
	services, endpoints, routes, policies int
}

// resources is the xDS resources istiod sends for this configuration: a
// cluster and an endpoint assignment per service, and the routes.
func (s scopeCount) resources() int { return 2*s.services + s.routes }

// memState is every proxy's configuration size, computed once from the
// topology (it does not change during a run).
type memState struct {
	view    clusterView
	sc      []scopeCount // per pod (zero for pods without a sidecar)
	wp      []scopeCount // per waypoint
	ztCerts []int        // per node: identities with ambient pods on it
	svcOK   []bool       // per service: in a discovered namespace
	// importers counts, per service, the sidecars configured for it.
	importers []int
	// wlSvcs lists, per workload, the discovered services its pods serve.
	wlSvcs [][]int
	// identities counts pods per "namespace/serviceaccount".
	identities map[string]int
}

func (m *Mesh) newMemState() *memState {
	st := &memState{sc: make([]scopeCount, len(m.pods)), wp: make([]scopeCount, len(m.wps)),
		ztCerts: make([]int, len(m.nodes)), svcOK: make([]bool, len(m.svcs)),
		importers: make([]int, len(m.svcs)), wlSvcs: make([][]int, len(m.wls)), identities: map[string]int{}}
	t := m.top
	for i := range m.pods {
		if t.Discovered(m.pods[i].p.Namespace) {
			st.view.pods++
		}
	}
	for i := range m.pods {
		st.identities[m.pods[i].p.Namespace+"/"+m.pods[i].p.ServiceAccount]++
	}
	for i := range m.svcs {
		if st.svcOK[i] = t.Discovered(m.svcs[i].s.Namespace); st.svcOK[i] {
			st.view.services++
			st.view.endpoints += len(m.svcs[i].pods)
			for _, pi := range m.svcs[i].pods {
				if w := m.pods[pi].wl; w >= 0 && !slices.Contains(st.wlSvcs[w], i) {
					st.wlSvcs[w] = append(st.wlSvcs[w], i)
				}
			}
		}
	}
	for _, ap := range t.AuthorizationPolicies {
		if len(ap.TargetRefs) == 0 && t.Discovered(ap.Namespace) {
			st.view.ztPolicies++
		}
	}
	st.view.configs = len(t.AuthorizationPolicies) + len(t.PeerAuthentications) + len(t.Routes) +
		len(t.SidecarResources) + len(t.SidecarConfigs) + len(t.Gateways) + len(t.ServiceEntries)

	// Identities per node: ztunnel holds one certificate per service
	// account with ambient pods on its node (ambient-internals §8).
	seen := map[[2]string]bool{}
	for i := range m.pods {
		p := &m.pods[i]
		if p.mode != topology.Ambient {
			continue
		}
		k := [2]string{m.nodes[p.node].name, p.p.Namespace + "/" + p.p.ServiceAccount}
		if !seen[k] {
			seen[k] = true
			st.ztCerts[p.node]++
		}
	}

	// Sidecar scopes, cached by what decides them: the Sidecar resource
	// and namespace, else the scenario's scope (per namespace or workload).
	type key struct {
		sc *topology.SidecarConfig
		ns string
		wl int32
	}
	type scope struct {
		c    scopeCount
		in   []bool
		pods int
	}
	cache := map[key]*scope{}
	var order []key
	for i := range m.pods {
		p := &m.pods[i]
		if p.sc == nil {
			continue
		}
		// Gateways ignore Sidecar resources and get every service's
		// cluster (configuration-scoping docs); sidecars follow theirs.
		ingress := p.p.Workload != nil && p.p.Workload.Ingress
		k := key{wl: -1}
		if !ingress {
			k.sc = t.SidecarConfigFor(p.p)
			if k.sc != nil || m.cfg.SidecarScope == "namespace" {
				k.ns = p.p.Namespace
			}
			if k.sc == nil && m.cfg.SidecarScope == "calls" {
				k.wl = p.wl
			}
		} else {
			k.ns = "\x00ingress"
		}
		sc, ok := cache[k]
		if !ok {
			c, in := m.sidecarScope(st, p, k.sc, ingress)
			sc = &scope{c: c, in: in}
			cache[k] = sc
			order = append(order, k)
		}
		sc.pods++
		c := sc.c
		c.policies = m.podPolicies(p.p)
		st.sc[i] = c
	}
	for _, k := range order {
		sc := cache[k]
		for si, in := range sc.in {
			if in {
				st.importers[si] += sc.pods
			}
		}
	}
	for i := range m.wps {
		st.wp[i] = m.waypointScope(m.wps[i].w)
	}
	return st
}

// sidecarScope counts the configuration of pod p's sidecar under Sidecar
// resource sc (nil: the scenario's scope); an ingress gateway gets every
// discovered service.
func (m *Mesh) sidecarScope(st *memState, p *podRT, sc *topology.SidecarConfig, ingress bool) (scopeCount, []bool) {
	in := make([]bool, len(m.svcs))
	switch {
	case ingress:
		copy(in, st.svcOK)
	case sc != nil:
		for i := range m.svcs {
			in[i] = st.svcOK[i] && sc.Imports(m.svcs[i].s, p.p.Namespace)
		}
	case m.cfg.SidecarScope == "namespace":
		for i := range m.svcs {
			in[i] = st.svcOK[i] && m.svcs[i].s.Namespace == p.p.Namespace
		}
	case m.cfg.SidecarScope == "calls":
		if p.wl >= 0 {
			for _, ei := range m.wls[p.wl].out {
				for _, tg := range m.edges[ei].tgts {
					if tg.svc >= 0 { // not a ServiceEntry host
						in[tg.svc] = st.svcOK[tg.svc]
					}
				}
			}
		}
	default: // mesh
		copy(in, st.svcOK)
	}
	var c scopeCount
	for i := range m.svcs {
		if in[i] {
			c.services++
			c.endpoints += len(m.svcs[i].pods)
		}
	}
	seen := make([]bool, len(m.top.Routes))
	for i := range m.svcs {
		if !in[i] {
			continue
		}
		for _, ri := range m.routesOf(int32(i)) {
			if !seen[ri] {
				seen[ri] = true
				c.routes += max(len(m.top.Routes[ri].Rules), 1)
			}
		}
	}
	return c, in
}

// podPolicies counts the AuthorizationPolicies that select pod p: its
// namespace's (by selector or namespace-wide) and the root namespace's
// mesh-wide ones.
func (m *Mesh) podPolicies(p *topology.Pod) int {
	n := 0
	for _, ap := range m.top.AuthorizationPolicies {
		if len(ap.TargetRefs) > 0 {
			continue
		}
		switch {
		case ap.Namespace == p.Namespace && (ap.Selector == nil || labelsMatch(ap.Selector, p.Labels)):
			n++
		case ap.Namespace == m.top.RootNamespace && ap.Selector == nil && p.Namespace != m.top.RootNamespace:
			n++
		}
	}
	return n
}

func labelsMatch(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// waypointScope counts a waypoint's configuration: the services attached
// to it, their endpoints, the route rules on them, and the policies that
// target it (its Gateway, its GatewayClass) or one of its services.
func (m *Mesh) waypointScope(w *topology.Waypoint) scopeCount {
	var c scopeCount
	served := map[*topology.Service]bool{}
	for _, s := range w.Serves {
		served[s] = true
		c.services++
		c.endpoints += len(m.top.EndpointsOf(s))
		for _, ri := range m.routesOf(m.svcIdx[s]) {
			c.routes += max(len(m.top.Routes[ri].Rules), 1)
		}
	}
	for _, ap := range m.top.AuthorizationPolicies {
		for _, ref := range ap.TargetRefs {
			ns := ref.Namespace
			if ns == "" {
				ns = ap.Namespace
			}
			hit := false
			switch ref.Kind {
			case "Gateway":
				hit = ns == w.Namespace && ref.Name == w.Name
			case "GatewayClass":
				hit = ref.Name == "istio-waypoint"
			case "Service":
				for s := range served {
					hit = hit || (s.Namespace == ns && s.Name == ref.Name)
				}
			}
			if hit {
				c.policies++
				break
			}
		}
	}
	return c
}

// ztState is what one ztunnel holds (the counts of the law above).
type ztState struct {
	workloads, services, endpoints, policies int // cluster-wide
	localPods, certificates                  int // on its node
	conns, streams                           int64
}

// ztunnelMemoryMiB is the law: a ztunnel's memory in MiB for state s.
func ztunnelMemoryMiB(z *ZtunnelCosts, s ztState) float64 {
	kb := float64(s.workloads)*z.MemoryPerWorkload.Value + float64(s.services)*z.MemoryPerService.Value +
		float64(s.endpoints)*z.MemoryPerEndpoint.Value + float64(s.policies)*z.MemoryPerPolicy.Value +
		float64(s.localPods)*z.MemoryPerPod.Value + float64(s.certificates)*z.MemoryPerCertificate.Value +
		float64(s.conns)*z.MemoryPerConn.Value + float64(s.streams)*z.MemoryPerStream.Value
	return z.MemoryBase.Value + kb*kib
}

// ztunnelState is node n's ztunnel state at its peak connections.
func (m *Mesh) ztunnelState(n int) ztState {
	v, nd := m.mem.view, &m.nodes[n]
	return ztState{workloads: v.pods, services: v.services, endpoints: v.endpoints, policies: v.ztPolicies,
		localPods: nd.pods, certificates: m.mem.ztCerts[n], conns: nd.maxConn, streams: nd.maxStr}
}

// ztunnelMemory is node n's ztunnel memory in MiB.
func (m *Mesh) ztunnelMemory(n int) float64 {
	return ztunnelMemoryMiB(&m.cfg.Profile.Ztunnel, m.ztunnelState(n))
}

// envoyMemory is an Envoy's memory in MiB for configuration c and conns
// open connections.
func envoyMemory(e *EnvoyCosts, c scopeCount, conns int64) float64 {
	kb := float64(c.services)*e.MemoryPerSvc.Value + float64(c.endpoints)*e.MemoryPerEP.Value +
		float64(c.routes)*e.MemoryPerRoute.Value + float64(c.policies)*e.MemoryPerPolicy.Value +
		float64(conns)*e.MemoryPerConn.Value
	return e.MemoryBase.Value + kb*kib
}

// sidecarMemory is pod i's sidecar memory in MiB.
func (m *Mesh) sidecarMemory(i int) float64 {
	return envoyMemory(&m.cfg.Profile.Sidecar, m.mem.sc[i], m.pods[i].scConns)
}

// waypointMemory is waypoint replica r's memory in MiB.
func (m *Mesh) waypointMemory(r int) float64 {
	rep := &m.reps[r]
	return envoyMemory(&m.cfg.Profile.Waypoint, m.mem.wp[rep.wp], rep.maxC)
}
