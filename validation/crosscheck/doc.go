// Package crosscheck compares the simulator with the real data plane.
//
// Mirror turns a harness Plan and Experiment into a simulator scenario
// (manifests with the same nodes, pods, modes, services and waypoints, and
// one traffic edge per load; a pod-addressed load gets a one-pod service
// without the waypoint, as ambient pod-IP traffic skips service
// waypoints; a node-proxy kill becomes a ztunnel-crash failure). Simulate
// runs it with a profile; Predict reads the result in the harness's names
// (per-load p50/p90/p99, CPU seconds per process, the failure's affected
// pods and extra failed requests); Measured reads a harness Measurement in
// the same shape.
//
// Run measures the validation Scenarios (on Plan: three nodes, none of the
// calibration design's combinations, and a blast-radius case that kills
// node-b's proxy half way) and compares them row by row (Compare,
// NumberRow, SetRow): p50 within 10%, p99 within 25%, CPU within 15%,
// affected pods exactly; p90 and the failure's error count are reported
// without a target. Report.Write writes validation.json (rows, summary,
// NotEmulated, capture description, raw measurements) and validation.html
// (a self-contained table with every verdict).
//
// Usage story (root):
//
//	b, _, _ := calibrate.NewBackend(ctx, calibrate.BackendOptions{Name: "local", Dir: dir})
//	rep, err := crosscheck.Run(ctx, b, crosscheck.Options{Profile: "models/profiles/my-machine.yaml", Dir: "out/validation"})
//	files, err := rep.Write("out/validation")
//
// which is what `ambientsim validate --profile ... --out out/validation` does.
package crosscheck
