package kind

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// Backend is the kind backend: it builds the plan as a kind cluster from
// generated manifests, runs the data plane's FROM-scratch image there and
// measures it through the Kubernetes API (Job logs, the kubelet's stats
// summary, and the API server's pod proxy for metrics).
type Backend struct {
	opts     Options
	runner   harness.Runner
	lookPath func(string) (string, error)

	mu      sync.Mutex
	plan    *harness.Plan
	bundle  *Bundle
	files   Files
	tmpDir  string // removed by Teardown
	created bool   // the cluster exists and Teardown must delete it
	runs    int
}

// New returns a kind backend. runner runs docker, kind, kubectl and go; nil
// runs them for real.
func New(opts Options, runner harness.Runner) (*Backend, error) {
	opts.defaults()
	if opts.Commander == nil {
		return nil, errors.New("kind backend: no Commander: it needs one to know the data plane's command lines")
	}
	if len(opts.Binaries) == 0 {
		return nil, errors.New("kind backend: no Binaries to build into the image")
	}
	if runner == nil {
		runner = harness.ExecRunner{}
	}
	return &Backend{opts: opts, runner: runner, lookPath: exec.LookPath}, nil
}

// Name returns "kind".
func (b *Backend) Name() string { return "kind" }

// Options returns the options in force (with defaults filled in).
func (b *Backend) Options() Options { return b.opts }

// CheckPrerequisites reports what is missing to run the kind backend: the
// docker, kind, kubectl and go programs, and a container engine answering
// `docker info`.
func CheckPrerequisites(ctx context.Context, r harness.Runner, lookPath func(string) (string, error)) error {
	var missing []string
	for _, tool := range []string{"docker", "kind", "kubectl", "go"} {
		if _, err := lookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the kind backend needs %s in PATH (install them, or use --backend local)", strings.Join(missing, ", "))
	}
	if _, err := r.Run(ctx, "docker", "info", "--format", "{{.ServerVersion}}"); err != nil {
		return fmt.Errorf("the kind backend needs a container engine, but `docker info` failed (is the Docker daemon running? or use --backend local): %w", err)
	}
	return nil
}

// Setup checks the prerequisites, writes the generated files and runs
// SetupSteps. On failure it deletes the cluster if it was created.
func (b *Backend) Setup(ctx context.Context, plan *harness.Plan) (err error) {
	if err := CheckPrerequisites(ctx, b.runner, b.lookPath); err != nil {
		return err
	}
	return b.setup(ctx, plan)
}

