package models

import (
	"cmp"
	"maps"
	"math"
	"slices"

	"github.com/ambientsim/ambientsim/topology"
)

// istiod's CPU and memory grow with the mesh: with the proxies connected to
// it, the cluster it watches, the config changes and the pod churn it turns
// into pushes, and the certificates it signs. The laws (control_plane.*
// fields of the profile; rates per second over the measured window):
//
//	CPU = cpu_base + N·cpu_per_proxy
//	    + F·Σ_{p ∈ sidecars, waypoints} ρ_p·(push_cpu_per_proxy + push_cpu_per_resource·res_p)
//	    + I·U·incremental_push_cpu_per_proxy
//	    + Σ_w λ_w·Σ_{p reached by w} (push_cpu_per_resource + push_cpu_per_endpoint·eps)
//	    + Σ_w μ_w·[w has sidecars]·(push_cpu_per_proxy + push_cpu_per_resource·res_w)
//	    + CSR·csr_sign_cpu
//
//	memory = memory_base + N·memory_per_proxy + pods·memory_per_pod
//	       + S·memory_per_service + E·memory_per_endpoint + configs·memory_per_config
//	       + Σ_p res_p·memory_per_pushed_resource
//
// where N is the xDS clients (ztunnels, waypoint replicas, sidecars and
// gateways); res_p the xDS resources proxy p holds — for a ztunnel every
// discovered workload, service and policy (WDS is not scoped), for an Envoy
// a cluster and an endpoint assignment per service in its scope plus its
// routes; istiod keeps each proxy's sent resource names (delta xDS
// WatchedResource.ResourceNames), hence the last memory term.
//
// Full pushes, F per second, follow config changes (c per second) after
// debouncing. A change rebuilds the configuration of the Envoys whose scope
// depends on it: with changes spread uniformly over the S discovered
// services, a push merging k = c/F changes reaches proxy p with
// probability ρ_p = 1 − (1 − S_p/S)^k (S_p: services in p's scope), so a
// Sidecar resource scoping p to its namespace both shrinks each push and
// makes it rarer. Ztunnels get none: WDS carries workloads, services and
// policies, not routing config.
//
// Pod churn is λ_w pod events per second on workload w (scale events in
// proportion to replicas, rollouts replacing all R_w pods: 2·R_w events),
// μ_w of them creations. Each event is one changed WDS Workload pushed to
// every ztunnel, and one changed endpoint assignment (EDS) pushed to every
// sidecar whose scope holds one of w's services and to the waypoints
// serving them — the ambient/sidecar difference: churn reaches every
// ztunnel, but only the sidecars that import the service. Events are
// debounced: with the quiet period τ (push_latency, PILOT_DEBOUNCE_AFTER)
// and Poisson events at rate r, a push follows an event with no other
// within τ, so I = r·e^(−r·τ) pushes per second, at least min(r, 1/D) with
// D = push_debounce_max; each merges k = r/I events and reaches the union
// U = N_r·(1 − (1 − a/N_r)^k) of the N_r reachable proxies, a per event.
// A new sidecar also receives its first full configuration.
//
// CSR per second: certificate renewals (certificates / refresh period),
// plus a new sidecar's certificate, plus a ztunnel's certificate for a new
// ambient pod whose identity has no other pod on the node: with n_w pods
// of that identity spread over the M nodes, probability (1 − 1/M)^n_w.

// istiodLoad is istiod's CPU and memory with their causes.
type istiodLoad struct {
	cores, mib float64
	renewals   float64 // certificate renewals in the window
	usage      ControlPlaneUsage
}

// debounce is the push rate of Poisson events at rate r under istiod's
// debouncing: quiet period tau (s), maximum delay maxDelay (s; 0 = none).
func debounce(r, tau, maxDelay float64) float64 {
	if r <= 0 {
		return 0
	}
	p := r * math.Exp(-r*tau)
	if maxDelay > 0 {
		p = math.Max(p, math.Min(r, 1/maxDelay))
	}
	return p
}

// union is the expected number of distinct proxies reached by k merged
// events, each reaching a of the n reachable proxies at random.
func union(n, a, k float64) float64 {
	if n <= 0 || a <= 0 {
		return 0
	}
	return n * (1 - math.Pow(1-math.Min(a/n, 1), math.Max(k, 1)))
}

// churnRates returns λ_w (pod events/s) and μ_w (creations/s) per
// workload index.
func (m *Mesh) churnRates() (lambda, mu map[int32]float64) {
	c := m.cfg.Churn
	lambda, mu = map[int32]float64{}, map[int32]float64{}
	if !c.Active() {
		return
	}
	var ws []int32
	if len(c.Workloads) > 0 {
		for _, w := range c.Workloads {
			if i, ok := m.wlIdx[w]; ok && len(m.wls[i].pods) > 0 {
				ws = append(ws, i)
			}
		}
	} else {
		for i := range m.wls {
			if len(m.wls[i].pods) > 0 && !m.wls[i].w.System {
				ws = append(ws, int32(i))
			}
		}
	}
	total := 0
	for _, w := range ws {
		total += len(m.wls[w].pods)
	}
	if total == 0 {
		return
	}
	rollout := c.RolloutsPerHour / 3600 / float64(len(ws))
	for _, w := range ws {
		r := float64(len(m.wls[w].pods))
		scale := c.PodsPerSecond * r / float64(total)
		lambda[w] = scale + rollout*2*r
		mu[w] = scale/2 + rollout*r
	}
	return
}

