package main

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLogIsRateLimitedWithETA(t *testing.T) {
	var b strings.Builder
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgressLog(&b, "sweep capacity")
	p.now = func() time.Time { return now }
	p.start, p.last = now, now
	steps := []struct {
		after time.Duration
		frac  float64
	}{{5 * time.Second, 0.1}, {6 * time.Second, 0.25}, {2 * time.Second, 0.3}, {20 * time.Second, 0.5}}
	for i, s := range steps {
		now = now.Add(s.after)
		p.report(s.frac, "step")
		_ = i
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"ambientsim: sweep capacity:  25% (step), 11s elapsed, ETA 33s",
		"ambientsim: sweep capacity:  50% (step), 33s elapsed, ETA 33s",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("progress lines:\n%s\nwant:\n%s", b.String(), strings.Join(want, "\n"))
	}
}

// TestRunPrintsProgressOffTerminal: the test's stderr is not a terminal,
// so run prints progress lines (every line here: the interval is 0).
func TestRunPrintsProgressOffTerminal(t *testing.T) {
	saved := progressEvery
	progressEvery = 0
	t.Cleanup(func() { progressEvery = saved })
	out, code := runCLI(t, "run", "modes-compare", "--out", t.TempDir(), "--duration", "2s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if !strings.Contains(out, "ambientsim: run modes-compare: ") || !strings.Contains(out, "ETA") {
		t.Errorf("no progress line with ETA in:\n%.600s", out)
	}
}
