package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/ambientsim/ambientsim/internal/outdir"
	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

func init() { register(newRunCmd) }

func newRunCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Simulate a scenario in each of its dataplane modes and write summary.json and metrics",
		Long: `Run simulates a scenario file (or a built-in scenario by name, see
"ambientsim scenarios list") in each dataplane mode it lists, on identical
random streams, and writes into --out:

  summary.json   latency percentiles per mode and path category, errors by
                 cause, per-instance CPU/memory, cluster totals, comparison
  metrics.prom   Prometheus text with Istio's metric names and labels
                 (one "mode" label per dataplane mode)
  metrics.om     OpenMetrics samples every 10 simulated seconds with
                 timestamps ending at --metrics-end-time (default now, so
                 a backfilled Prometheus keeps them: promtool tsdb
                 create-blocks-from openmetrics)

Same inputs and seed give a byte-identical summary.json and metrics.prom;
metrics.om too when --metrics-end-time is pinned.`,
		Example: `  ambientsim run modes-compare --out /tmp/modes
  ambientsim run scenarios/library/pooling.yaml --out out/ --seed 7 --duration 10s`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeScenarios(scenarioNames),
		RunE:              func(cmd *cobra.Command, args []string) error { return runRun(cmd, v, args[0]) },
	}
	addRunFlags(cmd)
	return cmd
}

func addRunFlags(cmd *cobra.Command) {
	cmd.Flags().String("out", "", "output directory (created if missing)")
	cmd.Flags().Uint64("seed", 0, "random seed (default: the scenario's)")
	cmd.Flags().String("profile", "", "cost profile: built-in name or YAML file (default: the scenario's)")
	cmd.Flags().String("duration", "", "measured simulated duration, e.g. 30s (default: the scenario's)")
	cmd.Flags().String("report", "", "also write an HTML report to FILE")
	addMaxEvents(cmd)
	cmd.Flags().String("metrics-detail", "workload", "metrics.prom/metrics.om series: workload (Istio's standard labels) or pod (adds the reporting proxy's pod label; one series per proxy instance)")
	cmd.Flags().String("metrics-end-time", "now", "wall-clock time the run's end maps to in metrics.om: now, RFC 3339 or unix seconds (pin it for byte-identical metrics.om)")
	cmd.Flags().String("cpuprofile", "", "write a Go CPU profile of the run to FILE (go tool pprof FILE)")
}

// startCPUProfile profiles the process into path until the returned stop
// is called (the profile is written then).
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// runRun loads the scenario, simulates it with progress on stderr, writes
// its outputs (and --report) all or nothing, and prints one line per mode.
func runRun(cmd *cobra.Command, v *viper.Viper, arg string) error {
	out := v.GetString("out")
	if out == "" {
		return usageErrorf("--out DIR is required")
	}
	sc, err := loadScenario(arg)
	if err != nil {
		return err
	}
	opt, metricsEnd, err := runOptions(cmd, v, sc, arg)
	if err != nil {
		return err
	}
	// The output directory is checked and locked before the
	// simulation, written in a staging directory, committed whole.
	dir, err := outdir.Begin(out, outdir.Options{Known: runOutputs})
	if err != nil {
		return err
	}
	defer dir.Abort()
	if path := v.GetString("cpuprofile"); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			return err
		}
		defer stop()
	}
	prog := attachProgress(cmd, sc, &opt)
	run, err := scenarios.ExecuteContext(cmd.Context(), sc, opt)
	if prog != nil {
		prog.finish()
	}
	if err != nil {
		return err
	}
	files, err := writeRunOutputs(run, dir, out, v.GetString("report"), metricsEnd)
	if err != nil {
		return err
	}
	printRun(cmd.OutOrStdout(), run, files)
	return nil
}

// runOptions are the run's options from the flags (seed, profile, event
// budget, duration) and the time metrics.om's samples end at.
func runOptions(cmd *cobra.Command, v *viper.Viper, sc *scenarios.Scenario, arg string) (scenarios.Options, time.Time, error) {
	opt := scenarios.Options{Profile: v.GetString("profile"), ToolVersion: Version}
	seed := sc.Seed
	if cmd.Flags().Changed("seed") {
		seed = v.GetUint64("seed")
		opt.Seed = &seed
	}
	opt.Command = regenCommand(cmd, arg, seed)
	var err error
	if opt.MaxEvents, err = maxEvents(v); err != nil {
		return opt, time.Time{}, err
	}
	opt.MetricsDetail = v.GetString("metrics-detail")
	if !slices.Contains(scenarios.MetricsDetails, opt.MetricsDetail) {
		return opt, time.Time{}, usageErrorf("--metrics-detail %q: want workload or pod", opt.MetricsDetail)
	}
	metricsEnd, err := parseTimeFlag("metrics-end-time", v.GetString("metrics-end-time"), time.Now())
	if err != nil {
		return opt, time.Time{}, err
	}
	if d := v.GetString("duration"); d != "" {
		t, err := models.ParseDuration(d)
		if err != nil || t <= 0 {
			return opt, time.Time{}, usageErrorf("--duration %q: want a positive duration like 30s", d)
		}
		opt.Duration = t
	}
	return opt, metricsEnd, nil
}

