package models

import (
	"math"

	"github.com/ambientsim/ambientsim/sim"
)

// controlPlane models istiod enough for failure scenarios to build on: the
// proxies it serves over xDS, the workload certificates it signs (ztunnel
// holds one per service account with pods on its node; every sidecar and
// waypoint replica holds its own) with a TTL and renewal at a fraction of it,
// and config pushes to every proxy. Its costs are computed from counts, not
// events: a certificate renews every TTL×RefreshFraction, a config change
// pushes to every connected proxy.
type controlPlane struct {
	proxies   int      // xDS clients: ztunnels + waypoint replicas + sidecars
	certs     int      // workload certificates held
	ttl       sim.Time // certificate lifetime
	refresh   sim.Time // renewal period
	available bool     // istiod reachable (failure scenarios flip it)
}

func newControlPlane(m *Mesh) controlPlane {
	cp := controlPlane{available: true}
	p := m.cfg.Profile.ControlPlane
	cp.ttl = sim.FromSeconds(p.CertTTL.Value * 3600)
	cp.refresh = sim.Time(float64(cp.ttl) * p.RefreshFraction.Value)
	ztNodes := 0
	for i := range m.nodes {
		if m.nodes[i].pods > 0 {
			ztNodes++
			// One certificate per service account with pods on the node.
			seen := map[string]bool{}
			for j := range m.pods {
				pd := &m.pods[j]
				if pd.node == int32(i) && pd.mode == "ambient" {
					seen[pd.p.Namespace+"/"+pd.p.ServiceAccount] = true
				}
			}
			cp.certs += len(seen)
		}
	}
	cp.proxies = ztNodes + len(m.reps)
	cp.certs += len(m.reps)
	for i := range m.pods {
		if m.pods[i].sc != nil {
			cp.proxies++
			cp.certs++
		}
	}
	return cp
}

// usage returns istiod's mean CPU (cores) and memory (MiB) over a window of
// length d.
func (cp controlPlane) usage(m *Mesh, d sim.Time) (cores, mib float64, renewals float64) {
	p := m.cfg.Profile.ControlPlane
	if d <= 0 {
		return 0, 0, 0
	}
	renewals = float64(cp.certs) * float64(d) / math.Max(float64(cp.refresh), 1)
	pushes := m.cfg.ConfigChangesPerMinute * d.Seconds() / 60 * float64(cp.proxies)
	busyUs := renewals*p.CSRSignCPU.Value + pushes*p.PushCPUPerProxy.Value
	cores = busyUs * 1e3 / float64(d)
	mib = p.MemoryBase.Value + float64(cp.proxies)*p.MemoryPerProxy.Value*kib + float64(len(m.svcs))*p.MemoryPerService.Value*kib
	return cores, mib, renewals
}
