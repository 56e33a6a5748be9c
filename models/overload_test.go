package models

import (
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

// TestOverloadCPUWithinCapacity: an overloaded ztunnel reports the CPU it
// was given, never the CPU its backlog would need. Its two workers get at
// most two cores (each pinned worker runs on one core at a time), a CPU
// limit of 0.5 caps it at half a core (CFS quota: it is throttled), and
// offered work far beyond either does not raise the figure.
func TestOverloadCPUWithinCapacity(t *testing.T) {
	top := mustTopology(t, `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    mode: ambient
    workloads: [{name: client, nodeName: node-1}]
    services: [{name: server, nodeName: node-2}]
calls:
  - {from: a/client, to: a/server, rate: 400}
`)
	for _, tc := range []struct {
		name    string
		limit   float64
		maxCPU  float64 // cores the ztunnel can have
		minCPU  float64 // it is saturated: close to that
		throttl bool
	}{
		{"two-workers", 0, 2, 1.9, false},
		{"limit-0.5", 0.5, 0.5, 0.49, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prof := mustProfile(t)
			// 5 ms of ztunnel CPU per message: a request crossing a ztunnel
			// (two messages) needs 10 ms, so 400 requests/s offer each
			// ztunnel 4 cores of work.
			prof.Ztunnel.PerMessageCPU.Value = 5000
			cfg := Config{Topology: top, Profile: prof, Mode: "ambient", Seed: 2, Duration: 10 * sim.Second, Warmup: sim.Second,
				Edges:   edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 64, ReqSize: kib1, RespSize: kib1}),
				Ztunnel: ProxyConfig{Workers: 2, Resources: &Resources{Request: 0.2, Limit: tc.limit}}}
			_, res := runMesh(t, cfg)
			for _, node := range []string{"node-1", "node-2"} {
				var u *ComponentUsage
				for i := range res.Measured.Components {
					if c := &res.Measured.Components[i]; c.Instance == "ztunnel/"+node {
						u = c
					}
				}
				if u == nil {
					t.Fatalf("no ztunnel/%s in %+v", node, res.Measured.Components)
				}
				t.Logf("ztunnel/%s: %.4f cores, throttled %.2f s", node, u.CPUCores, u.ThrottledS)
				if u.CPUCores > tc.maxCPU+1e-6 || u.CPUCores < tc.minCPU {
					t.Errorf("ztunnel/%s used %.4f cores; want within [%.2f, %.2f]: saturated, and never more than it has", node, u.CPUCores, tc.minCPU, tc.maxCPU)
				}
				if (u.ThrottledS > 0) != tc.throttl {
					t.Errorf("ztunnel/%s throttled %.2f s; want throttling %v", node, u.ThrottledS, tc.throttl)
				}
			}
			if s := res.Measured.Requests.Succeeded; float64(s) > 0.6*400*10 {
				t.Errorf("%d requests succeeded: the overloaded ztunnel cannot have served most of the 4000 offered", s)
			}
		})
	}
}