// istiod computes the control plane's load over a window of length d (s)
// of which istiod was up for the fraction up.
func (m *Mesh) istiod(dSec, up float64) istiodLoad {
	p := &m.cfg.Profile.ControlPlane
	st := m.mem
	var L istiodLoad
	u := &L.usage
	u.ProxyPushesPerSec = map[string]float64{}
	u.CPUCores = map[string]float64{}
	u.MemoryMiB = map[string]float64{}

	// xDS clients and the resources each holds.
	ztRes := float64(st.view.pods + st.view.services + st.view.ztPolicies)
	var envoyRes float64 // Σ res over sidecars and waypoints
	if m.hasAmbient() {
		u.XDSClients.Ztunnels = len(m.nodes)
	}
	for r := range m.reps {
		if !m.neverServed(r) {
			u.XDSClients.Waypoints++
			envoyRes += float64(st.wp[m.reps[r].wp].resources())
		}
	}
	for i := range m.pods {
		if m.pods[i].sc != nil {
			u.XDSClients.Sidecars++
			envoyRes += float64(st.sc[i].resources())
		}
	}
	nZt := float64(u.XDSClients.Ztunnels)
	nEnvoy := float64(u.XDSClients.Waypoints + u.XDSClients.Sidecars)
	n := nZt + nEnvoy
	if n == 0 {
		return L
	}

	tau := p.PushLatency.Value / 1000
	maxD := p.PushDebounceMax.Value
	us := 1e-6 // CPU-seconds per µs

	// Full pushes: a config change rebuilds the configuration of the
	// Envoys whose scope holds it. Changes are taken to fall on the
	// discovered services uniformly, so one reaches proxy p with
	// probability φ_p = S_p/S, and a push merging k changes with
	// 1 − (1 − φ_p)^k.
	u.ConfigChangesPerSec = m.cfg.ConfigChangesPerMinute / 60
	u.FullPushesPerSec = debounce(u.ConfigChangesPerSec, tau, maxD)
	var full float64
	if u.FullPushesPerSec > 0 && st.view.services > 0 {
		k := u.ConfigChangesPerSec / u.FullPushesPerSec
		reached := func(c scopeCount) float64 {
			return 1 - math.Pow(1-math.Min(float64(c.services)/float64(st.view.services), 1), k)
		}
		add := func(kind string, c scopeCount) {
			r := u.FullPushesPerSec * reached(c)
			full += r * (p.PushCPUPerProxy.Value + float64(c.resources())*p.PushCPUPerResource.Value)
			u.ProxyPushesPerSec[kind] += r
			u.ResourcesPerSec += r * float64(c.resources())
		}
		for r := range m.reps {
			if !m.neverServed(r) {
				add("waypoint", st.wp[m.reps[r].wp])
			}
		}
		for i := range m.pods {
			if m.pods[i].sc != nil {
				add("sidecar", st.sc[i])
			}
		}
		full *= us
	}

	// Churn: incremental pushes.
	lambda, mu := m.churnRates()
	var events, reach, resCPU, newProxyCPU, newCerts float64
	wpServes := m.waypointsByService()
	for _, w := range sortedKeys(lambda) {
		l, c := lambda[w], mu[w]
		events += l
		wl := &m.wls[w]
		if !m.top.Discovered(wl.w.Namespace) {
			continue
		}
		// One WDS Workload to every ztunnel.
		reach += l * nZt
		resCPU += l * nZt * p.PushCPUPerResource.Value
		u.ProxyPushesPerSec["ztunnel"] += l * nZt
		u.ResourcesPerSec += l * nZt
		// One EDS assignment per service of w to the Envoys holding it.
		for _, si := range m.servicesOf(w) {
			eds := p.PushCPUPerResource.Value + float64(len(m.svcs[si].pods))*p.PushCPUPerEndpoint.Value
			sc := float64(st.importers[si])
			wp := float64(wpServes[si])
			reach += l * (sc + wp)
			resCPU += l * (sc + wp) * eds
			u.ProxyPushesPerSec["sidecar"] += l * sc
			u.ProxyPushesPerSec["waypoint"] += l * wp
			u.ResourcesPerSec += l * (sc + wp)
		}
		// New pods: a sidecar's first configuration and certificate, or a
		// ztunnel certificate for an identity new on the node.
		if sc := m.sidecarsOf(w); sc > 0 {
			frac := float64(sc) / float64(len(wl.pods))
			res := m.meanResources(w)
			newProxyCPU += c * frac * (p.PushCPUPerProxy.Value + res*p.PushCPUPerResource.Value)
			newCerts += c * frac
		}
		if amb := m.ambientPodsOf(w); amb > 0 && len(m.nodes) > 0 {
			frac := float64(amb) / float64(len(wl.pods))
			same := float64(m.podsWithIdentity(w))
			newCerts += c * frac * math.Pow(1-1/float64(len(m.nodes)), same)
		}
	}
	u.PodEventsPerSec = events
	u.IncrementalPushesPerSec = debounce(events, tau, maxD)
	incFixed := 0.0
	if u.IncrementalPushesPerSec > 0 {
		k := events / u.IncrementalPushesPerSec
		incFixed = u.IncrementalPushesPerSec * union(n, reach/events, k) * p.IncrementalPushCPU.Value * us
	}
	inc := incFixed + resCPU*us + newProxyCPU*us

	// Certificates.
	refresh := math.Max(m.cp.refresh.Seconds(), 1e-9)
	renewRate := float64(m.cp.certs) / refresh
	u.CertificatesPerSec = renewRate + newCerts
	certs := u.CertificatesPerSec * p.CSRSignCPU.Value * us

	base := p.CPUBase.Value
	perProxy := n * p.CPUPerProxy.Value / 1000
	u.CPUCores["base"] = round6(base * up)
	u.CPUCores["connected_proxies"] = round6(perProxy * up)
	u.CPUCores["full_pushes"] = round6(full * up)
	u.CPUCores["incremental_pushes"] = round6(inc * up)
	u.CPUCores["certificates"] = round6(certs * up)
	L.cores = (base + perProxy + full + inc + certs) * up
	L.renewals = renewRate * dSec * up

	// Memory.
	mem := map[string]float64{
		"base":              p.MemoryBase.Value,
		"connected_proxies": n * p.MemoryPerProxy.Value * kib,
		"pods":              float64(st.view.pods) * p.MemoryPerPod.Value * kib,
		"services":          float64(st.view.services) * p.MemoryPerService.Value * kib,
		"endpoints":         float64(st.view.endpoints) * p.MemoryPerEndpoint.Value * kib,
		"configs":           float64(st.view.configs) * p.MemoryPerConfig.Value * kib,
		"pushed_resources":  (nZt*ztRes + envoyRes) * p.MemoryPerPushedResource.Value * kib,
	}
	for _, k := range sortedKeys(mem) {
		L.mib += mem[k]
		u.MemoryMiB[k] = round3(mem[k])
	}
	u.ConfigChangesPerSec = round6(u.ConfigChangesPerSec)
	u.PodEventsPerSec = round6(u.PodEventsPerSec)
	u.FullPushesPerSec = round6(u.FullPushesPerSec)
	u.IncrementalPushesPerSec = round6(u.IncrementalPushesPerSec)
	u.ResourcesPerSec = round6(u.ResourcesPerSec)
	u.CertificatesPerSec = round6(u.CertificatesPerSec)
	for k, v := range u.ProxyPushesPerSec {
		u.ProxyPushesPerSec[k] = round6(v)
	}
	return L
}

