package dataplane

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/kind"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// kindPlan has every role: control plane, two node proxies, a waypoint,
// ambient echo and load-generator pods, and a sidecar pair.
func kindPlan() *harness.Plan {
	p := TwoNodeSidecar()
	p.Waypoints = []harness.Waypoint{{Name: "waypoint", Node: "node-b", Services: []string{"echo"}}}
	return p
}

func kindExperiment() *harness.Experiment {
	return &harness.Experiment{Name: "mixed", Loads: []harness.Load{
		{From: "client-b", Target: "server-a", Protocol: "http", RatePerSec: 50, Duration: 5 * time.Second, Connections: 2},
		{From: "client-a", Target: "echo", Protocol: "http", RatePerSec: 20, Duration: 5 * time.Second, Connections: 1, Mode: harness.ConnPerRequest},
		{From: "sc-client", Target: "sc-echo", Protocol: "http", RatePerSec: 20, Duration: 5 * time.Second, Connections: 1},
	}}
}

func kindOptions(t *testing.T) (kind.Options, string) {
	shared := t.TempDir()
	return kind.Options{
		RunID: "abc123", GOARCH: "amd64", ModuleDir: "/src/ambientsim",
		Commander:      NewCommander(Options{Binary: KindBinary, Dir: shared}),
		Binaries:       []kind.Binary{{Name: "meshnode", Package: "./validation/cmd/meshnode"}},
		SharedDir:      "/work/ambientsim-kind/shared",
		InboundCapture: true,
	}, shared
}

// decodeK8s decodes every document strictly into its k8s.io/api type.
func decodeK8s(t *testing.T, data []byte) (svcs []*corev1.Service, deps []*appsv1.Deployment, dss []*appsv1.DaemonSet, jobs []*batchv1.Job) {
	t.Helper()
	for i, doc := range bytes.Split(data, []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var tm struct{ APIVersion, Kind string }
		if err := sigsyaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var obj any
		switch tm.Kind {
		case "Namespace":
			obj = &corev1.Namespace{}
		case "ConfigMap":
			obj = &corev1.ConfigMap{}
		case "Service":
			s := &corev1.Service{}
			svcs, obj = append(svcs, s), s
		case "Deployment":
			d := &appsv1.Deployment{}
			deps, obj = append(deps, d), d
		case "DaemonSet":
			d := &appsv1.DaemonSet{}
			dss, obj = append(dss, d), d
		case "Job":
			j := &batchv1.Job{}
			jobs, obj = append(jobs, j), j
		default:
			t.Fatalf("document %d: unexpected kind %q", i, tm.Kind)
		}
		if err := sigsyaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("document %d (%s): strict decode: %v\n%s", i, tm.Kind, err, doc)
		}
	}
	return
}

// podTemplate is one pod a controller runs.
type podTemplate struct {
	owner, ns string
	spec      corev1.PodTemplateSpec
}

func selects(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

var ipLiteral = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)

