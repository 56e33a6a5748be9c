// Package kind is the harness's kind backend: it runs the same plan and
// experiments as the local backend, but on a kind (Kubernetes-in-Docker)
// cluster, with the data plane's binaries in a FROM-scratch image.
//
// [Generate] turns a harness.Plan into three files: a kind cluster
// configuration (one control plane, one worker per plan node, labelled
// ambientsim.io/node=<plan node> and topology.kubernetes.io/zone, and —
// with Options.SharedDir — that host directory mounted into every node),
// a Dockerfile (FROM scratch, the static binaries under /usr/local/bin)
// and the manifests: namespaces, a ConfigMap with Options.ConfigFiles, one
// node-proxy DaemonSet per node (host network, pinned by the node label,
// ztunnel's 200m/512Mi requests), a Deployment and ClusterIP Service per
// waypoint (100m/128Mi, limits 2 CPU/1Gi; the Service maps port 15008 to
// the pod's ready port), a Deployment per echo pod (with its sidecar
// container, if any), a Service per service name, and a headless Service
// per plan pod. [Jobs] renders one load-generator Job per load of an
// experiment. Command lines come from a harness.Commander called with
// Backend "kind"; the real data plane's is dataplane.Commander, wired by
// dataplane.KindBackend.
//
// Discovery. Pods get their IPs only once they exist, so nothing in the
// generated files is an IP: the data plane's configuration names every
// address (see names.go), and the processes resolve the names through the
// cluster DNS at start-up, waiting until they resolve:
//
//	pod P in namespace N     pod-P.N.svc.cluster.local   headless Service pod-P, selector ambientsim.io/dns=P (exactly that pod;
//	                                                     for a pure load-generator pod, its Jobs' pods), not-ready addresses published
//	service S / waypoint W   S.N.svc.cluster.local       the Service's ClusterIP
//	the CA                   controlplane.ambientsim-system.svc.cluster.local:15012
//	own addresses            $(POD_IP), $(HOST_IP), $(NODE_NAME) from the downward API, expanded by the kubelet in Args
//
// Node proxies know their workloads by the plan's node assignment (the
// nodeSelector on ambientsim.io/node), not by IP. The mesh file and the
// PKI the CA writes are shared through Options.SharedDir, a host
// directory every kind node mounts at SharedMount and every pod sees
// there (hostPath).
//
// Capture (Options.InboundCapture). There is no per-pod redirection as
// with real ztunnel, which enters each pod's network namespace (istio-cni)
// and redirects its traffic to listeners inside it. Outbound is explicit:
// an ambient pod's load generator dials its node proxy's listener at
// $(HOST_IP):<port>, one listener per (source pod, destination), and the
// listener, not the kernel, tells the proxy the source. Inbound is
// node-level policy routing ([CaptureSteps], run with `docker exec` on each
// kind node right after the cluster exists): TCP to the node's pod CIDR
// on port 15008 is delivered to the node itself, where the node proxy's
// transparent listener accepts it with the pod's IP as local address —
// the local backend's inbound rule with a CIDR for the unknown pod IPs.
// Consequences, listed in Bundle.NotEmulated: HBONE leaves a node proxy
// from the node's IP (destination metrics know the source by principal
// only), and a sidecar-mode pod's own 15008 is captured too (ambient or
// waypoint traffic to sidecar pods is refused; sidecar to sidecar uses
// 15006 and works). Waypoints escape the capture by listening on another
// port behind their Service.
//
// [Backend] runs the exact sequence [SetupSteps], [RunSteps] and
// [TeardownStep] print, plus the capture steps:
//
//	kind create cluster --name ambientsim --config kind-cluster.yaml --wait 180s
//	kubectl --context kind-ambientsim get nodes -l ambientsim.io/node=<node> -o jsonpath=...   # kind node, pod CIDR, node IP (InboundCapture)
//	docker exec <kind node> ip route replace local 0.0.0.0/0 dev lo table 100 src <node IP>
//	docker exec <kind node> ip rule add to <pod CIDR> ipproto tcp dport 15008 lookup 100 prio 100
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
// pod deletions (forced for "kill"); the controllers restart the pod, and
// the processes watching its name (meshnode --re-resolve) restart too.
// kind does not shape links: latency and bandwidth wishes are listed in
// Bundle.NotEmulated.
//
// Without docker, kind, kubectl or go in PATH, or when `docker info`
// finds no engine, Setup fails with [CheckPrerequisites]' message naming
// what is missing, before anything is created.
//
// What has been verified: the generated manifests decode strictly into
// k8s.io/api types and satisfy the discovery contract (tests), the
// command sequence runs against scripted kubectl/docker answers, the
// capture steps deliver HBONE as intended in network namespaces standing
// in for kind nodes (TestCaptureStepsInNetns), and the data plane's kind
// command lines carry requests end to end in such namespaces
// (dataplane.TestKindCommandsInNetns). What has not: a real kind
// cluster. The machine this was written on has no container engine and
// no kind; TestKindEndToEnd (AMBIENTSIM_KIND_E2E=1) is the test to run
// where they exist.
package kind
