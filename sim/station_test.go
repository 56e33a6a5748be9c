package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestStationFIFOAndStats(t *testing.T) {
	s := New()
	st := NewStation(s, "cpu", 1, 1)
	var order []int64
	done := HandlerFunc(func(ev Event) { order = append(order, ev.A) })
	if !st.Submit(10*Millisecond, done, Event{A: 1}) || !st.Submit(10*Millisecond, done, Event{A: 2}) {
		t.Fatal("first two jobs rejected")
	}
	if st.Submit(10*Millisecond, done, Event{A: 3}) {
		t.Fatal("third job accepted beyond the queue limit")
	}
	if st.Busy() != 1 || st.QueueLen() != 1 || st.Rejected() != 1 {
		t.Fatalf("busy %d queue %d rejected %d", st.Busy(), st.QueueLen(), st.Rejected())
	}
	s.RunUntil(40 * Millisecond)
	if !slices.Equal(order, []int64{1, 2}) || st.Served() != 2 {
		t.Fatalf("completion order %v served %d", order, st.Served())
	}
	if st.BusyTime() != 20*Millisecond || st.Utilisation() != 0.5 || st.MeanBusy() != 0.5 {
		t.Fatalf("busy time %v utilisation %v", st.BusyTime(), st.Utilisation())
	}
	if st.MeanQueueLen() != 0.25 || st.MaxQueueLen() != 1 {
		t.Fatalf("mean queue %v max %d", st.MeanQueueLen(), st.MaxQueueLen())
	}
	if w := st.Wait(); w.Count() != 2 || w.Min() != 0 || w.Max() != 10*Millisecond {
		t.Fatalf("waits count %d min %v max %v", w.Count(), w.Min(), w.Max())
	}
	st.ResetStats()
	s.RunUntil(50 * Millisecond)
	if st.Utilisation() != 0 || st.Served() != 0 || st.Rejected() != 0 || st.Wait().Count() != 0 {
		t.Fatal("ResetStats left statistics behind")
	}
	if st.Name() != "cpu" || st.QueueLimit() != 1 {
		t.Fatal("accessors")
	}
}

func TestStationScaling(t *testing.T) {
	s := New()
	st := NewStation(s, "workers", 1, 0)
	for i := 0; i < 6; i++ {
		st.Submit(10*Millisecond, nil, Event{})
	}
	s.RunUntil(5 * Millisecond)
	st.SetServers(3) // two waiting jobs start at once
	if st.Busy() != 3 || st.QueueLen() != 3 {
		t.Fatalf("after scale-out busy %d queue %d", st.Busy(), st.QueueLen())
	}
	s.RunUntil(6 * Millisecond)
	st.SetServers(1) // takes effect as servers free up
	if st.Busy() != 3 || st.Servers() != 1 {
		t.Fatalf("scale-in must not preempt: busy %d", st.Busy())
	}
	s.RunUntil(10 * Millisecond) // first job done; busy 2 > 1 servers: nothing starts
	if st.Busy() != 2 || st.QueueLen() != 3 {
		t.Fatalf("at 10ms busy %d queue %d", st.Busy(), st.QueueLen())
	}
	s.Run()
	if st.Served() != 6 || st.Busy() != 0 {
		t.Fatalf("served %d", st.Served())
	}
	// Capacity is time-weighted: utilisation = busy server-time / server-time.
	want := float64(st.BusyTime()) / (5e6*1 + 1e6*3 + float64(s.Now()-6*Millisecond)*1)
	if math.Abs(st.Utilisation()-want) > 1e-12 {
		t.Fatalf("utilisation %v, want %v", st.Utilisation(), want)
	}
}

func TestStationZeroServersQueues(t *testing.T) {
	s := New()
	st := NewStation(s, "paused", 0, 0)
	st.Submit(Millisecond, nil, Event{})
	s.RunUntil(Second)
	if st.QueueLen() != 1 || st.Utilisation() != 0 {
		t.Fatal("a station with no servers must only queue")
	}
	st.SetServers(1)
	s.Run()
	if st.Served() != 1 || st.Wait().Max() != Second {
		t.Fatalf("served %d wait %v", st.Served(), st.Wait().Max())
	}
}

func TestCompaction(t *testing.T) {
	s := New()
	var fired []int64
	h := HandlerFunc(func(ev Event) { fired = append(fired, ev.A) })
	var timers []Timer
	for i := 0; i < 10000; i++ {
		timers = append(timers, s.At(Time(1e6+i), h, Event{A: int64(i)}))
	}
	for i := 0; i < 10000; i++ {
		if i%10 != 0 {
			s.Cancel(timers[i])
		}
	}
	if s.Pending() != 1000 || s.q.len() > 1000+compactMin+1 {
		t.Fatalf("pending %d, queue holds %d entries after compaction", s.Pending(), s.q.len())
	}
	s.Run()
	if len(fired) != 1000 || !slices.IsSorted(fired) || fired[1]-fired[0] != 10 {
		t.Fatalf("fired %d events after compaction", len(fired))
	}
}

// TestNoAllocSteadyState checks the zero-allocation claim for the hot paths:
// schedule+pop, cancel, and a Station's submit/serve cycle.
func TestNoAllocSteadyState(t *testing.T) {
	s := New()
	h := &holdHandler{s: s, rng: rand.New(rand.NewPCG(1, 1))}
	for i := 0; i < 1000; i++ {
		s.After(Time(h.rng.ExpFloat64()*1e6), h, Event{})
	}
	for i := 0; i < 100000; i++ {
		s.Step()
	}
	if a := testing.AllocsPerRun(10000, func() { s.Step() }); a != 0 {
		t.Errorf("Step allocates %v per event", a)
	}
	nop := HandlerFunc(func(Event) {})
	if a := testing.AllocsPerRun(10000, func() {
		tm := s.After(Millisecond, nop, Event{Kind: 1})
		s.Cancel(tm)
		s.Step()
	}); a != 0 {
		t.Errorf("schedule+cancel allocates %v", a)
	}
	st := NewStation(s, "cpu", 2, 0)
	for i := 0; i < 1000; i++ {
		st.Submit(Microsecond, nil, Event{})
		s.Step()
	}
	if a := testing.AllocsPerRun(10000, func() {
		st.Submit(Microsecond, nil, Event{})
		s.Step()
	}); a != 0 {
		t.Errorf("station submit/serve allocates %v", a)
	}
	for _, sp := range []DistSpec{
		{Kind: "exponential", Mean: 1}, {Kind: "lognormal", Mean: 1, CV: 1},
		{Kind: "pareto", Mean: 1, Alpha: 2}, {Kind: "uniform", Min: 0, Max: 1},
		{Kind: "constant", Mean: 1}, {Kind: "empirical", Samples: []float64{1, 2}},
	} {
		d, err := sp.New(NewStreams(1).Source("x"))
		if err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(1000, func() { d.Rand() }); a != 0 {
			t.Errorf("%s draw allocates %v", sp.Kind, a)
		}
	}
}