// TestKindManifestsForTheDataPlane generates the kind manifests of a plan
// with every role through the real Commander, decodes them into
// k8s.io/api, and checks the discovery contract: every name in the mesh
// file is served by a Service selecting exactly the named pod (or, for a
// service VIP, exactly its endpoints); node proxies are pinned to their
// nodes; command lines carry names, never IPs.
func TestKindManifestsForTheDataPlane(t *testing.T) {
	plan := kindPlan()
	opts, shared := kindOptions(t)
	b, err := kind.Generate(plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	jobsYAML, _, err := kind.Jobs(plan, kindExperiment(), 1, opts)
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "kind-manifests.yaml", b.Manifests)
	goldenFile(t, "kind-jobs.yaml", jobsYAML)
	goldenFile(t, "kind-cluster.yaml", b.Cluster)
	svcs, deps, dss, _ := decodeK8s(t, b.Manifests)
	_, _, _, jobs := decodeK8s(t, jobsYAML)

	var pods []podTemplate
	for _, d := range deps {
		pods = append(pods, podTemplate{d.Name, d.Namespace, d.Spec.Template})
	}
	for _, d := range dss {
		pods = append(pods, podTemplate{d.Name, d.Namespace, d.Spec.Template})
	}
	jobPods := map[string][]podTemplate{}
	for _, j := range jobs {
		pod := podTemplate{j.Name, j.Namespace, j.Spec.Template}
		jobPods[j.Spec.Template.Labels[kind.LabelPod]] = append(jobPods[j.Spec.Template.Labels[kind.LabelPod]], pod)
	}
	serviceByDNS := map[string]*corev1.Service{}
	for _, s := range svcs {
		serviceByDNS[kind.ServiceDNSName(s.Name, s.Namespace)] = s
	}
	selected := func(s *corev1.Service, among []podTemplate) []string {
		var out []string
		for _, p := range among {
			if p.ns == s.Namespace && selects(s.Spec.Selector, p.spec.Labels) {
				out = append(out, p.owner)
			}
		}
		return out
	}

	// The mesh file the containers read.
	data, err := os.ReadFile(filepath.Join(shared, KindMeshFile))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mesh.Parse("mesh.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Workloads) != len(plan.Pods) || len(m.Waypoints) != 1 || len(m.Services) != 2 {
		t.Fatalf("mesh has %d workloads, %d waypoints, %d services", len(m.Workloads), len(m.Waypoints), len(m.Services))
	}
	checkPod := func(name, ns, dns string) {
		t.Helper()
		s := serviceByDNS[dns]
		if s == nil {
			t.Errorf("%s/%s: no Service serves %s", ns, name, dns)
			return
		}
		if s.Spec.ClusterIP != corev1.ClusterIPNone || !s.Spec.PublishNotReadyAddresses {
			t.Errorf("%s: Service %s is not headless with not-ready addresses published", name, s.Name)
		}
		got := selected(s, pods)
		pod, isPod := plan.PodByName(name)
		if isPod && !pod.HasRole(harness.RoleEcho) && !pod.HasRole(harness.RoleSidecar) {
			// A pure load-generator pod exists only as its Jobs.
			if len(got) != 0 || len(jobPods[name]) == 0 || len(selected(s, jobPods[name])) != len(jobPods[name]) {
				t.Errorf("%s: Service %s selects %v and %d of its %d Jobs", name, s.Name, got, len(selected(s, jobPods[name])), len(jobPods[name]))
			}
			return
		}
		if len(got) != 1 || got[0] != name {
			t.Errorf("%s: Service %s selects %v, want exactly the pod", name, s.Name, got)
		}
		for owner, js := range jobPods {
			if n := len(selected(s, js)); n > 0 && owner != name {
				t.Errorf("%s: Service %s also selects %d Jobs of %s", name, s.Name, n, owner)
			}
		}
	}
	for _, w := range m.Workloads {
		checkPod(w.Name, w.Namespace, w.IP)
	}
	// A waypoint is its ClusterIP Service, selecting exactly the
	// waypoint's pod, HBONE port 15008 mapped to the pod's listener.
	for _, w := range m.Waypoints {
		s := serviceByDNS[w.IP]
		if s == nil || s.Spec.ClusterIP == corev1.ClusterIPNone {
			t.Errorf("waypoint %s: no ClusterIP Service serves %s", w.Name, w.IP)
			continue
		}
		if got := selected(s, pods); len(got) != 1 || got[0] != w.Name {
			t.Errorf("waypoint %s: Service selects %v", w.Name, got)
		}
		if p := s.Spec.Ports[0]; p.Port != 15008 || p.TargetPort.IntValue() != KindWaypointPort {
			t.Errorf("waypoint %s: port %+v, want 15008 → %d", w.Name, p, KindWaypointPort)
		}
	}
	for _, svc := range m.Services {
		s := serviceByDNS[svc.VIP]
		if s == nil || s.Spec.ClusterIP == corev1.ClusterIPNone {
			t.Errorf("service %s: no ClusterIP Service serves %s", svc.Name, svc.VIP)
			continue
		}
		if got := selected(s, pods); !reflect.DeepEqual(got, svc.Endpoints) {
			t.Errorf("service %s selects %v, want its endpoints %v", svc.Name, got, svc.Endpoints)
		}
	}

	// Node proxies: pinned, host network, transparent inbound listener.
	if len(dss) != 2 {
		t.Fatalf("%d DaemonSets", len(dss))
	}
	for i, ds := range dss {
		node := plan.NodeProxies[i].Node
		ps := ds.Spec.Template.Spec
		if ps.NodeSelector[kind.LabelNode] != node || !ps.HostNetwork || len(ps.Containers) != 1 {
			t.Errorf("%s: node selector %v, host network %v", ds.Name, ps.NodeSelector, ps.HostNetwork)
		}
		args := strings.Join(ps.Containers[0].Args, " ")
		if !strings.Contains(args, "--node "+node) || !strings.Contains(args, "--inbound-listen 0.0.0.0:15008") {
			t.Errorf("%s: args %s", ds.Name, args)
		}
	}

	// Every container: names and $(VARS), no IP literal but 0.0.0.0; the
	// mesh and PKI under the shared mount.
	var all []corev1.Container
	for _, p := range pods {
		all = append(all, p.spec.Spec.Containers...)
		var hasShared bool
		for _, v := range p.spec.Spec.Volumes {
			hasShared = hasShared || (v.HostPath != nil && v.HostPath.Path == kind.SharedMount)
		}
		if !hasShared {
			t.Errorf("%s: no hostPath volume for the shared directory", p.owner)
		}
	}
	for _, ps := range jobPods {
		for _, p := range ps {
			all = append(all, p.spec.Spec.Containers...)
		}
	}
	for _, c := range all {
		args := strings.Join(c.Args, " ")
		for _, ip := range ipLiteral.FindAllString(args, -1) {
			if ip != "0.0.0.0" {
				t.Errorf("%s: IP literal %s in %s", c.Name, ip, args)
			}
		}
		if c.Name != "loadgen" && c.Name != "echo" && !strings.Contains(args, "--mesh "+kind.SharedMount+"/mesh.yaml") {
			t.Errorf("%s: mesh not read from the shared mount: %s", c.Name, args)
		}
	}

	// Outbound capture: each ambient load generator dials its node proxy's
	// listener for its target, and that listener says who it is and where
	// it goes.
	for _, j := range jobs {
		c := j.Spec.Template.Spec.Containers[0]
		args := strings.Join(c.Args, " ")
		from := j.Spec.Template.Labels[kind.LabelPod]
		pod, _ := plan.PodByName(from)
		if pod.Mode != harness.ModeAmbient {
			if !strings.Contains(args, "--via "+kind.PodDNSName(from, pod.Namespace)+":151") {
				t.Errorf("sidecar load from %s does not go through its sidecar: %s", from, args)
			}
			continue
		}
		i := strings.Index(args, "--via $(HOST_IP):")
		if i < 0 {
			t.Errorf("ambient load from %s without --via $(HOST_IP): %s", from, args)
			continue
		}
		port := strings.Fields(args[i+len("--via $(HOST_IP):"):])[0]
		var found bool
		for k, ds := range dss {
			if plan.NodeProxies[k].Node != pod.Node {
				continue
			}
			found = strings.Contains(strings.Join(ds.Spec.Template.Spec.Containers[0].Args, " "),
				"--outbound source=default/"+from+",listen=0.0.0.0:"+port+",dest=")
		}
		if !found {
			t.Errorf("no listener on %s's node proxy for port %s", from, port)
		}
	}
	if len(b.NotEmulated) < 2 || !strings.Contains(strings.Join(b.NotEmulated, "\n"), "sidecar-mode pod's port 15008") {
		t.Errorf("NotEmulated %q: want the capture notes", b.NotEmulated)
	}
}

