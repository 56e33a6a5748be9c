package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progressEvery is how often long work prints a progress line when stderr
// is not a terminal (CI logs, pipes, files).
var progressEvery = 10 * time.Second

// progressLog prints one progress line with the elapsed time and an ETA at
// most every `every`, so long work is never silent off a terminal yet the
// log stays short (a 10-minute sweep writes about 60 lines). On a terminal
// the commands draw bars instead.
type progressLog struct {
	w     io.Writer
	what  string // e.g. "run modes-compare"
	every time.Duration
	now   func() time.Time

	mu          sync.Mutex
	start, last time.Time
}

func newProgressLog(w io.Writer, what string) *progressLog {
	p := &progressLog{w: w, what: what, every: progressEvery, now: time.Now}
	p.start = p.now()
	p.last = p.start
	return p
}

// report records that frac (0..1) of the work is done; detail says where
// (e.g. "mode 2/4 ambient+waypoint" or "12/40 tasks"). It prints when the
// interval has passed since the previous line.
func (p *progressLog) report(frac float64, detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	eta := "unknown"
	if frac > 0 && frac <= 1 {
		eta = roundDuration(time.Duration(float64(elapsed) * (1 - frac) / frac)).String()
	}
	fmt.Fprintf(p.w, "ambientsim: %s: %3.0f%% (%s), %s elapsed, ETA %s\n", p.what, 100*frac, detail, roundDuration(elapsed), eta)
}

// roundDuration keeps progress lines readable: whole seconds.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
