package models

import (
	"math"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

// TestPublishedCalibrationPoint checks the plumbing against the shipped
// profile: at 1000 rps with 1 KiB requests and responses over keep-alive
// connections, each proxy's simulated CPU matches the published
// per-proxy figure (sidecar 0.20, waypoint 0.25, ztunnel 0.06 vCPU) within 5%.
func TestPublishedCalibrationPoint(t *testing.T) {
	cases := []struct {
		mode      string
		spec      string
		instances map[string]float64 // instance prefix → published cores
	}{
		{"sidecar", "mode: sidecar", map[string]float64{"sidecar/a/client": 0.20, "sidecar/a/server": 0.20}},
		{"ambient", "mode: ambient", map[string]float64{"ztunnel/node-1": 0.06, "ztunnel/node-2": 0.06}},
		{"ambient+waypoint", "mode: ambient\n    waypoint: {scope: namespace}", map[string]float64{"waypoint/a/waypoint": 0.25}},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			top := mustTopology(t, `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    `+tc.spec+`
    workloads: [{name: client}]
    services: [{name: server}]
calls:
  - {from: a/client, to: a/server, rate: 1000}
`)
			if top.Pods[0].Node == top.Pods[1].Node {
				t.Fatal("client and server share a node; the test needs one proxy per side")
			}
			cfg := Config{Topology: top, Profile: mustProfile(t), Mode: tc.mode, Seed: 3,
				Duration: 20 * sim.Second, Warmup: 2 * sim.Second,
				Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 8, ReqSize: kib1, RespSize: kib1})}
			_, res := runMesh(t, cfg)
			rate := float64(res.Measured.Requests.Succeeded) / 20
			for prefix, want := range tc.instances {
				var got float64
				found := false
				for _, c := range res.Measured.Components {
					if strings.HasPrefix(c.Instance, prefix) {
						got += c.CPUCores
						found = true
					}
				}
				if !found {
					t.Fatalf("no component %s", prefix)
				}
				// Scale to exactly 1000 rps: Poisson arrivals vary by ~1%.
				got = got * 1000 / rate
				t.Logf("%s: %.4f cores at 1000 rps (published %.2f)", prefix, got, want)
				if math.Abs(got-want)/want > 0.05 {
					t.Errorf("%s: %.4f cores at 1000 rps, published %.2f (more than 5%% off)", prefix, got, want)
				}
			}
		})
	}
}