// TestKindCommandLines renders every role's kind command line.
func TestKindCommandLines(t *testing.T) {
	plan := kindPlan()
	c := NewCommander(Options{Binary: KindBinary, Dir: t.TempDir()})
	load := kindExperiment().Loads[0]
	var out strings.Builder
	for _, s := range []harness.ProcessSpec{
		{Kind: harness.KindControlPlane, Owner: "node-a"},
		{Kind: harness.KindNodeProxy, Owner: "node-b"},
		{Kind: harness.KindWaypoint, Owner: "waypoint"},
		{Kind: harness.KindEcho, Owner: "server-a"},
		{Kind: harness.KindSidecar, Owner: "sc-client"},
		{Kind: harness.KindLoadGen, Owner: "client-b.r1.0", Load: &load, ResultPath: kind.ResultPath},
	} {
		s.Backend, s.Plan, s.Name = "kind", plan, harness.ProcessName(s.Kind, s.Owner)
		cmd, err := c.Command(s)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%s: %s %s\n  ready %q metrics %q\n", s.Name, cmd.Path, strings.Join(cmd.Args, " "), cmd.ReadyAddr, cmd.MetricsURL)
	}
	goldenFile(t, "kind-commands.txt", []byte(out.String()))
}

func TestKindMeshRoundTrip(t *testing.T) {
	m, err := KindMesh(kindPlan(), "")
	if err != nil {
		t.Fatal(err)
	}
	data, err := mesh.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := mesh.Parse("mesh.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := mesh.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) || !reflect.DeepEqual(m.Workloads, back.Workloads) || !reflect.DeepEqual(m.Services, back.Services) ||
		!reflect.DeepEqual(m.Waypoints, back.Waypoints) {
		t.Fatalf("round trip changed the mesh:\n%s\n---\n%s", data, again)
	}
	for _, w := range back.Workloads {
		if w.IP != kind.PodDNSName(w.Name, w.Namespace) {
			t.Errorf("workload %s: ip %q, want its DNS name", w.Name, w.IP)
		}
	}
	if back.Waypoints[0].IP != "waypoint.default.svc.cluster.local" {
		t.Errorf("waypoint ip %q", back.Waypoints[0].IP)
	}
	if back.Services[0].VIP != "echo.default.svc.cluster.local" || back.Services[0].Waypoint != "waypoint" {
		t.Errorf("service %+v", back.Services[0])
	}
	if _, err := mesh.Compile(back); err == nil {
		t.Error("names compiled as addresses: meshnode must resolve them first")
	}
}

func TestKindOutboundPorts(t *testing.T) {
	p := kindPlan()
	seen := map[string]int{}
	for _, pod := range p.Pods {
		if pod.Mode != harness.ModeAmbient || !pod.HasRole(harness.RoleLoadGen) {
			continue
		}
		for _, d := range KindDestinations(p) {
			port, err := KindOutboundPort(p, pod.Name, d.Name)
			if err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("%s/%d", pod.Node, port)
			if prev, dup := seen[key]; dup {
				t.Errorf("%s → %s: port %d already used on %s (%d)", pod.Name, d.Name, port, pod.Node, prev)
			}
			seen[key] = port
		}
	}
	if len(seen) != 2*len(KindDestinations(p)) {
		t.Errorf("%d listeners, want %d", len(seen), 2*len(KindDestinations(p)))
	}
	for _, tc := range []struct{ from, to, want string }{
		{"client-b", "nowhere", "not a service or echo pod"},
		{"sc-client", "echo", "not an ambient load-generator pod"},
		{"ghost", "echo", `no pod "ghost"`},
	} {
		if _, err := KindOutboundPort(p, tc.from, tc.to); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s → %s: %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
}

// TestKindBackendOnThisMachine: where docker, kind or an engine is
// missing, Setup fails with the prerequisite message and creates nothing.
func TestKindBackendOnThisMachine(t *testing.T) {
	if _, err := KindBackend(KindOptions{}); err == nil || !strings.Contains(err.Error(), "Dir") {
		t.Errorf("no Dir: %v", err)
	}
	if kind.CheckPrerequisites(context.Background(), harness.ExecRunner{}, exec.LookPath) == nil {
		t.Skip("docker, kind and an engine are available: see kind.TestKindEndToEnd")
	}
	b, err := KindBackend(KindOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Setup(context.Background(), TwoNodeAmbient())
	if err == nil || !strings.Contains(err.Error(), "--backend local") {
		t.Fatalf("Setup error %v, want the prerequisite message", err)
	}
	if err := b.Teardown(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestKindFreshPKI: the control plane's command (first of every
// generation) clears the previous cluster's PKI and rewrites the mesh;
// the other roles' commands leave both alone but restore a missing mesh.
func TestKindFreshPKI(t *testing.T) {
	dir := t.TempDir()
	c := NewCommander(Options{Binary: KindBinary, Dir: dir})
	plan := kindPlan()
	root := filepath.Join(c.PKIDir(), "root.pem")
	meshFile := filepath.Join(dir, KindMeshFile)
	stale := func() {
		t.Helper()
		if err := os.MkdirAll(c.PKIDir(), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(root, []byte("stale"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := func(k harness.ProcessKind, owner string) {
		t.Helper()
		if _, err := c.Command(harness.ProcessSpec{Backend: "kind", Kind: k, Owner: owner, Plan: plan, Name: harness.ProcessName(k, owner)}); err != nil {
			t.Fatal(err)
		}
	}
	stale()
	cmd(harness.KindNodeProxy, "node-a")
	if _, err := os.Stat(root); err != nil {
		t.Errorf("a node proxy's command removed the PKI: %v", err)
	}
	cmd(harness.KindControlPlane, "node-a")
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("the control plane's command left the previous root: %v", err)
	}
	if err := os.Remove(meshFile); err != nil {
		t.Fatal(err)
	}
	cmd(harness.KindEcho, "server-a")
	if _, err := os.Stat(meshFile); err != nil {
		t.Errorf("mesh file not restored: %v", err)
	}
}
