package models

import (
	"fmt"
	"math"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// TestPublishedDataPlanePoint: the memory laws give the published per-proxy
// memory (12 / 60 / 60 MB, [istio-1.24-perf]) at the benchmark state the
// profile's derivations assume.
func TestPublishedDataPlanePoint(t *testing.T) {
	p := mustProfile(t)
	mb := func(mib float64) float64 { return mib * (1 << 20) / 1e6 }
	zt := ztunnelMemoryMiB(&p.Ztunnel, ztState{workloads: 30, services: 8, endpoints: 10, localPods: 1, certificates: 1, conns: 2, streams: 10})
	sc := envoyMemory(&p.Sidecar, scopeCount{services: 8, endpoints: 10}, 20)
	wp := envoyMemory(&p.Waypoint, scopeCount{services: 1, endpoints: 1}, 14)
	for _, tc := range []struct {
		name      string
		got, want float64
	}{{"ztunnel", mb(zt), 12}, {"sidecar", mb(sc), 60}, {"waypoint", mb(wp), 60}} {
		if math.Abs(tc.got-tc.want) > 0.05*tc.want/10 {
			t.Errorf("%s at the benchmark point: %.3f MB, published %v MB", tc.name, tc.got, tc.want)
		}
	}
}

// growthSpec is an ambient cluster of nodes nodes and ns namespaces of svc
// services with reps replicas each.
func growthSpec(nodes, ns, svc, reps int, mode string) string {
	return fmt.Sprintf(`
nodes: {count: %d, zones: [z]}
namespaces:
  - name: ns-%%d
    count: %d
    mode: %s
    services:
      - {name: s-%%d, count: %d, replicas: %d}
`, nodes, ns, mode, svc, reps)
}

func meshOf(t *testing.T, spec, mode string, prof *Profile, mut func(*Config)) *Mesh {
	t.Helper()
	top := mustTopology(t, spec)
	cfg := Config{Topology: top, Profile: prof, Mode: mode, Seed: 1, Duration: 10 * sim.Second}
	if mut != nil {
		mut(&cfg)
	}
	m, err := NewMesh(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestZtunnelMemoryGrowthLaw: ztunnel memory at W workloads, S services
// and E endpoints cluster-wide is the law, whatever its node holds:
// base + W·w + S·s + E·e + local pods·p + identities·c (no traffic, no
// connections). It grows with the cluster, not with the node.
func TestZtunnelMemoryGrowthLaw(t *testing.T) {
	p := mustProfile(t)
	z := p.Ztunnel
	for _, tc := range []struct{ nodes, ns, svc, reps int }{
		{1, 1, 1, 1}, {3, 2, 5, 2}, {10, 10, 10, 10}, {50, 20, 20, 30},
	} {
		m := meshOf(t, growthSpec(tc.nodes, tc.ns, tc.svc, tc.reps, "ambient"), "ambient", p, nil)
		W := tc.ns * tc.svc * tc.reps
		S := tc.ns * tc.svc
		for n := range m.nodes {
			local := m.nodes[n].pods
			ids := m.mem.ztCerts[n]
			want := z.MemoryBase.Value + (float64(W)*(z.MemoryPerWorkload.Value+z.MemoryPerEndpoint.Value)+
				float64(S)*z.MemoryPerService.Value+float64(local)*z.MemoryPerPod.Value+
				float64(ids)*z.MemoryPerCertificate.Value)/1024
			if got := m.ztunnelMemory(n); math.Abs(got-want) > 1e-9 {
				t.Errorf("%+v node %d: %.6f MiB, law %.6f", tc, n, got, want)
			}
		}
	}
	// 30,000 pods in 3,000 services: the cluster-wide terms alone.
	W, S := 30000.0, 3000.0
	got := ztunnelMemoryMiB(&z, ztState{workloads: 30000, services: 3000, endpoints: 30000})
	want := z.MemoryBase.Value + (W*(z.MemoryPerWorkload.Value+z.MemoryPerEndpoint.Value)+S*z.MemoryPerService.Value)/1024
	if math.Abs(got-want) > 1e-9 || got < 70 {
		t.Errorf("ztunnel at 30k pods: %.1f MiB, law %.1f (and it must grow well beyond the 12 MB benchmark point)", got, want)
	}
}

// TestDiscoverySelectorsShrinkZtunnel: namespaces outside meshConfig
// discoverySelectors are not pushed to ztunnels.
func TestDiscoverySelectorsShrinkZtunnel(t *testing.T) {
	p := mustProfile(t)
	z := p.Ztunnel
	all := meshOf(t, growthSpec(2, 4, 5, 2, "ambient"), "ambient", p, nil)
	half := meshOf(t, growthSpec(2, 4, 5, 2, "ambient"), "ambient", p, func(c *Config) {
		c.Topology.MeshConfig = &topology.MeshConfig{DiscoverySelectors: []topology.LabelSelector{
			{MatchExpressions: []topology.LabelRequirement{{Key: "kubernetes.io/metadata.name", Operator: "In", Values: []string{"ns-1", "ns-2"}}}}}}
	})
	// Two of four namespaces: 20 of 40 workloads, 10 of 20 services.
	want := (20*(z.MemoryPerWorkload.Value+z.MemoryPerEndpoint.Value) + 10*z.MemoryPerService.Value) / 1024
	if got := all.ztunnelMemory(0) - half.ztunnelMemory(0); math.Abs(got-want) > 1e-9 {
		t.Errorf("discovery selectors saved %.6f MiB per ztunnel, law %.6f", got, want)
	}
}

// TestSidecarScopeReduction: a sidecar's memory shrinks by exactly the
// services and endpoints its scope drops, whether the scope comes from the
// scenario (namespace) or a Sidecar resource (egress hosts).
func TestSidecarScopeReduction(t *testing.T) {
	p := mustProfile(t)
	e := p.Sidecar
	spec := growthSpec(3, 5, 4, 3, "sidecar") // 20 services, 60 endpoints
	mesh := meshOf(t, spec, "sidecar", p, nil)
	ns := meshOf(t, spec, "sidecar", p, func(c *Config) { c.SidecarScope = "namespace" })
	res := meshOf(t, spec, "sidecar", p, func(c *Config) {
		c.Topology.SidecarConfigs = []*topology.SidecarConfig{{Namespace: "istio-system", Name: "default",
			EgressHosts: []string{"./*", "ns-3/s-1.ns-3.svc.cluster.local"}}}
	})
	perSvc := (e.MemoryPerSvc.Value + 3*e.MemoryPerEP.Value) / 1024
	for _, tc := range []struct {
		name    string
		m       *Mesh
		dropped int // services out of scope
	}{{"namespace", ns, 16}, {"Sidecar ./* + one host", res, 15}} {
		for i := range mesh.pods {
			if mesh.pods[i].p.Namespace == "ns-3" { // its own namespace holds the extra host
				continue
			}
			saved := mesh.sidecarMemory(i) - tc.m.sidecarMemory(i)
			want := float64(tc.dropped) * perSvc
			if tc.name != "namespace" {
				want = float64(tc.dropped) * perSvc
			}
			if math.Abs(saved-want) > 1e-9 {
				t.Errorf("%s scope: sidecar %s saves %.6f MiB, law %.6f", tc.name, mesh.pods[i].p.ID(), saved, want)
			}
			break
		}
	}
	if got := mesh.mem.sc[0].services; got != 20 {
		t.Errorf("mesh scope: %d services, want 20", got)
	}
}

// TestWaypointMemoryLaw: a waypoint holds the services attached to it and
// their endpoints.
func TestWaypointMemoryLaw(t *testing.T) {
	p := mustProfile(t)
	e := p.Waypoint
	spec := `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    mode: ambient
    waypoint: {scope: namespace, replicas: 1}
    services:
      - {name: s-%d, count: 6, replicas: 4}
`
	m := meshOf(t, spec, "ambient+waypoint", p, nil)
	want := e.MemoryBase.Value + (6*e.MemoryPerSvc.Value+24*e.MemoryPerEP.Value)/1024
	if got := m.waypointMemory(0); math.Abs(got-want) > 1e-9 {
		t.Errorf("waypoint serving 6 services of 4 pods: %.6f MiB, law %.6f", got, want)
	}
}

// TestDebounceAndUnion pins the closed forms istiod's push rates use.
func TestDebounceAndUnion(t *testing.T) {
	for _, tc := range []struct{ r, tau, max, want float64 }{
		{0, 0.1, 10, 0},
		{1, 0, 0, 1},                    // no debouncing: one push per event
		{2, 0.1, 0, 2 * math.Exp(-0.2)}, // r·e^(−rτ)
		{100, 0.1, 10, 0.1},             // saturated: the max delay forces a push every 10 s
		{100, 0.1, 0, 100 * math.Exp(-10)},
	} {
		if got := debounce(tc.r, tc.tau, tc.max); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("debounce(%v, %v, %v) = %v, want %v", tc.r, tc.tau, tc.max, got, tc.want)
		}
	}
	if got := union(100, 100, 3); got != 100 {
		t.Errorf("union of pushes reaching everyone = %v", got)
	}
	if got, want := union(100, 10, 2), 100*(1-0.81); math.Abs(got-want) > 1e-9 {
		t.Errorf("union(100, 10, 2) = %v, want %v", got, want)
	}
}

// TestIstiodChurnLaw: istiod's CPU at churn r pods/s equals the law, and
// the ambient/sidecar fan-out differs as it says: every pod event reaches
// every ztunnel, but only the sidecars importing the pod's service.
func TestIstiodChurnLaw(t *testing.T) {
	p := mustProfile(t)
	cp := p.ControlPlane
	const nodes, ns, svc, reps = 4, 3, 2, 5 // 30 pods, 6 services
	const r = 3.0                           // pod events per second
	tau := cp.PushLatency.Value / 1000
	us := 1e-6
	I := r * math.Exp(-r*tau)
	k := r / I
	base := func(n float64) float64 { return cp.CPUBase.Value + n*cp.CPUPerProxy.Value/1000 }
	renew := func(m *Mesh) float64 {
		return float64(m.cp.certs) / m.cp.refresh.Seconds() * cp.CSRSignCPU.Value * us
	}

	t.Run("ambient", func(t *testing.T) {
		m := meshOf(t, growthSpec(nodes, ns, svc, reps, "ambient"), "ambient", p, func(c *Config) { c.Churn = Churn{PodsPerSecond: r} })
		l := m.istiod(10, 1)
		// Each event: one WDS resource to each of the 4 ztunnels; a merged
		// push reaches all of them; a new pod needs a certificate when its
		// identity (its workload's service account, 5 pods) has no pod on
		// its node: (1 − 1/4)^5.
		newCert := r / 2 * math.Pow(0.75, 5)
		want := base(nodes) + I*nodes*cp.IncrementalPushCPU.Value*us + r*nodes*cp.PushCPUPerResource.Value*us +
			renew(m) + newCert*cp.CSRSignCPU.Value*us
		if got := l.cores; math.Abs(got-want) > 1e-12 {
			t.Errorf("istiod CPU at %v pods/s: %.9f cores, law %.9f (%v)", r, got, want, l.usage.CPUCores)
		}
		if got := l.usage.ProxyPushesPerSec["ztunnel"]; math.Abs(got-r*nodes) > 1e-9 {
			t.Errorf("ztunnel pushes %v/s, want every event to every ztunnel: %v", got, r*nodes)
		}
		if l.usage.ProxyPushesPerSec["sidecar"] != 0 {
			t.Errorf("sidecar pushes in ambient: %v", l.usage.ProxyPushesPerSec)
		}
	})
	t.Run("sidecar", func(t *testing.T) {
		m := meshOf(t, growthSpec(nodes, ns, svc, reps, "sidecar"), "sidecar", p, func(c *Config) {
			c.Churn = Churn{PodsPerSecond: r}
			c.SidecarScope = "namespace"
		})
		l := m.istiod(10, 1)
		// Each event: the pod's service's endpoint assignment (5 endpoints)
		// to the 10 sidecars of its namespace; k merged events reach the
		// union of 10-of-30 sets; a new sidecar gets its first full
		// configuration (2 services: 4 resources) and a certificate.
		n, a := 30.0, 10.0
		eds := cp.PushCPUPerResource.Value + 5*cp.PushCPUPerEndpoint.Value
		first := cp.PushCPUPerProxy.Value + 4*cp.PushCPUPerResource.Value
		want := base(n) + I*union(n, a, k)*cp.IncrementalPushCPU.Value*us + r*a*eds*us +
			r/2*first*us + renew(m) + r/2*cp.CSRSignCPU.Value*us
		if got := l.cores; math.Abs(got-want) > 1e-12 {
			t.Errorf("istiod CPU at %v pods/s: %.9f cores, law %.9f (%v)", r, got, want, l.usage.CPUCores)
		}
		if got := l.usage.ProxyPushesPerSec["sidecar"]; math.Abs(got-r*a) > 1e-9 {
			t.Errorf("sidecar pushes %v/s, want each event to its namespace's 10 sidecars: %v", got, r*a)
		}
	})
	t.Run("grows with churn", func(t *testing.T) {
		prev := -1.0
		for _, rate := range []float64{0, 1, 5, 20} {
			m := meshOf(t, growthSpec(nodes, ns, svc, reps, "ambient"), "ambient", p, func(c *Config) { c.Churn = Churn{PodsPerSecond: rate} })
			got := m.istiod(10, 1).cores
			if got <= prev || got <= 0 {
				t.Errorf("istiod CPU %.6f at %v pods/s, not above %.6f", got, rate, prev)
			}
			prev = got
		}
	})
}

// TestIstiodMemoryLaw: istiod memory is the law over the xDS clients, the
// cluster and the resources pushed (a ztunnel holds every workload and
// service; istiod keeps each one's names).
func TestIstiodMemoryLaw(t *testing.T) {
	p := mustProfile(t)
	cp := p.ControlPlane
	m := meshOf(t, growthSpec(5, 4, 5, 3, "ambient"), "ambient", p, nil)
	l := m.istiod(10, 1)
	pods, svcs := 60.0, 20.0
	n := 5.0 // ztunnels
	want := cp.MemoryBase.Value + (n*cp.MemoryPerProxy.Value+pods*cp.MemoryPerPod.Value+svcs*cp.MemoryPerService.Value+
		pods*cp.MemoryPerEndpoint.Value+n*(pods+svcs)*cp.MemoryPerPushedResource.Value)/1024
	if math.Abs(l.mib-want) > 1e-9 {
		t.Errorf("istiod memory %.6f MiB, law %.6f (%v)", l.mib, want, l.usage.MemoryMiB)
	}
}
