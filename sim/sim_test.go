package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// recorder appends the A field of each event it handles.
type recorder struct {
	s   *Sim
	got []int64
	at  []Time
}

func (r *recorder) Handle(ev Event) {
	r.got = append(r.got, ev.A)
	r.at = append(r.at, r.s.Now())
}

func TestOrderAndTies(t *testing.T) {
	s := New()
	r := &recorder{s: s}
	s.At(30, r, Event{A: 1})
	s.At(10, r, Event{A: 2})
	s.At(30, r, Event{A: 3})
	s.At(10, r, Event{A: 4})
	s.At(20, r, Event{A: 5})
	s.At(10, r, Event{A: 6})
	s.Run()
	want := []int64{2, 4, 6, 5, 1, 3}
	if !slices.Equal(r.got, want) {
		t.Fatalf("order = %v, want %v", r.got, want)
	}
	if s.Now() != 30 || s.Fired() != 6 || s.Pending() != 0 {
		t.Fatalf("now=%v fired=%d pending=%d", s.Now(), s.Fired(), s.Pending())
	}
}

func TestScheduleAtNowRunsAfterQueuedPeers(t *testing.T) {
	s := New()
	r := &recorder{s: s}
	s.At(5, HandlerFunc(func(Event) {
		s.At(5, r, Event{A: 99}) // same time, scheduled later: runs last
		r.Handle(Event{A: 1})
	}), Event{})
	s.At(5, r, Event{A: 2})
	s.Run()
	if want := []int64{1, 2, 99}; !slices.Equal(r.got, want) {
		t.Fatalf("order = %v, want %v", r.got, want)
	}
}

func TestCancel(t *testing.T) {
	s := New()
	r := &recorder{s: s}
	a := s.After(10, r, Event{A: 1})
	b := s.After(20, r, Event{A: 2})
	var zero Timer
	if zero.Valid() || !a.Valid() {
		t.Fatal("Valid wrong")
	}
	if s.Cancel(zero) {
		t.Fatal("cancelled zero timer")
	}
	if !s.Cancel(a) || s.Cancel(a) {
		t.Fatal("first Cancel should succeed, second fail")
	}
	if s.Pending() != 1 || s.Scheduled(a) || !s.Scheduled(b) {
		t.Fatalf("pending=%d", s.Pending())
	}
	s.Run()
	if s.Cancel(b) {
		t.Fatal("cancelled a fired timer")
	}
	// The slot of a is reused; the stale Timer must not cancel the new event.
	c := s.After(5, r, Event{A: 3})
	if s.Cancel(a) || s.Cancel(b) || !s.Scheduled(c) {
		t.Fatal("stale timer affected a reused slot")
	}
	s.Run()
	if want := []int64{2, 3}; !slices.Equal(r.got, want) {
		t.Fatalf("got %v, want %v", r.got, want)
	}
}

func TestRunUntilAndStop(t *testing.T) {
	s := New()
	r := &recorder{s: s}
	for i := int64(1); i <= 5; i++ {
		s.At(Time(i)*10, r, Event{A: i})
	}
	s.RunUntil(30)
	if !slices.Equal(r.got, []int64{1, 2, 3}) || s.Now() != 30 {
		t.Fatalf("got %v now %v", r.got, s.Now())
	}
	s.RunUntil(35)
	if s.Now() != 35 || len(r.got) != 3 {
		t.Fatalf("now %v", s.Now())
	}
	// Scheduling between the clock and the next event must still be ordered.
	s.At(36, r, Event{A: 36})
	if at, ok := s.NextAt(); !ok || at != 36 {
		t.Fatalf("NextAt = %v %v", at, ok)
	}
	s.At(40, HandlerFunc(func(Event) { s.Stop() }), Event{})
	s.Run()
	if !slices.Equal(r.got, []int64{1, 2, 3, 36, 4}) || s.Now() != 40 {
		t.Fatalf("after Stop got %v now %v", r.got, s.Now())
	}
	s.Run()
	if !slices.Equal(r.got, []int64{1, 2, 3, 36, 4, 5}) {
		t.Fatalf("resume got %v", r.got)
	}
	if s.Step() {
		t.Fatal("Step with empty queue")
	}
}

func TestCancelledEventsBeyondClock(t *testing.T) {
	// Run pops cancelled events without advancing the clock; scheduling
	// earlier than them afterwards must still work.
	s := New()
	r := &recorder{s: s}
	tm := s.At(1000, r, Event{A: 1})
	s.At(2000, r, Event{A: 2})
	s.Cancel(tm)
	s.RunUntil(500)
	if !s.Step() || s.Now() != 2000 {
		t.Fatal("Step")
	}
	tm = s.At(5000, r, Event{A: 3})
	s.Cancel(tm)
	s.Run() // pops the cancelled entry at 5000; clock stays at 2000
	s.At(3000, r, Event{A: 4})
	s.At(2500, r, Event{A: 5})
	s.Run()
	if want := []int64{2, 5, 4}; !slices.Equal(r.got, want) {
		t.Fatalf("got %v, want %v", r.got, want)
	}
}

