package sim

import "fmt"

// Event is the payload of a scheduled event. It is handed back, by value, to
// the Handler when the event fires, so scheduling one does not allocate. Kind,
// A and B are free for the handler's own use (an event type, an index, a
// byte count); P carries anything else (storing a pointer in P does not
// allocate; storing a non-pointer value may).
type Event struct {
	Kind int32
	A    int64
	B    int64
	P    any
}

// Handler reacts to an event that has come due.
type Handler interface {
	Handle(ev Event)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ev Event)

// Handle calls f(ev).
func (f HandlerFunc) Handle(ev Event) { f(ev) }

// funcHandler adapts a niladic function to Handler for AfterFunc.
type funcHandler func()

func (f funcHandler) Handle(Event) { f() }

// Timer identifies a scheduled event so it can be cancelled. The zero Timer
// refers to no event. A Timer stays safe to use after its event fired or was
// cancelled: Cancel then reports false.
type Timer struct {
	idx uint32 // slot index + 1; 0 means no timer
	gen uint32 // slot generation when scheduled
}

// Valid reports whether t refers to an event that was scheduled (it may since
// have fired or been cancelled; see Sim.Scheduled).
func (t Timer) Valid() bool { return t.idx != 0 }

// payload is an event's handler and Event, kept in the Sim's slot table
// while the event is queued; the queue itself moves only 16-byte (time,
// slot) entries. A slot is free, live (h != nil) or cancelled (h == nil but
// still referenced by a queue entry). gen is bumped when the slot is freed,
// so Timers of earlier occupants no longer match. The struct is padded to
// one cache line so reading a payload costs one miss, which the queue's
// look-ahead prefetches.
type payload struct {
	h    Handler
	p    any
	a, b int64
	kind int32
	gen  uint32
	seq  uint64 // scheduling order, for the trace (the queue is stable)
}

// compactMin is the number of cancelled-but-queued events below which the
// queue is never compacted; above it, the queue is purged once cancelled
// entries outnumber live ones, which keeps memory O(live) at O(1) amortised
// cost per cancellation.
const compactMin = 1024

// Sim is a discrete-event simulator: a virtual clock and a queue of future
// events. Handlers run one at a time, in time order, ties broken by the order
// in which the events were scheduled, so a run is a pure function of its
// inputs and random seeds. A Sim is not safe for concurrent use; run
// independent replications in independent Sims.
type Sim struct {
	now     Time
	seq     uint64
	q       wheelQueue // entries carry a slot index into pl
	pl      []payload  // slot table
	free    []uint32   // free slots, most recently freed last
	live    int
	dead    int // cancelled events still in the queue
	fired   uint64
	touched uint32 // sink for touchAhead's loads
	stopped bool
	done    []pendingDone // callbacks of the machine event being handled
	trace   func(at Time, seq uint64, ev Event)
	// Interrupt hook (SetInterrupt): check is called once fired reaches
	// checkAt, then every checkEvery events.
	checkAt    uint64
	checkEvery uint64
	check      func() bool
}

// New returns a simulator with its clock at 0 and no events.
func New() *Sim { return &Sim{checkAt: noCheck} }

const noCheck = ^uint64(0)

// SetInterrupt makes Run and RunUntil call f after every `every` handled
// events (counted from now); when f returns true they stop as if a
// handler had called Stop. It bounds how long a run goes without looking
// at the world outside it (a cancelled context, an event budget) by events
// handled rather than by simulated time, which a flood of events at one
// instant does not advance. every == 0 or f == nil removes the hook.
func (s *Sim) SetInterrupt(every uint64, f func() bool) {
	if every == 0 || f == nil {
		s.check, s.checkEvery, s.checkAt = nil, 0, noCheck
		return
	}
	s.check, s.checkEvery, s.checkAt = f, every, s.fired+every
}

// interrupt runs the SetInterrupt hook when it is due.
func (s *Sim) interrupt() {
	if s.check == nil { // a zero Sim, not made by New
		s.checkAt = noCheck
		return
	}
	s.checkAt = s.fired + s.checkEvery
	if s.check() {
		s.stopped = true
	}
}

