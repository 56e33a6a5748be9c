package crosscheck_test

import (
	"fmt"
	"os"
	"time"

	"github.com/ambientsim/ambientsim/validation/crosscheck"
)

// Simulate the blast-radius validation scenario and read the predicted
// blast radius in the harness's pod names.
func ExamplePredict() {
	dir, _ := os.MkdirTemp("", "crosscheck-example-")
	defer os.RemoveAll(dir)
	sc := crosscheck.Scenarios(2 * time.Second)[3]
	run, err := crosscheck.Simulate(dir, crosscheck.Plan(), sc.Experiment, "istio-1.24-published", 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	pr, _ := crosscheck.Predict(run, crosscheck.Plan(), sc.Experiment)
	fmt.Println(sc.Name, "affects", pr.Affected)
	// Output: blast-node-proxy affects [client-b]
}

func ExampleNumberRow() {
	r := crosscheck.NumberRow("same-node-l4", "p50_ms client-a→server-a", 0.55, 0.5, crosscheck.TargetP50)
	fmt.Printf("%s %.0f%% target %s pass %v\n", r.Metric, *r.RelativeError*100, r.Target, *r.Pass)
	// Output: p50_ms client-a→server-a 10% target 10% pass true
}
