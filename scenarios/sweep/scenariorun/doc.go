// Package scenariorun connects sweeps to the simulator: it reads a scenario
// file with a `sweep:` section (Load), and runs design points as scenario
// runs with the point's parameters applied (Runner, a sweep.Runner).
//
// # A usage story
//
//	study, err := scenariorun.Load("capacity.yaml")  // scenario + sweep section
//	plan, err := study.Plan(scenariorun.Options{})     // every point and task
//	r, err := scenariorun.NewRunner(study, scenariorun.Options{})
//	defer r.Close()
//	res, err := sweep.Run(ctx, plan, r, sweep.Options{Workers: 2})
//	err = sweep.WriteResult("out", res)               // sweep.json, sweep.csv
//
// A point's parameters are applied to the scenario document before it is
// parsed, so every override passes the scenario's own validation:
//
//	load              every explicit rate (topology calls, traffic defaults
//	                  and edges) multiplied by the factor
//	nodes             topology.spec.nodes.count
//	podsPerService    replicas of every service in topology.spec
//	waypointReplicas  mesh.waypoint_replicas and the replicas of every
//	                  waypoint declared in topology.spec
//	waypointScope     the scope of every namespace's waypoint (one is
//	                  declared for each namespace with services)
//	workerThreads     ztunnel worker threads in the cost profile (tuned in
//	                  memory through scenarios.Options.Tune)
//	profile           the scenario's profile
//	mode              the scenario's modes, all run on the same seed
//
// With the warm-up rule mser5 (the default) every run records each mode's
// batch means of end-to-end latency (DefaultBatchInterval wide, from t = 0,
// warm-up included; scenarios.Options.BatchInterval), and the sweep applies
// MSER-5 to them to check the scenario's warm-up. Runs stop within one
// simulated second when the sweep's context is cancelled
// (scenarios.ExecuteContext).
//
// The package sits below package sweep, so that sweep itself stays free of
// the simulator and could be embedded by package scenarios.
package scenariorun
