package sim

import (
	"math/bits"
	"slices"
)

// radixQueue is the binary radix heap that lost to wheelQueue; it stays as a
// benchmark candidate (BenchmarkQueue/radix).
//
// radixQueue is a monotone priority queue of qentry ordered by (at, seq).
//
// It is a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) over the 64-bit
// time key: bucket i holds the entries whose time differs from last, the
// time of the most recent extraction, first in bit i-1 (counting from 1), and
// b0 holds entries whose time equals last. Extraction empties the lowest
// non-empty bucket into lower ones, so every entry moves at most 64 times and
// in practice a handful. It relies on the simulation's monotonicity: nothing
// is ever pushed earlier than last. Ties on time are ordered by seq: b0 is
// kept sorted by seq (entries pushed at the current time carry the highest
// seq so far and are appended; entries arriving by redistribution are sorted
// once).
//
// The queue allocates only when a bucket grows beyond its previous capacity,
// so a simulation in steady state schedules and pops with no allocation.
type radixQueue[P any] struct {
	last    Time
	head    int         // next entry of b0 to pop
	b0      []qentry[P] // entries with at == last, ascending seq, from head on
	buckets [64][]qentry[P]
	mask    uint64 // bit i set when buckets[i] is non-empty
	n       int
	scratch []qentry[P] // reused by rewind
}

func (q *radixQueue[P]) len() int { return q.n }

// push inserts e. An e earlier than the last popped entry (possible only
// when the simulation popped cancelled events beyond its clock) takes a slow
// O(n) path that re-keys the queue.
func (q *radixQueue[P]) push(e *qentry[P]) {
	if e.at < q.last {
		q.rewind(e.at)
	}
	x := uint64(e.at ^ q.last)
	if x == 0 {
		q.b0 = append(q.b0, *e)
	} else {
		i := bits.Len64(x) - 1
		q.buckets[i] = append(q.buckets[i], *e)
		q.mask |= 1 << uint(i)
	}
	q.n++
}

// popUntil removes the least entry if its time is <= limit and returns a
// pointer to it, valid until the next push or pop; otherwise it returns nil.
func (q *radixQueue[P]) popUntil(limit Time) *qentry[P] {
	if q.head == len(q.b0) {
		if q.mask == 0 {
			return nil
		}
		i := bits.TrailingZeros64(q.mask)
		b := q.buckets[i]
		lo := b[0].at
		for k := 1; k < len(b); k++ {
			if b[k].at < lo {
				lo = b[k].at
			}
		}
		if lo > limit {
			return nil
		}
		q.refill(i, lo)
	} else if q.b0[q.head].at > limit {
		return nil
	}
	e := &q.b0[q.head]
	q.head++
	q.n--
	return e
}

// peek returns the least entry's time without changing the queue's shape.
func (q *radixQueue[P]) peek() (Time, bool) {
	if q.head < len(q.b0) {
		return q.last, true
	}
	if q.mask == 0 {
		return 0, false
	}
	b := q.buckets[bits.TrailingZeros64(q.mask)]
	lo := b[0].at
	for k := 1; k < len(b); k++ {
		if b[k].at < lo {
			lo = b[k].at
		}
	}
	return lo, true
}

// refill empties bucket i, whose least time is lo, into b0 and lower buckets.
// It is called only when b0 is exhausted.
func (q *radixQueue[P]) refill(i int, lo Time) {
	b := q.buckets[i]
	q.last = lo
	b0 := q.b0[:0]
	sorted := true
	var prev uint64
	for k := range b {
		e := &b[k]
		x := uint64(e.at ^ lo)
		if x == 0 {
			if e.seq < prev {
				sorted = false
			}
			prev = e.seq
			b0 = append(b0, *e)
			continue
		}
		j := bits.Len64(x) - 1 // j < i: e.at and lo agree above bit i
		q.buckets[j] = append(q.buckets[j], *e)
		q.mask |= 1 << uint(j)
	}
	if !sorted {
		slices.SortFunc(b0, func(a, b qentry[P]) int {
			if a.seq < b.seq {
				return -1
			}
			return 1
		})
	}
	q.b0 = b0
	q.head = 0
	q.buckets[i] = b[:0]
	q.mask &^= 1 << uint(i)
}

// filter keeps only the entries for which keep returns true, preserving order.
// It is O(n) and used to purge cancelled timers in bulk.
func (q *radixQueue[P]) filter(keep func(*qentry[P]) bool) {
	n := 0
	b0 := q.b0[:0]
	for k := q.head; k < len(q.b0); k++ {
		if keep(&q.b0[k]) {
			b0 = append(b0, q.b0[k])
		}
	}
	q.b0, q.head = b0, 0
	n += len(b0)
	for i := range q.buckets {
		b := q.buckets[i][:0]
		for k := range q.buckets[i] {
			if keep(&q.buckets[i][k]) {
				b = append(b, q.buckets[i][k])
			}
		}
		q.buckets[i] = b
		if len(b) == 0 {
			q.mask &^= 1 << uint(i)
		}
		n += len(b)
	}
	q.n = n
}

// rewind lowers last to t (< last) by re-bucketing every entry.
func (q *radixQueue[P]) rewind(t Time) {
	all := append(q.scratch[:0], q.b0[q.head:]...)
	for i := range q.buckets {
		all = append(all, q.buckets[i]...)
		q.buckets[i] = q.buckets[i][:0]
	}
	q.b0, q.head, q.mask, q.n = q.b0[:0], 0, 0, 0
	q.last = t
	for k := range all {
		q.push(&all[k]) // e.at > t: lands in a bucket, refill re-sorts ties
	}
	q.scratch = all[:0]
}
