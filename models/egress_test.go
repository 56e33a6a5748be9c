package models

import (
	"path/filepath"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// TestEgressGatewayCrossed: a call to a ServiceEntry host that a
// VirtualService routes through the sidecar-era egress gateway crosses the
// gateway's Envoy (it sees every call and spends CPU on them), from a
// sidecar and from an ambient source's egress waypoint; the host's other
// port, which no rule routes, leaves without it.
func TestEgressGatewayCrossed(t *testing.T) {
	const gw = "gateway/istio-system/istio-egressgateway-0"
	for _, tc := range []struct {
		name     string
		overlays []string
		port     int
		via      bool // the egress gateway is on the path
		category string
	}{
		{"sidecar port 80", []string{"sidecar", "egress-gateway"}, 80, true, "external"},
		{"sidecar port 443", []string{"sidecar", "egress-gateway"}, 443, false, "external"},
		{"ambient waypoint port 80", []string{"ambient", "ambient-l7", "egress-gateway"}, 80, true, "external"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			paths := []string{"../topology/testdata/upstream/istio/curl.yaml"}
			for _, o := range tc.overlays {
				paths = append(paths, filepath.Join("../topology/testdata/upstream/overlays", o))
			}
			top, _, err := topology.Load(paths, topology.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			host := top.ServiceEntryHost("default", "edition.cnn.com")
			curl := top.Workload("default", "curl")
			if host == nil || curl == nil {
				t.Fatalf("host %v, curl %v", host, curl)
			}
			cfg := Config{Topology: top, Profile: mustProfile(t), Mode: "as-manifests", Seed: 3, Duration: sim.Second, Warmup: 100 * sim.Millisecond,
				Edges:    []EdgeConfig{{Call: &topology.Call{From: curl, To: host, Port: tc.port}, Rate: 100, KeepAlive: true, Pool: 2}},
				External: map[*topology.ServiceEntry]ExternalConfig{host.Entry(): {ServiceTime: sim.DistSpec{Kind: sim.DistConstant, Mean: float64(2 * sim.Millisecond)}, RTT: 10 * sim.Millisecond}}}
			_, res := runMesh(t, cfg)
			e := res.Measured.Edges[0]
			if e.Calls < 50 || e.Failed != 0 || e.Category != tc.category {
				t.Fatalf("edge %+v: want >= 50 calls, none failed, category %s", e, tc.category)
			}
			if e.P50Ms < 12 {
				t.Errorf("p50 %.3f ms: below the host's 2 ms + 10 ms round trip", e.P50Ms)
			}
			var seen int64
			var cpu float64
			for _, c := range res.Measured.Components {
				if c.Instance == gw {
					seen, cpu = c.RequestsSeen, c.CPUCores
				}
			}
			switch {
			case tc.via && (seen < e.Calls-2 || seen > e.Calls+2 || cpu <= 0):
				t.Errorf("egress gateway saw %d requests (%v cores) of %d calls; want every call, some CPU", seen, cpu, e.Calls)
			case !tc.via && seen != 0:
				t.Errorf("egress gateway saw %d requests; port %d does not go through it", seen, tc.port)
			}
		})
	}
}
