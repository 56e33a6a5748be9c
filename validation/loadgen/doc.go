// Package loadgen is the HTTP load generator of the validation harness. It
// runs open-loop at a constant rate, measuring a request that had to wait
// for a busy connection from its intended send time, so that a stalled
// server cannot hide its queueing (coordinated omission) — while the
// generator's own timer oversleep on an idle connection is not charged
// (SendDelayHistogram reports it) — or closed-loop, each connection sending
// its next request when the previous one is answered (optionally paced, as
// fortio does). Connections are kept alive or opened per request.
//
// Results are written in fortio's JSON result format (RunType, StartTime,
// RequestedQPS, ActualQPS, ActualDuration, NumThreads, DurationHistogram
// {Count, Min, Max, Sum, Avg, StdDev, Data[{Start, End, Percent, Count}],
// Percentiles[{Percentile, Value}]}, RetCodes, Sizes, SocketCount, URL...),
// with values in seconds and fortio's bucket boundaries and percentile
// interpolation, so fortio's own tooling and our harness read both alike.
//
// Usage story:
//
//	res, err := loadgen.Run(ctx, loadgen.Options{URL: "http://127.0.10.100/", QPS: 1000,
//		Duration: 10 * time.Second, Connections: 8, Mode: loadgen.OpenLoop, PayloadSize: 1024})
//	p99 := res.DurationHistogram.CalcPercentile(99) // seconds
//	_ = res.WriteJSON("result.json")
package loadgen
