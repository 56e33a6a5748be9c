package sweep

import "github.com/ambientsim/ambientsim/scenarios/results"

// The engine's output is sweep.json, whose types are the output contract in
// scenarios/results (plots reads them from there). The engine's own
// vocabulary keeps two short names for the types every caller handles.

// Point is one design point: the scenario with some parameters overridden
// (zero values mean "as in the scenario"); see results.SweepPoint.
type Point = results.SweepPoint

// Estimate is a mean over replications with its confidence interval; see
// results.Estimate.
type Estimate = results.Estimate
