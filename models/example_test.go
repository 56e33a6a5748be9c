package models_test

import (
	"fmt"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

func ExampleLoadProfile() {
	p, err := models.LoadProfile("istio-1.24-published")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Name, p.Provenance)
	fmt.Printf("sidecar: %.2f us per request + %.0f ns/B\n", p.Sidecar.PerRequestCPU.Value, p.Sidecar.PerByteCPU.Value)
	fmt.Println(p.Sidecar.PerRequestCPU.Derivation)
	// Output:
	// istio-1.24-published published
	// sidecar: 189.76 us per request + 5 ns/B
	// 0.20 cores / 1000 rps = 200 us per request through one sidecar (the client's outbound or the server's inbound role); minus 2048 B x 5 ns/B = 10.24 us of byte cost = 189.76 us; half on the request, half on the response
}

func ExampleNewMesh() {
	top, err := topology.ParseSpec("example.yaml", []byte(`
nodes: {count: 2}
namespaces:
  - name: shop
    mode: ambient
    workloads: [{name: client}]
    services: [{name: api, replicas: 2}]
calls:
  - {from: shop/client, to: shop/api, rate: 1000}
`))
	if err != nil {
		panic(err)
	}
	prof, _ := models.LoadProfile("")
	var edges []models.EdgeConfig
	for _, c := range top.Calls {
		edges = append(edges, models.EdgeConfig{Call: c, Rate: c.RateRPS, KeepAlive: true, Pool: 4})
	}
	mesh, err := models.NewMesh(models.Config{Topology: top, Profile: prof, Mode: "ambient", Seed: 1,
		Duration: 10 * sim.Second, Warmup: sim.Second, Edges: edges})
	if err != nil {
		panic(err)
	}
	res, err := mesh.Run()
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Mode.Mode, res.Mode.Latency[1].Category, res.Mode.Requests.Failed)
	fmt.Println(res.Mode.Telemetry.TCPMetrics, res.Mode.Telemetry.HTTPMetrics)
	// Output:
	// ambient ambient-l4 0
	// [destination (ztunnel) source (ztunnel)] []
}
