package scenarios

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/promtest"
	"github.com/ambientsim/ambientsim/sim"
)

// allowedLints are the `promtool check metrics` findings Istio's own metric
// names trigger: the standard istio_request_duration_milliseconds is in
// milliseconds, not Prometheus's base unit. Anything else fails the test.
var allowedLints = []string{
	`istio_request_duration_milliseconds use base unit "seconds" instead of "milliseconds"`,
}

// TestPromtoolCheckMetrics runs the real promtool on metrics.prom of a run
// with every reporter (source, destination, waypoint; HTTP and TCP).
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := promtest.Binary(t, "promtool")
	sc, err := Load("modes-compare")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(sc, Options{Duration: 5 * sim.Second})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := run.Write(dir); err != nil {
		t.Fatal(err)
	}
	prom, err := os.ReadFile(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(prom)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() == 3: // lint findings only
	default:
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		if !contains(allowedLints, line) {
			t.Errorf("promtool check metrics: %s", line)
		}
	}
}
