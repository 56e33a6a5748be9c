package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ambientsim/ambientsim/internal/outdir"
	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/scenarios/results"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/scenarios/sweep/kubejob"
)

func init() { register(newSweepCmd) }

func newSweepCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sweep SCENARIO",
		Short: "Run a scenario's sweep: replications per design point, SLO search, sizing and cost table",
		Long: `Sweep runs the design points of a scenario's sweep: section, each with
independent replications (all modes of a replication on the same seed), and
writes into --out:

  sweep.json   every point with the mean and 95% confidence interval of
               each figure per mode, the SLO search, sizing and cost table
  sweep.csv    one row per point and mode, for spreadsheets

Points run in parallel (--workers, default GOMAXPROCS; each simulation is
single-threaded). A replication's seed derives from the base seed, the
point's parameters and the replication number only, so the result is the
same whatever the worker or shard count.

With --shard I/N (or JOB_COMPLETION_INDEX with AMBIENTSIM_SHARD_COUNT=N in
the environment, as in a Kubernetes Indexed Job) only every N-th work unit
runs and a shard-III-of-NNN.json is written instead; "sweep merge" turns the
shard files into the sweep.json a single run would have written.

SCENARIO is a file or a built-in study (` + strings.Join(scenarios.Studies(), ", ") + `).`,
		Example: `  ambientsim sweep capacity --out out/capacity
  ambientsim sweep study.yaml --out out/ --workers 2 --replications 3
  ambientsim sweep study.yaml --out shards/ --shard 3/8
  ambientsim sweep merge shards/ --out out/`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeScenarios(scenarios.Studies),
		RunE:              func(cmd *cobra.Command, args []string) error { return runSweep(cmd, v, args[0]) },
	}
	f := cmd.Flags()
	f.String("out", "", "output directory (created if missing)")
	f.Int("workers", 0, "simulations run at once (default GOMAXPROCS)")
	f.String("shard", "", "run only shard I of N (\"I/N\", 0-based) and write its shard file")
	f.Int("shard-count", 0, "shard count N; the index comes from JOB_COMPLETION_INDEX (env AMBIENTSIM_SHARD_COUNT)")
	f.Uint64("seed", 0, "base seed (default: the sweep's seed, else the scenario's)")
	f.Int("replications", 0, "replications per point (default: the sweep's)")
	f.String("duration", "", "measured simulated time of each run, e.g. 10s (default: the scenario's)")
	addMaxEvents(cmd)
	cmd.AddCommand(newSweepPlanCmd(v), newSweepMergeCmd(v))
	for _, c := range cmd.Commands() {
		c.Args = wrapArgs(c.Args)
	}
	return cmd
}

// shardSpec works out which shard to run: --shard I/N, else
// JOB_COMPLETION_INDEX with --shard-count (AMBIENTSIM_SHARD_COUNT); shards
// = 0 means the whole sweep.
func shardSpec(v *viper.Viper) (index, shards int, err error) {
	count := v.GetInt("shard-count")
	if count < 0 {
		return 0, 0, usageErrorf("--shard-count must be positive, got %d", count)
	}
	if s := v.GetString("shard"); s != "" {
		i, n, ok := strings.Cut(s, "/")
		index, err1 := strconv.Atoi(i)
		shards, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || shards < 1 || index < 0 || index >= shards {
			return 0, 0, usageErrorf("--shard %q: want I/N with 0 <= I < N, e.g. 3/8", s)
		}
		if count != 0 && count != shards {
			return 0, 0, usageErrorf("--shard %s disagrees with the shard count %d (AMBIENTSIM_SHARD_COUNT)", s, count)
		}
		return index, shards, nil
	}
	if count == 0 {
		return 0, 0, nil
	}
	env, ok := os.LookupEnv("JOB_COMPLETION_INDEX")
	if !ok {
		return 0, 0, usageErrorf("a shard count of %d is set but JOB_COMPLETION_INDEX is not; give --shard I/%d", count, count)
	}
	index, err = strconv.Atoi(env)
	if err != nil || index < 0 || index >= count {
		return 0, 0, usageErrorf("JOB_COMPLETION_INDEX=%q is not an index below the shard count %d", env, count)
	}
	return index, count, nil
}

