package sim

import (
	"math/bits"
	"slices"
)

// qentry is one scheduled event as the queue sees it: its key (at, seq) and
// a payload P stored inline, so popping an event touches only the queue's
// own, sequentially accessed, memory.
type qentry[P any] struct {
	at  Time
	seq uint64
	p   P
}

// The event queue is a hierarchical radix queue with 8-bit digits (a radix
// heap with 256-way buckets, close kin of hierarchical timing wheels): an
// entry moves at most 8 times, typically 2-3, where a binary radix heap moves
// it up to 64 times and a 4-ary heap does log4(n) compare-swaps per push and
// pop. See BenchmarkQueue for the measured comparison.
const (
	wheelPoolClasses = 32
	wheelMinCap      = 8
	wheelPoolSlack   = 1 << 16 // entries the pool may hold beyond 2x live
	wheelSortMax     = 32      // buckets up to this size are sorted, not split
	wheelBits        = 8
	wheelSize        = 1 << wheelBits
	wheelLevels      = 64 / wheelBits
	wheelWords       = wheelSize / 64
)

// wheelQueue is a monotone priority queue of qentry ordered by (at, seq).
//
// Level d, bucket v holds the entries whose time first differs from last in
// byte d, where it equals v (> last's byte d); the lowest occupied bucket
// therefore holds the least entries. b0[head:] is the run: entries sorted by
// (at, seq), all earlier than anything in a bucket, popped from the front.
// When the run is exhausted the lowest bucket becomes the next run: a
// level-0 bucket (one time) by swapping slices, a bucket of at most
// wheelSortMax entries by sorting it in place, a larger one by splitting it
// into lower levels (each entry moves down at least one level).
//
// It relies on the simulation's monotonicity: entries are pushed no earlier
// than the current time, which is >= last except after popping cancelled
// entries beyond the clock; that rare case re-keys the queue (rewind).
// Bucket arrays circulate through a pool by capacity class, so a steady
// state allocates nothing and memory stays within a small factor of the
// live entries.
type wheelQueue[P any] struct {
	last    Time
	head    int
	b0      []qentry[P]
	lv      [wheelLevels][wheelSize][]qentry[P]
	occ     [wheelLevels][wheelWords]uint64
	lvmask  uint64
	runMax  Time // time of the run's last entry
	n       int
	pool    [wheelPoolClasses][][]qentry[P] // spare backing arrays by capacity class
	pooled  int                             // total capacity held in pool
	scratch []qentry[P]
}

func (q *wheelQueue[P]) len() int { return q.n }

func (q *wheelQueue[P]) push(e *qentry[P]) {
	if q.head < len(q.b0) && e.at <= q.runMax {
		q.insertRun(e)
		q.n++
		return
	}
	if e.at < q.last {
		q.rewind(e.at)
	}
	x := uint64(e.at ^ q.last)
	if x == 0 { // the run is empty: e starts a new one
		if q.head == len(q.b0) {
			q.b0, q.head = q.b0[:0], 0
		}
		if len(q.b0) == cap(q.b0) {
			q.b0 = q.grow(q.b0)
		}
		q.b0 = append(q.b0, *e)
		q.runMax = e.at
		q.n++
		return
	}
	d := (bits.Len64(x) - 1) / wheelBits
	v := int(uint64(e.at)>>(uint(d)*wheelBits)) & (wheelSize - 1)
	q.add(d, v, e)
	q.n++
}

// insertRun inserts e into the sorted run b0[head:]. e has the highest seq
// so far, so it goes after every entry with time <= e.at. The shorter side
// of the run moves: events scheduled for "now" land near the head and shift
// the few entries before them into the slot just popped.
func (q *wheelQueue[P]) insertRun(e *qentry[P]) {
	lo, hi := q.head, len(q.b0)
	for lo < hi { // first index with at > e.at
		m := int(uint(lo+hi) >> 1)
		if q.b0[m].at <= e.at {
			lo = m + 1
		} else {
			hi = m
		}
	}
	pos := lo
	if q.head > 0 && pos-q.head <= len(q.b0)-pos {
		copy(q.b0[q.head-1:], q.b0[q.head:pos])
		q.head--
		q.b0[pos-1] = *e
		return
	}
	if len(q.b0) == cap(q.b0) {
		q.b0 = q.grow(q.b0)
	}
	q.b0 = append(q.b0, qentry[P]{})
	copy(q.b0[pos+1:], q.b0[pos:])
	q.b0[pos] = *e
}

