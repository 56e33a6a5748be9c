package models

import "github.com/ambientsim/ambientsim/sim"

// latBatch is how many latencies a latRec holds before it records them.
const latBatch = 32

// latRec is a backend's latency histogram with a small buffer in front:
// a finished call appends its latency to the buffer (one cache line
// touched, next to the last one), and every latBatch calls the buffer is
// recorded into the histogram at once, its header and buckets then in the
// cache for the whole batch. A histogram's counts, sum, min and max do not
// depend on the order values arrive in, so the result is the histogram
// recording each call at once would hold. Read it only through hist.
type latRec struct {
	n   int32
	h   *sim.Histogram
	buf [latBatch]sim.Time
}

func newLatRec() latRec { return latRec{h: sim.NewHistogram()} }

// record adds one latency.
func (r *latRec) record(v sim.Time) {
	r.buf[r.n] = v
	r.n++
	if r.n == latBatch {
		r.flush()
	}
}

// flush records the buffered latencies into the histogram.
func (r *latRec) flush() {
	for _, v := range r.buf[:r.n] {
		r.h.Record(v)
	}
	r.n = 0
}

// hist returns the histogram of every latency recorded so far.
func (r *latRec) hist() *sim.Histogram {
	r.flush()
	return r.h
}
