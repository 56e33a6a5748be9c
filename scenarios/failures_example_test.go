package scenarios_test

import (
	"fmt"

	"github.com/ambientsim/ambientsim/scenarios"
)

// The blast radius of a ztunnel crash, from the built-in scenario: what it
// hit directly, who failed through their calls, how fast it showed and
// healed, and the same crash in the sidecar design.
func ExampleExecute_failures() {
	sc, err := scenarios.Load("ztunnel-node-failure")
	if err != nil {
		panic(err)
	}
	run, err := scenarios.Execute(sc, scenarios.Options{})
	if err != nil {
		panic(err)
	}
	f := run.Summary.Failures[0] // first failure, first mode
	fmt.Println(f.Name, f.Mode, f.Nodes, f.Instances, f.Pods)
	for _, a := range f.Transitive {
		fmt.Printf("%s %.0f%% %v\n", a.Workload, 100*a.FailureFraction, a.Chain)
	}
	fmt.Printf("detect %.0f s, recover %.0f s, %d requests failed\n", f.DetectS, f.RecoverS, f.FailedRequests)
	for _, w := range run.Summary.WhatIf {
		fmt.Printf("%s: %d failed, %d workloads affected\n", w.Design, w.Failed, w.Affected)
	}
	// Output:
	// db-node-ztunnel-crash ambient [node-3] [ztunnel/node-3] [shop/db-0 shop/frontend-0]
	// loadgen/client 16% [loadgen/client shop/frontend]
	// shop/catalog 24% [shop/catalog shop/db]
	// shop/frontend 24% [shop/frontend]
	// detect 1 s, recover 5 s, 953 requests failed
	// scenario (ambient): 953 failed, 3 workloads affected
	// sidecar: 0 failed, 0 workloads affected
}
