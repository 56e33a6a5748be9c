package sim

import (
	"math/bits"
	"slices"
)

// qentry is one scheduled event as the queue sees it: its key (at, seq) and
// a small payload P (the Sim uses a uint32 slot index, making entries 24
// bytes: every byte here is moved 3-4 times per event).
type qentry[P any] struct {
	at  Time
	seq uint64
	p   P
}

// wentry is the wheel queue's entry: the payload is the Sim's slot index.
// The queue is not generic so the compiler specialises and inlines its hot
// paths.
type wentry = qentry[uint32]

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
	wheelCountMin    = 16      // level-1 buckets above this size are counting-sorted
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
// level-0 bucket (one time) by swapping slices, a level-1 bucket of more
// than wheelCountMin entries by a counting sort on the time's lowest byte
// (the only byte in which its entries differ), any other bucket of at most
// wheelSortMax entries by an insertion sort in place, and a larger one by
// splitting it into lower levels (each entry moves down at least one
// level). Buckets are appended in scheduling order, so the sorts rarely move
// ties. An empty bucket always has zero capacity (add relies on it).
//
// It relies on the simulation's monotonicity: entries are pushed no earlier
// than the current time, which is >= last except after popping cancelled
// entries beyond the clock; that rare case re-keys the queue (rewind).
// Bucket arrays circulate through a pool by capacity class, so a steady
// state allocates nothing and memory stays within a small factor of the
// live entries.
type wheelQueue struct {
	last    Time
	head    int
	b0      []wentry
	lv      [wheelLevels][wheelSize][]wentry
	occ     [wheelLevels][wheelWords]uint64
	lvmask  uint64
	runMax  Time // time of the run's last entry
	n       int
	pool    [wheelPoolClasses][][]wentry // spare backing arrays by capacity class
	pooled  int                          // total capacity held in pool
	scratch []wentry
}

func (q *wheelQueue) len() int { return q.n }

func (q *wheelQueue) push(e *wentry) {
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
	q.add(e, x)
	q.n++
}

// insertRun inserts e into the sorted run b0[head:]. e has the highest seq
// so far, so it goes after every entry with time <= e.at. The shorter side
// of the run moves: events scheduled for "now" land near the head and shift
// the few entries before them into the slot just popped.
func (q *wheelQueue) insertRun(e *wentry) {
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
	q.b0 = append(q.b0, wentry{})
	copy(q.b0[pos+1:], q.b0[pos:])
	q.b0[pos] = *e
}

// add appends e to the bucket of the level where e.at first differs from
// last (x = e.at ^ last, non-zero), marking it occupied. The growth path is
// out of line so add inlines into push and the split loop.
func (q *wheelQueue) add(e *wentry, x uint64) {
	d := uint(bits.Len64(x)-1) / wheelBits % wheelLevels
	v := uint(uint64(e.at)>>(d*wheelBits)) % wheelSize
	b := &q.lv[d][v]
	if len(*b) == cap(*b) {
		q.growBucket(b, d, v)
	}
	*b = append(*b, *e)
}

// growBucket makes room in bucket (d, v), marking it occupied if empty.
func (q *wheelQueue) growBucket(b *[]wentry, d, v uint) {
	if len(*b) == 0 {
		q.occ[d][v/64] |= 1 << (v % 64)
		q.lvmask |= 1 << d
	}
	*b = q.grow(*b)
}

