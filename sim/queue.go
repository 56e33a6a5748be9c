package sim

import "math/bits"

// qentry is one scheduled event as a generic queue sees it: its key (at,
// seq) and a small payload P. The rejected candidates in the benchmarks use
// it.
type qentry[P any] struct {
	at  Time
	seq uint64
	p   P
}

// wentry is the wheel queue's entry: the event's time and the Sim's slot
// index, 16 bytes (every byte here is moved 3-4 times per event). It carries
// no sequence number: the wheel is stable, so events with equal times leave
// it in the order they were pushed (see wheelQueue), and the Sim keeps the
// sequence number for its trace in the slot table. The queue is not generic
// so the compiler specialises and inlines its hot paths.
type wentry struct {
	at Time
	p  uint32
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
	wheelCountMin    = 16      // level-1 buckets above this size are counting-sorted
	wheelBits        = 8
	wheelSize        = 1 << wheelBits
	wheelLevels      = 64 / wheelBits
	wheelWords       = wheelSize / 64
)

// wheelQueue is a monotone priority queue of wentry ordered by time, ties
// in push order (it is stable: the order of pushes is the sequence number).
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
// Why it is stable without a sequence number in the entry: all pending
// entries with one time are in one place (the run, or one bucket: a time's
// bucket depends only on it and last, and last moves only to the lowest
// bucket's entries, so every other bucket keeps its place); buckets are
// appended in push order; a split re-adds a bucket's entries in order into
// lower levels, which are empty at that moment (the bucket is the lowest);
// both sorts are stable; a push into the run goes after every entry of equal
// time; rewind and filter keep each place's order.
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

// insertRun inserts e into the sorted run b0[head:]. e is the latest push,
// so it goes after every entry with time <= e.at. The shorter side
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
			// One time, already in push order.
			q.b0 = b
			q.runMax = lo
		default:
			q.presize(b, uint(d), lo)
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

// presize gives every bucket of level d-1 that splitting bucket b (level d,
// new last lo) will fill an array of the right capacity class at once: a
// split bucket is large (more than wheelSortMax entries), and growing its
// sub-buckets 8 -> 16 -> 32 -> ... copied each entry about once more. The
// lower levels are empty while the lowest bucket splits, so each of these
// buckets is empty too. Arrays come from the pool and return to it like any
// other, so the steady state still allocates nothing.
func (q *wheelQueue) presize(b []wentry, d uint, lo Time) {
	var cnt [wheelSize]uint32
	sh := (d - 1) * wheelBits
	for k := range b {
		// Entries that differ from lo in byte d-1 go to level d-1,
		// bucket (at >> sh) & 0xff; the rest go lower (add handles them).
		if uint64(b[k].at^lo)>>sh != 0 {
			cnt[uint8(uint64(b[k].at)>>sh)]++
		}
	}
	for v, c := range cnt {
		if c == 0 {
			continue
		}
		bp := &q.lv[d-1][v]
		*bp = q.fromPool(bits.Len(uint((c - 1) / wheelMinCap)))
		q.occ[d-1][v/64] |= 1 << (uint(v) % 64)
		q.lvmask |= 1 << (d - 1)
	}
}

// countingSort returns a level-1 bucket's entries, whose times differ only
// in their lowest byte, sorted stably by time in an array from the pool. A
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

// insertionSort sorts a small bucket stably by time: entries move only past
// strictly later times, so ties keep their push order.
func insertionSort(b []wentry) {
	for i := 1; i < len(b); i++ {
		if b[i].at >= b[i-1].at {
			continue
		}
		e := b[i]
		j := i
		for ; j > 0 && e.at < b[j-1].at; j-- {
			b[j] = b[j-1]
		}
		b[j] = e
	}
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
