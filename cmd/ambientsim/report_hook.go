package main

import "github.com/ambientsim/ambientsim/scenarios"

// writeReport renders the run's HTML report. It is wired to the plots
// package once that exposes WriteReport.
func writeReport(run *scenarios.Run, path string) error {
	return usageErrorf("--report: the HTML report is not available in this build (plots.WriteReport missing); run without --report")
}
