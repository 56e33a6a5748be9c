package istiometrics

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ambientsim/ambientsim/internal/istiometric"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// EnvoyDefaultBuckets are Envoy's default histogram bucket bounds in ms.
var EnvoyDefaultBuckets = istiometric.DurationBucketsMs

// sizeBuckets are Envoy's istio_request_bytes buckets (exponential, bytes).
var sizeBuckets = prometheus.ExponentialBuckets(1, 10, 8)

// HTTP holds Envoy's istio_stats HTTP metrics.
type HTTP struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	requestBytes  *prometheus.HistogramVec
	responseBytes *prometheus.HistogramVec
}

// NewHTTP registers the HTTP metrics on reg.
func NewHTTP(reg prometheus.Registerer) (*HTTP, error) {
	m := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: istiometric.RequestsTotal, Help: "Total number of requests"}, httpLabelNames),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: istiometric.RequestDuration, Help: "Duration of requests in milliseconds",
			Buckets: EnvoyDefaultBuckets}, httpLabelNames),
		requestBytes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: istiometric.RequestBytes, Help: "Request body sizes in bytes", Buckets: sizeBuckets}, httpLabelNames),
		responseBytes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: istiometric.ResponseBytes, Help: "Response body sizes in bytes", Buckets: sizeBuckets}, httpLabelNames),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.requestBytes, m.responseBytes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register istio HTTP metrics: %w", err)
		}
	}
	return m, nil
}

// MustHTTP is NewHTTP that panics on a registration conflict.
func MustHTTP(reg prometheus.Registerer) *HTTP {
	m, err := NewHTTP(reg)
	if err != nil {
		panic(err)
	}
	return m
}

// Request is the label content and measurements of one HTTP request.
type Request struct {
	Reporter       string // "waypoint", "source" or "destination"
	Source         Peer
	Destination    Peer
	Service        Service
	Protocol       string // "http", "grpc"
	Code           int
	ResponseFlags  string // "-" unless Envoy-style flags apply (e.g. "UF", "UT", "URX")
	SecurityPolicy string // "mutual_tls", "none", "unknown"
	Duration       time.Duration
	RequestBytes   int64
	ResponseBytes  int64
}

// Record adds one finished request to every HTTP metric.
func (m *HTTP) Record(r Request) {
	s, d := r.Source, r.Destination
	flags := r.ResponseFlags
	if flags == "" {
		flags = "-"
	}
	proto := r.Protocol
	if proto == "" {
		proto = "http"
	}
	vals := []string{
		v(r.Reporter),
		v(s.Workload), v(s.CanonicalService), v(s.CanonicalRevision), v(s.Namespace),
		v(s.Principal), v(s.App), v(s.Version), v(s.Cluster),
		v(d.Workload), v(d.Namespace), v(d.Principal), v(d.App),
		v(d.Version), v(r.Service.Host), v(d.CanonicalService),
		v(d.CanonicalRevision), v(r.Service.Name), v(r.Service.Namespace),
		v(d.Cluster),
		proto, strconv.Itoa(r.Code), "", flags, v(r.SecurityPolicy),
	}
	m.requests.WithLabelValues(vals...).Inc()
	m.duration.WithLabelValues(vals...).Observe(float64(r.Duration) / float64(time.Millisecond))
	m.requestBytes.WithLabelValues(vals...).Observe(float64(r.RequestBytes))
	m.responseBytes.WithLabelValues(vals...).Observe(float64(r.ResponseBytes))
}

// Handler serves reg in the Prometheus text format (or OpenMetrics if asked).
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, EnableOpenMetrics: true})
}
