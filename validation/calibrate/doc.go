// Package calibrate fits a simulator cost profile to the real Go data
// plane.
//
// It runs a designed set of micro-experiments (Design: load steps,
// 1 KiB / 16 KiB payloads, keep-alive vs a new connection per request, out
// of mesh, ambient L4 = two node proxies, through a waypoint, sidecar to
// sidecar) on the validation harness (Plan, Measure), one Setup and one
// Run per step, and records per step the CPU seconds of every proxy kind
// (cgroup counters) and the load's latency histogram (Observation).
//
// FitProfile then fits the profile's cost parameters with gonum:
//
//   - CPU, one linear least-squares fit per proxy kind (ztunnel:
//     per-message, per-byte and per-stream CPU; waypoint and sidecar:
//     per-request and per-byte CPU; plus an idle-cores nuisance term per
//     process), non-negative (active-set NNLS), weighted by 1/y so the fit
//     minimises relative error. The design matrix comes from the simulator
//     itself: each column is how much the simulated CPU of that kind grows
//     per unit of the parameter on the step's mirror scenario, so the fit
//     uses exactly the message, byte and stream counts the model charges.
//   - Latency: the per-crossing added latency of each proxy kind, the app
//     time and the cross-node latency, fitted to the measured medians by
//     Gauss–Newton through the simulator (Jacobian by perturbation).
//
// Each fit reports residuals, R², residual RMS and standard errors
// (σ̂²(XᵀX)⁻¹). ProfileYAML writes a profile in the models schema (it loads
// with models.LoadProfile and `ambientsim run --profile`), with each
// fitted parameter's source, date and derivation, and the profile's
// `calibration:` section (Section: machine, date, data-plane revision,
// design, every fit with its parameters, standard errors, ties, residuals
// per run, and the parameters not calibrated with the reason), which is
// the machine-readable record; a short comment header repeats the gist.
//
// Usage story: on a machine with root,
//
//	rep, err := calibrate.Run(ctx, calibrate.Options{Backend: "local", Size: calibrate.SizeQuick, Name: "my-machine"})
//	files, err := rep.WriteFiles("models/profiles/my-machine.yaml") // + my-machine.calibration.json
//
// which is what `ambientsim calibrate --quick --out models/profiles/my-machine.yaml` does.
// Without root, Run fails with harness.ErrNeedsRoot before creating
// anything; Ctrl-C tears the environment down (harness.SessionRuns).
package calibrate