func runSweep(cmd *cobra.Command, v *viper.Viper, scenario string) error {
	out := v.GetString("out")
	if out == "" {
		return usageErrorf("--out DIR is required")
	}
	index, shards, err := shardSpec(v)
	if err != nil {
		return err
	}
	workers, err := sweepWorkers(v)
	if err != nil {
		return err
	}
	study, err := loadSweepStudy(cmd, v, scenario)
	if err != nil {
		return err
	}
	ropt, err := studyOptions(v)
	if err != nil {
		return err
	}
	plan, err := study.Plan(ropt)
	if err != nil {
		return err
	}
	ropt.Command = commandLine(cmd, []string{reportQuoteArg(scenario), "--out", "<dir>"},
		[]string{"seed", "replications", "duration", "shard", "shard-count"}, uintSetting("seed", plan.BaseSeed))
	// The sweep as a whole regenerates without the shard flags.
	plan.Command = commandLine(cmd, []string{reportQuoteArg(scenario), "--out", "<dir>"},
		[]string{"seed", "replications", "duration"}, uintSetting("seed", plan.BaseSeed))
	runner := scenarios.NewStudyRunner(study, ropt)
	// --out is checked (and, for a whole sweep, locked and staged) before
	// any simulation; shards share their directory, one file each.
	var dir *outdir.Dir
	if shards > 0 {
		if err := outdir.CheckWritable(out); err != nil {
			return err
		}
	} else {
		if dir, err = outdir.Begin(out, outdir.Options{Known: sweepOutputs}); err != nil {
			return err
		}
		defer dir.Abort()
	}

	opt := sweep.Options{Workers: workers, Shard: index, Shards: shards}
	bar := attachSweepProgress(cmd, study.Scenario.Name, &opt)
	start := time.Now()
	shard, err := sweep.Execute(cmd.Context(), plan, runner, opt)
	if bar != nil {
		bar.finish(err == nil)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	w := cmd.OutOrStdout()
	if shards > 0 {
		path, err := sweep.WriteShard(out, shard)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "shard %d of %d: %d points, %d tasks in %s\nwrote %s\n", index, shards, len(shard.Points), len(shard.Tasks), elapsed.Round(time.Millisecond), path)
		return nil
	}
	return commitSweep(w, dir, out, func(res *results.Sweep) string {
		return fmt.Sprintf("%s: %d points × %d replications, %d tasks, %d workers, %s",
			res.Scenario, len(res.Points), res.Replications, len(plan.Tasks), workers, elapsed.Round(time.Millisecond))
	}, shard)
}

// sweepWorkers is --workers, GOMAXPROCS by default.
func sweepWorkers(v *viper.Viper) (int, error) {
	workers := v.GetInt("workers")
	if workers < 0 {
		return 0, usageErrorf("--workers must be positive, got %d", workers)
	}
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return workers, nil
}

// loadSweepStudy loads the study (a file or a built-in name) with --seed
// and --replications applied.
func loadSweepStudy(cmd *cobra.Command, v *viper.Viper, scenario string) (*scenarios.Study, error) {
	if err := checkScenarioArg(scenario, "study", scenarios.Studies()); err != nil {
		return nil, err
	}
	study, err := scenarios.LoadStudy(scenario)
	if err != nil {
		return nil, err
	}
	if cmd.Flags().Changed("seed") {
		s := v.GetUint64("seed")
		study.Spec.Seed = &s
	}
	if r := v.GetInt("replications"); r != 0 {
		if r < 2 || r > 1000 {
			return nil, usageErrorf("--replications must be between 2 (every figure needs a confidence interval) and 1000, got %d", r)
		}
		study.Spec.Replications = r
	}
	return study, nil
}

// studyOptions are each simulation's options from the flags: the event
// budget and the measured duration.
func studyOptions(v *viper.Viper) (scenarios.StudyOptions, error) {
	ropt := scenarios.StudyOptions{ToolVersion: Version}
	var err error
	if ropt.MaxEvents, err = maxEvents(v); err != nil {
		return ropt, err
	}
	if d := v.GetString("duration"); d != "" {
		t, err := models.ParseDuration(d)
		if err != nil || t <= 0 {
			return ropt, usageErrorf("--duration %q: want a positive duration like 10s", d)
		}
		ropt.Duration = t
	}
	return ropt, nil
}

// attachSweepProgress shows the sweep's progress on stderr: a bar on a
// terminal (returned, to be finished), else a line with the ETA every 10 s.
func attachSweepProgress(cmd *cobra.Command, name string, opt *sweep.Options) *sweepProgress {
	if stderrIsTerminal() {
		bar := newSweepProgress(os.Stderr)
		opt.Progress = bar.update
		return bar
	}
	log := newProgressLog(cmd.ErrOrStderr(), "sweep "+name)
	opt.Progress = func(done, total int) {
		log.report(float64(done)/float64(max(total, 1)), fmt.Sprintf("%d/%d tasks", done, total))
	}
	return nil
}

