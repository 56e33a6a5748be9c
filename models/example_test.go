package models_test

import (
	"context"
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
	res, err := mesh.Run(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Mode, res.Measured.Latency[1].Category, res.Measured.Requests.Failed)
	fmt.Println(res.Measured.Telemetry.TCPMetrics, res.Measured.Telemetry.HTTPMetrics)
	// Output:
	// ambient ambient-l4 0
	// [destination (ztunnel) source (ztunnel)] []
}

// Nodes on machines: an instance type from the built-in table, and two
// nodes sharing one 2-core host (kind, the validation harness), whose
// containers compete for its cores.
func ExampleLookupMachine() {
	m5, _ := models.LookupMachine("m5.2xlarge")
	c6i, _ := models.LookupMachine("c6i.2xlarge")
	fmt.Printf("%s: %.0f vCPUs, speed %.2f, SMT %d\n", m5.Type, m5.Cores, m5.Speed, m5.SMT)
	fmt.Printf("%s: %.0f vCPUs, speed %.2f, SMT %d\n", c6i.Type, c6i.Cores, c6i.Speed, c6i.SMT)
	_, err := models.LookupMachine("m5.3xlarge")
	fmt.Println(err)
	cfg := models.Config{Machines: []models.MachineConfig{
		{Name: "kind", Machine: models.Machine{Cores: 2, Speed: 1, SMT: 1}, Nodes: []string{"node-a", "node-b"}},
		{Machine: m5, Nodes: []string{"node-c"}},
	}}
	fmt.Println(len(cfg.Machines), "machines")
	// Output:
	// m5.2xlarge: 8 vCPUs, speed 1.00, SMT 2
	// c6i.2xlarge: 8 vCPUs, speed 1.33, SMT 2
	// instance type "m5.3xlarge": m5 has no 12-vCPU size (have 2, 4, 8, 16, 32, 48, 64, 96 vCPUs)
	// 2 machines
}