// attachProgress shows the run's progress on stderr: bars on a terminal
// (returned, to be finished), else a line with the ETA every 10 s.
func attachProgress(cmd *cobra.Command, sc *scenarios.Scenario, opt *scenarios.Options) *progress {
	if isTerminal(os.Stderr) {
		prog := newProgress(sc.Modes)
		opt.Progress = prog.update
		return prog
	}
	log := newProgressLog(cmd.ErrOrStderr(), "run "+sc.Name)
	opt.Progress = func(mode string, frac float64) {
		i := slices.Index(sc.Modes, mode)
		log.report((float64(max(i, 0))+frac)/float64(len(sc.Modes)), fmt.Sprintf("mode %d/%d %s", i+1, len(sc.Modes), mode))
	}
	return nil
}

// writeRunOutputs writes the run's files into the staging directory,
// commits it, and writes the report rep (if any): inside --out it appears
// with the other outputs, elsewhere after them. It returns the files
// written, by their final names.
func writeRunOutputs(run *scenarios.Run, dir *outdir.Dir, out, rep string, metricsEnd time.Time) ([]string, error) {
	staging, err := run.WriteWith(dir.Path(), scenarios.WriteOptions{MetricsEnd: metricsEnd})
	if err != nil {
		return nil, fmt.Errorf("writing %s (left as it was): %w", out, err)
	}
	var files []string
	for _, f := range staging {
		files = append(files, shown(dir, out, f))
	}
	if rep != "" && staged(dir, rep) != rep {
		if err := writeReport(run, staged(dir, rep)); err != nil {
			return nil, err
		}
	}
	if err := dir.Commit(); err != nil {
		return nil, err
	}
	if rep != "" {
		if staged(dir, rep) == rep {
			if err := writeReport(run, rep); err != nil {
				return nil, err
			}
		}
		files = append(files, rep)
	}
	return files, nil
}

// printRun prints one line per mode, the predicted vs observed table and
// the files written.
func printRun(w io.Writer, run *scenarios.Run, files []string) {
	for i, m := range run.Summary.Modes {
		all := m.Latency[0]
		fmt.Fprintf(w, "%-18s %8.1f rps  p50 %7.3f ms  p99 %7.3f ms  failed %d  %s  (%d events)\n",
			m.Mode, m.Requests.ThroughputRPS, all.P50Ms, all.P99Ms, m.Requests.Failed, m.Totals.CostLine(), run.Modes[i].Events)
	}
	printObserved(w, run.Summary.Observed)
	for _, f := range files {
		fmt.Fprintln(w, "wrote", f)
	}
}

// regenCommand is the command line that regenerates the results: the
// scenario, the effective seed and every setting that changes them, from
// the command line, the environment or a config file (not where they are
// written, so the summary does not depend on the output directory).
func regenCommand(cmd *cobra.Command, scenario string, seed uint64) string {
	return commandLine(cmd, []string{reportQuoteArg(scenario), "--out", "<dir>"},
		[]string{"seed", "profile", "duration"}, uintSetting("seed", seed))
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress shows one bar per mode on stderr, only if the run lasts more
// than two seconds.
type progress struct {
	mu   sync.Mutex
	p    *mpb.Progress
	bars map[string]*mpb.Bar
}

const progressTotal = 1000

func newProgress(modes []string) *progress {
	delay := make(chan any)
	time.AfterFunc(2*time.Second, func() { close(delay) })
	pr := &progress{p: mpb.New(mpb.WithOutput(os.Stderr), mpb.WithWidth(50), mpb.WithRenderDelay(delay)), bars: map[string]*mpb.Bar{}}
	for _, m := range modes {
		pr.bars[m] = pr.p.AddBar(progressTotal, mpb.PrependDecorators(decor.Name(m, decor.WC{W: 18, C: decor.DindentRight})),
			mpb.AppendDecorators(decor.Percentage(), decor.Name("  ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
	}
	return pr
}

func (pr *progress) update(mode string, frac float64) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if b := pr.bars[mode]; b != nil {
		b.SetCurrent(int64(frac * progressTotal))
	}
}

func (pr *progress) finish() {
	for _, b := range pr.bars {
		b.SetCurrent(progressTotal)
	}
	pr.p.Wait()
}

// printObserved prints the predicted vs observed table of a scenario with
// an observed section (ambientsim import traffic).
func printObserved(w io.Writer, o *results.Observed) {
	if o == nil || len(o.Edges) == 0 {
		return
	}
	fmt.Fprintf(w, "predicted vs observed per edge (%s, %gs ending %s):\n", o.Source, o.RangeS, o.End)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  mode\tedge\treporter\trps pred/obs\tp50 ms pred/obs\tp99 ms pred/obs\t")
	ms := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'f', 2, 64)
	}
	for _, e := range o.Edges {
		fmt.Fprintf(tw, "  %s\t%s -> %s\t%s\t%.1f / %.1f (%+.1f%%)\t%s / %s\t%s / %s\t\n", e.Mode, e.Source, e.Destination, e.Reporter,
			e.PredictedRPS, e.ObservedRPS, 100*e.RateError, ms(e.PredictedP50Ms), ms(e.ObservedP50Ms), ms(e.PredictedP99Ms), ms(e.ObservedP99Ms))
	}
	tw.Flush()
}
