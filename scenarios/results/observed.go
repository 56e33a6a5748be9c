package results

// Observed compares the simulation with what a real cluster's Prometheus
// showed (the scenario's `observed:` section, written by `ambientsim import
// traffic`): one row per observed edge and simulated mode.
type Observed struct {
	Source string           `json:"source,omitempty"`  // where the observations came from, e.g. "prometheus http://prom:9090"
	End    string           `json:"end,omitempty"`     // RFC 3339 end of the observed range
	RangeS float64          `json:"range_s,omitempty"` // length of the observed range
	Edges  []EdgeComparison `json:"edges"`
}

// EdgeComparison is one edge's predicted and observed rate and latency in
// one mode. Latency quantiles of both sides come from the same Istio
// metric (istio_request_duration_milliseconds of the same reporter, with
// Prometheus's histogram_quantile interpolation) when the mode has that
// reporter on the edge; otherwise the prediction is the simulated
// client-side call latency (PredictedFrom says which).
type EdgeComparison struct {
	Mode        string `json:"mode"`
	Source      string `json:"source"`      // ns/workload
	Destination string `json:"destination"` // ns/service
	Reporter    string `json:"reporter"`    // the reporter the observation came from
	Protocol    string `json:"protocol"`    // http | grpc | tcp (tcp: rates are connections/s)

	ObservedRPS  float64 `json:"observed_rps"`
	PredictedRPS float64 `json:"predicted_rps"`
	// RateError is (predicted - observed) / observed (0 when nothing was observed).
	RateError float64 `json:"rate_error"`

	ObservedP50Ms  *float64 `json:"observed_p50_ms,omitempty"`
	PredictedP50Ms *float64 `json:"predicted_p50_ms,omitempty"`
	ObservedP99Ms  *float64 `json:"observed_p99_ms,omitempty"`
	PredictedP99Ms *float64 `json:"predicted_p99_ms,omitempty"`
	// PredictedFrom names the simulated figure the predicted latency is.
	PredictedFrom string `json:"predicted_from,omitempty"`
}
