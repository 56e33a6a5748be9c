package scenarios_test

import (
	"context"
	"fmt"

	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/sim"
)

// studyExampleDoc is a scenario with a sweep section: the same call graph at one
// and two times its load, in sidecar and ambient mode.
const studyExampleDoc = `name: capacity-demo
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
func ExampleParseStudy() {
	study, err := scenarios.ParseStudy("capacity-demo.yaml", []byte(studyExampleDoc))
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := study.Plan(scenarios.StudyOptions{})
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

// WithPoint is a typed change: the point's parameters applied to a copy of
// the scenario and validated as a file is. Here nodes=3 sets the node count
// of the topology spec and the modes; the load multiplies the offered rates
// when the scenario is compiled for a run.
func ExampleScenario_WithPoint() {
	study, err := scenarios.ParseStudy("capacity-demo.yaml", []byte(studyExampleDoc))
	if err != nil {
		fmt.Println(err)
		return
	}
	sc, err := study.Scenario.WithPoint(sweep.Point{Load: 2, Nodes: 3, Modes: []string{"ambient"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	top, err := sc.BuildTopology(sc.Modes[0])
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("point:", sc.Point())
	fmt.Println("modes:", sc.Modes, "nodes:", len(top.Nodes))
	_, err = study.Scenario.WithPoint(sweep.Point{Modes: []string{"ambeint"}})
	fmt.Println(err)
	// Output:
	// point: load=2,nodes=3,mode=ambient
	// modes: [ambient] nodes: 3
	// scenario with mode=ambeint: capacity-demo.yaml:2: modes[0]: unknown mode "ambeint" (did you mean "ambient"?)
}

// RunPoint simulates one design point: every mode on the same seed, with
// a summary per run. The simulation is deterministic, so the same point and
// seed give the same counts.
func ExampleStudyRunner_RunPoint() {
	study, err := scenarios.ParseStudy("capacity-demo.yaml", []byte(studyExampleDoc))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := scenarios.NewStudyRunner(study, scenarios.StudyOptions{Duration: 500 * sim.Millisecond})
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
