package istiometric

import "slices"

// Metric names (Istio standard metrics).
const (
	RequestsTotal   = "istio_requests_total"                // Envoy: requests, by response code
	RequestDuration = "istio_request_duration_milliseconds" // Envoy: histogram, ms
	RequestBytes    = "istio_request_bytes"                 // Envoy: histogram, bytes
	ResponseBytes   = "istio_response_bytes"                // Envoy: histogram, bytes
	TCPOpened       = "istio_tcp_connections_opened_total"  // ztunnel and Envoy (TCP)
	TCPClosed       = "istio_tcp_connections_closed_total"
	TCPSent         = "istio_tcp_sent_bytes_total"
	TCPReceived     = "istio_tcp_received_bytes_total"
)

// Unknown is the value Istio gives a label it cannot fill.
const Unknown = "unknown"

// Reporter label values.
const (
	ReporterSource      = "source"
	ReporterDestination = "destination"
	ReporterWaypoint    = "waypoint"
)

// Response-code and protocol labels: the ones HTTP metrics add to the
// peer and service labels.
const (
	LabelResponseCode       = "response_code"
	LabelGRPCResponseStatus = "grpc_response_status"
)

// httpLabels is Envoy's istio_stats tag list in the order of istio/proxy's
// server_waypoint_proxy_request_total testdata.
var httpLabels = []string{
	"reporter",
	"source_workload", "source_canonical_service", "source_canonical_revision", "source_workload_namespace",
	"source_principal", "source_app", "source_version", "source_cluster",
	"destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
	"destination_version", "destination_service", "destination_canonical_service",
	"destination_canonical_revision", "destination_service_name", "destination_service_namespace",
	"destination_cluster",
	"request_protocol", LabelResponseCode, LabelGRPCResponseStatus, "response_flags", "connection_security_policy",
}

// tcpLabels is ztunnel's CommonTrafficLabels order (1.26+, with locality).
var tcpLabels = []string{
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

// HTTPLabels returns Envoy's HTTP metric label names in order (a copy).
func HTTPLabels() []string { return slices.Clone(httpLabels) }

// TCPLabels returns ztunnel's TCP metric label names in order (a copy).
func TCPLabels() []string { return slices.Clone(tcpLabels) }

// EnvoyTCPLabels returns the labels of Envoy's TCP metrics: the HTTP
// labels without the response code and gRPC status, in Envoy's order.
func EnvoyTCPLabels() []string {
	return slices.DeleteFunc(HTTPLabels(), func(l string) bool {
		return l == LabelResponseCode || l == LabelGRPCResponseStatus
	})
}

// DurationBucketsMs are Envoy's default histogram bucket bounds in ms.
var DurationBucketsMs = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
	30000, 60000, 300000, 600000, 1800000, 3600000}
