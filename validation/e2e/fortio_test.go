package e2e_test

import (
	"context"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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
// HBONE → ztunnel → echo) with fortio and with our generator at the same
// rate and connection count and compares what they measured.
func TestLoadgenAgreesWithFortio(t *testing.T) {
	bin := fortioBinary(t)
	env := meshtest.Start(t, meshtest.Options{ResponseSize: 1024})
	addr := env.Outbound("client", env.ServerHTTP)
	url := "http://" + addr + "/"
	const (
		qps   = 200
		conns = 2
		dur   = 1500 * time.Millisecond
	)
	out := filepath.Join(t.TempDir(), "fortio.json")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "load", "-qps", "200", "-c", "2", "-t", dur.String(), "-r", "0.0001",
		"-p", "50,90,99", "-json", out, "-payload-size", "0", "-quiet", url)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fortio: %v\n%s", err, b)
	}
	ref, err := loadgen.ReadJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	var d net.Dialer
	for _, mode := range []string{loadgen.ClosedLoop, loadgen.OpenLoop} {
		ours, err := loadgen.Run(ctx, loadgen.Options{URL: url, QPS: qps, Connections: conns, Duration: dur,
			Mode: mode, Resolution: 0.0001, Percentiles: []float64{50, 90, 99}, Dial: d.DialContext})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("fortio: %s", ref.Summary())
		t.Logf("ours (%s): %s", mode, ours.Summary())
		if d := ours.SendDelayHistogram; d != nil {
			t.Logf("ours (%s): requests left p50 %.3f ms / p90 %.3f ms after their due time", mode, d.CalcPercentile(50)*1000, d.CalcPercentile(90)*1000)
		}
		if ours.RetCodes[200] == 0 || ref.RetCodes[200] == 0 || len(ours.RetCodes) != 1 {
			t.Fatalf("codes: ours %v fortio %v", ours.RetCodes, ref.RetCodes)
		}
		if r := ours.ActualQPS / ref.ActualQPS; r < 0.9 || r > 1.1 {
			t.Errorf("%s: actual qps %.1f vs fortio %.1f", mode, ours.ActualQPS, ref.ActualQPS)
		}
		if mode == loadgen.OpenLoop {
			// Open loop charges every stall of this shared machine to all
			// requests due during it (coordinated-omission correction), which
			// fortio does not: tails differ by design; the median must agree.
			o, f := ours.DurationHistogram.CalcPercentile(50), ref.DurationHistogram.CalcPercentile(50)
			if math.Abs(o-f) > 0.5*f+250e-6 {
				t.Errorf("open loop p50 = %.3f ms, fortio %.3f ms", o*1000, f*1000)
			}
			continue
		}
		// Same method as fortio: loopback latencies are a few hundred
		// microseconds with noise from other processes on a shared machine
		// (and the race detector in CI): the median agrees within half plus
		// 250 µs, p90 within 100 % plus 500 µs.
		for _, c := range []struct{ p, rel, abs float64 }{{50, 0.5, 250e-6}, {90, 1, 500e-6}} {
			o, f := ours.DurationHistogram.CalcPercentile(c.p), ref.DurationHistogram.CalcPercentile(c.p)
			if math.Abs(o-f) > c.rel*f+c.abs {
				t.Errorf("%s: p%v = %.3f ms, fortio %.3f ms", mode, c.p, o*1000, f*1000)
			}
		}
	}
}
