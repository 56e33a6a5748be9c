// Package loadgen is the HTTP load generator of the validation harness. It
// runs open-loop at a constant rate, measuring a request that had to wait
// for a busy connection from its intended send time, so that a stalled
// server cannot hide its queueing (coordinated omission) — while the
// generator's own timer oversleep on an idle connection is not charged
// (SendDelayHistogram reports it) — or closed-loop, each connection sending
// its next request when the previous one is answered (optionally paced, as
// fortio does). Connections are kept alive or opened per request.
//
// Results are written as exactly fortio v1.68.2's HTTP result JSON
// (fhttp.HTTPRunnerResults: the same field names, types, nesting and
// order, nothing added), with values in seconds and fortio's bucket
// boundaries and percentile interpolation, so fortio's own Go type decodes
// it strictly, fortio's report UI draws it and our harness reads fortio's
// files alike (validation/interop proves the first two). The load mode is
// recorded in Labels ("open-loop"/"closed-loop"); an interrupted run sets
// fortio's error fields.
//
// Usage story:
//
//	res, err := loadgen.Run(ctx, loadgen.Options{URL: "http://127.0.10.100/", QPS: 1000,
//		Duration: 10 * time.Second, Connections: 8, Mode: loadgen.OpenLoop, PayloadSize: 1024})
//	p99 := res.DurationHistogram.CalcPercentile(99) // seconds
//	_ = res.WriteJSON("result.json")
package loadgen
