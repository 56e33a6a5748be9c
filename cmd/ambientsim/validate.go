package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/internal/outdir"
	"github.com/ambientsim/ambientsim/validation/calibrate"
	"github.com/ambientsim/ambientsim/validation/crosscheck"
	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/harness/dataplane"
)

func init() { register(newValidateCmd) }

// validateDesign lets tests run a smaller calibration than --quick.
var validateDesign *calibrate.Design

// validateDuration lets tests shorten the validation scenarios.
var validateDuration time.Duration

// validateSleepGrid lets tests fit fewer sleep time constants than
// calibrate.SleepGrid (each candidate is a round of simulations).
var validateSleepGrid []float64

func newValidateCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the simulator against the real data plane on scenarios not used for calibration",
		Long: `Validate runs validation scenarios on the real data plane (three nodes,
a waypoint on node-c, sidecars; same-node L4, cross-node L4 with 8 KiB, three
modes at once, and a node proxy killed half way) and the same scenarios in the
simulator with the profile, then writes into --out:

  validation.json   one row per scenario and metric: predicted, measured,
                    relative_error, target, pass (p50 within 10%, p99 within
                    25%, CPU within 15%, affected pods exactly; p90 and the
                    failure's error count are reported without a target),
                    plus what this machine could not emulate
  validation.html   the same as a self-contained page
  sim/<scenario>/   the simulator mirrors (replay with ambientsim run)

Without --profile it first calibrates a profile (same --quick) into
--out/calibrated.yaml. It exits 0 when it ran, even if rows miss their
target (the summary says so); --strict exits 1 on any miss.
Needs root (network namespaces, cgroups). Ctrl-C tears everything down.`,
		Example: `  sudo ambientsim validate --backend local --profile models/profiles/my-machine.yaml --out out/validation
  sudo ambientsim validate --quick --out /tmp/val      # calibrates first; under 5 minutes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runValidate(cmd, v) },
	}
	addValidateFlags(cmd)
	return cmd
}

func addValidateFlags(cmd *cobra.Command) {
	cmd.Flags().String("out", "", "output directory for validation.json and validation.html")
	cmd.Flags().String("backend", "local", "harness backend: local (network namespaces; needs root) or kind (a kind cluster; needs docker, kind, kubectl)")
	cmd.Flags().String("profile", "", "profile under test: built-in name or YAML file (default: calibrate one first)")
	cmd.Flags().Bool("quick", false, "shorter scenarios (and a quick calibration when there is no --profile)")
	cmd.Flags().Bool("strict", false, "exit 1 when any row misses its target")
	cmd.Flags().String("replay", "", "compare the measurements of an earlier validation.json with --profile's predictions (no measuring, no root)")
	cmd.Flags().Int("host-cores", 0, "with --replay: CPU cores of the machine the recorded runs shared (default: as recorded in the report)")
	cmd.Flags().Int("repeat", 1, "measure each scenario N times and compare with the median (rows record each run and the spread)")
	cmd.Flags().String("meshnode", "", "a built meshnode binary (default: build it from the source tree)")
	cmd.Flags().Bool("cleanup", false, cleanupUsage)
}

// runValidate checks the flags and --out, then either replays recorded
// measurements or measures the validation scenarios (calibrating a profile
// first when there is no --profile), and writes the report.
func runValidate(cmd *cobra.Command, v *viper.Viper) error {
	if v.GetBool("cleanup") {
		return runCleanup(cmd)
	}
	out := v.GetString("out")
	if out == "" {
		return usageErrorf("--out DIR is required")
	}
	backend := v.GetString("backend")
	if backend != "local" && backend != "kind" {
		return usageErrorf("--backend %q: want local (or kind)", backend)
	}
	// --out is checked and locked before measuring; everything is
	// written into a staging directory and appears at the end.
	dir, err := outdir.Begin(out, outdir.Options{Known: validateOutputs})
	if err != nil {
		return err
	}
	defer dir.Abort()
	if rp := v.GetString("replay"); rp != "" {
		return replayValidation(cmd.OutOrStdout(), v, rp, dir, out)
	}
	// kind checks its own prerequisites (docker, kind, an engine) in Setup.
	if backend == "local" {
		if err := harness.CheckPrerequisites(); err != nil {
			return fmt.Errorf("validate: %w", err)
		}
	}
	// 0700, removed on every exit; after a SIGKILL the next harness
	// start (or --cleanup) removes it: it holds the mesh's credentials.
	scratch, removeScratch, err := harness.MakeOwnedTempDir("validate")
	if err != nil {
		return err
	}
	defer removeScratch() //nolint:errcheck // best effort on the way out
	bin, err := validationBinary(cmd, v.GetString("meshnode"), backend, scratch)
	if err != nil {
		return err
	}
	start := time.Now()
	profile := v.GetString("profile")
	if profile == "" {
		if profile, err = calibrateForValidation(cmd, backend, v.GetBool("quick"), bin, scratch, dir, out); err != nil {
			return err
		}
	}
	return measureValidation(cmd, v, backend, profile, bin, scratch, dir, out, start)
}

// replayValidation compares the measurements recorded in rp with the
// predictions of --profile: no backend, no root.
func replayValidation(w io.Writer, v *viper.Viper, rp string, dir *outdir.Dir, out string) error {
	if v.GetString("profile") == "" {
		return usageErrorf("--replay compares recorded measurements with a profile: give --profile")
	}
	start := time.Now()
	rep, err := crosscheck.Replay(rp, crosscheck.Options{Profile: v.GetString("profile"), Dir: dir.Path(), HostCores: v.GetInt("host-cores")})
	if err != nil {
		return err
	}
	return finishValidation(w, rep, dir, out, start, v.GetBool("strict"))
}

// validationBinary is the meshnode binary the local backend runs: bin when
// given, else one built from the source tree into scratch. kind builds
// meshnode into its image, so it gets bin as given.
func validationBinary(cmd *cobra.Command, bin, backend, scratch string) (string, error) {
	if bin != "" || backend != "local" {
		return bin, nil
	}
	wd, _ := os.Getwd()
	mod, err := dataplane.FindModule(wd)
	if err != nil {
		return "", fmt.Errorf("validate: %w (or pass --meshnode)", err)
	}
	if bin, err = dataplane.Build(cmd.Context(), mod, scratch); err != nil {
		return "", fmt.Errorf("validate: %w", err)
	}
	return bin, nil
}

// calibrateForValidation calibrates a profile (the --quick design or the
// full one) into the staging directory as calibrated.yaml and returns its
// path.
func calibrateForValidation(cmd *cobra.Command, backend string, quick bool, bin, scratch string, dir *outdir.Dir, out string) (string, error) {
	w, ew := cmd.OutOrStdout(), cmd.ErrOrStderr()
	size := calibrate.SizeFull
	if quick {
		size = calibrate.SizeQuick
	}
	fmt.Fprintf(ew, "no --profile: calibrating first (%s design)\n", size)
	rep, err := calibrate.Run(cmd.Context(), calibrate.Options{Backend: backend, Size: size, Design: validateDesign, SleepGrid: validateSleepGrid,
		Name: "calibrated", Binary: bin, ToolVersion: Version, Scratch: filepath.Join(scratch, "calibrate"),
		Progress: func(i, n int, o calibrate.Observation) {
			fmt.Fprintf(ew, "  calibration %2d/%d %s\n", i+1, n, o.Name)
		}})
	if err != nil {
		return "", err
	}
	profile := filepath.Join(dir.Path(), "calibrated.yaml")
	files, err := rep.WriteFiles(profile)
	if err != nil {
		return "", err
	}
	printCalibration(w, rep)
	for _, f := range files {
		fmt.Fprintln(w, "staged", shown(dir, out, f))
	}
	return profile, nil
}

// measureValidation runs the validation scenarios on the backend, --repeat
// times each, and writes the comparison with profile's predictions.
func measureValidation(cmd *cobra.Command, v *viper.Viper, backend, profile, bin, scratch string, dir *outdir.Dir, out string, start time.Time) error {
	b, _, err := calibrate.NewBackend(cmd.Context(), calibrate.BackendOptions{Name: backend, Binary: bin, Dir: filepath.Join(scratch, "validate")})
	if err != nil {
		return err
	}
	d := 4 * time.Second
	if v.GetBool("quick") {
		d = 2 * time.Second
	}
	if validateDuration > 0 {
		d = validateDuration
	}
	repeat := v.GetInt("repeat")
	if repeat < 1 || repeat > 20 {
		return usageErrorf("--repeat %d: want 1 to 20 measurements per scenario", repeat)
	}
	ew := cmd.ErrOrStderr()
	rep, err := crosscheck.Run(cmd.Context(), b, crosscheck.Options{Profile: profile, Duration: d, Dir: dir.Path(), Repeat: repeat, HostCores: runtime.NumCPU(),
		Progress: func(i, n int, sc crosscheck.Scenario) {
			fmt.Fprintf(ew, "  scenario %d/%d %s measured\n", i+1, n, sc.Name)
		}})
	if err != nil {
		return err
	}
	return finishValidation(cmd.OutOrStdout(), rep, dir, out, start, v.GetBool("strict"))
}

// finishValidation writes and prints a report; with strict, a row that
// misses its target makes the command fail.
func finishValidation(w io.Writer, rep *crosscheck.Report, dir *outdir.Dir, out string, start time.Time, strict bool) error {
	// The report names files by where they will be, not the staging
	// directory they are written in.
	rep.Profile.File = shown(dir, out, rep.Profile.File)
	for i := range rep.Scenarios {
		rep.Scenarios[i].Mirror = shown(dir, out, rep.Scenarios[i].Mirror)
	}
	files, err := rep.Write(dir.Path())
	if err != nil {
		return err
	}
	if err := dir.Commit(); err != nil {
		return err
	}
	printValidation(w, rep, time.Since(start))
	for _, f := range files {
		fmt.Fprintln(w, "wrote", shown(dir, out, f))
	}
	if strict && rep.Summary.Missed > 0 {
		return fmt.Errorf("validate: %d of %d rows miss their target (--strict)", rep.Summary.Missed, rep.Summary.Rows)
	}
	return nil
}

func printValidation(w io.Writer, rep *crosscheck.Report, took time.Duration) {
	fmt.Fprintf(w, "validation of profile %s (%s) in %.0f s\n", rep.Profile.Name, rep.Profile.Provenance, took.Seconds())
	if rep.ReplayOf != "" {
		fmt.Fprintf(w, "replay: the measurements recorded in %s (nothing measured again)\n", rep.ReplayOf)
	}
	if rep.Profile.Calibration != "" {
		fmt.Fprintf(w, "profile %s\n", rep.Profile.Calibration)
	}
	fmt.Fprintf(w, "%-18s %-40s %10s %10s %8s %7s %s\n", "scenario", "metric", "predicted", "measured", "rel.err", "target", "verdict")
	for _, r := range rep.Rows {
		re := "n/a"
		if r.RelativeError != nil {
			re = fmt.Sprintf("%.1f%%", *r.RelativeError*100)
		}
		verdict := "report"
		if r.Pass != nil {
			verdict = map[bool]string{true: "pass", false: "MISS"}[*r.Pass]
		}
		cv := ""
		if r.MeasuredCV != nil {
			cv = fmt.Sprintf(" (cv %.0f%%)", *r.MeasuredCV*100)
		}
		fmt.Fprintf(w, "%-18s %-40s %10.4g %10.4g%s %8s %7s %s %s\n", r.Scenario, r.Metric, r.Predicted, r.Measured, cv, re, r.Target, verdict, r.Note)
	}
	fmt.Fprintf(w, "%d rows: %d pass, %d MISS their target, %d report only\n", rep.Summary.Rows, rep.Summary.Passed, rep.Summary.Missed, rep.Summary.ReportOnly)
	for _, ne := range rep.NotEmulated {
		fmt.Fprintln(w, "not emulated:", ne)
	}
	if len(rep.NotEmulated) == 0 {
		fmt.Fprintln(w, "not emulated: nothing")
	}
}
