package kind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/internal/golden"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// goldenFile compares got with testdata/name, or rewrites it with -update.
func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

func testPlan() *harness.Plan {
	return &harness.Plan{
		Nodes: []harness.Node{{Name: "node-a", Zone: "zone-1"}, {Name: "node-b", Zone: "zone-2"}},
		Pods: []harness.Pod{
			{Name: "server-a", Node: "node-a", Namespace: "apps", ServiceAccount: "echo", Service: "echo", Roles: []harness.Role{harness.RoleEcho}},
			{Name: "server-b", Node: "node-b", Namespace: "apps", ServiceAccount: "echo", Service: "echo", Roles: []harness.Role{harness.RoleEcho, harness.RoleSidecar}},
			{Name: "client", Node: "node-b", Namespace: "apps", Roles: []harness.Role{harness.RoleLoadGen}},
		},
		NodeProxies:  []harness.NodeProxy{{Node: "node-a"}, {Node: "node-b"}},
		Waypoints:    []harness.Waypoint{{Name: "waypoint", Node: "node-a", Namespace: "apps"}},
		ControlPlane: "node-a",
		Network:      harness.Network{CrossZone: harness.LinkShape{Delay: time.Millisecond}},
	}
}

func testExperiment() *harness.Experiment {
	return &harness.Experiment{
		Name: "l4",
		Loads: []harness.Load{{From: "client", Target: "echo", Protocol: "http", RatePerSec: 100,
			Duration: 10 * time.Second, PayloadBytes: 1024, Connections: 4, Mode: harness.ConnPersistent}},
		Failures: []harness.FailureAction{{At: 0, Action: harness.FailKill, Target: "nodeproxy/node-b"}},
	}
}

// testCommander stands in for the data plane's: kind-style arguments with
// $(VAR) references and Kubernetes names.
var testCommander = harness.CommanderFunc(func(s harness.ProcessSpec) (harness.Command, error) {
	if s.Backend != "kind" || s.Layout != nil {
		return harness.Command{}, fmt.Errorf("spec for %s: backend %q, layout %v", s.Name, s.Backend, s.Layout)
	}
	switch s.Kind {
	case harness.KindControlPlane:
		return harness.Command{Path: "/usr/local/bin/meshnode", Args: []string{"ca", "--listen=$(POD_IP):15012"},
			ReadyAddr: ":15012", MetricsURL: "http://$(POD_IP):15014/metrics"}, nil
	case harness.KindNodeProxy:
		return harness.Command{Path: "/usr/local/bin/nodeproxy", Args: []string{"--node=" + s.Owner, "--mesh=/etc/ambientsim/mesh.yaml", "--listen=$(POD_IP)"},
			ReadyAddr: "$(POD_IP):15008", MetricsURL: "http://$(POD_IP):15020/metrics"}, nil
	case harness.KindWaypoint:
		return harness.Command{Path: "/usr/local/bin/waypoint", Args: []string{"--name=" + s.Owner},
			ReadyAddr: ":15008", MetricsURL: "http://localhost:15020/stats/prometheus"}, nil
	case harness.KindEcho:
		return harness.Command{Path: "/usr/local/bin/echo", Args: []string{"--listen=:8080"}, ReadyAddr: ":8080"}, nil
	case harness.KindSidecar:
		return harness.Command{Path: "/usr/local/bin/sidecar", Args: []string{"--pod=" + s.Owner}, ReadyAddr: ":15006", Env: []string{"SIDECAR_MODE=inbound"}}, nil
	case harness.KindLoadGen:
		return harness.Command{Path: "/usr/local/bin/loadgen", Args: []string{
			"--target=http://" + s.Load.Target + "." + "apps.svc:80/", fmt.Sprintf("--qps=%g", s.Load.RatePerSec),
			"--duration=" + s.Load.Duration.String(), "--json=" + s.ResultPath}}, nil
	}
	return harness.Command{}, fmt.Errorf("unknown kind %q", s.Kind)
})

func testOptions() Options {
	return Options{
		RunID:       "abc123",
		Commander:   testCommander,
		ModuleDir:   "/src/ambientsim",
		GOARCH:      "amd64",
		ConfigFiles: map[string]string{"mesh.yaml": "workloads: []\n"},
		Binaries: []Binary{
			{Name: "nodeproxy", Package: "./validation/cmd/nodeproxy"},
			{Name: "waypoint", Package: "./validation/cmd/waypoint"},
			{Name: "echo", Package: "./validation/cmd/echo"},
			{Name: "sidecar", Package: "./validation/cmd/sidecar"},
			{Name: "loadgen", Package: "./validation/cmd/loadgen"},
		},
	}
}

