package kind_test

import (
	"bytes"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/kind"
)

// twoNodePlan is an ambient cluster of two zones: an echo server on each
// node, a load generator on node-b and a waypoint for the namespace.
func twoNodePlan() *harness.Plan {
	return &harness.Plan{
		Nodes: []harness.Node{{Name: "node-a", Zone: "zone-1"}, {Name: "node-b", Zone: "zone-2"}},
		Pods: []harness.Pod{
			{Name: "server-a", Node: "node-a", Namespace: "apps", ServiceAccount: "echo", Service: "echo", Roles: []harness.Role{harness.RoleEcho}},
			{Name: "server-b", Node: "node-b", Namespace: "apps", ServiceAccount: "echo", Service: "echo", Roles: []harness.Role{harness.RoleEcho}},
			{Name: "client", Node: "node-b", Namespace: "apps", Roles: []harness.Role{harness.RoleLoadGen}},
		},
		NodeProxies: []harness.NodeProxy{{Node: "node-a"}, {Node: "node-b"}},
		Waypoints:   []harness.Waypoint{{Name: "waypoint", Node: "node-a", Namespace: "apps"}},
		Network:     harness.Network{CrossZone: harness.LinkShape{Delay: time.Millisecond}},
	}
}

// commander gives each container its command line. A real run passes the
// data plane's Commander; kind addresses are Kubernetes names and
// $(POD_IP), which every container gets from the downward API.
var commander = harness.CommanderFunc(func(s harness.ProcessSpec) (harness.Command, error) {
	switch s.Kind {
	case harness.KindNodeProxy:
		return harness.Command{Path: "/usr/local/bin/meshnode", Args: []string{"nodeproxy", "--node=" + s.Owner, "--listen=$(POD_IP)"},
			ReadyAddr: "$(POD_IP):15008", MetricsURL: "http://$(POD_IP):15020/metrics"}, nil
	case harness.KindWaypoint:
		return harness.Command{Path: "/usr/local/bin/meshnode", Args: []string{"waypoint", "--name=" + s.Owner}, ReadyAddr: ":15008"}, nil
	case harness.KindEcho:
		return harness.Command{Path: "/usr/local/bin/meshnode", Args: []string{"echo", "--listen=:8080"}, ReadyAddr: ":8080"}, nil
	case harness.KindLoadGen:
		return harness.Command{Path: "/usr/local/bin/meshnode", Args: []string{"load", "--target=http://echo.apps.svc:80/"}}, nil
	}
	return harness.Command{}, fmt.Errorf("no command for %s (%s)", s.Name, s.Kind)
})

func exampleOptions() kind.Options {
	return kind.Options{
		RunID:       "example",
		Commander:   commander,
		GOARCH:      "amd64",
		ConfigFiles: map[string]string{"mesh.yaml": "workloads: []\n"},
		Binaries:    []kind.Binary{{Name: "meshnode", Package: "./validation/cmd/meshnode"}},
	}
}

// Generate renders a plan as a kind cluster configuration, a Dockerfile
// and Kubernetes manifests; here we list what the manifests create.
func ExampleGenerate() {
	b, err := kind.Generate(twoNodePlan(), exampleOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(b.Manifests))
	for {
		var obj struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name      string `yaml:"name"`
				Namespace string `yaml:"namespace"`
			} `yaml:"metadata"`
		}
		if err := dec.Decode(&obj); err != nil {
			break // io.EOF after the last document
		}
		fmt.Printf("%-10s %s/%s\n", obj.Kind, obj.Metadata.Namespace, obj.Metadata.Name)
	}
	fmt.Println("not emulated:", b.NotEmulated)
	// Output:
	// Namespace  /ambientsim-system
	// ConfigMap  ambientsim-system/ambientsim-config
	// Namespace  /apps
	// ConfigMap  apps/ambientsim-config
	// DaemonSet  ambientsim-system/nodeproxy-node-a
	// DaemonSet  ambientsim-system/nodeproxy-node-b
	// Deployment apps/waypoint
	// Service    apps/waypoint
	// Service    apps/pod-server-a
	// Deployment apps/server-a
	// Service    apps/pod-server-b
	// Deployment apps/server-b
	// Service    apps/pod-client
	// Service    apps/echo
	// not emulated: [cross-zone latency 1ms not emulated: the kind backend does not shape links]
}