// servicesOf lists the services (indices, discovered) whose endpoints
// include pods of workload w.
func (m *Mesh) servicesOf(w int32) []int { return m.mem.wlSvcs[w] }

// waypointsByService counts, per service, the waypoint replicas serving it.
func (m *Mesh) waypointsByService() map[int]int {
	out := map[int]int{}
	for si := range m.svcs {
		if wp := m.svcs[si].wp; wp >= 0 {
			out[si] = len(m.wps[wp].reps)
		}
	}
	return out
}

func (m *Mesh) sidecarsOf(w int32) int {
	n := 0
	for _, pi := range m.wls[w].pods {
		if m.pods[pi].sc != nil {
			n++
		}
	}
	return n
}

func (m *Mesh) ambientPodsOf(w int32) int {
	n := 0
	for _, pi := range m.wls[w].pods {
		if m.pods[pi].mode == topology.Ambient {
			n++
		}
	}
	return n
}

// meanResources is the mean xDS resource count of workload w's sidecars.
func (m *Mesh) meanResources(w int32) float64 {
	sum, n := 0, 0
	for _, pi := range m.wls[w].pods {
		if m.pods[pi].sc != nil {
			sum += m.mem.sc[pi].resources()
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}

// podsWithIdentity counts the pods sharing workload w's identity (its
// first pod's namespace and service account), w's own included.
func (m *Mesh) podsWithIdentity(w int32) int {
	pods := m.wls[w].pods
	if len(pods) == 0 {
		return 0
	}
	p := m.pods[pods[0]].p
	return m.mem.identities[p.Namespace+"/"+p.ServiceAccount]
}

func sortedKeys[K cmp.Ordered, V any](mp map[K]V) []K {
	return slices.Sorted(maps.Keys(mp))
}