// Now returns the current virtual time: the time of the event being handled,
// or where RunUntil left the clock.
func (s *Sim) Now() Time { return s.now }

// At schedules h.Handle(ev) at absolute time t. Scheduling in the past is a
// programming error and panics; t == Now() is allowed and runs after every
// event already scheduled for Now().
func (s *Sim) At(t Time, h Handler, ev Event) Timer {
	if t < s.now || h == nil {
		s.badAt(t, h)
	}
	return s.schedule(t, h, ev)
}

// badAt panics for At's programming errors; kept out of line so At and
// After stay small enough to inline into handlers.
func (s *Sim) badAt(t Time, h Handler) {
	if t < s.now {
		panic(fmt.Sprintf("sim: At(%v) is before Now() = %v", t, s.now))
	}
	if h == nil {
		panic("sim: At with nil Handler")
	}
}

// schedule queues h.Handle(ev) at t >= Now().
func (s *Sim) schedule(t Time, h Handler, ev Event) Timer {
	i := s.allocSlot()
	pl := &s.pl[i]
	s.seq++
	pl.h, pl.p, pl.a, pl.b, pl.kind, pl.seq = h, ev.P, ev.A, ev.B, ev.Kind, s.seq
	if q := &s.q; t > q.last && (q.head == len(q.b0) || t > q.runMax) {
		// The common case, without push's other checks: the event goes
		// into a bucket (not the run, no rewind, not a new run).
		q.add(&wentry{at: t, p: i}, uint64(t^q.last))
		q.n++
	} else {
		q.push(&wentry{at: t, p: i})
	}
	s.live++
	return Timer{idx: i + 1, gen: pl.gen}
}

// allocSlot returns a free slot, the most recently freed first: in the
// common pattern of a handler scheduling the next event, that is the slot of
// the event just fired, whose cache line is already hot.
func (s *Sim) allocSlot() uint32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		return i
	}
	if len(s.pl) >= 1<<32-1 {
		panic("sim: too many pending events")
	}
	s.pl = append(s.pl, payload{})
	return uint32(len(s.pl) - 1)
}

// freeSlot releases slot i once its queue entry has popped, dropping its
// references so the GC can reclaim them.
func (s *Sim) freeSlot(i uint32) {
	pl := &s.pl[i]
	pl.h, pl.p = nil, nil
	pl.gen++
	s.free = append(s.free, i)
}

// After schedules h.Handle(ev) at Now()+d. A negative d panics; a d that
// would overflow saturates at MaxTime.
func (s *Sim) After(d Time, h Handler, ev Event) Timer {
	if d < 0 {
		badAfter(d)
	}
	t := s.now + d
	if t < s.now {
		t = MaxTime
	}
	if h == nil {
		s.badAt(t, h)
	}
	return s.schedule(t, h, ev)
}

func badAfter(d Time) { panic(fmt.Sprintf("sim: After(%v): negative delay", d)) }

// AfterFunc schedules f() at Now()+d. It is a convenience for tests and
// one-off events; the closure usually costs an allocation, which After with
// a long-lived Handler avoids.
func (s *Sim) AfterFunc(d Time, f func()) Timer {
	return s.After(d, funcHandler(f), Event{})
}

// Cancel removes the event t refers to. It reports whether the event was
// still pending; cancelling a fired, cancelled or zero Timer is a no-op that
// returns false. It does not allocate and costs O(1) amortised.
func (s *Sim) Cancel(t Timer) bool {
	if !s.Scheduled(t) {
		return false
	}
	// The queue entry stays until it comes due or a compaction purges it;
	// the slot stays occupied (h == nil marks it cancelled) until then, so
	// the Timer cannot alias.
	pl := &s.pl[t.idx-1]
	pl.h, pl.p = nil, nil
	s.live--
	s.dead++
	if s.dead > compactMin && s.dead > s.live {
		s.compact()
	}
	return true
}

// Scheduled reports whether the event t refers to is still pending.
func (s *Sim) Scheduled(t Timer) bool {
	if t.idx == 0 || int(t.idx) > len(s.pl) {
		return false
	}
	pl := &s.pl[t.idx-1]
	return pl.gen == t.gen && pl.h != nil
}

