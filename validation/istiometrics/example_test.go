package istiometrics_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ambientsim/ambientsim/validation/istiometrics"
)

var (
	client = istiometrics.Peer{
		Workload: "sleep", Namespace: "default", App: "sleep",
		Principal: "spiffe://cluster.local/ns/default/sa/sleep",
	}
	server = istiometrics.Peer{
		Workload: "echo-v1", Namespace: "default", App: "echo", Version: "v1",
		Principal: "spiffe://cluster.local/ns/default/sa/echo",
	}
	echoSvc = istiometrics.Service{
		Host: "echo.default.svc.cluster.local", Name: "echo", Namespace: "default",
	}
)

// A ztunnel-style proxy opens a record per connection, counts bytes as they
// are copied and closes it with the final response flag. The counters are
// scraped from Handler exactly as Prometheus would.
func ExampleTCP() {
	reg := prometheus.NewRegistry()
	tcp := istiometrics.MustTCP(reg)

	rec := tcp.Open(istiometrics.TCPConn{
		Reporter:       "destination",
		Source:         client,
		Destination:    server,
		Service:        echoSvc,
		SecurityPolicy: "mutual_tls",
	})
	rec.Received(120) // request bytes from the client
	rec.Sent(4096)    // response bytes back to it
	rec.Close("-")
	rec.Close("DENY") // later calls do nothing

	w := httptest.NewRecorder()
	istiometrics.Handler(reg).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(line, "istio_tcp_") {
			name := line[:strings.IndexByte(line, '{')]
			value := line[strings.LastIndexByte(line, ' ')+1:]
			fmt.Println(name, value)
		}
	}
	// Output:
	// istio_tcp_connections_closed_total 1
	// istio_tcp_connections_opened_total 1
	// istio_tcp_received_bytes_total 120
	// istio_tcp_sent_bytes_total 4096
}

// A waypoint records one finished HTTP request; every Istio HTTP metric is
// updated with the same labels, in Istio's label order.
func ExampleHTTP() {
	reg := prometheus.NewRegistry()
	m := istiometrics.MustHTTP(reg)
	m.Record(istiometrics.Request{
		Reporter:       "waypoint",
		Source:         client,
		Destination:    server,
		Service:        echoSvc,
		Protocol:       "http",
		Code:           503,
		ResponseFlags:  "UF",
		SecurityPolicy: "mutual_tls",
		Duration:       12 * time.Millisecond,
		RequestBytes:   80,
		ResponseBytes:  19,
	})

	families, err := reg.Gather()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range families {
		fmt.Println(f.GetName(), f.GetType())
	}
	labels := map[string]string{}
	for _, f := range families {
		if f.GetName() == "istio_requests_total" {
			for _, lp := range f.GetMetric()[0].GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
		}
	}
	fmt.Println("code:", labels["response_code"], "flags:", labels["response_flags"], "reporter:", labels["reporter"])
	// Output:
	// istio_request_bytes HISTOGRAM
	// istio_request_duration_milliseconds HISTOGRAM
	// istio_requests_total COUNTER
	// istio_response_bytes HISTOGRAM
	// code: 503 flags: UF reporter: waypoint
}
