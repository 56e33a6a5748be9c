package sim

import "math/bits"

// timerSlots maps Timers to queued events. A slot is occupied from At until
// its queue entry pops (fired, or cancelled and skipped); a generation
// counter, bumped on every allocation, makes Timers of earlier occupants
// harmless.
//
// The layout is chosen for the cache: popping an event touches only the two
// bitmaps (an eighth of a byte per slot each, so they stay in L1/L2 even with
// a million events pending), and allocation walks the slots with a cursor
// instead of reusing the most recently freed — and therefore random — slot,
// so the generation array is accessed sequentially.
type timerSlots struct {
	occupied  []uint64 // bit set while the slot's entry is in the queue
	cancelled []uint64 // bit set once the slot's event was cancelled
	gens      []uint32
	cursor    int // where the next free-slot search starts
	used      int // occupied slots
}

// alloc occupies a free slot and returns it with its new generation.
func (ts *timerSlots) alloc() (idx uint32, gen uint32) {
	for {
		for w := ts.cursor >> 6; w < len(ts.occupied); w++ {
			if m := ^ts.occupied[w]; m != 0 {
				i := w<<6 | bits.TrailingZeros64(m)
				ts.occupied[w] |= 1 << uint(i&63)
				ts.used++
				ts.cursor = i
				ts.gens[i]++
				return uint32(i), ts.gens[i]
			}
		}
		// Reached the end: grow when more than 3/4 full, so a sweep of the
		// slots finds a free one every few words, else wrap around.
		if n := len(ts.gens); ts.used >= n-n/4 {
			if n >= 1<<32-64 {
				panic("sim: too many pending events")
			}
			words := max(1, len(ts.occupied))
			ts.occupied = append(ts.occupied, make([]uint64, words)...)
			ts.cancelled = append(ts.cancelled, make([]uint64, words)...)
			ts.gens = append(ts.gens, make([]uint32, words*64)...)
			ts.cursor = n
		} else {
			ts.cursor = 0
		}
	}
}

// pending reports whether slot idx holds the live event of generation gen.
func (ts *timerSlots) pending(idx, gen uint32) bool {
	i := int(idx)
	return i < len(ts.gens) && ts.gens[i] == gen &&
		ts.occupied[i>>6]&(1<<uint(i&63)) != 0 &&
		ts.cancelled[i>>6]&(1<<uint(i&63)) == 0
}

// cancel marks an occupied slot's event cancelled.
func (ts *timerSlots) cancel(idx uint32) {
	ts.cancelled[idx>>6] |= 1 << (idx & 63)
}

// cancelled reports whether slot idx's event was cancelled.
func (ts *timerSlots) isCancelled(idx uint32) bool {
	return ts.cancelled[idx>>6]&(1<<(idx&63)) != 0
}

// release frees slot idx when its queue entry pops and reports whether the
// event had been cancelled.
func (ts *timerSlots) release(idx uint32) (wasCancelled bool) {
	w, b := idx>>6, uint64(1)<<(idx&63)
	ts.occupied[w] &^= b
	ts.used--
	if ts.cancelled[w]&b != 0 {
		ts.cancelled[w] &^= b
		return true
	}
	return false
}
