package scenarios_test

import (
	"fmt"

	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/sim"
)

func ExampleExecute() {
	sc, err := scenarios.Parse("example.yaml", []byte(`
name: example
modes: [ambient, sidecar]
duration: 5s
topology:
  spec:
    nodes: {count: 2}
    namespaces:
      - name: shop
        workloads: [{name: client}]
        services: [{name: api, replicas: 2}]
    calls:
      - {from: shop/client, to: shop/api, rate: 200}
traffic:
  defaults: {request_size: 1KiB, response_size: 4KiB}
`))
	if err != nil {
		panic(err)
	}
	run, err := scenarios.Execute(sc, scenarios.Options{Duration: 5 * sim.Second})
	if err != nil {
		panic(err)
	}
	for _, m := range run.Summary.Modes {
		fmt.Println(m.Mode, m.Latency[1].Category, m.Requests.Failed, m.Telemetry.HTTPMetrics)
	}
	fmt.Println(run.Summary.Comparison[0].Metric, len(run.Summary.Comparison[0].Values))
	// Output:
	// ambient ambient-l4 0 []
	// sidecar sidecar 0 [destination (sidecar) source (sidecar)]
	// throughput 2
}

func ExampleParseSize() {
	for _, s := range []string{"512", "1KiB", "1.5MiB", "64KB"} {
		z, _ := scenarios.ParseSize(s)
		fmt.Println(s, int64(z))
	}
	// Output:
	// 512 512
	// 1KiB 1024
	// 1.5MiB 1572864
	// 64KB 64000
}