func TestPanics(t *testing.T) {
	s := New()
	s.RunUntil(100)
	r := &recorder{s: s}
	for name, f := range map[string]func(){
		"At past":       func() { s.At(99, r, Event{}) },
		"After neg":     func() { s.After(-1, r, Event{}) },
		"nil handler":   func() { s.At(200, nil, Event{}) },
		"RunUntil past": func() { s.RunUntil(50) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
	if tm := s.After(MaxTime, r, Event{}); !s.Scheduled(tm) {
		t.Error("saturating After failed")
	}
}

// refEvent is the reference model's view of a scheduled event.
type refEvent struct {
	at  Time
	seq int
	id  int64
}

// TestAgainstReference drives the Sim and a sorted-slice model with the same
// random mix of schedules (including at Now and far future), cancels (enough
// to trigger compaction), RunUntil and Step, and compares the firing order.
func TestAgainstReference(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		s := New()
		var got []int64
		var gotAt []Time
		h := HandlerFunc(func(ev Event) { got = append(got, ev.A); gotAt = append(gotAt, s.Now()) })
		var ref []refEvent
		var want []int64
		var wantAt []Time
		timers := map[int64]Timer{}
		var ids []int64
		next := int64(0)
		seq := 0
		now := Time(0)
		popRef := func(limit Time) bool {
			if len(ref) == 0 {
				return false
			}
			i := 0
			for j := range ref {
				if ref[j].at < ref[i].at || (ref[j].at == ref[i].at && ref[j].seq < ref[i].seq) {
					i = j
				}
			}
			if ref[i].at > limit {
				return false
			}
			want = append(want, ref[i].id)
			wantAt = append(wantAt, ref[i].at)
			now = ref[i].at
			ref = slices.Delete(ref, i, i+1)
			return true
		}
		for op := 0; op < 20000; op++ {
			switch k := rng.IntN(10); {
			case k < 5:
				var d Time
				switch rng.IntN(4) {
				case 0:
					d = 0
				case 1:
					d = Time(rng.IntN(10))
				case 2:
					d = Time(rng.Int64N(1 << 20))
				default:
					d = Time(rng.Int64N(1 << 40))
				}
				next++
				timers[next] = s.After(d, h, Event{A: next})
				ids = append(ids, next)
				seq++
				ref = append(ref, refEvent{at: now + d, seq: seq, id: next})
			case k < 8 && len(ids) > 0:
				j := rng.IntN(len(ids))
				id := ids[j]
				ok := s.Cancel(timers[id])
				inRef := slices.IndexFunc(ref, func(e refEvent) bool { return e.id == id })
				if ok != (inRef >= 0) {
					t.Fatalf("seed %d op %d: Cancel(%d) = %v, ref has it: %v", seed, op, id, ok, inRef >= 0)
				}
				if inRef >= 0 {
					ref = slices.Delete(ref, inRef, inRef+1)
				}
			case k == 8:
				limit := now + Time(rng.Int64N(1<<21))
				s.RunUntil(limit)
				for popRef(limit) {
				}
				now = limit
			default:
				stepped := s.Step()
				if stepped != popRef(MaxTime) {
					t.Fatalf("seed %d op %d: Step mismatch", seed, op)
				}
			}
			if s.Pending() != len(ref) || s.Now() != now {
				t.Fatalf("seed %d op %d: pending %d want %d, now %v want %v", seed, op, s.Pending(), len(ref), s.Now(), now)
			}
		}
		s.Run()
		for popRef(MaxTime) {
		}
		if !slices.Equal(got, want) || !slices.Equal(gotAt, wantAt) {
			t.Fatalf("seed %d: firing order differs from reference (%d vs %d events)", seed, len(got), len(want))
		}
	}
}

// TestQueueMemoryFollowsLoad checks the bucket-array pool hands memory back
// after a peak: once 200k pending events have drained, the pool holds at
// most 2x the live entries plus its fixed slack.
func TestQueueMemoryFollowsLoad(t *testing.T) {
	s := New()
	rng := rand.New(rand.NewPCG(2, 2))
	nop := HandlerFunc(func(Event) {})
	for i := 0; i < 200_000; i++ {
		s.After(Time(rng.ExpFloat64()*1e9), nop, Event{})
	}
	for i := 0; i < 199_990; i++ {
		s.Step()
	}
	if s.Pending() != 10 || s.q.pooled > 2*s.q.len()+wheelPoolSlack {
		t.Fatalf("pending %d, pool holds %d entries", s.Pending(), s.q.pooled)
	}
	s.Run()
}

func TestSetInterrupt(t *testing.T) {
	s := New()
	// An event that reschedules itself at the same instant never advances
	// the clock: only a count of events can stop it.
	var h HandlerFunc
	h = func(Event) { s.At(s.Now(), h, Event{}) }
	s.At(5, h, Event{})
	calls := 0
	s.SetInterrupt(100, func() bool { calls++; return calls == 3 })
	s.RunUntil(10)
	if s.Fired() != 300 || calls != 3 || s.Now() != 5 {
		t.Fatalf("fired %d, checks %d, now %v; want 300, 3, 5", s.Fired(), calls, s.Now())
	}
	// Removed, the hook is not called again; Run resumes the queue.
	s.SetInterrupt(0, nil)
	s.Stop()
	var zero Sim
	zero.AfterFunc(1, func() {})
	zero.Run() // a zero Sim has no hook and must not call one
	if zero.Fired() != 1 {
		t.Fatalf("zero Sim fired %d", zero.Fired())
	}
}
