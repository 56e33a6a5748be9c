// Package istiometric is the Istio standard-metrics vocabulary the
// simulator (models) and the real data plane (validation/istiometrics)
// share: metric names, label names in the proxies' order, the reporter
// values, the value of a label a proxy cannot fill, and Envoy's duration
// buckets. It holds names only; each side registers its own collectors.
//
//	labels := istiometric.HTTPLabels()          // Envoy's istio_stats order
//	desc := prometheus.NewDesc(istiometric.RequestsTotal, "…", labels, nil)
package istiometric
