package models

import (
	"math"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// loadTestMesh is the Istio load-test mesh behind the istiod figures of
// the Istio 1.18 performance page ([istio-1.18-perf] in the profile), as
// istio/tools perf/load at 1.18.0 builds it ([istio-tools-perf-load-1.18]):
// 50 namespaces of 20 services × 2 sidecar replicas, a mesh-wide Sidecar
// importing only the own namespace and istio-system, a VirtualService
// change per namespace every 120 s, and a deployment scaler that scales the
// 20 deployments of each namespace to 1–3 replicas one after another
// (10 s + 1–10 s apart, every 10 minutes: 20 scalings per namespace per
// 600 s, 8/9 pods changed per scaling on average).
func loadTestMesh(t testing.TB, prof *Profile) *Mesh {
	t.Helper()
	top := mustTopology(t, `
nodes: {count: 40, zones: [z]}
namespaces:
  - name: ns-%d
    count: 50
    mode: sidecar
    services:
      - {name: svc-%d, count: 20, replicas: 2}
  - name: istio-system
    mode: out-of-mesh
    services:
      - {name: istiod, replicas: 1}
      - {name: istio-ingressgateway, replicas: 1}
`)
	top.SidecarConfigs = append(top.SidecarConfigs, &topology.SidecarConfig{Namespace: "istio-system", Name: "default",
		EgressHosts: []string{"./*", "istio-system/*"}})
	m, err := NewMesh(Config{Topology: top, Profile: prof, Mode: "sidecar", Seed: 1, Duration: 60 * sim.Second,
		ConfigChangesPerMinute: 50.0 / 120 * 60,
		Churn:                  Churn{PodsPerSecond: 50 * 20 / 600.0 * 8 / 9}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPublishedIstiodPoint: the profile's istiod laws reproduce the
// published point — 1 vCPU and 1.5 GB for 1000 services and 2000 sidecars
// with namespace isolation — and the two per-connected-proxy terms are the
// remainders after every assumed term (the fit the profile's derivations
// describe). Run with -v to see the fitted values.
func TestPublishedIstiodPoint(t *testing.T) {
	prof := mustProfile(t)
	m := loadTestMesh(t, prof)
	l := m.istiod(60, 1)
	n := float64(l.usage.XDSClients.Sidecars)
	// 2000 sidecars and the ingress gateway (an Envoy istiod configures).
	if n != 2001 || m.mem.view.services != 1002 {
		t.Fatalf("load-test mesh: %v sidecars and gateways, %d services; want 2000 + the gateway, and 1000 + istio-system's 2", n, m.mem.view.services)
	}
	if got := m.mem.sc[0].services; got != 22 {
		t.Errorf("a sidecar's scope: %d services, want its namespace's 20 + istio-system's 2", got)
	}
	const wantCores, wantMiB = 1.0, 1.5e9 / (1 << 20)
	p := prof.ControlPlane
	fitCPU := (wantCores - (l.cores - n*p.CPUPerProxy.Value/1000)) / n * 1000
	fitMem := (wantMiB - (l.mib - n*p.MemoryPerProxy.Value*kib)) / n / kib
	t.Logf("fitted: cpu_per_proxy %.4f millicores, memory_per_proxy %.1f KiB; istiod by cause %v, %v", fitCPU, fitMem, l.usage.CPUCores, l.usage.MemoryMiB)
	if math.Abs(p.CPUPerProxy.Value-fitCPU) > 0.0005 {
		t.Errorf("control_plane.cpu_per_proxy %v, the fit gives %.4f", p.CPUPerProxy.Value, fitCPU)
	}
	if math.Abs(p.MemoryPerProxy.Value-fitMem) > 0.05 {
		t.Errorf("control_plane.memory_per_proxy %v, the fit gives %.1f", p.MemoryPerProxy.Value, fitMem)
	}
	if math.Abs(l.cores-wantCores) > 0.002 || math.Abs(l.mib-wantMiB) > 0.5 {
		t.Errorf("istiod at the published point: %.4f cores %.1f MiB, want 1 vCPU and 1.5 GB (%.1f MiB)", l.cores, l.mib, wantMiB)
	}
}
