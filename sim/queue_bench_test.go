package sim

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
)

// This file keeps the event-queue candidates that lost to wheelQueue, so the
// choice can be re-measured: go test -run '^$' -bench 'Queue|Scheduler' ./sim

// bentry is the small entry the candidates are compared on: key plus a
// 32-bit slot index.
type bentry = qentry[uint32]

// benchQueue is what the candidates share for the benchmark.
type benchQueue interface {
	push(e bentry)
	popMin() (bentry, bool)
	len() int
}

func less(a, b bentry) bool { return a.at < b.at || (a.at == b.at && a.seq < b.seq) }

// stdHeap is container/heap over a slice of qentry.
type stdHeap struct{ h qentries }

type qentries []bentry

func (h qentries) Len() int           { return len(h) }
func (h qentries) Less(i, j int) bool { return less(h[i], h[j]) }
func (h qentries) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *qentries) Push(x any)        { *h = append(*h, x.(bentry)) }
func (h *qentries) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func (q *stdHeap) push(e bentry) { heap.Push(&q.h, e) }
func (q *stdHeap) popMin() (bentry, bool) {
	if len(q.h) == 0 {
		return bentry{}, false
	}
	return heap.Pop(&q.h).(bentry), true
}
func (q *stdHeap) len() int { return len(q.h) }

// heap4 is a 4-ary min-heap of value structs with hole-based sifting.
type heap4 struct{ h []bentry }

func (q *heap4) len() int { return len(q.h) }

func (q *heap4) push(e bentry) {
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !less(e, q.h[p]) {
			break
		}
		q.h[i] = q.h[p]
		i = p
	}
	q.h[i] = e
}

func (q *heap4) popMin() (bentry, bool) {
	n := len(q.h)
	if n == 0 {
		return bentry{}, false
	}
	top := q.h[0]
	last := q.h[n-1]
	q.h = q.h[:n-1]
	n--
	if n == 0 {
		return top, true
	}
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for k := c + 1; k < end; k++ {
			if less(q.h[k], q.h[m]) {
				m = k
			}
		}
		if !less(q.h[m], last) {
			break
		}
		q.h[i] = q.h[m]
		i = m
	}
	q.h[i] = last
	return top, true
}

// radixBench adapts the production queue.
type radixBench struct{ radixQueue[uint32] }

func (q *radixBench) push(e bentry) { q.radixQueue.push(&e) }

func (q *radixBench) popMin() (bentry, bool) {
	if e := q.popUntil(MaxTime); e != nil {
		return *e, true
	}
	return bentry{}, false
}

// holdDelays is a fixed table of exponential delays (mean 1 ms in ns) so the
// queue benchmarks measure the queue, not the random number generator.
var holdDelays = func() []Time {
	r := rand.New(rand.NewPCG(1, 2))
	d := make([]Time, 1<<16)
	for i := range d {
		d[i] = Time(r.ExpFloat64() * 1e6)
	}
	return d
}()

// benchHold runs the classic hold model: pending events in the queue; each
// operation pops the least and pushes one at its time plus a random delay.
func benchHold(b *testing.B, q benchQueue, pending int) {
	var seq uint64
	for i := 0; i < pending; i++ {
		seq++
		q.push(bentry{at: holdDelays[i%len(holdDelays)] * Time(1+i/len(holdDelays)), seq: seq, p: uint32(i)})
	}
	// Warm up into steady state so bucket capacities are reached.
	j := 0
	step := func() {
		e, _ := q.popMin()
		seq++
		q.push(bentry{at: e.at + holdDelays[j&(len(holdDelays)-1)], seq: seq, p: e.p})
		j++
	}
	for i := 0; i < 2*pending; i++ {
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if q.len() != pending {
		b.Fatalf("queue length %d, want %d", q.len(), pending)
	}
}

// BenchmarkQueue compares the event-queue candidates on the hold model.
func BenchmarkQueue(b *testing.B) {
	impls := []struct {
		name string
		mk   func() benchQueue
	}{
		{"containerheap", func() benchQueue { return &stdHeap{} }},
		{"heap4", func() benchQueue { return &heap4{} }},
		{"radix", func() benchQueue { return &radixBench{} }},
		{"wheel", func() benchQueue { return &wheelBench{} }},
	}
	for _, im := range impls {
		for _, n := range []int{1e3, 1e5, 1e6} {
			b.Run(fmt.Sprintf("%s/%d", im.name, n), func(b *testing.B) { benchHold(b, im.mk(), n) })
		}
	}
}

// holdHandler reschedules itself: the hold model on the real Sim, including
// slot management, handler dispatch and the exponential draw.
type holdHandler struct {
	s   *Sim
	rng *rand.Rand
}

func (h *holdHandler) Handle(ev Event) {
	h.s.After(Time(h.rng.ExpFloat64()*1e6), h, ev)
}

// cpuSeconds is the process's CPU time (user + system) so far. On the
// shared machine wall-clock rates swing with other people's load; CPU time
// swings much less, so the kernel's goal is stated per CPU-second.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// schedulerGoal is issue 17's goal for the hold model at 1e5 pending:
// events per CPU-second.
const schedulerGoal = 20e6

// BenchmarkScheduler measures schedule+pop throughput of the Sim on the hold
// model with 1e5 pending events (mean delay 1 ms). One op = one event fired
// and one scheduled, including the exponential draw (math/rand/v2
// ExpFloat64 on a PCG source, the generator family Streams hands to models;
// about 12% of the instructions per op) and the handler's interface call.
// Issue 2's target was >= 15 M events/s (<= 65 ns/op) at 1e5 pending with 0
// allocs/op; issue 17's is >= 20 M events per CPU-second (events/CPU-s,
// reported next to goal-events/CPU-s). Wall-clock figures on a shared machine are noisy: compare
// candidates with a fixed count (-benchtime=2000000x) under cachegrind or
// by CPU time as well (see sim-note.md, "Speed push").
func BenchmarkScheduler(b *testing.B) {
	for _, n := range []int{1e3, 1e5, 1e6} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := New()
			h := &holdHandler{s: s, rng: rand.New(rand.NewPCG(3, 4))}
			for i := 0; i < n; i++ {
				s.After(Time(h.rng.ExpFloat64()*1e6), h, Event{A: int64(i)})
			}
			for i := 0; i < 2*n; i++ {
				s.Step()
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				s.Step()
			}
			cpu := cpuSeconds() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if cpu > 0 {
				b.ReportMetric(float64(b.N)/cpu, "events/CPU-s")
			}
			if n == 1e5 {
				b.ReportMetric(schedulerGoal, "goal-min-events/CPU-s")
			}
			if s.Pending() != n {
				b.Fatalf("pending %d, want %d", s.Pending(), n)
			}
		})
	}
}

