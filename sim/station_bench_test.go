package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// clusterBench is the sim-level shape of the large-cluster scenario's hot
// path, without the models: many nodes (Machines of 8 cores) each running
// 20 containers (Groups) of one station, proxies with one pinned thread and
// apps with four threads, lightly loaded. Calls hop from station to station:
// a CPU job at a random station, then a network delay, then the next hop.
// Half the events are machine events (a job's end), half network delays, as
// in the scenario. It measures Station.Submit, Machine and the kernel
// together, over a working set too large for the caches (the scenario's
// first touch of a Station is a cache miss).
type clusterBench struct {
	s        *Sim
	sts      []*Station
	rng      *rand.Rand
	hops     int
	jobs     int64
	perCall  int
	inflight int
}

const (
	cbHop int32 = iota + 1
	cbDone
)

func newClusterBench(nodes, perNode, calls int) *clusterBench {
	s := New()
	c := &clusterBench{s: s, rng: rand.New(rand.NewPCG(7, 11)), perCall: 8}
	for n := 0; n < nodes; n++ {
		m := NewMachine(s, fmt.Sprint("node-", n), MachineSpec{Cores: 8, Speed: 1})
		for i := 0; i < perNode; i++ {
			g := m.NewGroup(fmt.Sprint("c-", i), GroupSpec{Weight: 0.1 + float64(i%3)})
			threads := 4
			if i%4 == 0 {
				threads = 1
			}
			st := g.NewStation(fmt.Sprint("c-", i), threads, 0)
			st.SetWaitHistogram(false)
			c.sts = append(c.sts, st)
		}
	}
	for i := 0; i < calls; i++ {
		s.After(Time(c.rng.IntN(1000000)), c, Event{Kind: cbHop, A: int64(c.perCall)})
	}
	return c
}

func (c *clusterBench) Handle(ev Event) {
	switch ev.Kind {
	case cbHop:
		st := c.sts[c.rng.IntN(len(c.sts))]
		demand := Time(5000 + c.rng.IntN(40000))
		c.jobs++
		st.Submit(demand, c, Event{Kind: cbDone, A: ev.A - 1})
	case cbDone:
		left := ev.A
		if left <= 0 {
			left = int64(c.perCall) // the call ends; a new one starts
		}
		c.s.After(Time(200000+c.rng.IntN(1600000)), c, Event{Kind: cbHop, A: left})
	}
}

// BenchmarkStationPath runs clusterBench: a 10,000-station cluster (the
// scenario's size: cache-missing) and a 100-station one (cache-resident, so
// it shows the instructions alone). One op is one event; ns/job is the cost
// of a job's two events (its submission's hop and its end) with their
// share of the kernel.
func BenchmarkStationPath(b *testing.B) {
	for _, tc := range []struct {
		name                 string
		nodes, perNode, call int
	}{
		{"stations=10000", 500, 20, 2000},
		{"stations=100", 5, 20, 20},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := newClusterBench(tc.nodes, tc.perNode, tc.call)
			for i := 0; i < 40*tc.call; i++ {
				c.s.Step()
			}
			j0, f0 := c.jobs, c.s.Fired()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				c.s.Step()
			}
			cpu := cpuSeconds() - cpu0
			b.StopTimer()
			if jobs := c.jobs - j0; jobs > 0 && cpu > 0 {
				b.ReportMetric(cpu*1e9/float64(jobs), "CPU-ns/job")
				b.ReportMetric(cpu*1e9/float64(c.s.Fired()-f0), "CPU-ns/event")
			}
		})
	}
}

// TestStationPathDeterministic pins the benchmark model's results, so a
// change to the hot path that alters what it computes shows here too (the
// models' goldens are the main check).
func TestStationPathDeterministic(t *testing.T) {
	c := newClusterBench(20, 20, 80)
	c.s.RunUntil(50 * Millisecond)
	var busy, cpu Time
	var served int64
	for _, st := range c.sts {
		busy += st.BusyTime()
		served += st.Served()
		cpu += st.Group().CPUTime()
	}
	got := fmt.Sprintf("events %d jobs %d served %d busy %d cpu %d", c.s.Fired(), c.jobs, served, busy, cpu)
	const want = "events 7791 jobs 3896 served 3895 busy 98004146 cpu 98004146" // main 7869458
	if got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}