// add appends e to bucket (d, v), marking it occupied.
func (q *wheelQueue[P]) add(d, v int, e *qentry[P]) {
	b := &q.lv[d][v]
	if len(*b) == 0 {
		q.occ[d][v/64] |= 1 << uint(v%64)
		q.lvmask |= 1 << uint(d)
	}
	if len(*b) == cap(*b) {
		*b = q.grow(*b)
	}
	*b = append(*b, *e)
}

// grow returns a slice with b's contents and twice its capacity, taking the
// array from the pool when it can and returning b's array to it. Arrays
// circulate between buckets this way, so a steady-state simulation allocates
// nothing and memory stays within a small factor of the live entries.
func (q *wheelQueue[P]) grow(b []qentry[P]) []qentry[P] {
	c := 0
	if cap(b) > 0 {
		c = min(bits.Len(uint(cap(b)/wheelMinCap)), wheelPoolClasses-1) // class of 2*cap
	}
	nb := append(q.fromPool(c), b...)
	q.release(b)
	return nb
}

// trim drops pooled arrays, largest first, until the pool holds at most
// twice the live entries plus slack: a queue that shrank from a peak hands
// the memory back to the GC.
func (q *wheelQueue[P]) trim() {
	for c := wheelPoolClasses - 1; c >= 0 && q.pooled > 2*q.n+wheelPoolSlack; c-- {
		for len(q.pool[c]) > 0 && q.pooled > 2*q.n+wheelPoolSlack {
			last := len(q.pool[c]) - 1
			q.pooled -= cap(q.pool[c][last])
			q.pool[c][last] = nil
			q.pool[c] = q.pool[c][:last]
		}
	}
}

// fromPool returns an empty array of capacity class c, allocating only when
// the pool has none. Every bucket grows through the classes from the
// smallest, releasing each outgrown array, so all classes are replenished
// and a steady state allocates nothing. (Pre-sizing new buckets from the last
// bucket's size cut entry copies by a third but made classes drift and the
// steady state allocate; see sim-note.md.)
func (q *wheelQueue[P]) fromPool(c int) []qentry[P] {
	if p := q.pool[c]; len(p) > 0 {
		b := p[len(p)-1]
		q.pool[c] = p[:len(p)-1]
		q.pooled -= cap(b)
		return b[:0]
	}
	return make([]qentry[P], 0, wheelMinCap<<uint(c))
}

// release returns an array to the pool. Its stale entries may pin handler
// and payload memory until overwritten; the pool bounds how much.
func (q *wheelQueue[P]) release(b []qentry[P]) {
	// See trim for the bound on the pool's size.
	if cap(b) < wheelMinCap || q.pooled+cap(b) > 2*q.n+wheelPoolSlack {
		return
	}
	c := min(bits.Len(uint(cap(b)/wheelMinCap))-1, wheelPoolClasses-1)
	q.pool[c] = append(q.pool[c], b[:0])
	q.pooled += cap(b)
}

func (q *wheelQueue[P]) lowest() (d, v int) {
	d = bits.TrailingZeros64(q.lvmask)
	for w := 0; w < wheelWords; w++ {
		if m := q.occ[d][w]; m != 0 {
			return d, w*64 + bits.TrailingZeros64(m)
		}
	}
	panic("wheelQueue: level mask out of sync")
}

func (q *wheelQueue[P]) clearBucket(d, v int) {
	q.occ[d][v/64] &^= 1 << uint(v%64)
	if q.occ[d] == [wheelWords]uint64{} {
		q.lvmask &^= 1 << uint(d)
	}
}