func (s *Sim) compact() {
	s.q.filter(func(e *wentry) bool {
		if s.pl[e.p].h == nil {
			s.freeSlot(e.p)
			return false
		}
		return true
	})
	s.dead = 0
}

// Pending returns the number of scheduled events that have neither fired nor
// been cancelled.
func (s *Sim) Pending() int { return s.live }

// Fired returns the number of events handled so far.
func (s *Sim) Fired() uint64 { return s.fired }

// NextAt returns the time of the next pending event, if any.
func (s *Sim) NextAt() (Time, bool) {
	for {
		t, ok := s.q.peek()
		if !ok {
			return 0, false
		}
		// Drop cancelled entries at the head without running anything.
		e := s.q.popUntil(t)
		if s.pl[e.p].h == nil {
			s.freeSlot(e.p)
			s.dead--
			continue
		}
		s.q.head-- // put it back: it is still the least
		s.q.n++
		return t, true
	}
}

// fire pops and runs the next live event due at or before limit. It reports
// false when there is none.
func (s *Sim) fire(limit Time) bool {
	for {
		var e *wentry
		if q := &s.q; q.head < len(q.b0) && q.b0[q.head].at <= limit {
			// The common case, inline: the next entry of the run.
			e = &q.b0[q.head]
			q.head++
			q.n--
		} else if e = q.popUntil(limit); e == nil {
			return false
		}
		if s.q.head&(touchBatch-1) == 1 {
			s.touchAhead()
		}
		i := e.p
		pl := &s.pl[i]
		h := pl.h
		if h == nil { // cancelled
			s.freeSlot(i)
			s.dead--
			continue
		}
		ev := Event{Kind: pl.kind, A: pl.a, B: pl.b, P: pl.p}
		seq := pl.seq
		s.freeSlot(i)
		s.now = e.at
		s.live--
		s.fired++
		if s.trace != nil {
			s.trace(e.at, seq, ev)
		}
		h.Handle(ev)
		return true
	}
}

// touchBatch is how many upcoming payloads touchAhead loads at once.
const touchBatch = 64

// touchAhead loads the slot-table lines of the next touchBatch entries of
// the queue's run. The run is popped in order, and its payloads lie at
// random places in the slot table; loading them together lets their cache
// and TLB misses overlap instead of stalling each pop in turn. It is called
// when a run starts and every touchBatch pops into a long one.
func (s *Sim) touchAhead() {
	run := s.q.b0[s.q.head:]
	run = run[:min(len(run), touchBatch)]
	var x uint32
	for k := range run {
		x += s.pl[run[k].p].gen
	}
	s.touched += x
}

// Step runs the next event, advancing the clock to its time. It reports false
// if no event is pending.
func (s *Sim) Step() bool { return s.fire(MaxTime) }

// RunUntil runs every event due at or before t, then sets the clock to t. If
// a handler calls Stop, it returns after that handler with the clock at the
// stopping event's time. t before Now() panics.
func (s *Sim) RunUntil(t Time) {
	if t < s.now {
		panic(fmt.Sprintf("sim: RunUntil(%v) is before Now() = %v", t, s.now))
	}
	s.stopped = false
	for !s.stopped && s.fire(t) {
		if s.fired >= s.checkAt {
			s.interrupt()
		}
	}
	if !s.stopped {
		s.now = t
	}
}

// Run runs events until none is pending or a handler calls Stop.
func (s *Sim) Run() {
	s.stopped = false
	for !s.stopped && s.fire(MaxTime) {
		if s.fired >= s.checkAt {
			s.interrupt()
		}
	}
}

// Stop makes the running Run or RunUntil return once the current handler
// returns. Pending events stay queued; a later Run resumes them.
func (s *Sim) Stop() { s.stopped = true }

// SetTrace installs f to be called just before each event is handled, with
// the event's time, its scheduling sequence number and payload. Determinism
// tests hash this stream. nil disables tracing.
func (s *Sim) SetTrace(f func(at Time, seq uint64, ev Event)) { s.trace = f }
