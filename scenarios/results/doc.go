// Package results defines the on-disk result formats that a simulation run
// writes and that reports, sweeps and validation read: summary.json (Summary),
// and the path matrix embedded in it (PathReport).
//
// The types here are the contract between producers (scenarios, models) and
// consumers (plots, validation): fields are only ever added, never renamed.
// Every slice is written in a deterministic order, so the same scenario and
// seed give a byte-identical summary.json.
package results