// SetupSteps lists the commands the backend runs, so a user can read (or
// run by hand) exactly what Setup will do.
func ExampleSetupSteps() {
	opts := exampleOptions()
	b, err := kind.Generate(twoNodePlan(), opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range kind.SetupSteps(b, kind.FilesIn("/tmp/ambientsim-kind"), opts) {
		fmt.Println(s)
	}
	fmt.Println(kind.TeardownStep(opts))
	// Output:
	// kind create cluster --name ambientsim --config /tmp/ambientsim-kind/kind-cluster.yaml --wait 180s
	// env CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go -C . build -trimpath -ldflags '-s -w' -o /tmp/ambientsim-kind/image/bin/meshnode ./validation/cmd/meshnode
	// docker build -t ambientsim-dataplane:example -f /tmp/ambientsim-kind/image/Dockerfile /tmp/ambientsim-kind/image
	// kind load docker-image ambientsim-dataplane:example --name ambientsim
	// kubectl --context kind-ambientsim apply -f /tmp/ambientsim-kind/manifests.yaml
	// kubectl --context kind-ambientsim -n ambientsim-system rollout status daemonset/nodeproxy-node-a --timeout 180s
	// kubectl --context kind-ambientsim -n ambientsim-system rollout status daemonset/nodeproxy-node-b --timeout 180s
	// kubectl --context kind-ambientsim -n apps wait --for=condition=Available deployment --all --timeout 180s
	// kind delete cluster --name ambientsim
}

// ParseSummary reads what `kubectl get --raw
// /api/v1/nodes/<node>/proxy/stats/summary` returns: CPU seconds and
// working-set memory per namespace/pod/container.
func ExampleParseSummary() {
	const summary = `{"node":{"nodeName":"ambientsim-worker"},"pods":[
 {"podRef":{"name":"nodeproxy-node-a-x7k2p","namespace":"ambientsim-system"},
  "containers":[{"name":"nodeproxy","cpu":{"usageCoreNanoSeconds":1500000000},"memory":{"workingSetBytes":20971520}}]},
 {"podRef":{"name":"server-b-5d9c","namespace":"apps"},
  "containers":[{"name":"echo","cpu":{"usageCoreNanoSeconds":300000000},"memory":{"workingSetBytes":5000000}}]}
]}`
	stats, err := kind.ParseSummary([]byte(summary))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, key := range []string{"ambientsim-system/nodeproxy-node-a-x7k2p/nodeproxy", "apps/server-b-5d9c/echo"} {
		s := stats[key]
		fmt.Printf("%s: %.1f CPU s, %.1f MiB\n", key, s.CPUSeconds, float64(s.WorkingSetBytes)/(1<<20))
	}
	// Output:
	// ambientsim-system/nodeproxy-node-a-x7k2p/nodeproxy: 1.5 CPU s, 20.0 MiB
	// apps/server-b-5d9c/echo: 0.3 CPU s, 4.8 MiB
}

// ResultFromLogs finds the load generator's fortio-style result in `kubectl
// logs` output, skipping the JSON log lines around it.
func ExampleResultFromLogs() {
	logs := `{"level":"INFO","msg":"starting load","qps":100}
{
  "RetCodes": {"200": 998, "503": 2},
  "ActualQPS": 99.9,
  "DurationHistogram": {"Count": 1000}
}
{"level":"INFO","msg":"done"}
`
	res, err := kind.ResultFromLogs([]byte(logs))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("requests:", res.DurationHistogram.Count, "200:", res.RetCodes["200"], "503:", res.RetCodes["503"], "qps:", res.ActualQPS)
	// Output:
	// requests: 1000 200: 998 503: 2 qps: 99.9
}
