package istiometrics

import "github.com/ambientsim/ambientsim/internal/istiometric"

// Unknown is the value Istio uses for a label it cannot fill.
const Unknown = istiometric.Unknown

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

// The label names and their order are the shared vocabulary in
// internal/istiometric (the simulator uses the same).
var (
	tcpLabelNames  = istiometric.TCPLabels()
	httpLabelNames = istiometric.HTTPLabels()
)

// TCPLabelNames returns ztunnel's TCP label names in order.
func TCPLabelNames() []string { return append([]string(nil), tcpLabelNames...) }

// HTTPLabelNames returns Envoy's HTTP label names in order.
func HTTPLabelNames() []string { return append([]string(nil), httpLabelNames...) }
