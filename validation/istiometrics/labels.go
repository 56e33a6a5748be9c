package istiometrics

// Unknown is the value Istio uses for a label it cannot fill.
const Unknown = "unknown"

// Peer describes one end of a connection or request.
type Peer struct {
	Workload          string
	Namespace         string
	Principal         string // full spiffe:// URI
	App               string
	Version           string
	CanonicalService  string
	CanonicalRevision string
	Cluster           string
	Region            string
	Zone              string
}

// Service describes the destination service of a connection or request.
type Service struct {
	Host      string // destination_service, e.g. echo.default.svc.cluster.local
	Name      string
	Namespace string
}

func v(s string) string {
	if s == "" {
		return Unknown
	}
	return s
}

// tcpLabelNames is ztunnel's CommonTrafficLabels order (1.26+, with locality).
var tcpLabelNames = []string{
	"reporter",
	"source_workload", "source_canonical_service", "source_canonical_revision", "source_workload_namespace",
	"source_principal", "source_app", "source_version", "source_cluster",
	"destination_service", "destination_service_namespace", "destination_service_name",
	"destination_workload", "destination_canonical_service", "destination_canonical_revision",
	"destination_workload_namespace", "destination_principal", "destination_app", "destination_version",
	"destination_cluster",
	"request_protocol", "response_flags", "connection_security_policy",
	"source_region", "source_zone", "destination_region", "destination_zone",
}

// httpLabelNames is Envoy's istio_stats tag list in the order of istio/proxy's
// server_waypoint_proxy_request_total testdata.
var httpLabelNames = []string{
	"reporter",
	"source_workload", "source_canonical_service", "source_canonical_revision", "source_workload_namespace",
	"source_principal", "source_app", "source_version", "source_cluster",
	"destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
	"destination_version", "destination_service", "destination_canonical_service",
	"destination_canonical_revision", "destination_service_name", "destination_service_namespace",
	"destination_cluster",
	"request_protocol", "response_code", "grpc_response_status", "response_flags", "connection_security_policy",
}

// TCPLabelNames returns ztunnel's TCP label names in order.
func TCPLabelNames() []string { return append([]string(nil), tcpLabelNames...) }

// HTTPLabelNames returns Envoy's HTTP label names in order.
func HTTPLabelNames() []string { return append([]string(nil), httpLabelNames...) }
