package kind

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// Step is one command the kind backend runs, with why.
type Step struct {
	Why  string
	Argv []string
}

func (s Step) String() string { return shellQuote(s.Argv) }

// Files are the paths of the generated files inside the work directory.
type Files struct {
	Dir        string
	Cluster    string // kind cluster configuration
	ImageDir   string // docker build context (Dockerfile, bin/)
	Dockerfile string
	Manifests  string
}

// FilesIn returns the file layout under dir.
func FilesIn(dir string) Files {
	return Files{
		Dir:        dir,
		Cluster:    filepath.Join(dir, "kind-cluster.yaml"),
		ImageDir:   filepath.Join(dir, "image"),
		Dockerfile: filepath.Join(dir, "image", "Dockerfile"),
		Manifests:  filepath.Join(dir, "manifests.yaml"),
	}
}

// kubectl prefixes a kubectl command with the cluster's context.
func kubectl(opts Options, args ...string) []string {
	return append([]string{"kubectl", "--context", "kind-" + opts.ClusterName}, args...)
}

// SetupSteps is the exact command sequence that creates the cluster,
// builds and loads the image, applies the manifests and waits for every
// process to be ready.
func SetupSteps(b *Bundle, f Files, opts Options) []Step {
	opts.defaults()
	wait := fmt.Sprintf("%ds", int(opts.WaitTimeout.Seconds()))
	steps := []Step{{
		Why:  "create the cluster: one control plane, one worker per plan node (labelled with node name and zone)",
		Argv: []string{"kind", "create", "cluster", "--name", opts.ClusterName, "--config", f.Cluster, "--wait", wait},
	}}
	for _, bin := range opts.Binaries {
		steps = append(steps, Step{
			Why: "build " + bin.Name + " as a static binary",
			Argv: []string{"env", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + opts.GOARCH,
				"go", "-C", opts.ModuleDir, "build", "-trimpath", "-ldflags", "-s -w",
				"-o", filepath.Join(f.ImageDir, "bin", bin.Name), bin.Package},
		})
	}
	steps = append(steps,
		Step{Why: "build the FROM-scratch data-plane image", Argv: []string{"docker", "build", "-t", opts.Image, "-f", f.Dockerfile, f.ImageDir}},
		Step{Why: "load the image into every kind node (nothing is pulled)", Argv: []string{"kind", "load", "docker-image", opts.Image, "--name", opts.ClusterName}},
		Step{Why: "apply namespaces, config, node proxies, waypoints, workloads and services", Argv: kubectl(opts, "apply", "-f", f.Manifests)},
	)
	namespaces := map[string]bool{}
	var nsOrder []string
	for _, p := range b.Processes {
		if strings.HasPrefix(p.Controller, "daemonset/") {
			steps = append(steps, Step{Why: "wait for " + p.Name, Argv: kubectl(opts, "-n", p.Namespace, "rollout", "status", p.Controller, "--timeout", wait)})
		} else if !namespaces[p.Namespace] {
			namespaces[p.Namespace] = true
			nsOrder = append(nsOrder, p.Namespace)
		}
	}
	for _, ns := range nsOrder {
		steps = append(steps, Step{Why: "wait for the deployments in " + ns,
			Argv: kubectl(opts, "-n", ns, "wait", "--for=condition=Available", "deployment", "--all", "--timeout", wait)})
	}
	return steps
}

// CaptureTable is the routing table, on kind nodes, that delivers
// captured packets to the node itself.
const CaptureTable = "100"

// NodeQueryStep asks which kind node runs plan node node, its pod CIDR
// and its IP; the answer is "<kind node name> <pod CIDR> <node IP>".
func NodeQueryStep(opts Options, node string) Step {
	opts.defaults()
	return Step{Why: "find the kind node, pod CIDR and IP of " + node,
		Argv: kubectl(opts, "get", "nodes", "-l", LabelNode+"="+node, "-o",
			`jsonpath={.items[0].metadata.name}{" "}{.items[0].spec.podCIDR}{" "}{.items[0].status.addresses[?(@.type=="InternalIP")].address}`)}
}

// CaptureSteps install the inbound capture on one kind node (a container
// with iproute2): TCP to the node's pod CIDR on port harness.HBONEPort —
// from other nodes, from the node's pods and from the node itself — is
// delivered locally, to the node proxy's transparent listener, whose
// accepted connections keep the pod's IP as local address. It is the
// local backend's inbound policy-routing rule with the node's pod CIDR
// for the per-pod addresses (pod IPs are not known in advance). The
// capture table's route has the node's IP as preferred source: a
// connection the node itself opens to a local pod's 15008 (its node
// proxy dialling its own pod) then comes from the node IP, so the
// listener's replies go back to the node, not out to the pod.
func CaptureSteps(kindNode, podCIDR, nodeIP string) []Step {
	exec := func(args ...string) []string { return append([]string{"docker", "exec", kindNode}, args...) }
	return []Step{
		{Why: "capture table on " + kindNode + ": every destination is local",
			Argv: exec("ip", "route", "replace", "local", "0.0.0.0/0", "dev", "lo", "table", CaptureTable, "src", nodeIP)},
		{Why: "capture inbound HBONE to the pods of " + kindNode + " for its node proxy",
			Argv: exec("ip", "rule", "add", "to", podCIDR, "ipproto", "tcp", "dport", strconv.Itoa(harness.HBONEPort), "lookup", CaptureTable, "prio", "100")},
	}
}

// RunSteps is the command sequence of one Run, given its Jobs file.
func RunSteps(jobsFile string, jobs []JobRef, opts Options) (apply []Step, wait []Step, logs []Step, cleanup Step) {
	opts.defaults()
	apply = []Step{{Why: "start the load generators", Argv: kubectl(opts, "apply", "-f", jobsFile)}}
	for _, j := range jobs {
		wait = append(wait, Step{Why: "wait for " + j.Process,
			Argv: kubectl(opts, "-n", j.Namespace, "wait", "--for=condition=Complete", "job/"+j.Name, "--timeout", fmt.Sprintf("%ds", int(j.Timeout.Seconds())))})
		logs = append(logs, Step{Why: "collect the fortio-style result of " + j.Process,
			Argv: kubectl(opts, "-n", j.Namespace, "logs", "job/"+j.Name)})
	}
	cleanup = Step{Why: "remove the finished Jobs", Argv: kubectl(opts, "delete", "--ignore-not-found", "--wait=false", "-f", jobsFile)}
	return apply, wait, logs, cleanup
}

// TeardownStep deletes the cluster and everything in it.
func TeardownStep(opts Options) Step {
	opts.defaults()
	return Step{Why: "delete the cluster", Argv: []string{"kind", "delete", "cluster", "--name", opts.ClusterName}}
}

// shellQuote renders argv for a shell, quoting what needs it.
func shellQuote(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r))
		}) < 0 {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
