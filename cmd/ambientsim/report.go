package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/internal/outdir"
	"github.com/ambientsim/ambientsim/plots"
)

func init() { register(newReportCmd) }

func newReportCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report RESULTS_DIR",
		Short: "Write a self-contained HTML report of a run's results",
		Long: `Write one self-contained HTML file (no network needed: the chart library is
inlined) from RESULTS_DIR/summary.json, plus RESULTS_DIR/sweep.json when a
sweep wrote one (a directory with sweep.json alone gives a sweep report).
The same results give a byte-identical report.`,
		Example: `  ambientsim run scenarios/library/modes-compare.yaml --out results/modes-compare
  ambientsim report results/modes-compare -o report.html --slo-p99-ms 10 --slo-error-ratio 0.001`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			out := v.GetString("output")
			if out == "" {
				out = filepath.Join(dir, "report.html")
			}
			slo := plots.SLO{P99Ms: v.GetFloat64("slo-p99-ms"), MaxErrorRatio: v.GetFloat64("slo-error-ratio")}
			if slo.P99Ms < 0 || slo.MaxErrorRatio < 0 || slo.MaxErrorRatio > 1 {
				return usageErrorf("--slo-p99-ms must be ≥ 0 and --slo-error-ratio in [0, 1] (got %v, %v)", slo.P99Ms, slo.MaxErrorRatio)
			}
			topN := v.GetInt("top-n")
			if topN < 1 {
				return usageErrorf("--top-n must be at least 1 (got %d)", topN)
			}
			// Writing into RESULTS_DIR: take its lock, so a run committing
			// there at the same moment makes one of the two fail clearly
			// rather than leave a report of the previous results beside
			// the new ones.
			if st, err := os.Stat(dir); err == nil && st.IsDir() && inside(dir, out) {
				lock, err := outdir.TryLock(dir)
				if err != nil {
					return err
				}
				defer lock.Unlock()
			}
			s, sweep, err := plots.LoadDir(dir)
			if err != nil {
				return fmt.Errorf("report: %w", err)
			}
			opts := plots.Options{
				Command: reportCommand(dir, out, slo, topN),
				SLO:     slo,
				Sweep:   sweep,
				TopN:    topN,
			}
			if err := plots.WriteReport(s, out, opts); err != nil {
				return fmt.Errorf("report: %w", err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringP("output", "o", "", "HTML file to write (default RESULTS_DIR/report.html)")
	f.Float64("slo-p99-ms", 0, "p99 latency objective in ms for the SLO verdicts (0: none)")
	f.Float64("slo-error-ratio", 0, "failed/offered objective for the SLO verdicts, e.g. 0.001 (0: none)")
	f.Int("top-n", plots.DefaultTopN, "rows kept in per-component, per-service and per-path tables of big topologies")
	return cmd
}

// inside reports whether path lies in directory dir.
func inside(dir, path string) bool {
	d, err1 := filepath.Abs(dir)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..")
}

// reportCommand is the command line that regenerates this report, printed
// in its reproducibility section; only non-default settings appear.
func reportCommand(dir, out string, slo plots.SLO, topN int) string {
	parts := []string{"ambientsim", "report", reportQuoteArg(dir), "-o", reportQuoteArg(out)}
	if slo.P99Ms > 0 {
		parts = append(parts, "--slo-p99-ms", strconv.FormatFloat(slo.P99Ms, 'g', -1, 64))
	}
	if slo.MaxErrorRatio > 0 {
		parts = append(parts, "--slo-error-ratio", strconv.FormatFloat(slo.MaxErrorRatio, 'g', -1, 64))
	}
	if topN != plots.DefaultTopN {
		parts = append(parts, "--top-n", strconv.Itoa(topN))
	}
	return strings.Join(parts, " ")
}

// reportQuoteArg quotes s for a POSIX shell when it holds anything but safe
// characters.
func reportQuoteArg(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