// commitSweep merges shards into the sweep's result, writes sweep.json and
// sweep.csv into the staging directory, commits it, and prints headline's
// line, the answers and the files written. A whole sweep and "sweep merge"
// end the same way.
func commitSweep(w io.Writer, dir *outdir.Dir, out string, headline func(*results.Sweep) string, shards ...*sweep.ShardResult) error {
	res, err := sweep.Merge(shards...)
	if err != nil {
		return err
	}
	if err := sweep.WriteResult(dir.Path(), res); err != nil {
		return err
	}
	if err := dir.Commit(); err != nil {
		return err
	}
	fmt.Fprintln(w, headline(res))
	printAnswers(w, res)
	fmt.Fprintln(w, "wrote", filepath.Join(out, sweep.ResultFile))
	fmt.Fprintln(w, "wrote", filepath.Join(out, sweep.CSVFile))
	return nil
}

// printAnswers prints the SLO search and sizing answers and the cost table.
func printAnswers(w io.Writer, res *results.Sweep) {
	for _, s := range res.Searches {
		at := ""
		if k := s.At.Key(); k != "" {
			at = " [" + k + "]"
		}
		fmt.Fprintf(w, "slo%s: %s\n", at, s.Note)
	}
	for _, z := range res.Sizing {
		fmt.Fprintf(w, "sizing: %s\n", z.Note)
	}
	if c := res.Cost; c != nil {
		fmt.Fprintf(w, "mesh cost, provisioned = max(request, used × %g) per proxy (used in brackets), mean ± %g%% CI:\n", c.Headroom, res.Confidence*100)
		fmt.Fprintf(w, "  %8s  %-17s %30s %30s\n", "pods", "mode", "cores", "GiB")
		for _, r := range c.Rows {
			fmt.Fprintf(w, "  %8d  %-17s %11.1f ± %-6.2g (%9.2f) %11.1f ± %-6.2g (%9.2f)\n", r.Pods, r.Mode,
				r.CPUCores.Mean, r.CPUCores.HalfWidth, r.UsedCPUCores.Mean, r.MemoryGiB.Mean, r.MemoryGiB.HalfWidth, r.UsedMemoryGiB.Mean)
		}
	}
}

func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// sweepProgress is one bar of finished items with an ETA on stderr.
type sweepProgress struct {
	p    *mpb.Progress
	bar  *mpb.Bar
	last time.Time // of the previous update, for the ETA's moving average
}

func newSweepProgress(w io.Writer) *sweepProgress {
	return &sweepProgress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(40)), last: time.Now()}
}

// update is sweep.Options.Progress; calls are serialised by the sweep.
func (s *sweepProgress) update(done, total int) {
	if s.bar == nil {
		s.bar = s.p.AddBar(int64(total),
			mpb.PrependDecorators(decor.Name("sweep "), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Percentage(), decor.Name("  ETA "), decor.EwmaETA(decor.ET_STYLE_GO, 30)),
		)
	}
	now := time.Now()
	s.bar.EwmaSetCurrent(int64(done), now.Sub(s.last))
	s.last = now
}

func (s *sweepProgress) finish(ok bool) {
	if s.bar != nil && !ok {
		s.bar.Abort(false)
	}
	s.p.Wait()
}

func newSweepPlanCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan SCENARIO",
		Short: "Write a Kubernetes Indexed Job (and ConfigMap) that runs the sweep in shards",
		Long: `Plan writes a ConfigMap holding the scenario and a batch/v1 Job with
completionMode: Indexed, one completion per shard, for kubectl apply -f.
Each pod runs "ambientsim sweep" on its shard (JOB_COMPLETION_INDEX) and
writes shard-III-of-NNN.json to the claim --pvc, mounted at /results, in
/results/<name>. Merge them with "ambientsim sweep merge".

The image's entrypoint must be the ambientsim binary. Pods on different
nodes write to the same claim, so it must be ReadWriteMany (e.g. NFS,
CephFS, EFS, Filestore).`,
		Example: `  ambientsim sweep plan study.yaml --shards 50 --parallelism 10 \
      --image registry.example/ambientsim:0.1.0 --pvc sweep-results > job.yaml
  kubectl apply -f job.yaml`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeScenarios(scenarios.Studies),
		RunE:              func(cmd *cobra.Command, args []string) error { return runSweepPlan(cmd, v, args[0]) },
	}
	f := cmd.Flags()
	f.Int("shards", 0, "number of shards (Job completions)")
	f.String("image", "", "container image whose entrypoint is ambientsim")
	f.String("pvc", "", "PersistentVolumeClaim the shard results are written to")
	f.String("name", "", "Job name (default ambientsim-sweep-<scenario>)")
	f.String("namespace", "", "namespace of the Job and ConfigMap (default: kubectl's)")
	f.Int("parallelism", 0, "pods running at once (default: --shards)")
	f.Int("backoff-limit-per-index", 0, "retries per failed index (default 2)")
	f.Int("max-failed-indexes", 0, "fail the Job when more indexes fail (default shards/10, at least 1)")
	f.Int("workers", 1, "simulations per pod (each single-threaded; match --cpu)")
	f.String("cpu", "1", "CPU request per pod")
	f.String("memory", "1Gi", "memory request and limit per pod")
	f.StringSlice("file", nil, "extra file the scenario refers to, mounted next to it (repeatable)")
	f.String("out", "", "write the manifests to FILE instead of stdout")
	return cmd
}

