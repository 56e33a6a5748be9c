//go:build race

package e2e_test

// raceEnabled is true when the test binary runs with the race detector; bulk
// transfers shrink to keep the suite fast.
const raceEnabled = true
