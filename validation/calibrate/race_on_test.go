//go:build race

package calibrate

// raceEnabled is true when the test binary runs with the race detector. The
// long fits (hundreds of simulated runs) then skip: the race detector makes
// them 10× slower and finds nothing the short concurrent ones do not
// (TestFitWithoutAPathReportsNotIdentified still runs the parallel
// evaluator under -race); .ci/run runs them without it.
const raceEnabled = true
