// Package kind is the harness's kind backend: it runs the same plan and
// experiments as the local backend, but on a kind (Kubernetes-in-Docker)
// cluster, with the data plane's binaries in a FROM-scratch image.
//
// [Generate] turns a harness.Plan into three files: a kind cluster
// configuration (one control plane, one worker per plan node, labelled
// ambientsim.io/node=<plan node> and topology.kubernetes.io/zone), a
// Dockerfile (FROM scratch, the static binaries under /usr/local/bin) and
// the manifests: namespaces, a ConfigMap with the data plane's
// configuration, one node-proxy DaemonSet per node (host network, pinned
// by the node label, ztunnel's 200m/512Mi requests), a Deployment and
// Service per waypoint (100m/128Mi, limits 2 CPU/1Gi), a Deployment per
// echo pod (with its sidecar container, if any) and a Service per service
// name. [Jobs] renders one load-generator Job per load of an experiment.
// Command lines come from the same harness.Commander as the local backend,
// called with Backend "kind": addresses are Kubernetes names and
// $(POD_IP)/$(HOST_IP)/$(NODE_NAME), which every container gets from the
// downward API.
//
// [Backend] runs the exact sequence [SetupSteps], [RunSteps] and
// [TeardownStep] print:
//
//	kind create cluster --name ambientsim --config kind-cluster.yaml --wait 180s
//	env CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go -C . build -trimpath -ldflags '-s -w' -o image/bin/<name> <package>   # per binary
//	docker build -t ambientsim-dataplane:<run> -f image/Dockerfile image
//	kind load docker-image ambientsim-dataplane:<run> --name ambientsim
//	kubectl --context kind-ambientsim apply -f manifests.yaml
//	kubectl --context kind-ambientsim -n ambientsim-system rollout status daemonset/nodeproxy-<node> --timeout 180s
//	kubectl --context kind-ambientsim -n <ns> wait --for=condition=Available deployment --all --timeout 180s
//	kubectl --context kind-ambientsim apply -f run1-jobs.yaml                                   # Run
//	kubectl --context kind-ambientsim -n <ns> wait --for=condition=Complete job/loadgen-r1-0 --timeout <d+60>s
//	kubectl --context kind-ambientsim -n <ns> logs job/loadgen-r1-0                             # fortio-style JSON
//	kind delete cluster --name ambientsim                                                       # Teardown
//
// Measurements come through the API server: CPU seconds and working-set
// memory per container from each kubelet's stats summary (`kubectl get
// --raw /api/v1/nodes/<node>/proxy/stats/summary`, no metrics-server
// needed), metrics through the pod proxy (`kubectl get --raw
// /api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/metrics`). Failures are
// pod deletions (forced for "kill"); the controllers restart the pod.
// kind does not shape links: latency and bandwidth wishes are listed in
// Bundle.NotEmulated.
//
// Without docker, kind, kubectl or go in PATH, or when `docker info`
// finds no engine, Setup fails with [CheckPrerequisites]' message naming
// what is missing, before anything is created.
package kind
