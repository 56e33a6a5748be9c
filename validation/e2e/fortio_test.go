package e2e_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/loadgen"
	"github.com/ambientsim/ambientsim/validation/meshtest"
)

// fortioBinary finds fortio (v1.68.2: `go install fortio.org/fortio@v1.68.2`)
// on PATH or at $FORTIO. Without it the test skips, except under CI where
// the binary is installed on purpose and its absence is a failure.
func fortioBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FORTIO"); p != "" {
		return p
	}
	p, err := exec.LookPath("fortio")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but fortio is not on PATH: install it with go install fortio.org/fortio@v1.68.2")
	}
	t.Skip("fortio not on PATH (go install fortio.org/fortio@v1.68.2); set CI to make this a failure")
	return ""
}

// TestLoadgenAgreesWithFortio drives the same ambient path (app → ztunnel →
// HBONE → ztunnel → echo) with fortio and with our generator (closed and
// open loop) at the same time, each for an exact number of calls at the
// same rate and connection count, and checks what must hold whatever the
// machine's load: every call counted and answered 200, one socket per
// connection, no run faster than its pacing allows, the same histogram
// grid and percentiles, and the same latency scale. Running all three at
// once puts them under the same load; a unit or pacing mistake (ms for s,
// per-connection for total rate) fails by a factor far beyond the bounds.
func TestLoadgenAgreesWithFortio(t *testing.T) {
	bin := fortioBinary(t)
	env := meshtest.Start(t, meshtest.Options{ResponseSize: 1024})
	url := "http://" + env.Outbound("client", env.ServerHTTP) + "/"
	const (
		qps   = 200
		conns = 2
		calls = 300
		res   = 0.0001
	)
	percentiles := []float64{50, 90, 99}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	out := filepath.Join(t.TempDir(), "fortio.json")
	fortioDone := make(chan error, 1)
	var fortioOutput []byte
	go func() {
		cmd := exec.CommandContext(ctx, bin, "load", "-qps", fmt.Sprint(qps), "-c", fmt.Sprint(conns), "-n", fmt.Sprint(calls),
			"-r", fmt.Sprint(res), "-p", "50,90,99", "-json", out, "-payload-size", "0", "-quiet", url)
		var err error
		fortioOutput, err = cmd.CombinedOutput()
		fortioDone <- err
	}()
	ours := map[string]*loadgen.Result{}
	errs := make(chan error, 2)
	results := make(chan *loadgen.Result, 2)
	var d net.Dialer
	for _, mode := range []string{loadgen.ClosedLoop, loadgen.OpenLoop} {
		go func() {
			r, err := loadgen.Run(ctx, loadgen.Options{URL: url, QPS: qps, Connections: conns, Requests: calls,
				Mode: mode, Resolution: res, Percentiles: percentiles, Dial: d.DialContext})
			if err != nil {
				errs <- fmt.Errorf("%s loop: %w", mode, err)
				return
			}
			results <- r
		}()
	}
	for range 2 {
		select {
		case err := <-errs:
			t.Fatal(err)
		case r := <-results:
			ours[strings.TrimSuffix(r.Labels, "-loop")] = r
		}
	}
	if err := <-fortioDone; err != nil {
		t.Fatalf("fortio: %v\n%s", err, fortioOutput)
	}
	ref, err := loadgen.ReadJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fortio: %s", ref.Summary())
	checkRun(t, "fortio", ref, calls, conns, qps, res, percentiles)
	for _, mode := range []string{loadgen.ClosedLoop, loadgen.OpenLoop} {
		r := ours[mode]
		t.Logf("ours (%s): %s", mode, r.Summary())
		if sd := r.SendDelayHistogram; sd != nil {
			t.Logf("ours (%s): requests left p50 %.3f ms / p90 %.3f ms after their due time", mode, sd.CalcPercentile(50)*1000, sd.CalcPercentile(90)*1000)
		}
		checkRun(t, "ours ("+mode+")", r, calls, conns, qps, res, percentiles)
		// Same scale: the three ran at the same time on the same path, so
		// their medians differ by the generators' own overhead, not by the
		// machine's load. A factor of 3 (plus 1 ms for a busy generator
		// process) is an order of magnitude inside a units mistake (×1000).
		o, f := r.DurationHistogram.CalcPercentile(50), ref.DurationHistogram.CalcPercentile(50)
		if o > 3*f+1e-3 || f > 3*o+1e-3 {
			t.Errorf("%s loop p50 %.3f ms, fortio's %.3f ms at the same time: not the same scale", mode, o*1000, f*1000)
		}
	}
}

// checkRun asserts what a bounded paced run must show regardless of load.
func checkRun(t *testing.T, who string, r *loadgen.Result, calls, conns int, qps, res float64, percentiles []float64) {
	t.Helper()
	h := r.DurationHistogram
	if h.Count != int64(calls) || r.RetCodes[200] != int64(calls) || len(r.RetCodes) != 1 {
		t.Errorf("%s: %d calls, codes %v; want exactly %d, all 200", who, h.Count, r.RetCodes, calls)
	}
	if r.SocketCount != int64(conns) || len(r.Sockets) != conns {
		t.Errorf("%s: sockets %v (%d); want one per connection (%d)", who, r.Sockets, r.SocketCount, conns)
	}
	// The last call is due (calls-1)/qps after the first: no paced run,
	// however fast the machine, ends sooner (1 % for clock granularity).
	if min := time.Duration(float64(calls-1) / qps * 0.99 * float64(time.Second)); r.ActualDuration < min {
		t.Errorf("%s: %d calls in %v; pacing at %v qps needs at least %v", who, calls, r.ActualDuration, qps, min)
	}
	// Latencies are seconds: positive, below the 5 s call timeout.
	if h.Min <= 0 || h.Max >= 5 || h.Avg < h.Min || h.Avg > h.Max {
		t.Errorf("%s: min %v avg %v max %v s; want 0 < min ≤ avg ≤ max < 5", who, h.Min, h.Avg, h.Max)
	}
	// Interior bucket edges lie on fortio's grid at this resolution.
	for i, b := range h.Data {
		if i == 0 {
			continue
		}
		if !onGrid(b.Start / res) {
			t.Errorf("%s: bucket %d starts at %v s, not on fortio's grid at %v s resolution", who, i, b.Start, res)
		}
	}
	var got []float64
	for _, p := range h.Percentiles {
		got = append(got, p.Percentile)
	}
	if fmt.Sprint(got) != fmt.Sprint(percentiles) {
		t.Errorf("%s: percentiles %v, want %v", who, got, percentiles)
	}
}

// onGrid reports whether v (in resolution units) is one of fortio's bucket
// bounds.
func onGrid(v float64) bool {
	for _, b := range []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100,
		120, 140, 160, 180, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900, 1000, 2000, 3000, 4000, 5000, 7500, 10000,
		20000, 30000, 40000, 50000, 75000, 100000} {
		if math.Abs(v-b) < 1e-6 {
			return true
		}
	}
	return false
}
