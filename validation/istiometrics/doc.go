// Package istiometrics registers and records Istio's standard metrics for the
// validation data plane, with Istio's names, label sets and label order, so
// that queries written for a real mesh work on our proxies unchanged.
//
// TCP metrics follow ztunnel (src/proxy/metrics.rs CommonTrafficLabels):
// istio_tcp_connections_opened_total is counted when a connection starts
// (response_flags "-"), byte counters are counted live, and
// istio_tcp_connections_closed_total once at the end with the final flag.
// HTTP metrics follow Envoy's istio_stats filter: istio_requests_total and
// istio_request_duration_milliseconds (Envoy's default buckets), plus request
// and response size histograms.
//
// Usage story:
//
//	reg := prometheus.NewRegistry()
//	tcp := istiometrics.MustTCP(reg)
//	rec := tcp.Open(istiometrics.TCPConn{Reporter: "destination", Source: src, Destination: dst, SecurityPolicy: "mutual_tls"})
//	rec.Sent(n); rec.Received(m)   // live
//	rec.Close(hbone.FlagNone)
//	http.Handle("/metrics", istiometrics.Handler(reg))
package istiometrics
