package models_test

import (
	"context"
	"fmt"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// A ztunnel crash: node-2's ztunnel is down for 2 s of a 10 s run. The
// client's requests to the api pod on node-2 are refused (fail-closed)
// and it has no retries; nothing else fails, and every request is
// accounted for.
func ExampleFailure() {
	top, err := topology.ParseSpec("example.yaml", []byte(`
nodes: {count: 2}
namespaces:
  - name: shop
    mode: ambient
    workloads: [{name: client}]
    services: [{name: api, replicas: 2}]
calls:
  - {from: shop/client, to: shop/api, rate: 200}
`))
	if err != nil {
		panic(err)
	}
	prof, _ := models.LoadProfile("")
	edges := []models.EdgeConfig{{Call: top.Calls[0], Rate: 200}}
	mesh, err := models.NewMesh(models.Config{Topology: top, Profile: prof, Mode: "ambient", Seed: 1,
		Duration: 10 * sim.Second, Warmup: sim.Second, Edges: edges, Series: true,
		Failures: []models.Failure{{Name: "zt", Kind: models.FailZtunnelCrash, Nodes: []string{"node-2"},
			At: 5 * sim.Second, Duration: 2 * sim.Second}}})
	if err != nil {
		panic(err)
	}
	res, err := mesh.Run(context.Background())
	if err != nil {
		panic(err)
	}
	r := res.Measured.Requests
	fmt.Println("reconciles:", r.Offered == r.Succeeded+r.Failed+r.InFlight)
	for _, e := range res.Measured.Errors {
		fmt.Println(e.Cause, e.Count > 0)
	}
	im := res.Failures[0]
	fmt.Println(im.Nodes, im.Instances, im.Services)
	failedAt := map[int]bool{}
	for b, x := range res.Series.Edges[0].Buckets {
		if x.Failed > 0 {
			failedAt[b+1] = true // the measured window starts at 1 s
		}
	}
	fmt.Println("failures only in [5 s, 7 s):", !failedAt[4] && failedAt[5] && failedAt[6] && !failedAt[7])
	// Output:
	// reconciles: true
	// connection_refused true
	// [node-2] [ztunnel/node-2] [shop/api]
	// failures only in [5 s, 7 s): true
}
