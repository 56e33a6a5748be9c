package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/internal/outdir"
	"github.com/ambientsim/ambientsim/validation/calibrate"
)

func init() { register(newCalibrateCmd) }

func newCalibrateCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "calibrate",
		Short: "Measure the real Go data plane and fit a cost profile to it",
		Long: `Calibrate runs a designed set of micro-experiments on the real data plane
(validation/cmd/meshnode in network namespaces: load steps, 1 KiB / 16 KiB
payloads, keep-alive vs a new connection per request, out of mesh, ambient
L4, through a waypoint, sidecar to sidecar), measures CPU seconds per
process (cgroups) and latency (the load generator's histograms), fits the
profile's cost parameters by least squares (per-message, cross-node,
per-byte, per-stream and handshake CPU of the node proxy, per-request and
per-byte CPU of waypoint and sidecar, the activity model's wake-up CPU and
latency, sleep time constant and critical-path share, per-crossing added
latency, app time and cross-node latency; one row per proxy process),
and writes a profile that "ambientsim run --profile FILE" loads, plus
FILE-without-.yaml.calibration.json with every observation, fit and residual.

Needs root (network namespaces, cgroups). Ctrl-C tears everything down.

--refit RECORD.calibration.json fits again to the observations an earlier
calibration recorded, without measuring (no root): after a model change or
with another --base. The profile keeps the record's machine, date and
data-plane revision.`,
		Example: `  sudo ambientsim calibrate --backend local --out models/profiles/my-machine.yaml
  sudo ambientsim calibrate --quick --out /tmp/quick.yaml   # ~1 minute
  ambientsim calibrate --refit my-machine.calibration.json --out my-machine-v2.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCalibrate(cmd, v) },
	}
	addCalibrateFlags(cmd)
	return cmd
}

func addCalibrateFlags(cmd *cobra.Command) {
	cmd.Flags().String("out", "", "the calibrated profile to write (FILE.yaml; FILE.calibration.json goes next to it)")
	cmd.Flags().String("backend", "local", "harness backend: local (network namespaces; needs root) or kind (a kind cluster; needs docker, kind, kubectl)")
	cmd.Flags().Bool("quick", false, "a smaller, shorter design (CI-sized, about a minute)")
	cmd.Flags().String("name", "", "profile name (default: the file name)")
	cmd.Flags().String("base", "", "profile whose uncalibrated parameters are kept (default istio-1.24-published)")
	cmd.Flags().String("meshnode", "", "a built meshnode binary (default: build it from the source tree)")
	cmd.Flags().String("refit", "", "fit again to the observations of an earlier NAME.calibration.json instead of measuring (no root needed)")
	cmd.Flags().Bool("cleanup", false, cleanupUsage)
}

// runCalibrate checks the flags and the profile file, measures (or, with
// --refit, reads recorded observations), fits and writes the profile.
func runCalibrate(cmd *cobra.Command, v *viper.Viper) error {
	if v.GetBool("cleanup") {
		return runCleanup(cmd)
	}
	out := v.GetString("out")
	backend := v.GetString("backend")
	if err := checkCalibrateFlags(out, backend); err != nil {
		return err
	}
	lock, err := lockProfileFile(out)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	opt := calibrateOptions(cmd, v, out, backend)
	var rep *calibrate.Report
	if rec := v.GetString("refit"); rec != "" {
		if cmd.Flags().Changed("quick") || cmd.Flags().Changed("meshnode") {
			return usageErrorf("--refit fits recorded observations: --quick and --meshnode do not apply")
		}
		rep, err = calibrate.Refit(rec, opt)
	} else {
		rep, err = calibrate.Run(cmd.Context(), opt)
	}
	if err != nil {
		return err
	}
	files, err := rep.WriteFiles(out)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	printCalibration(w, rep)
	for _, f := range files {
		fmt.Fprintln(w, "wrote", f)
	}
	return nil
}

func checkCalibrateFlags(out, backend string) error {
	if out == "" {
		return usageErrorf("--out FILE.yaml is required (the calibrated profile)")
	}
	if !strings.HasSuffix(out, ".yaml") && !strings.HasSuffix(out, ".yml") {
		return usageErrorf("--out %q: the profile file must end in .yaml", out)
	}
	if backend != "local" && backend != "kind" {
		return usageErrorf("--backend %q: want local (or kind)", backend)
	}
	return nil
}

// lockProfileFile checks, before measuring, that the profile's directory
// can be written and the name is not a directory, and locks it so that no
// other run writes it.
func lockProfileFile(out string) (*outdir.Lock, error) {
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return nil, fmt.Errorf("--out %s: is a directory; give the profile FILE.yaml", out)
	}
	if err := outdir.CheckWritable(filepath.Dir(out)); err != nil {
		return nil, err
	}
	return outdir.TryLock(out)
}

// calibrateOptions are the calibration's options from the flags; progress
// goes to stderr, one line per run.
func calibrateOptions(cmd *cobra.Command, v *viper.Viper, out, backend string) calibrate.Options {
	size := calibrate.SizeFull
	if v.GetBool("quick") {
		size = calibrate.SizeQuick
	}
	name := v.GetString("name")
	if name == "" {
		name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(out), ".yaml"), ".yml")
	}
	return calibrate.Options{
		Backend: backend, Size: size, Name: name, Base: v.GetString("base"),
		Binary: v.GetString("meshnode"), ToolVersion: Version,
		Progress: func(i, n int, o calibrate.Observation) {
			fmt.Fprintf(cmd.ErrOrStderr(), "[%2d/%d] %-26s p50 %6.3f ms  p99 %7.3f ms  CPU ztunnel %6.1f ms  waypoint %6.1f ms  sidecar %6.1f ms\n",
				i+1, n, o.Name, o.P50Ms, o.P99Ms, o.CPUSeconds["ztunnel"]*1e3, o.CPUSeconds["waypoint"]*1e3, o.CPUSeconds["sidecar"]*1e3)
		},
	}
}

func printCalibration(w io.Writer, rep *calibrate.Report) {
	fmt.Fprintf(w, "calibrated on %s in %.0f s (%s design, %d runs)\n", rep.Provenance.Machine, rep.ElapsedS, rep.Fit.Design.Name, len(rep.Fit.Observations))
	for _, kind := range []string{"ztunnel", "waypoint", "sidecar"} {
		f := rep.Fit.CPU[kind]
		fmt.Fprintf(w, "  %-8s CPU  R² %.3f  residual RMS %.2f CPU-ms:", kind, f.R2, f.RMS*1e3)
		for _, e := range f.Params {
			fmt.Fprintf(w, "  %s %s", e.Name[strings.LastIndex(e.Name, ".")+1:], estText(e))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  sleep time constant %g µs (weighted CPU SSE per candidate:", rep.Fit.SleepTimeConstantUS)
	for _, c := range rep.Fit.SleepSSE {
		fmt.Fprintf(w, " %g µs %.3g", c.TauUS, c.SSE)
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintf(w, "  latency  R² %.3f  residual RMS %.3f ms:", rep.Fit.Latency.R2, rep.Fit.Latency.RMS)
	for _, e := range rep.Fit.Latency.Params {
		fmt.Fprintf(w, "  %s %s", e.Name, estText(e))
	}
	fmt.Fprintln(w)
	if len(rep.Fit.NotIdentified) > 0 {
		fmt.Fprintf(w, "  not identified (no run moves them; kept from the base profile): %s\n", strings.Join(rep.Fit.NotIdentified, ", "))
	}
	for _, ne := range rep.NotEmulated {
		fmt.Fprintln(w, "  not emulated:", ne)
	}
}

func estText(e calibrate.Estimate) string {
	switch {
	case e.AtBound:
		return "0 (at bound)"
	case e.SE != e.SE:
		return fmt.Sprintf("%.4g", e.Value)
	}
	return fmt.Sprintf("%.4g±%.2g", e.Value, e.SE)
}
