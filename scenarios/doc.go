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
// The built-in scenarios live in library/*.yaml (embedded): modes-compare,
// pooling and large-cluster. Library lists them.
package scenarios
