package main

import (
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/internal/outdir"
	"github.com/ambientsim/ambientsim/scenarios"
)

// Output directories are all-or-nothing (internal/outdir): checked and
// locked before the work, written into a staging directory beside --out,
// swapped into place at the end. These are the files each command writes,
// which an older output directory (without outdir.Marker) may hold and
// still be replaced.
var (
	runOutputs      = []string{scenarios.SummaryFile, scenarios.MetricsFile, scenarios.OpenMetricsFile, "report.html"}
	sweepOutputs    = []string{"sweep.json", "sweep.csv", "report.html"}
	validateOutputs = []string{"validation.json", "validation.html", "calibrated.yaml", "calibrated.calibration.json", "sim"}
)

// staged maps a file the user named to where it is written now: into the
// staging directory when it lies in the output directory (it must appear
// with the rest), else where it is.
func staged(d *outdir.Dir, path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(d.Final(), abs); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
		return filepath.Join(d.Path(), rel)
	}
	return path
}

// shown is the name to print for a file written into the staging
// directory: where it is once committed, spelt from --out as given.
func shown(d *outdir.Dir, out, path string) string {
	if rel, err := filepath.Rel(d.Path(), path); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.Join(out, rel)
	}
	return path
}

// addMaxEvents adds --max-events to a command that simulates.
func addMaxEvents(cmd *cobra.Command) {
	cmd.Flags().Uint64("max-events", scenarios.DefaultMaxEvents, "event budget of one simulation: refuse a run estimated above it, stop one that reaches it (docs/limits.md)")
}

// maxEvents reads --max-events.
func maxEvents(v *viper.Viper) (uint64, error) {
	n := v.GetUint64("max-events")
	if n == 0 {
		return 0, usageErrorf("--max-events must be at least 1 (the default is %d)", scenarios.DefaultMaxEvents)
	}
	return n, nil
}