// runSweepPlan writes the Kubernetes Indexed Job that runs the study in
// --shards shards, to --out or stdout.
func runSweepPlan(cmd *cobra.Command, v *viper.Viper, arg string) error {
	if err := checkScenarioArg(arg, "study", scenarios.Studies()); err != nil {
		return err
	}
	study, err := scenarios.LoadStudy(arg)
	if err != nil {
		return err
	}
	plan, err := study.Plan(scenarios.StudyOptions{ToolVersion: Version})
	if err != nil {
		return err
	}
	shards := v.GetInt("shards")
	if shards < 1 {
		return usageErrorf("--shards N is required (N >= 1)")
	}
	if units := plan.Units(); shards > units {
		return usageErrorf("--shards %d is more than the sweep's %d work units; use at most %d", shards, units, units)
	}
	o, err := kubejobOptions(v, study, shards)
	if err != nil {
		return err
	}
	manifests, err := kubejob.Manifests(o)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if out := v.GetString("out"); out != "" {
		if err := sweep.WriteFileAtomic(out, manifests); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: Job %s, %d shards of %d work units\n", out, o.Name, shards, plan.Units())
		return nil
	}
	_, err = cmd.OutOrStdout().Write(manifests)
	return err
}

// kubejobOptions are the Job's options from the flags, with the scenario
// and every --file it refers to.
func kubejobOptions(v *viper.Viper, study *scenarios.Study, shards int) (kubejob.Options, error) {
	name := v.GetString("name")
	if name == "" {
		name = kubeName("ambientsim-sweep-" + study.Scenario.Name)
	}
	o := kubejob.Options{
		Name:                 name,
		Namespace:            v.GetString("namespace"),
		Image:                v.GetString("image"),
		Shards:               shards,
		Parallelism:          v.GetInt("parallelism"),
		BackoffLimitPerIndex: v.GetInt("backoff-limit-per-index"),
		MaxFailedIndexes:     v.GetInt("max-failed-indexes"),
		PVC:                  v.GetString("pvc"),
		ScenarioFile:         filepath.Base(study.File),
		Scenario:             study.Raw,
		Workers:              v.GetInt("workers"),
		CPU:                  v.GetString("cpu"),
		Memory:               v.GetString("memory"),
	}
	for _, f := range v.GetStringSlice("file") {
		data, err := yamlcheck.ReadFile(f, yamlcheck.MaxConfigBytes)
		if err != nil {
			return o, fmt.Errorf("--file: %w", err)
		}
		if o.Files == nil {
			o.Files = map[string][]byte{}
		}
		o.Files[filepath.Base(f)] = data
	}
	return o, nil
}

// kubeName makes s a valid Job name: lower case, [a-z0-9-], ≤ 52 chars.
func kubeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	n := b.String()
	if len(n) > 52 {
		n = n[:52]
	}
	return strings.Trim(n, "-")
}

func newSweepMergeCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "merge DIR...",
		Short: "Merge shard results into sweep.json and sweep.csv",
		Long: `Merge reads every shard-*-of-*.json in the directories, checks that they
are all the shards of one sweep, and writes the sweep.json and sweep.csv a
single-process run would have written (byte for byte).`,
		Example: `  kubectl cp sims/results-reader:/results/ambientsim-sweep-capacity shards/
  ambientsim sweep merge shards/ --out out/`,
		Args: cobra.MinimumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := v.GetString("out")
			if out == "" {
				return usageErrorf("--out DIR is required")
			}
			dir, err := outdir.Begin(out, outdir.Options{Known: sweepOutputs})
			if err != nil {
				return err
			}
			defer dir.Abort()
			shards, err := sweep.ReadShards(args...)
			if err != nil {
				return err
			}
			return commitSweep(cmd.OutOrStdout(), dir, out, func(res *results.Sweep) string {
				return fmt.Sprintf("%s: merged %d shards, %d points × %d replications", res.Scenario, len(shards), len(res.Points), res.Replications)
			}, shards...)
		},
	}
	cmd.Flags().String("out", "", "output directory for sweep.json and sweep.csv")
	return cmd
}
