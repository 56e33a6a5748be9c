// Package histquantile estimates quantiles from cumulative histogram
// buckets exactly as Prometheus's histogram_quantile() does, so a quantile
// the simulator computes from its own Istio-metric histograms and one read
// from a real cluster's Prometheus are the same estimator on the same
// buckets (Envoy's defaults for istio_request_duration_milliseconds).
//
//	q := histquantile.Quantile(0.99, []histquantile.Bucket{
//		{UpperBound: 5, Count: 90}, {UpperBound: 10, Count: 99}, {UpperBound: math.Inf(1), Count: 100},
//	})
package histquantile
