// Package scenarios reads scenario files, runs them and writes the results.
//
// A scenario names a topology (an inline generative spec or manifest paths),
// the traffic on its call graph, the dataplane modes to compare, the cost
// profile, the simulated duration, warm-up and seed, and the outputs. Parse
// decodes it strictly: an unknown or misspelt field is an error naming the
// file, line and field with the closest valid name. JSONSchema prints the
// same types as a JSON Schema for editors.
//
// Execute runs every mode on the same random streams (common random
// numbers), so the differences between modes are the mesh's alone, and
// assembles a results.Summary with a side-by-side comparison. Run.Write puts
// summary.json, metrics.prom and metrics.om in a directory, each file
// written atomically.
//
//	sc, err := scenarios.Load("modes-compare") // a built-in, or a path
//	if err != nil { ... }
//	run, err := scenarios.Execute(sc, scenarios.Options{})
//	if err != nil { ... }
//	files, err := run.Write("out/")
//
// The built-in scenarios live in library/*.yaml, embedded together with
// the manifests they reference (library/manifests/), so they run by name
// from any working directory. Library lists them; library_outcomes_test.go
// checks the outcome each one promises.
//
// Failures: a scenario's failures: list schedules component failures;
// Execute runs each mode (and each what_if design) without failures, with
// all of them and with each alone, on the same random streams, and
// blast.go turns the differences into summary.json "failures" (directly
// and transitively affected, 1-second series, time to detect and to
// recover, security exposure) and "what_if" (designs side by side).
//
// Sweeps: a scenario file may carry a sweep: section (parameters,
// replications, SLO search, sizing, cost; see package scenarios/sweep).
// Parse validates it strictly with sweep.DecodeSpec and SweepSpec returns
// it; Execute ignores it, so `ambientsim run study.yaml` runs the scenario
// as written. For sweeps, Options.BatchInterval records each mode's batch
// means of end-to-end latency from t = 0 (Run.Series, for MSER-5), and
// ExecuteContext stops within one simulated second of its context being
// cancelled (Ctrl-C). A sweep point is a typed change: Scenario.WithPoint
// returns the scenario with the point applied and validated as a file is
// (point.go); LoadStudy/ParseStudy read a study (a scenario with a sweep
// section, built-in ones included, see Studies) and StudyRunner runs its
// points for the engine in scenarios/sweep (study.go, study_run.go).
//
// compile.go is the one place a scenario becomes a models.Config. The
// scenario's traffic owns every edge's offered rate (the topology.spec
// call's rate, overridden by traffic.defaults.rate, overridden by the last
// matching traffic edge; times a sweep point's load).
//
// summary.json also carries the scenario's slo: (p99, error_ratio,
// latency), the ambient readiness checklist (topology.Readiness) and the
// policy placements (paths.placements), all evaluated on the topology the
// report shows (the first mode with waypoints, else the first mode).
package scenarios
