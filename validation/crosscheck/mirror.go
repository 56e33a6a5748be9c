package crosscheck

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/validation/harness"
)

// PodService is the name of the per-pod service the mirror adds for
// pod-addressed loads: the harness dials the pod's IP, which in ambient
// bypasses a service waypoint, so the simulator gets a service with that
// one pod and no waypoint.
func PodService(pod string) string { return pod + "-pod" }

// Namespace is the namespace every mirrored pod lives in (the harness's
// default).
const Namespace = "default"

// EchoResponseBytes is the echo app's response body (meshnode echo
// --response-size default, which the data-plane Commander does not change).
const EchoResponseBytes = 1024

// Mirror writes a simulator scenario that mirrors one harness experiment on
// its plan into dir: manifests.yaml (nodes, pods with their node, mode and
// service account, one Service per harness service and per pod-addressed
// target, waypoint Gateways and their pods) and scenario.yaml (one traffic
// edge per load with its rate, connections, payload and the echo's 1 KiB
// response; constant arrivals as the open-loop load generator sends; no
// warm-up, as the harness measures from the first request; failures as
// simulator failures). It returns the scenario file's path; `ambientsim
// run <path> --profile P` replays it by hand.
func Mirror(dir string, plan *harness.Plan, exp *harness.Experiment) (string, error) {
	return MirrorOn(dir, plan, exp, 0)
}

// MirrorOn is Mirror for a harness whose nodes all run on one machine of
// hostCores CPU cores (the local backend; kind on one Docker host): the
// scenario then lists them as one host (topology.hosts), so a calibrated
// activity model sees the cores they share. 0 leaves hosts out.
func MirrorOn(dir string, plan *harness.Plan, exp *harness.Experiment, hostCores int) (string, error) {
	if err := plan.Validate(); err != nil {
		return "", err
	}
	if err := exp.Validate(plan); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("crosscheck: %w", err)
	}
	man, err := mirrorManifests(plan, exp)
	if err != nil {
		return "", err
	}
	sc, err := mirrorScenario(plan, exp, hostCores)
	if err != nil {
		return "", err
	}
	if err := writeAtomic(filepath.Join(dir, "manifests.yaml"), []byte(man)); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "scenario.yaml")
	if err := writeAtomic(path, []byte(sc)); err != nil {
		return "", err
	}
	return path, nil
}

func q(s string) string { return strconv.Quote(s) }

