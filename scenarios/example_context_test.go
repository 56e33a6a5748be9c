package scenarios_test

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/sim"
)

// ExampleExecuteContext runs a scenario that carries a sweep: section as a
// plain scenario, stoppable with Ctrl-C, recording each mode's batch-means
// latency series (for MSER-5) and with the ztunnel worker threads tuned in
// memory.
func ExampleExecuteContext() {
	sc, err := scenarios.Parse("study.yaml", []byte(`
name: study
modes: [ambient, sidecar]
duration: 2s
warmup: 500ms
topology:
  spec:
    nodes: {count: 2}
    namespaces:
      - name: shop
        workloads: [{name: client}]
        services: [{name: web, replicas: 2}]
    calls: [{from: shop/client, to: shop/web, rate: 100}]
slo: {p99: 25ms}
sweep:
  replications: 3
  parameters:
    load: [1, 2]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT)
	defer stop()
	run, err := scenarios.ExecuteContext(ctx, sc, scenarios.Options{
		BatchInterval: 100 * sim.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sweep replications:", sc.SweepSpec().Replications)
	fmt.Println("SLO p99 ms:", run.Summary.SLO.P99Ms)
	for _, m := range sc.Modes {
		fmt.Printf("%s: %d batches\n", m, len(run.Series[m]))
	}
	// Output:
	// sweep replications: 3
	// SLO p99 ms: 25
	// ambient: 25 batches
	// sidecar: 25 batches
}
