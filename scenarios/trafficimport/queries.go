package trafficimport

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/ambientsim/ambientsim/internal/istiometric"
)

// Query is one PromQL instant query the importer runs at Options.End.
type Query struct {
	ID     string // stable name: the key in a responses file
	PromQL string
}

// Label names of Istio's standard metrics the importer groups by.
const (
	edgeLabels = "reporter, source_workload, source_workload_namespace, destination_service_name, destination_service_namespace, destination_workload, destination_workload_namespace"
	peakLabels = "reporter, source_workload, source_workload_namespace, destination_service_name, destination_service_namespace"
	// Istio's standard labels carry no method or path; clusters that add
	// them (custom telemetry) get a request mix from these names.
	mixLabels = "request_method, request_path"
)

// Query IDs, in the order they run.
const (
	QRequests       = "requests"
	QRequestsPeak   = "requests_peak"
	QDuration       = "duration_buckets"
	QRequestBytes   = "request_bytes_buckets"
	QRequestBytesS  = "request_bytes_sum"
	QResponseBytes  = "response_bytes_buckets"
	QResponseBytesS = "response_bytes_sum"
	QTCPOpened      = "tcp_opened"
	QTCPOpenedPeak  = "tcp_opened_peak"
	QTCPSent        = "tcp_sent"
	QTCPReceived    = "tcp_received"
)

// promDuration writes d as PromQL does (1h, 90s → 1m30s).
func promDuration(d time.Duration) string { return model.Duration(d).String() }

// selector is the label matchers every query carries: the three reporters
// and the user's extra matchers.
func (o Options) selector() string {
	m := []string{`reporter=~"source|destination|waypoint"`}
	if s := strings.TrimSpace(o.Selector); s != "" {
		m = append(m, strings.Trim(s, "{}"))
	}
	return "{" + strings.Join(m, ", ") + "}"
}

// Queries returns the queries an import runs for o, in order. Each is an
// instant query evaluated at o.End; R is o.Range, W the peak window and S
// its subquery step.
func Queries(o Options) []Query {
	o = o.withDefaults()
	sel, r := o.selector(), promDuration(o.Range)
	w, s := promDuration(o.PeakWindow), promDuration(o.PeakStep)
	inc := func(metric, by string) string {
		return fmt.Sprintf("sum by (%s) (increase(%s%s[%s]))", by, metric, sel, r)
	}
	peak := func(metric string) string {
		return fmt.Sprintf("max_over_time(sum by (%s) (rate(%s%s[%s]))[%s:%s])", peakLabels, metric, sel, w, r, s)
	}
	return []Query{
		{QRequests, inc(istiometric.RequestsTotal, edgeLabels+", request_protocol, response_code, "+mixLabels)},
		{QRequestsPeak, peak(istiometric.RequestsTotal)},
		{QDuration, inc(istiometric.RequestDuration+"_bucket", edgeLabels+", le")},
		{QRequestBytes, inc(istiometric.RequestBytes+"_bucket", edgeLabels+", le")},
		{QRequestBytesS, inc(istiometric.RequestBytes+"_sum", edgeLabels)},
		{QResponseBytes, inc(istiometric.ResponseBytes+"_bucket", edgeLabels+", le")},
		{QResponseBytesS, inc(istiometric.ResponseBytes+"_sum", edgeLabels)},
		{QTCPOpened, inc(istiometric.TCPOpened, edgeLabels)},
		{QTCPOpenedPeak, peak(istiometric.TCPOpened)},
		{QTCPSent, inc(istiometric.TCPSent, edgeLabels)},
		{QTCPReceived, inc(istiometric.TCPReceived, edgeLabels)},
	}
}
