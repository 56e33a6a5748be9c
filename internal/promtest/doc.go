// Package promtest runs the real Prometheus server and promtool for tests:
// it finds the binaries (Debian's prometheus package, installed by
// .ci/deps), backfills OpenMetrics files into TSDB blocks, and starts a
// server on them bound to 127.0.0.1 on a free port, waiting (bounded) for
// readiness and killing it when the test ends, whether it passed, failed or
// was interrupted.
//
// A test whose binaries are missing is skipped with the install command,
// except under CI=true, where it fails: CI must run it.
//
//	promtool := promtest.Binary(t, "promtool")
//	promtest.Backfill(t, promtool, "out/metrics.om", dataDir)
//	url := promtest.Start(t, promtest.Binary(t, "prometheus"), dataDir)
package promtest
