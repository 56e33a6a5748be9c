package kind

import (
	"fmt"
	"strings"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// Discovery: how processes find each other on kind. Pods get their IPs
// only once they exist, so the data plane's configuration names them
// instead, and the processes resolve the names through the cluster DNS at
// start-up:
//
//   - every plan pod has a headless Service of its own,
//     PodServiceName(name), selecting exactly that pod (label LabelDNS)
//     and publishing it before it is ready, so
//     PodDNSName(name, ns) resolves to the pod IP as soon as the pod has one;
//   - a plan service's VIP is its Service's ClusterIP, ServiceDNSName(name, ns);
//   - a waypoint is its Service's ClusterIP too, ServiceDNSName(name, ns),
//     port harness.HBONEPort mapped to the pod's ready port;
//   - node proxies run in the host network; processes reach the one on
//     their own node at $(HOST_IP).
const (
	// ClusterDomain is kind's cluster DNS domain.
	ClusterDomain = "cluster.local"
	// LabelDNS is on the one pod a PodServiceName Service selects: the
	// plan's pod name.
	LabelDNS = "ambientsim.io/dns"
	// SharedMount is where every pod sees Options.SharedDir (a hostPath
	// volume onto the kind nodes' mount of the same host directory): the
	// data plane's mesh file and the PKI its CA writes.
	SharedMount = "/var/lib/ambientsim/shared"
)

// PodServiceName is the headless Service that gives plan pod name its
// DNS name.
func PodServiceName(name string) string { return "pod-" + strings.ToLower(name) }

// PodDNSName is the DNS name resolving to the IP of plan pod name in
// namespace ns ("" = default).
func PodDNSName(name, ns string) string {
	return PodServiceName(name) + "." + orDefault(ns, "default") + ".svc." + ClusterDomain
}

// ServiceDNSName is the DNS name resolving to the ClusterIP of plan
// service name in namespace ns ("" = default).
func ServiceDNSName(name, ns string) string {
	return name + "." + orDefault(ns, "default") + ".svc." + ClusterDomain
}

// DefaultSystemNamespace holds the node proxies and the control plane
// unless Options.SystemNamespace says otherwise.
const DefaultSystemNamespace = "ambientsim-system"

// ControlPlaneService is the Service in front of the control plane (the CA).
const ControlPlaneService = "controlplane"

// CaptureDescription says in one line how the kind backend captures
// traffic for plan, for reports (harness.CaptureDescription's kind
// counterpart).
func CaptureDescription(p *harness.Plan) string {
	n := 0
	for _, pod := range p.Pods {
		if pod.Mode == harness.ModeAmbient {
			n++
		}
	}
	return fmt.Sprintf("%d ambient pods (kind): outbound by explicit node-proxy listeners at $(HOST_IP); inbound TCP %d to each node's pod CIDR delivered to its node proxy by policy routing; no in-pod redirection", n, harness.HBONEPort)
}