func mirrorManifests(plan *harness.Plan, exp *harness.Experiment) (string, error) {
	var b strings.Builder
	doc := func(format string, a ...any) {
		b.WriteString("---\n")
		fmt.Fprintf(&b, format, a...)
	}
	for _, n := range plan.Nodes {
		zone := n.Zone
		if zone == "" {
			zone = "zone-default"
		}
		doc("apiVersion: v1\nkind: Node\nmetadata: {name: %s, labels: {topology.kubernetes.io/zone: %s}}\n", q(n.Name), q(zone))
	}
	namespaces := map[string]bool{Namespace: true}
	for _, p := range plan.Pods {
		namespaces[nsOf(p.Namespace)] = true
	}
	for _, ns := range sortedKeys(namespaces) {
		doc("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", q(ns))
	}
	podTargets := map[string]bool{}
	for _, l := range exp.Loads {
		if _, ok := plan.PodByName(l.Target); ok {
			podTargets[l.Target] = true
		}
	}
	for _, p := range plan.Pods {
		labels := []string{"ambientsim.io/pod: " + q(p.Name)}
		if p.Service != "" {
			labels = append(labels, "app: "+q(p.Service))
		}
		containers := "[{name: app, ports: [{containerPort: 8080}]}]"
		switch p.Mode {
		case harness.ModeAmbient:
			labels = append(labels, `istio.io/dataplane-mode: "ambient"`)
		case harness.ModeSidecar:
			containers = "[{name: app, ports: [{containerPort: 8080}]}, {name: istio-proxy}]"
		default:
			labels = append(labels, `istio.io/dataplane-mode: "none"`)
		}
		sa := p.ServiceAccount
		if sa == "" {
			sa = "default"
		}
		doc("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s, labels: {%s}}\nspec: {nodeName: %s, serviceAccountName: %s, containers: %s}\n",
			q(p.Name), q(nsOf(p.Namespace)), strings.Join(labels, ", "), q(p.Node), q(sa), containers)
	}
	waypointOf := map[string]string{}
	for _, w := range plan.Waypoints {
		for _, s := range w.Services {
			waypointOf[nsOf(w.Namespace)+"/"+s] = w.Name
		}
	}
	services := map[string]bool{}
	for _, p := range plan.Pods {
		if p.Service != "" {
			services[nsOf(p.Namespace)+"/"+p.Service] = true
		}
	}
	port := "ports: [{name: http, port: 80, targetPort: 8080, appProtocol: http}]"
	for _, key := range sortedKeys(services) {
		ns, name, _ := strings.Cut(key, "/")
		lbl := ""
		if wp := waypointOf[key]; wp != "" {
			lbl = fmt.Sprintf(", labels: {istio.io/use-waypoint: %s}", q(wp))
		}
		doc("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s%s}\nspec: {selector: {app: %s}, %s}\n", q(name), q(ns), lbl, q(name), port)
	}
	for _, pod := range sortedKeys(podTargets) {
		p, _ := plan.PodByName(pod)
		doc("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec: {selector: {ambientsim.io/pod: %s}, %s}\n", q(PodService(pod)), q(nsOf(p.Namespace)), q(pod), port)
	}
	for _, w := range plan.Waypoints {
		ns := nsOf(w.Namespace)
		doc("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: %s, namespace: %s, labels: {istio.io/waypoint-for: service}}\nspec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}\n", q(w.Name), q(ns))
		doc("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s, labels: {gateway.networking.k8s.io/gateway-name: %s}}\nspec: {nodeName: %s, serviceAccountName: %s, containers: [{name: istio-proxy}]}\n",
			q(w.Name+"-0"), q(ns), q(w.Name), q(w.Node), q(w.Name))
	}
	return b.String(), nil
}

// TargetService is the simulator service ("ns/name") a load's target maps to.
func TargetService(plan *harness.Plan, target string) (string, error) {
	if p, ok := plan.PodByName(target); ok {
		return nsOf(p.Namespace) + "/" + PodService(target), nil
	}
	for _, p := range plan.Pods {
		if p.Service == target {
			return nsOf(p.Namespace) + "/" + target, nil
		}
		if nsOf(p.Namespace)+"/"+p.Service == target {
			return target, nil
		}
	}
	return "", fmt.Errorf("crosscheck: load target %q: not a pod or service of the plan (the mirror cannot follow literal ip:port targets)", target)
}

// LoadKey names a load in the simulator: its edge "from -> to".
func LoadKey(plan *harness.Plan, l harness.Load) (source, dest string, err error) {
	p, ok := plan.PodByName(l.From)
	if !ok {
		return "", "", fmt.Errorf("crosscheck: load from %q: no such pod", l.From)
	}
	dest, err = TargetService(plan, l.Target)
	return nsOf(p.Namespace) + "/" + l.From, dest, err
}

