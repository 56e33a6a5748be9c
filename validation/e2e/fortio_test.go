package e2e_test

import (
	"context"
	"fmt"
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
// rate and connection count and compares what they measured. A shared
// machine (and the rest of the suite running beside it) adds noise, so a
// round that disagrees is repeated, up to three rounds: a systematic
// difference (units, bucketing, pacing) fails all three.
func TestLoadgenAgreesWithFortio(t *testing.T) {
	bin := fortioBinary(t)
	env := meshtest.Start(t, meshtest.Options{ResponseSize: 1024})
	url := "http://" + env.Outbound("client", env.ServerHTTP) + "/"
	var problems []string
	for round := 1; round <= 3; round++ {
		problems = compareWithFortio(t, bin, url)
		if len(problems) == 0 {
			return
		}
		t.Logf("round %d disagreed: %v", round, problems)
	}
	t.Errorf("loadgen and fortio disagree in 3 rounds; last: %v", problems)
}

func compareWithFortio(t *testing.T, bin, url string) []string {
	t.Helper()
	const (
		qps   = 200
		conns = 2
		dur   = 1500 * time.Millisecond
	)
	out := filepath.Join(t.TempDir(), "fortio.json")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "load", "-qps", fmt.Sprint(qps), "-c", fmt.Sprint(conns), "-t", dur.String(),
		"-r", "0.0001", "-p", "50,90,99", "-json", out, "-payload-size", "0", "-quiet", url)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fortio: %v\n%s", err, b)
	}
	ref, err := loadgen.ReadJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fortio: %s", ref.Summary())
	var problems []string
	var d net.Dialer
	for _, mode := range []string{loadgen.ClosedLoop, loadgen.OpenLoop} {
		ours, err := loadgen.Run(ctx, loadgen.Options{URL: url, QPS: qps, Connections: conns, Duration: dur,
			Mode: mode, Resolution: 0.0001, Percentiles: []float64{50, 90, 99}, Dial: d.DialContext})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ours (%s): %s", mode, ours.Summary())
		if sd := ours.SendDelayHistogram; sd != nil {
			t.Logf("ours (%s): requests left p50 %.3f ms / p90 %.3f ms after their due time", mode, sd.CalcPercentile(50)*1000, sd.CalcPercentile(90)*1000)
		}
		// Status codes and rate are not noisy: they must always agree.
		if ours.RetCodes[200] == 0 || ref.RetCodes[200] == 0 || len(ours.RetCodes) != 1 {
			t.Fatalf("codes: ours %v fortio %v", ours.RetCodes, ref.RetCodes)
		}
		if r := ours.ActualQPS / ref.ActualQPS; r < 0.9 || r > 1.1 {
			t.Fatalf("%s: actual qps %.1f vs fortio %.1f", mode, ours.ActualQPS, ref.ActualQPS)
		}
		// Latency: the median within half plus 250 µs in both modes; p90 within
		// 100 % plus 500 µs for the closed loop, which measures as fortio does
		// (open loop charges stalls to every request due during them, which
		// fortio does not, so its tail differs by design).
		checks := []struct{ p, rel, abs float64 }{{50, 0.5, 250e-6}}
		if mode == loadgen.ClosedLoop {
			checks = append(checks, struct{ p, rel, abs float64 }{90, 1, 500e-6})
		}
		for _, c := range checks {
			o, f := ours.DurationHistogram.CalcPercentile(c.p), ref.DurationHistogram.CalcPercentile(c.p)
			if math.Abs(o-f) > c.rel*f+c.abs {
				problems = append(problems, fmt.Sprintf("%s p%v = %.3f ms, fortio %.3f ms", mode, c.p, o*1000, f*1000))
			}
		}
	}
	return problems
}