// splitDocs splits a multi-document YAML stream.
func splitDocs(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var docs [][]byte
	for _, d := range bytes.Split(data, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// decodeStrict decodes every document into its k8s.io/api type, rejecting
// unknown fields, and returns the objects by kind.
func decodeStrict(t *testing.T, data []byte) map[string][]any {
	t.Helper()
	out := map[string][]any{}
	for i, doc := range splitDocs(t, data) {
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := sigsyaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var obj any
		switch tm.APIVersion + "/" + tm.Kind {
		case "v1/Namespace":
			obj = &corev1.Namespace{}
		case "v1/ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1/Service":
			obj = &corev1.Service{}
		case "apps/v1/DaemonSet":
			obj = &appsv1.DaemonSet{}
		case "apps/v1/Deployment":
			obj = &appsv1.Deployment{}
		case "batch/v1/Job":
			obj = &batchv1.Job{}
		default:
			t.Fatalf("document %d: unexpected %s %s", i, tm.APIVersion, tm.Kind)
		}
		if err := sigsyaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("document %d (%s): strict decode into k8s.io/api: %v\n%s", i, tm.Kind, err, doc)
		}
		out[tm.Kind] = append(out[tm.Kind], obj)
	}
	return out
}

func TestGenerateGolden(t *testing.T) {
	b, err := Generate(testPlan(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "kind-cluster.yaml", b.Cluster)
	goldenFile(t, "Dockerfile", b.Dockerfile)
	goldenFile(t, "manifests.yaml", b.Manifests)
	jobs, _, err := Jobs(testPlan(), testExperiment(), 1, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "jobs.yaml", jobs)
	if len(b.NotEmulated) != 1 || !strings.Contains(b.NotEmulated[0], "cross-zone latency 1ms") {
		t.Errorf("NotEmulated = %q", b.NotEmulated)
	}
}

// TestManifestsDecodeIntoKubernetesTypes is the fidelity check: every
// generated document decodes strictly into k8s.io/api, and the decoded
// objects say what the plan says.
func TestManifestsDecodeIntoKubernetesTypes(t *testing.T) {
	b, err := Generate(testPlan(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeStrict(t, b.Manifests)
	counts := map[string]int{}
	for k, v := range objs {
		counts[k] = len(v)
	}
	// Services: controlplane, waypoint and echo, plus one headless
	// Service per plan pod (server-a, server-b, client).
	want := map[string]int{"Namespace": 2, "ConfigMap": 2, "DaemonSet": 2, "Deployment": 4, "Service": 6}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("objects %v, want %v", counts, want)
	}
	for _, o := range objs["DaemonSet"] {
		ds := o.(*appsv1.DaemonSet)
		ps := ds.Spec.Template.Spec
		if !ps.HostNetwork || ps.NodeSelector[LabelNode] == "" || len(ps.Containers) != 1 {
			t.Errorf("%s: pod spec %+v", ds.Name, ps)
		}
		c := ps.Containers[0]
		if c.Resources.Requests.Cpu().MilliValue() != 200 || c.Resources.Requests.Memory().Value() != 512<<20 {
			t.Errorf("%s: requests %v, want ztunnel's 200m/512Mi", ds.Name, c.Resources.Requests)
		}
		if c.ReadinessProbe == nil || c.ReadinessProbe.TCPSocket.Port.IntValue() != 15008 {
			t.Errorf("%s: readiness probe %+v", ds.Name, c.ReadinessProbe)
		}
		if !labelsMatch(ds.Spec.Selector.MatchLabels, ds.Spec.Template.Labels) {
			t.Errorf("%s: selector %v does not match template labels %v", ds.Name, ds.Spec.Selector.MatchLabels, ds.Spec.Template.Labels)
		}
	}
	for _, o := range objs["Deployment"] {
		d := o.(*appsv1.Deployment)
		if !labelsMatch(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			t.Errorf("%s: selector does not match template labels", d.Name)
		}
		if d.Name == "server-b" && len(d.Spec.Template.Spec.Containers) != 2 {
			t.Errorf("server-b: %d containers, want echo + sidecar", len(d.Spec.Template.Spec.Containers))
		}
		if d.Name == "waypoint" {
			lim := d.Spec.Template.Spec.Containers[0].Resources.Limits
			if lim.Cpu().Value() != 2 || lim.Memory().Value() != 1<<30 {
				t.Errorf("waypoint limits %v, want 2 CPU / 1Gi", lim)
			}
		}
	}
	headless := map[string]bool{}
	for _, o := range objs["Service"] {
		s := o.(*corev1.Service)
		if s.Name == "echo" && (s.Spec.Ports[0].Port != 80 || s.Spec.Ports[0].TargetPort.IntValue() != 8080) {
			t.Errorf("echo service ports %+v", s.Spec.Ports)
		}
		if s.Name == "waypoint" && (s.Spec.Ports[0].Port != 15008 || s.Spec.Ports[0].TargetPort.IntValue() != 15008) {
			t.Errorf("waypoint service ports %+v, want HBONE 15008 to the ready port", s.Spec.Ports)
		}
		if s.Spec.ClusterIP == corev1.ClusterIPNone {
			if !s.Spec.PublishNotReadyAddresses || len(s.Spec.Selector) != 1 || PodServiceName(s.Spec.Selector[LabelDNS]) != s.Name {
				t.Errorf("headless service %s: %+v", s.Name, s.Spec)
			}
			headless[s.Namespace+"/"+s.Spec.Selector[LabelDNS]] = true
		}
	}
	for _, name := range []string{"apps/server-a", "apps/server-b", "apps/client"} {
		if !headless[name] {
			t.Errorf("no headless Service for %s (have %v)", name, headless)
		}
	}
	jobsYAML, refs, err := Jobs(testPlan(), testExperiment(), 1, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	jobs := decodeStrict(t, jobsYAML)["Job"]
	if len(jobs) != 1 || len(refs) != 1 {
		t.Fatalf("%d jobs, %d refs", len(jobs), len(refs))
	}
	j := jobs[0].(*batchv1.Job)
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever || *j.Spec.BackoffLimit != 0 ||
		*j.Spec.ActiveDeadlineSeconds != 70 || j.Spec.Template.Spec.NodeSelector[LabelNode] != "node-b" {
		t.Errorf("job %+v", j.Spec)
	}
}

func labelsMatch(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

func TestGenerateErrors(t *testing.T) {
	bad := testPlan()
	bad.Pods[0].Node = "nowhere"
	if _, err := Generate(bad, testOptions()); err == nil || !strings.Contains(err.Error(), "no such node") {
		t.Errorf("bad plan: %v", err)
	}
	opts := testOptions()
	opts.Commander = harness.CommanderFunc(func(s harness.ProcessSpec) (harness.Command, error) {
		return harness.Command{Path: "/x", ReadyAddr: "no-port"}, nil
	})
	if _, err := Generate(testPlan(), opts); err == nil || !strings.Contains(err.Error(), "ReadyAddr") {
		t.Errorf("bad ReadyAddr: %v", err)
	}
	opts.Commander = nil
	if _, err := Generate(testPlan(), opts); err == nil {
		t.Error("no Commander accepted")
	}
}

func TestStepsGolden(t *testing.T) {
	opts := testOptions()
	b, err := Generate(testPlan(), opts)
	if err != nil {
		t.Fatal(err)
	}
	f := FilesIn("/work/ambientsim-kind")
	var out strings.Builder
	out.WriteString("# setup\n")
	for _, s := range SetupSteps(b, f, opts) {
		fmt.Fprintf(&out, "%s  # %s\n", s, s.Why)
	}
	_, refs, err := Jobs(testPlan(), testExperiment(), 1, opts)
	if err != nil {
		t.Fatal(err)
	}
	apply, wait, logs, cleanup := RunSteps(filepath.Join(f.Dir, "run1-jobs.yaml"), refs, opts)
	out.WriteString("# run\n")
	for _, group := range [][]Step{apply, wait, logs, {cleanup}} {
		for _, s := range group {
			fmt.Fprintf(&out, "%s  # %s\n", s, s.Why)
		}
	}
	out.WriteString("# teardown\n")
	s := TeardownStep(opts)
	fmt.Fprintf(&out, "%s  # %s\n", s, s.Why)
	goldenFile(t, "steps.txt", []byte(out.String()))
}

func TestCheckPrerequisites(t *testing.T) {
	have := func(tools ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, t := range tools {
				if t == name {
					return "/usr/bin/" + name, nil
				}
			}
			return "", errors.New("not found")
		}
	}
	engineDown := &harness.RecordingRunner{Fail: func(string) error { return errors.New("Cannot connect to the Docker daemon") }}
	tests := []struct {
		name   string
		look   func(string) (string, error)
		runner harness.Runner
		want   string
	}{
		{"nothing", have(), &harness.RecordingRunner{}, "needs docker, kind, kubectl, go in PATH"},
		{"docker CLI only (this machine)", have("docker", "kubectl", "go"), &harness.RecordingRunner{}, "needs kind in PATH"},
		{"no engine", have("docker", "kind", "kubectl", "go"), engineDown, "needs a container engine, but `docker info` failed"},
		{"all there", have("docker", "kind", "kubectl", "go"), &harness.RecordingRunner{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPrerequisites(context.Background(), tt.runner, tt.look)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSetupOnThisMachine runs the real prerequisite check: where docker or
// kind is missing or no engine answers, Setup must fail with a message
// naming it and create nothing.
func TestSetupOnThisMachine(t *testing.T) {
	if CheckPrerequisites(context.Background(), harness.ExecRunner{}, nil2LookPath) == nil {
		t.Skip("docker, kind and a container engine are available: see TestKindEndToEnd")
	}
	b, err := New(testOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Setup(context.Background(), testPlan())
	if err == nil || !(strings.Contains(err.Error(), "needs") && strings.Contains(err.Error(), "--backend local")) {
		t.Fatalf("Setup error = %v, want a message naming what is missing", err)
	}
	if err := b.Teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

var nil2LookPath = execLookPath

// scriptedRunner answers commands by the first matching substring and
// records them.
type scriptedRunner struct {
	mu      sync.Mutex
	lines   []string
	answers []struct{ match, out string }
}

func (r *scriptedRunner) on(match, out string) {
	r.answers = append(r.answers, struct{ match, out string }{match, out})
}

func (r *scriptedRunner) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	line := name + " " + strings.Join(args, " ")
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
	if strings.Contains(line, "--for=condition=Complete") {
		time.Sleep(100 * time.Millisecond) // the Job runs; failures fire meanwhile
	}
	for _, a := range r.answers {
		if strings.Contains(line, a.match) {
			return []byte(a.out), nil
		}
	}
	return nil, nil
}

// TestBackendRunScripted drives Setup, Run and Teardown against scripted
// kubectl answers: the command sequence and the parsing of logs, stats and
// metrics are checked without a cluster.
func TestBackendRunScripted(t *testing.T) {
	r := &scriptedRunner{}
	r.on("get nodes -l ambientsim.io/node=node-a", "ambientsim-worker 10.244.1.0/24 172.18.0.3")
	r.on("get nodes -l ambientsim.io/node=node-b", "ambientsim-worker2 10.244.2.0/24 172.18.0.4")
	r.on("get pods -A", podListJSON)
	r.on("/proxy/stats/summary", summaryJSON)
	r.on("jsonpath={.items[0].metadata.name}", "nodeproxy-node-a-x7k2p")
	r.on("/proxy/metrics", "# TYPE istio_tcp_connections_opened_total counter\nistio_tcp_connections_opened_total{reporter=\"source\"} 42\n")
	r.on("logs job/", `{"time":"2026-11-25T18:00:00Z","level":"INFO","msg":"starting"}
{"RunType":"HTTP","ActualQPS":99.8,"RetCodes":{"200":998},"DurationHistogram":{"Count":998,"Percentiles":[{"Percentile":99,"Value":0.0021}]}}
{"time":"2026-11-25T18:00:10Z","level":"INFO","msg":"done"}
`)
	opts := testOptions()
	opts.WorkDir = t.TempDir()
	opts.SharedDir = filepath.Join(opts.WorkDir, "shared")
	opts.InboundCapture = true
	b, err := New(opts, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.setup(context.Background(), testPlan()); err != nil {
		t.Fatal(err)
	}
	exp := testExperiment()
	exp.Loads[0].Duration = 10 * time.Millisecond
	exp.Failures[0].At = 0
	m, err := b.Run(context.Background(), exp)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := m.Loads[0].Result; res == nil || res.DurationHistogram.Count != 998 {
		t.Errorf("load result %+v", m.Loads[0])
	}
	np, ok := m.Process("nodeproxy/node-a")
	// The scripted summary answers the same numbers before and after, so
	// the CPU delta is 0 and memory is the working set.
	if !ok || np.CPUSeconds != 0 || np.PeakMemoryBytes != 20<<20 || np.Source != harness.KubeletSummary {
		t.Errorf("nodeproxy/node-a usage %+v (found %v)", np, ok)
	}
	if sc, ok := m.Scrape("nodeproxy/node-a"); !ok || sc.Err != "" {
		t.Errorf("scrape %+v", sc)
	} else if v, _ := sc.Sum("istio_tcp_connections_opened_total", nil); v != 42 {
		t.Errorf("scraped %v, want 42", v)
	}
	if len(m.Events) != 1 || m.Events[0].Err != "" {
		t.Errorf("events %+v", m.Events)
	}
	var killed bool
	for _, l := range r.lines {
		if strings.Contains(l, "delete pod -l ambientsim.io/process=nodeproxy.node-b --wait=false --grace-period=0 --force") {
			killed = true
		}
	}
	if !killed {
		t.Errorf("no forced pod deletion for the kill in:\n%s", strings.Join(r.lines, "\n"))
	}
	// The capture goes in right after the cluster exists, on the kind node
	// of each plan node, with that node's pod CIDR.
	for i, want := range []string{
		"kind create cluster",
		"kubectl --context kind-ambientsim get nodes -l ambientsim.io/node=node-a",
		"docker exec ambientsim-worker ip route replace local 0.0.0.0/0 dev lo table 100 src 172.18.0.3",
		"docker exec ambientsim-worker ip rule add to 10.244.1.0/24 ipproto tcp dport 15008 lookup 100 prio 100",
		"kubectl --context kind-ambientsim get nodes -l ambientsim.io/node=node-b",
		"docker exec ambientsim-worker2 ip route replace local 0.0.0.0/0 dev lo table 100 src 172.18.0.4",
		"docker exec ambientsim-worker2 ip rule add to 10.244.2.0/24 ipproto tcp dport 15008 lookup 100 prio 100",
		"env CGO_ENABLED=0",
	} {
		if i >= len(r.lines) || !strings.HasPrefix(r.lines[i], want) {
			t.Fatalf("command %d: want %q, commands:\n%s", i, want, strings.Join(r.lines, "\n"))
		}
	}
	if _, err := os.Stat(opts.SharedDir); err != nil {
		t.Errorf("shared directory not created: %v", err)
	}
	if last := r.lines[len(r.lines)-1]; last != "kind delete cluster --name ambientsim" {
		t.Errorf("last command %q, want the cluster deletion", last)
	}
}

const podListJSON = `{"items":[
 {"metadata":{"name":"nodeproxy-node-a-x7k2p","namespace":"ambientsim-system","labels":{"ambientsim.io/process":"nodeproxy.node-a"}},"spec":{"nodeName":"ambientsim-worker"}},
 {"metadata":{"name":"server-b-5d9c","namespace":"apps","labels":{"ambientsim.io/process":"echo.server-b"}},"spec":{"nodeName":"ambientsim-worker2"}}
]}`

const summaryJSON = `{"node":{"nodeName":"ambientsim-worker"},"pods":[
 {"podRef":{"name":"nodeproxy-node-a-x7k2p","namespace":"ambientsim-system"},"containers":[{"name":"nodeproxy","cpu":{"usageCoreNanoSeconds":1500000000},"memory":{"workingSetBytes":20971520}}]},
 {"podRef":{"name":"server-b-5d9c","namespace":"apps"},"containers":[{"name":"echo","cpu":{"usageCoreNanoSeconds":300000000},"memory":{"workingSetBytes":5000000}},{"name":"sidecar","cpu":{"usageCoreNanoSeconds":700000000},"memory":{"workingSetBytes":30000000}}]}
]}`

func TestParseSummary(t *testing.T) {
	s, err := ParseSummary([]byte(summaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	if got := s["apps/server-b-5d9c/sidecar"]; got.CPUSeconds != 0.7 || got.WorkingSetBytes != 30000000 {
		t.Errorf("sidecar stats %+v", got)
	}
	if _, err := ParseSummary([]byte("{")); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestResultFromLogs(t *testing.T) {
	tests := []struct {
		name, logs string
		wantCount  int64
		wantErr    bool
	}{
		{"only result", `{"DurationHistogram":{"Count":5}}`, 5, false},
		{"pretty result after logs", "starting\n{\n  \"RetCodes\": {\"OK\": 3},\n  \"DurationHistogram\": {\"Count\": 3}\n}\n", 3, false},
		{"json log lines only", `{"level":"INFO","msg":"x"}` + "\n", 0, true},
		{"nothing", "", 0, true},
		{"truncated", `{"DurationHistogram":{"Count":`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ResultFromLogs([]byte(tt.logs))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && res.DurationHistogram.Count != tt.wantCount {
				t.Errorf("count %d, want %d", res.DurationHistogram.Count, tt.wantCount)
			}
		})
	}
}

func FuzzResultFromLogs(f *testing.F) {
	f.Add([]byte(`{"DurationHistogram":{"Count":5}}`))
	f.Add([]byte("x\n{\"RetCodes\":{\"200\":1}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ResultFromLogs(data)
	})
}

func TestShellQuote(t *testing.T) {
	got := Step{Argv: []string{"go", "build", "-ldflags", "-s -w", "it's", ""}}.String()
	want := `go build -ldflags '-s -w' 'it'\''s' ''`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
