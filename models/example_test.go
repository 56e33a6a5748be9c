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

// A proxy that sleeps when idle: a message after a long gap pays the full
// wake-up (20 µs late, 40 µs more CPU after it); one arriving 30 µs after
// the proxy's last work pays 1 − e^(−30/1000) ≈ 3 % of it. Half of each
// message's CPU holds the worker after the message has left.
func ExampleStation_SetActivity() {
	us := sim.Microsecond
	st := models.NewStation("ztunnel/node-1", 1)
	st.SetActivity(models.Activity{PathFraction: 0.5, WakeupCPU: 40 * us, WakeupLatency: 20 * us, SleepTimeConstant: 1000 * us})
	first := st.Arrive(10*sim.Millisecond, 60*us) // idle for 10 ms: asleep
	fmt.Printf("after 10 ms idle: done in %.1f µs\n", (first - 10*sim.Millisecond).Microseconds())
	// The worker stays busy 30 µs of bookkeeping + 40 µs of wake-up after
	// the first message: the second arrives 30 µs after that.
	at := first + 100*us
	second := st.Arrive(at, 60*us)
	fmt.Printf("30 µs after:      done in %.1f µs\n", (second - at).Microseconds())
	fmt.Printf("CPU %.1f µs for 2 messages, %.2f wake-ups\n", st.BusyTime().Microseconds(), st.Wakeups())
	// Output:
	// after 10 ms idle: done in 50.0 µs
	// 30 µs after:      done in 30.6 µs
	// CPU 161.2 µs for 2 messages, 1.03 wake-ups
}

// Two nodes on one 2-core machine: their processes share its cores, so a
// scenario's wake-ups are shallower when another node's process just ran.
func ExampleHostConfig() {
	cfg := models.Config{Hosts: []models.HostConfig{{Name: "kind", Cores: 2, Nodes: []string{"node-a", "node-b"}}}}
	fmt.Println(cfg.Hosts[0].Name, cfg.Hosts[0].Cores, cfg.Hosts[0].Nodes)
	// Output: kind 2 [node-a node-b]
}