// grow returns a slice with b's contents and twice its capacity, taking the
// array from the pool when it can and returning b's array to it. Arrays
// circulate between buckets this way, so a steady-state simulation allocates
// nothing and memory stays within a small factor of the live entries.
func (q *wheelQueue) grow(b []wentry) []wentry {
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
func (q *wheelQueue) trim() {
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
func (q *wheelQueue) fromPool(c int) []wentry {
	if p := q.pool[c]; len(p) > 0 {
		b := p[len(p)-1]
		q.pool[c] = p[:len(p)-1]
		q.pooled -= cap(b)
		return b[:0]
	}
	return make([]wentry, 0, wheelMinCap<<uint(c))
}

// release returns an array to the pool. Entries hold no pointers, so stale
// ones pin nothing and the GC never scans the arrays.
func (q *wheelQueue) release(b []wentry) {
	// See trim for the bound on the pool's size.
	if cap(b) < wheelMinCap || q.pooled+cap(b) > 2*q.n+wheelPoolSlack {
		return
	}
	c := min(bits.Len(uint(cap(b)/wheelMinCap))-1, wheelPoolClasses-1)
	q.pool[c] = append(q.pool[c], b[:0])
	q.pooled += cap(b)
}

func (q *wheelQueue) lowest() (d, v int) {
	d = bits.TrailingZeros64(q.lvmask)
	for w := 0; w < wheelWords; w++ {
		if m := q.occ[d][w]; m != 0 {
			return d, w*64 + bits.TrailingZeros64(m)
		}
	}
	panic("wheelQueue: level mask out of sync")
}

func (q *wheelQueue) clearBucket(d, v int) {
	q.occ[d][v/64] &^= 1 << uint(v%64)
	if q.occ[d] == [wheelWords]uint64{} {
		q.lvmask &^= 1 << uint(d)
	}
}

func (q *wheelQueue) popUntil(limit Time) *wentry {
	if q.head == len(q.b0) {
		if q.lvmask == 0 {
			return nil
		}
		d, v := q.lowest()
		b := q.lv[d][v]
		if d > 0 && (len(b) <= wheelSortMax || d == 1 && len(b) > wheelCountMin) {
			// Sort the bucket into the next run; its first entry is the
			// least, so no scan for the minimum is needed. If that is
			// beyond limit the run simply waits: it holds the least
			// entries whatever is pushed before it is popped.
			if q.pooled > 2*q.n+wheelPoolSlack {
				q.trim()
			}
			q.clearBucket(d, v)
			q.release(q.b0)
			q.lv[d][v] = nil
			if d == 1 && len(b) > wheelCountMin {
				// Entries that differ only in the lowest byte of their
				// time: a counting sort moves each about once.
				nb := q.countingSort(b)
				q.release(b)
				b = nb
			} else {
				// Few entries: sorting them in place is cheaper than
				// moving each through the lower levels.
				insertionSort(b)
			}
			q.b0, q.head = b, 0
			q.last, q.runMax = b[0].at, b[len(b)-1].at
			if q.last > limit {
				return nil
			}
			e := &q.b0[0]
			q.head = 1
			q.n--
			return e
		}
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
			if !sortedBySeq(b) {
				slices.SortFunc(b, cmpSeq)
			}
		default:
			var b0 []wentry
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
				q.add(e, x)
			}
			q.b0 = b0
			q.runMax = lo
			q.release(b)
			if !sortedBySeq(b0) {
				slices.SortFunc(b0, cmpSeq)
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

// countingSort returns a level-1 bucket's entries, whose times differ only
// in their lowest byte, sorted by (at, seq) in an array from the pool. A
// stable counting sort on the byte's top six bits (64 counters, so its fixed
// cost stays small) leaves entries out of order only within 4 ns groups; an
// insertion sort on the full key then finishes with few moves.
func (q *wheelQueue) countingSort(b []wentry) []wentry {
	const shift = 2
	var cnt [wheelSize >> shift]uint32
	for k := range b {
		cnt[uint8(b[k].at)>>shift]++
	}
	var sum uint32
	for v := range cnt {
		c := cnt[v]
		cnt[v] = sum
		sum += c
	}
	out := q.fromPool(bits.Len(uint((len(b) - 1) / wheelMinCap)))[:len(b)]
	for k := range b {
		v := uint8(b[k].at) >> shift
		out[cnt[v]] = b[k]
		cnt[v]++
	}
	insertionSort(out)
	return out
}

// insertionSort sorts a small bucket by (at, seq). Buckets are filled in
// scheduling order, so entries with equal times are usually already in seq
// order and the sort only moves entries past later times.
func insertionSort(b []wentry) {
	for i := 1; i < len(b); i++ {
		if !keyLess(&b[i], &b[i-1]) {
			continue
		}
		e := b[i]
		j := i
		for ; j > 0 && keyLess(&e, &b[j-1]); j-- {
			b[j] = b[j-1]
		}
		b[j] = e
	}
}

func keyLess(a, b *wentry) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

func sortedBySeq(b []wentry) bool {
	for i := 1; i < len(b); i++ {
		if b[i].seq < b[i-1].seq {
			return false
		}
	}
	return true
}

func cmpSeq(a, b wentry) int {
	if a.seq < b.seq {
		return -1
	}
	if a.seq > b.seq {
		return 1
	}
	return 0
}

// peek returns the least entry's time without changing the queue's shape.
func (q *wheelQueue) peek() (Time, bool) {
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
func (q *wheelQueue) each(f func(d, v int, b *[]wentry)) {
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
func (q *wheelQueue) filter(keep func(*wentry) bool) {
	n := 0
	b0 := q.b0[:0]
	for k := q.head; k < len(q.b0); k++ {
		if keep(&q.b0[k]) {
			b0 = append(b0, q.b0[k])
		}
	}
	q.b0, q.head = b0, 0
	n += len(b0)
	q.each(func(d, v int, bp *[]wentry) {
		b := (*bp)[:0]
		for k := range *bp {
			if keep(&(*bp)[k]) {
				b = append(b, (*bp)[k])
			}
		}
		*bp = b
		if len(b) == 0 {
			// An empty bucket must have no capacity: add marks a bucket
			// occupied only when it grows from zero.
			q.clearBucket(d, v)
			q.release(b)
			*bp = nil
		}
		n += len(b)
	})
	q.n = n
}

// rewind lowers last to t (< last) by re-bucketing every entry. It is needed
// only when the simulation popped cancelled entries beyond its clock and
// then schedules before them.
func (q *wheelQueue) rewind(t Time) {
	all := append(q.scratch[:0], q.b0[q.head:]...)
	q.each(func(d, v int, bp *[]wentry) {
		all = append(all, (*bp)...)
		q.clearBucket(d, v)
		q.release(*bp)
		*bp = nil
	})
	q.b0, q.head, q.n = q.b0[:0], 0, 0
	q.last = t
	for k := range all {
		q.push(&all[k])
	}
	q.scratch = all[:0]
}