func (q *wheelQueue[P]) popUntil(limit Time) *qentry[P] {
	if q.head == len(q.b0) {
		if q.lvmask == 0 {
			return nil
		}
		d, v := q.lowest()
		b := q.lv[d][v]
		lo := b[0].at
		if d > 0 {
			for k := 1; k < len(b); k++ {
				if b[k].at < lo {
					lo = b[k].at
				}
			}
		}
		if lo > limit {
			return nil
		}
		q.last = lo
		if q.pooled > 2*q.n+wheelPoolSlack {
			q.trim()
		}
		q.clearBucket(d, v)
		q.release(q.b0)
		q.lv[d][v] = nil
		switch {
		case d == 0:
			// One time: order by seq.
			q.b0 = b
			q.runMax = lo
			if !slices.IsSortedFunc(b, cmpSeq[P]) {
				slices.SortFunc(b, cmpSeq[P])
			}
		case len(b) <= wheelSortMax:
			// Few entries: sorting them in place is cheaper than moving
			// each through the lower levels.
			slices.SortFunc(b, cmpKey[P])
			q.b0 = b
			q.runMax = b[len(b)-1].at
		default:
			var b0 []qentry[P]
			for k := range b {
				e := &b[k]
				x := uint64(e.at ^ lo)
				if x == 0 {
					if len(b0) == cap(b0) {
						b0 = q.grow(b0)
					}
					b0 = append(b0, *e)
					continue
				}
				dd := (bits.Len64(x) - 1) / wheelBits
				q.add(dd, int(uint64(e.at)>>(uint(dd)*wheelBits))&(wheelSize-1), e)
			}
			q.b0 = b0
			q.runMax = lo
			q.release(b)
			if !slices.IsSortedFunc(b0, cmpSeq[P]) {
				slices.SortFunc(b0, cmpSeq[P])
			}
		}
		q.head = 0
	} else if q.b0[q.head].at > limit {
		return nil
	}
	e := &q.b0[q.head]
	q.head++
	q.n--
	return e
}

func cmpKey[P any](a, b qentry[P]) int {
	if a.at != b.at {
		if a.at < b.at {
			return -1
		}
		return 1
	}
	return cmpSeq(a, b)
}

func cmpSeq[P any](a, b qentry[P]) int {
	if a.seq < b.seq {
		return -1
	}
	if a.seq > b.seq {
		return 1
	}
	return 0
}

// peek returns the least entry's time without changing the queue's shape.
func (q *wheelQueue[P]) peek() (Time, bool) {
	if q.head < len(q.b0) {
		return q.b0[q.head].at, true
	}
	if q.lvmask == 0 {
		return 0, false
	}
	d, v := q.lowest()
	b := q.lv[d][v]
	lo := b[0].at
	for k := 1; k < len(b); k++ {
		if b[k].at < lo {
			lo = b[k].at
		}
	}
	return lo, true
}

// each calls f for every non-empty bucket.
func (q *wheelQueue[P]) each(f func(d, v int, b *[]qentry[P])) {
	for d := 0; d < wheelLevels; d++ {
		if q.lvmask&(1<<uint(d)) == 0 {
			continue
		}
		for w := 0; w < wheelWords; w++ {
			for m := q.occ[d][w]; m != 0; m &= m - 1 {
				v := w*64 + bits.TrailingZeros64(m)
				f(d, v, &q.lv[d][v])
			}
		}
	}
}

// filter keeps only the entries for which keep returns true, preserving the
// order of ties. It is O(n) and used to purge cancelled timers in bulk.
func (q *wheelQueue[P]) filter(keep func(*qentry[P]) bool) {
	n := 0
	b0 := q.b0[:0]
	for k := q.head; k < len(q.b0); k++ {
		if keep(&q.b0[k]) {
			b0 = append(b0, q.b0[k])
		}
	}
	q.b0, q.head = b0, 0
	n += len(b0)
	q.each(func(d, v int, bp *[]qentry[P]) {
		b := (*bp)[:0]
		for k := range *bp {
			if keep(&(*bp)[k]) {
				b = append(b, (*bp)[k])
			}
		}
		*bp = b
		if len(b) == 0 {
			q.clearBucket(d, v)
		}
		n += len(b)
	})
	q.n = n
}

// rewind lowers last to t (< last) by re-bucketing every entry. It is needed
// only when the simulation popped cancelled entries beyond its clock and
// then schedules before them.
func (q *wheelQueue[P]) rewind(t Time) {
	all := append(q.scratch[:0], q.b0[q.head:]...)
	q.each(func(d, v int, bp *[]qentry[P]) {
		all = append(all, (*bp)...)
		*bp = (*bp)[:0]
		q.clearBucket(d, v)
	})
	q.b0, q.head, q.n = q.b0[:0], 0, 0
	q.last = t
	for k := range all {
		q.push(&all[k])
	}
	q.scratch = all[:0]
}
