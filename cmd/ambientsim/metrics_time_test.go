package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lastTimestamp is the latest sample timestamp in an OpenMetrics file.
func lastTimestamp(t *testing.T, om []byte) time.Time {
	t.Helper()
	var last float64
	for _, line := range strings.Split(string(om), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		ts, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("no timestamp in %q", line)
		}
		last = max(last, ts)
	}
	return time.UnixMilli(int64(last * 1000)).UTC()
}

// TestMetricsEndTime: metrics.om's timestamps end at the wall-clock time by
// default (so a backfilled Prometheus keeps them) and at
// --metrics-end-time when pinned, which makes metrics.om byte-identical;
// summary.json and metrics.prom never depend on it.
func TestMetricsEndTime(t *testing.T) {
	dir := t.TempDir()
	run := func(name string, extra ...string) (om, sum, prom []byte) {
		out := filepath.Join(dir, name)
		args := append([]string{"run", "modes-compare", "--duration", "20s", "--out", out}, extra...)
		if got, code := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, got)
		}
		return readFile(t, filepath.Join(out, "metrics.om")), readFile(t, filepath.Join(out, "summary.json")), readFile(t, filepath.Join(out, "metrics.prom"))
	}
	before := time.Now().Add(-time.Second)
	omNow, sumNow, promNow := run("now")
	after := time.Now().Add(time.Second)
	if end := lastTimestamp(t, omNow); end.Before(before) || end.After(after) {
		t.Errorf("default: metrics.om ends at %s, want the run's wall-clock time (%s .. %s)", end, before, after)
	}
	omA, sumA, promA := run("a", "--metrics-end-time", "2026-06-01T12:00:00Z")
	omB, _, _ := run("b", "--metrics-end-time", "1780315200") // the same instant in unix seconds
	if !bytes.Equal(omA, omB) {
		t.Error("two runs with the same --metrics-end-time wrote different metrics.om")
	}
	if end := lastTimestamp(t, omA); !end.Equal(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("pinned: metrics.om ends at %s, want 2026-06-01T12:00:00Z", end)
	}
	if !bytes.Equal(sumNow, sumA) || !bytes.Equal(promNow, promA) {
		t.Error("summary.json or metrics.prom depend on --metrics-end-time")
	}
	if got, code := runCLI(t, "run", "modes-compare", "--out", dir, "--metrics-end-time", "yesterday"); code != 2 || !strings.Contains(got, "--metrics-end-time") {
		t.Errorf("bad --metrics-end-time: exit %d: %s", code, got)
	}
}