// BenchmarkSchedulerGoal is BenchmarkScheduler/100000 with 3 M events per
// op, so it measures something even at -benchtime 1x and can run in one
// `go test -bench` with the scenario benchmarks (docs/performance.md):
//
//	go test -run '^$' -bench 'SchedulerGoal|LargeCluster|Scale|SweepCores|Hop|PathsExport' ./sim ./scenarios/ ./validation/hbone/ ./topology/
func BenchmarkSchedulerGoal(b *testing.B) {
	const n, events = 100000, 3000000
	s := New()
	h := &holdHandler{s: s, rng: rand.New(rand.NewPCG(3, 4))}
	for i := 0; i < n; i++ {
		s.After(Time(h.rng.ExpFloat64()*1e6), h, Event{A: int64(i)})
	}
	for i := 0; i < 2*n; i++ {
		s.Step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		for k := 0; k < events; k++ {
			s.Step()
		}
	}
	cpu := cpuSeconds() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)*events/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)*events/cpu, "events/CPU-s")
	}
	b.ReportMetric(schedulerGoal, "goal-min-events/CPU-s")
}

// TestQueueCandidatesAgree checks every candidate pops the same sequence.
func TestQueueCandidatesAgree(t *testing.T) {
	qs := []benchQueue{&stdHeap{}, &heap4{}, &radixBench{}, &wheelBench{}}
	r := rand.New(rand.NewPCG(9, 9))
	var seq uint64
	var now Time
	for op := 0; op < 50000; op++ {
		if r.IntN(3) > 0 || qs[0].len() == 0 {
			seq++
			e := bentry{at: now + Time(r.IntN(4)*r.IntN(1000)), seq: seq, p: uint32(seq)}
			for _, q := range qs {
				q.push(e)
			}
			continue
		}
		e0, _ := qs[0].popMin()
		now = e0.at
		for i, q := range qs[1:] {
			// The wheel carries no sequence number: it returns the
			// payload, which this test sets to the sequence number.
			if e, _ := q.popMin(); e != e0 {
				t.Fatalf("op %d: candidate %d popped %+v, want %+v", op, i+1, e, e0)
			}
		}
	}
}

// wheelBench adapts the production queue. Its entries carry no sequence
// number (the wheel is stable), so popMin reports the payload as seq too:
// TestQueueCandidatesAgree sets them equal.
type wheelBench struct{ wheelQueue }

func (q *wheelBench) push(e bentry) { q.wheelQueue.push(&wentry{at: e.at, p: e.p}) }

func (q *wheelBench) popMin() (bentry, bool) {
	if e := q.popUntil(MaxTime); e != nil {
		return bentry{at: e.at, seq: uint64(e.p), p: e.p}, true
	}
	return bentry{}, false
}

// TestWheelRunSorts checks the two sorts that turn a bucket into a run: the
// result must be sorted by time, ties in their input order (the wheel's
// stability carries the scheduling order), and a permutation of the input.
func TestWheelRunSorts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	var q wheelQueue
	for _, n := range []int{1, 2, 17, 32, 33, 300, 5000} {
		b := make([]wentry, n)
		for i := range b {
			// One level-1 bucket: times differ in the lowest byte only,
			// with many ties; p records the input order.
			b[i] = wentry{at: 0x1200 + Time(r.IntN(256)&^3), p: uint32(i)}
		}
		want := slices.Clone(b)
		slices.SortStableFunc(want, cmpKey)
		got := q.countingSort(b)
		if !slices.Equal(keys(got), keys(want)) {
			t.Fatalf("countingSort(%d entries) not sorted by (at, seq)", n)
		}
		if n <= wheelSortMax {
			insertionSort(b)
			if !slices.Equal(keys(b), keys(want)) {
				t.Fatalf("insertionSort(%d entries) not sorted by (at, seq)", n)
			}
		}
	}
}

func keys(b []wentry) [][2]uint64 {
	k := make([][2]uint64, len(b))
	for i, e := range b {
		k[i] = [2]uint64{uint64(e.at), uint64(e.p)}
	}
	return k
}

// cmpKey orders entries by time; with a stable sort, ties keep input order.
func cmpKey(a, b wentry) int {
	switch {
	case a.at < b.at:
		return -1
	case a.at > b.at:
		return 1
	}
	return 0
}
