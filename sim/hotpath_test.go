package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMachineGoldenTrace pins what a mixed workload on shared machines
// computes — every completion's time and order, and every station's and
// group's statistics — to a hash recorded before the hot path was made
// cheaper (fewer cache lines per job, thread 0 and a group's first job
// inline). It covers what the large-cluster scenario does not: contended
// machines (water-filling), SMT, CPU limits that throttle, the activity
// model with wake-ups on tracked cores, stations of more than 64 threads
// (the idle stack beyond the bit mask), groups whose running jobs outgrow
// the inline array and shrink back, queue limits and rescaling. A change
// here means the hot path changed what the simulation computes.
func TestMachineGoldenTrace(t *testing.T) {
	const want = "83986ab5e7eac829de7b00982451143fdc52bb3c539a51f0e68e5e88aefc0d59" // main 7869458
	s := New()
	rng := rand.New(rand.NewPCG(21, 22))
	h := sha256.New()
	put := func(vs ...int64) {
		var b [8]byte
		for _, v := range vs {
			binary.LittleEndian.PutUint64(b[:], uint64(v))
			h.Write(b[:])
		}
	}
	type node struct {
		m   *Machine
		gs  []*Group
		sts []*Station
	}
	var nodes []node
	specs := []MachineSpec{
		{Cores: 2, Speed: 1, Period: 5 * Millisecond},
		{Cores: 1.5, Speed: 1.2, SMT: 2, SMTYield: 1.25, Period: 2 * Millisecond},
		{Cores: 8, Speed: 0.9},
		{Cores: 4, Speed: 1, SMT: 2, SMTYield: 1.1, Period: 10 * Millisecond},
	}
	for ni, spec := range specs {
		m := NewMachine(s, fmt.Sprint("m", ni), spec)
		n := node{m: m}
		for gi := 0; gi < 5; gi++ {
			g := m.NewGroup(fmt.Sprint("g", gi), GroupSpec{Weight: 0.5 + float64(gi), Limit: []float64{0, 0.2, 0, 0.5, 0}[gi]})
			servers := []int{1, 3, 100, 2, 1}[gi]
			st := g.NewStation(fmt.Sprint("st", gi), servers, []int{0, 5, 0, 0, 3}[gi])
			if gi%2 == 1 {
				st.SetActivity(Activity{PathFraction: 0.8, WakeupCPU: 3 * Microsecond, WakeupLatency: 20 * Microsecond,
					SleepTimeConstant: 200 * Microsecond, Rand: rand.New(rand.NewPCG(uint64(ni), uint64(gi)))})
			}
			if gi == 4 {
				st.SetWaitHistogram(false)
			}
			n.gs = append(n.gs, g)
			n.sts = append(n.sts, st)
		}
		nodes = append(nodes, n)
	}
	var id int64
	done := HandlerFunc(func(ev Event) { put(int64(s.Now()), ev.A) })
	// Bursts: a burst puts up to 150 jobs on one station at once, so the
	// 100-thread station runs more than 64 at a time.
	for i := 0; i < 3000; i++ {
		at := Time(i) * 7 * Microsecond
		ni, si := rng.IntN(len(nodes)), rng.IntN(5)
		k := 1
		if rng.IntN(40) == 0 {
			k = 1 + rng.IntN(150)
		}
		d := Time(rng.ExpFloat64() * 40e3)
		b := Time(rng.IntN(3)) * 5 * Microsecond
		s.At(at, HandlerFunc(func(Event) {
			st := nodes[ni].sts[si]
			for j := 0; j < k; j++ {
				id++
				if !st.SubmitBlocked(b, d, done, Event{A: id}) {
					put(-int64(s.Now()), id)
				}
			}
		}), Event{})
	}
	s.At(5*Millisecond, HandlerFunc(func(Event) { nodes[0].sts[2].SetServers(2) }), Event{})
	s.At(Time(12+0)*Millisecond, HandlerFunc(func(Event) { nodes[0].sts[2].SetServers(120) }), Event{})
	s.RunUntil(40 * Millisecond)
	for _, n := range nodes {
		for i, st := range n.sts {
			g := n.gs[i]
			thr, periods := g.Throttled()
			put(int64(st.BusyTime()), int64(st.MeanWait()), st.Served(), st.Rejected(), int64(st.MaxQueueLen()),
				int64(math.Float64bits(st.Utilisation())), int64(math.Float64bits(st.Wakeups())),
				int64(g.CPUTime()), int64(thr), periods, st.Wait().Count(), int64(st.Wait().Quantile(0.9)))
		}
	}
	put(int64(s.Fired()))
	got := hex.EncodeToString(h.Sum(nil))
	if got != want {
		t.Errorf("trace hash %s, want %s", got, want)
	}
}