func (b *Backend) setup(ctx context.Context, plan *harness.Plan) (err error) {
	b.mu.Lock()
	if b.plan != nil {
		b.mu.Unlock()
		return errors.New("kind backend: already set up; call Teardown first")
	}
	b.mu.Unlock()
	bundle, err := Generate(plan, b.opts)
	if err != nil {
		return err
	}
	dir := b.opts.WorkDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ambientsim-kind-"+b.opts.RunID+"-"); err != nil {
			return fmt.Errorf("kind backend: %w", err)
		}
		b.tmpDir = dir
	}
	f := FilesIn(dir)
	b.mu.Lock()
	b.plan, b.bundle, b.files = plan, bundle, f
	b.mu.Unlock()
	defer func() {
		if err != nil {
			if terr := b.Teardown(context.WithoutCancel(ctx)); terr != nil {
				err = errors.Join(err, fmt.Errorf("cleanup after failed setup: %w", terr))
			}
		}
	}()
	if err := os.MkdirAll(filepath.Join(f.ImageDir, "bin"), 0o755); err != nil {
		return fmt.Errorf("kind backend: %w", err)
	}
	if b.opts.SharedDir != "" {
		if err := os.MkdirAll(b.opts.SharedDir, 0o755); err != nil {
			return fmt.Errorf("kind backend: %w", err)
		}
	}
	for path, data := range map[string][]byte{f.Cluster: bundle.Cluster, f.Dockerfile: bundle.Dockerfile, f.Manifests: bundle.Manifests} {
		if err := writeFileAtomic(path, data); err != nil {
			return err
		}
	}
	for i, s := range SetupSteps(bundle, f, b.opts) {
		if _, err := b.runner.Run(ctx, s.Argv[0], s.Argv[1:]...); err != nil {
			return fmt.Errorf("kind backend: %s: %w", s.Why, err)
		}
		if i == 0 {
			b.mu.Lock()
			b.created = true
			b.mu.Unlock()
			if b.opts.InboundCapture {
				if err := b.installCapture(ctx, plan); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// installCapture runs CaptureSteps on every kind node with a node proxy.
func (b *Backend) installCapture(ctx context.Context, plan *harness.Plan) error {
	for _, np := range plan.NodeProxies {
		q := NodeQueryStep(b.opts, np.Node)
		out, err := b.runner.Run(ctx, q.Argv[0], q.Argv[1:]...)
		if err != nil {
			return fmt.Errorf("kind backend: %s: %w", q.Why, err)
		}
		f := strings.Fields(string(out))
		if len(f) != 3 {
			return fmt.Errorf("kind backend: %s: answer %q, want \"<node> <pod CIDR> <node IP>\"", q.Why, out)
		}
		for _, s := range CaptureSteps(f[0], f[1], f[2]) {
			if _, err := b.runner.Run(ctx, s.Argv[0], s.Argv[1:]...); err != nil {
				return fmt.Errorf("kind backend: %s: %w", s.Why, err)
			}
		}
	}
	return nil
}

// Teardown deletes the cluster (if Setup created it) and the temporary
// work directory.
func (b *Backend) Teardown(ctx context.Context) error {
	b.mu.Lock()
	created, tmp := b.created, b.tmpDir
	b.created, b.tmpDir, b.plan, b.bundle = false, "", nil, nil
	b.mu.Unlock()
	var errs []error
	if created {
		s := TeardownStep(b.opts)
		if _, err := b.runner.Run(context.WithoutCancel(ctx), s.Argv[0], s.Argv[1:]...); err != nil {
			errs = append(errs, fmt.Errorf("kind backend: %s: %w", s.Why, err))
		}
	}
	if tmp != "" {
		errs = append(errs, os.RemoveAll(tmp))
	}
	return errors.Join(errs...)
}

// Run applies the experiment's load-generator Jobs, injects failures by
// deleting pods, waits for the Jobs, and collects their fortio-style
// results from the logs, the processes' CPU and memory from the kubelets'
// stats summaries and their metrics through the API server's pod proxy.
func (b *Backend) Run(ctx context.Context, exp *harness.Experiment) (*harness.Measurement, error) {
	b.mu.Lock()
	plan, bundle, f := b.plan, b.bundle, b.files
	b.runs++
	runNo := b.runs
	b.mu.Unlock()
	if plan == nil {
		return nil, errors.New("kind backend: Run before Setup")
	}
	jobsYAML, jobs, err := Jobs(plan, exp, runNo, b.opts)
	if err != nil {
		return nil, err
	}
	jobsFile := filepath.Join(f.Dir, fmt.Sprintf("run%d-jobs.yaml", runNo))
	if err := writeFileAtomic(jobsFile, jobsYAML); err != nil {
		return nil, err
	}
	m := &harness.Measurement{Backend: b.Name(), RunID: b.opts.RunID, Experiment: exp.Name, NotEmulated: bundle.NotEmulated}
	before, err := b.usage(ctx)
	if err != nil {
		return nil, err
	}
	apply, waits, logs, cleanup := RunSteps(jobsFile, jobs, b.opts)
	defer func() { _, _ = b.runner.Run(context.WithoutCancel(ctx), cleanup.Argv[0], cleanup.Argv[1:]...) }()
	for _, s := range apply {
		if _, err := b.runner.Run(ctx, s.Argv[0], s.Argv[1:]...); err != nil {
			return nil, fmt.Errorf("kind backend: %s: %w", s.Why, err)
		}
	}
	m.Start = time.Now()
	var fwg sync.WaitGroup
	var emu sync.Mutex
	fctx, stopFailures := context.WithCancel(ctx)
	for _, fa := range exp.Failures {
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			select {
			case <-fctx.Done():
				return
			case <-time.After(fa.At - time.Since(m.Start)):
			}
			ev := harness.Event{At: time.Since(m.Start), Action: fa.Action, Target: fa.Target}
			if err := b.inject(fctx, bundle, fa); err != nil {
				ev.Err = err.Error()
			}
			emu.Lock()
			m.Events = append(m.Events, ev)
			emu.Unlock()
		}()
	}
	waitErrs := make([]string, len(jobs))
	for i, s := range waits {
		if _, err := b.runner.Run(ctx, s.Argv[0], s.Argv[1:]...); err != nil {
			waitErrs[i] = err.Error()
		}
	}
	stopFailures()
	fwg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.End = time.Now()
	if exp.Settle > 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(exp.Settle):
		}
	}
	after, err := b.usage(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range bundle.Processes {
		a := after[p.Name]
		bf := before[p.Name]
		m.Processes = append(m.Processes, harness.ProcessUsage{
			Process: p.Name, Kind: p.Kind, Node: p.Node,
			CPUSeconds:      a.cpuSeconds - bf.cpuSeconds,
			PeakMemoryBytes: max(a.memoryBytes, bf.memoryBytes),
			Source:          harness.KubeletSummary,
		})
	}
	for _, j := range jobs {
		a := after[j.Process]
		m.Processes = append(m.Processes, harness.ProcessUsage{Process: j.Process, Kind: harness.KindLoadGen,
			Node: exp.Loads[j.Load].From, CPUSeconds: a.cpuSeconds, PeakMemoryBytes: a.memoryBytes, Source: harness.KubeletSummary})
	}
	for _, p := range bundle.Processes {
		if p.MetricsPort == 0 {
			continue
		}
		m.Metrics = append(m.Metrics, b.scrape(ctx, p))
	}
	var errs []error
	for i, s := range logs {
		lr := harness.LoadResult{Load: exp.Loads[jobs[i].Load], Process: jobs[i].Process, Err: waitErrs[i]}
		out, err := b.runner.Run(ctx, s.Argv[0], s.Argv[1:]...)
		if err == nil {
			lr.Result, err = ResultFromLogs(out)
		}
		if err != nil && lr.Err == "" {
			lr.Err = err.Error()
		}
		if lr.Err != "" {
			errs = append(errs, fmt.Errorf("load %d (%s → %s): %s", jobs[i].Load, lr.Load.From, lr.Load.Target, lr.Err))
		}
		m.Loads = append(m.Loads, lr)
	}
	return m, errors.Join(errs...)
}

// inject deletes the target's pod; its controller starts a new one, so on
// kind every failure is followed by a restart.
func (b *Backend) inject(ctx context.Context, bundle *Bundle, fa harness.FailureAction) error {
	for _, p := range bundle.Processes {
		if p.Name != fa.Target {
			continue
		}
		args := []string{"-n", p.Namespace, "delete", "pod", "-l", LabelProcess + "=" + ProcessLabel(p.Name), "--wait=false"}
		if fa.Action == harness.FailKill || fa.Action == harness.FailKillAndUp {
			args = append(args, "--grace-period=0", "--force")
		}
		argv := kubectl(b.opts, args...)
		_, err := b.runner.Run(ctx, argv[0], argv[1:]...)
		return err
	}
	return fmt.Errorf("no process %q", fa.Target)
}

func (b *Backend) scrape(ctx context.Context, p Process) harness.Scrape {
	sc := harness.Scrape{Process: p.Name}
	pod, err := b.podOf(ctx, p)
	if err != nil {
		sc.Err = err.Error()
		return sc
	}
	path := fmt.Sprintf("/api/v1/namespaces/%s/pods/%s:%d/proxy%s", p.Namespace, pod, p.MetricsPort, p.MetricsPath)
	sc.URL = path
	argv := kubectl(b.opts, "get", "--raw", path)
	out, err := b.runner.Run(ctx, argv[0], argv[1:]...)
	if err == nil {
		sc.Families, err = harness.ParseMetrics(strings.NewReader(string(out)))
		sc.Samples = harness.Flatten(sc.Families)
	}
	if err != nil {
		sc.Err = err.Error()
	}
	return sc
}

func (b *Backend) podOf(ctx context.Context, p Process) (string, error) {
	argv := kubectl(b.opts, "-n", p.Namespace, "get", "pods", "-l", LabelProcess+"="+ProcessLabel(p.Name),
		"--field-selector=status.phase=Running", "-o", "jsonpath={.items[0].metadata.name}")
	out, err := b.runner.Run(ctx, argv[0], argv[1:]...)
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(string(out))
	if name == "" {
		return "", fmt.Errorf("no running pod for %s", p.Name)
	}
	return name, nil
}

// usageSample is one process's counters at one moment.
type usageSample struct {
	cpuSeconds  float64
	memoryBytes int64
}

// usage reads every run pod's CPU and memory from the kubelets, keyed by
// harness process name (from the LabelProcess label).
func (b *Backend) usage(ctx context.Context) (map[string]usageSample, error) {
	argv := kubectl(b.opts, "get", "pods", "-A", "-l", LabelRun+"="+b.opts.RunID, "-o", "json")
	out, err := b.runner.Run(ctx, argv[0], argv[1:]...)
	if err != nil {
		return nil, fmt.Errorf("kind backend: list pods: %w", err)
	}
	pods, err := parsePodList(out)
	if err != nil {
		return nil, err
	}
	nodes := map[string]bool{}
	for _, p := range pods {
		if p.node != "" {
			nodes[p.node] = true
		}
	}
	res := map[string]usageSample{}
	for node := range nodes {
		argv := kubectl(b.opts, "get", "--raw", "/api/v1/nodes/"+node+"/proxy/stats/summary")
		out, err := b.runner.Run(ctx, argv[0], argv[1:]...)
		if err != nil {
			return nil, fmt.Errorf("kind backend: stats of node %s: %w", node, err)
		}
		stats, err := ParseSummary(out)
		if err != nil {
			return nil, fmt.Errorf("kind backend: stats of node %s: %w", node, err)
		}
		for _, p := range pods {
			if p.node != node || p.owner == "" {
				continue
			}
			// Container names are process kinds: "echo" and "sidecar" in
			// one pod are two processes.
			for key, s := range stats {
				ns, rest, _ := strings.Cut(key, "/")
				pod, container, _ := strings.Cut(rest, "/")
				if ns == p.namespace && pod == p.name {
					res[container+"/"+p.owner] = usageSample{cpuSeconds: s.CPUSeconds, memoryBytes: s.WorkingSetBytes}
				}
			}
		}
	}
	return res, nil
}

// podInfo is a run pod; owner is the node, pod or waypoint name its
// processes belong to (the part of LabelProcess after the kind).
type podInfo struct{ name, namespace, node, owner string }

func parsePodList(data []byte) ([]podInfo, error) {
	var list struct {
		Items []struct {
			Metadata struct {
				Name      string            `json:"name"`
				Namespace string            `json:"namespace"`
				Labels    map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				NodeName string `json:"nodeName"`
			} `json:"spec"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("kind backend: pod list: %w", err)
	}
	out := make([]podInfo, 0, len(list.Items))
	for _, it := range list.Items {
		_, owner, _ := strings.Cut(it.Metadata.Labels[LabelProcess], ".")
		out = append(out, podInfo{name: it.Metadata.Name, namespace: it.Metadata.Namespace, node: it.Spec.NodeName, owner: owner})
	}
	return out, nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("kind backend: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("kind backend: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("kind backend: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("kind backend: write %s: %w", path, err)
	}
	return nil
}
