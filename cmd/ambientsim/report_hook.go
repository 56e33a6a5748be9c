package main

import (
	"fmt"

	"github.com/ambientsim/ambientsim/plots"
	"github.com/ambientsim/ambientsim/scenarios"
)

// writeReport renders the run's self-contained HTML report to path.
func writeReport(run *scenarios.Run, path string) error {
	if err := plots.WriteReport(run.Summary, path, plots.Options{Command: run.Summary.Command}); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}