func mirrorScenario(plan *harness.Plan, exp *harness.Experiment, hostCores int) (string, error) {
	d := exp.Longest()
	if d <= 0 {
		return "", fmt.Errorf("crosscheck: experiment %q has no load duration", exp.Name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by ambientsim validate/calibrate: mirror of harness experiment %q.\n", exp.Name)
	fmt.Fprintf(&b, "name: %s\ndescription: %s\nmodes: [as-manifests]\nduration: %s\nwarmup: 0s\nseed: 1\n",
		q(exp.Name), q("simulator mirror of harness experiment "+exp.Name), q(simDuration(d)))
	b.WriteString("topology:\n  manifests: [manifests.yaml]\n")
	if hostCores > 0 {
		var nodes []string
		for _, n := range plan.Nodes {
			nodes = append(nodes, q(n.Name))
		}
		fmt.Fprintf(&b, "  hosts: [{name: harness, cores: %d, nodes: [%s]}]\n", hostCores, strings.Join(nodes, ", "))
	}
	b.WriteString("traffic:\n  defaults:\n    protocol: http\n    arrival: constant\n")
	fmt.Fprintf(&b, "    response_size: %d\n", EchoResponseBytes)
	b.WriteString("  edges:\n")
	seen := map[string]bool{}
	for i, l := range exp.Loads {
		src, dst, err := LoadKey(plan, l)
		if err != nil {
			return "", err
		}
		if seen[src+" "+dst] {
			return "", fmt.Errorf("crosscheck: experiment %q: loads[%d]: a second load from %s to %s; the simulator has one edge per pair", exp.Name, i, l.From, l.Target)
		}
		seen[src+" "+dst] = true
		if l.RatePerSec <= 0 {
			return "", fmt.Errorf("crosscheck: experiment %q: loads[%d]: closed-loop loads (rate 0) have no simulator mirror; give a rate", exp.Name, i)
		}
		if l.Duration != d {
			return "", fmt.Errorf("crosscheck: experiment %q: loads[%d]: duration %v differs from the longest load's %v; the mirror needs equal durations", exp.Name, i, l.Duration, d)
		}
		conns := "keep-alive"
		if l.Mode == harness.ConnPerRequest {
			conns = "per-request"
		}
		fmt.Fprintf(&b, "    - {from: %s, to: %s, rate: %s, connections: %s, pool: %d, request_size: %d}\n",
			q(src), q(dst), strconv.FormatFloat(l.RatePerSec, 'f', -1, 64), conns, max(l.Connections, 1), l.PayloadBytes)
	}
	if len(exp.Failures) > 0 {
		b.WriteString("failures:\n")
		for i, f := range exp.Failures {
			kind, target, ok := strings.Cut(f.Target, "/")
			if !ok || kind != string(harness.KindNodeProxy) {
				return "", fmt.Errorf("crosscheck: experiment %q: failures[%d]: target %q: only node-proxy failures have a simulator mirror (ztunnel-crash)", exp.Name, i, f.Target)
			}
			switch f.Action {
			case harness.FailKill, harness.FailStop:
			default:
				return "", fmt.Errorf("crosscheck: experiment %q: failures[%d]: action %q: only kill/stop (down until the end) is mirrored", exp.Name, i, f.Action)
			}
			fmt.Fprintf(&b, "  - {name: %s, kind: ztunnel-crash, at: %s, target: {node: %s}}\n", q(fmt.Sprintf("%s-%s", f.Action, target)), q(simDuration(f.At)), q(target))
		}
	}
	return b.String(), nil
}

func simDuration(d time.Duration) string { return d.String() }

func nsOf(ns string) string {
	if ns == "" {
		return Namespace
	}
	return ns
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("crosscheck: write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("crosscheck: write %s: %w", path, werr)
	}
	return nil
}

// Simulate mirrors the experiment into dir and runs it in the simulator
// with the profile (a built-in name or a file); hostCores as for MirrorOn.
func Simulate(dir string, plan *harness.Plan, exp *harness.Experiment, profile string, hostCores int) (*scenarios.Run, error) {
	path, err := MirrorOn(dir, plan, exp, hostCores)
	if err != nil {
		return nil, err
	}
	sc, err := scenarios.Load(path)
	if err != nil {
		return nil, fmt.Errorf("crosscheck: mirror of %q: %w", exp.Name, err)
	}
	run, err := scenarios.Execute(sc, scenarios.Options{Profile: profile, Command: "ambientsim run " + path + " --profile " + profile})
	if err != nil {
		return nil, fmt.Errorf("crosscheck: simulate %q: %w", exp.Name, err)
	}
	return run, nil
}
