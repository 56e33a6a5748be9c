package scenariorun_test

import (
	"context"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/scenarios/sweep/scenariorun"
	"github.com/ambientsim/ambientsim/sim"
)

// studyDoc is a scenario with a sweep section: the same call graph at one
// and two times its load, in sidecar and ambient mode.
const studyDoc = `name: capacity-demo
modes: [sidecar, ambient]
duration: 1s
warmup: 200ms
topology:
  spec:
    nodes: {count: 2}
    namespaces:
      - name: app
        workloads: [{name: client}]
        services:
          - {name: web, replicas: 2}
          - {name: db}
    calls:
      - {from: app/client, to: app/web, rate: 40}
      - {from: app/web, to: app/db, rate: 20}
sweep:
  replications: 2
  parameters:
    load: [1, 2]
`

// Parse splits the document into the scenario and its sweep; Plan resolves
// the sweep into design points, each run Replications times.
func ExampleParse() {
	study, err := scenariorun.Parse("capacity-demo.yaml", []byte(studyDoc))
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := study.Plan(scenariorun.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("scenario:", plan.Scenario, "modes:", study.Scenario.Modes)
	fmt.Println("replications:", plan.Replications, "run:", plan.RunDurationS, "s")
	for _, p := range plan.Points {
		fmt.Println("point", p.Key())
	}
	// Output:
	// scenario: capacity-demo modes: [sidecar ambient]
	// replications: 2 run: 1 s
	// point load=1
	// point load=2
}

// Runner.Scenario shows what a point changes before anything runs: at
// load=2 every explicit call rate is doubled, and nodes=3 sets the node
// count of the topology spec.
func ExampleRunner_Scenario() {
	study, err := scenariorun.Parse("capacity-demo.yaml", []byte(studyDoc))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := scenariorun.NewRunner(study, scenariorun.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	sc, err := r.Scenario(sweep.Point{Load: 2, Nodes: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	spec, err := yaml.Marshal(&sc.Topology.Spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(spec))
	// Output:
	// nodes: {count: 3}
	// namespaces:
	//     - name: app
	//       workloads: [{name: client}]
	//       services:
	//         - {name: web, replicas: 2}
	//         - {name: db}
	// calls:
	//     - {from: app/client, to: app/web, rate: 80}
	//     - {from: app/web, to: app/db, rate: 40}
}

// RunPoint simulates one design point: every mode on the same seed, with
// a summary per run. The simulation is deterministic, so the same point and
// seed give the same counts.
func ExampleRunner_RunPoint() {
	study, err := scenariorun.Parse("capacity-demo.yaml", []byte(studyDoc))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := scenariorun.NewRunner(study, scenariorun.Options{Duration: 500 * sim.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	out, err := r.RunPoint(context.Background(), sweep.Point{Load: 2}, 42)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range out.Summary.Modes {
		fmt.Printf("%s offered=%d succeeded=%d\n", m.Mode, m.Requests.Offered, m.Requests.Succeeded)
	}
	fmt.Println("series:", len(out.Series))
	// Output:
	// sidecar offered=63 succeeded=63
	// ambient offered=63 succeeded=63
	// series: 2
}
