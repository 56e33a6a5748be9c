package models

import "github.com/ambientsim/ambientsim/sim"

// A container is one process's CPU on its node: a cgroup on the node's
// machine (weight ∝ CPU request, optional CFS quota = CPU limit) and the
// process's threads. A proxy's worker threads are pinned stations of one
// thread each — a connection stays on the worker that accepted it, so one
// connection never uses more than one core — while an app's request
// workers are one station of Concurrency threads sharing a FIFO queue.
// CPU is what the kernel accounts to the cgroup while the threads run
// (sim.Group.CPUTime), so an overloaded container never reports more CPU
// than the node gave it.
type container struct {
	g       *sim.Group
	workers []*sim.Station
	cpu0    sim.Time // CPU time at the start of the measured window
	thr0    sim.Time // throttled time at the start of the measured window
}

// Resources are a container's CPU request and limit, in cores (0 limit =
// none). The request sets the container's weight when the node is
// contended (CFS shares); the limit throttles it per 100-ms period.
type Resources struct {
	Request float64
	Limit   float64
}

// minWeight is the weight of a container without a CPU request: cgroup
// v1 cpu.shares of 2 (Kubernetes' BestEffort), 2/1024 of a core's.
const minWeight = 2.0 / 1024

// newContainer adds a container to machine mach with workers pinned
// stations of one thread (pinned) or one station of workers threads.
func newContainer(mach *sim.Machine, strm *sim.Streams, name string, r Resources, workers int, pinned bool, a Activity) *container {
	g := mach.NewGroup(name, sim.GroupSpec{Weight: max(r.Request, minWeight), Limit: r.Limit})
	c := &container{g: g}
	if !pinned {
		c.workers = []*sim.Station{newStation(g, strm, name, max(workers, 1), a)}
		return c
	}
	for i := 0; i < max(workers, 1); i++ {
		c.workers = append(c.workers, newStation(g, strm, name+"/worker-"+itoa(i), 1, a))
	}
	return c
}

// newStation returns a station of threads in g with the activity model a;
// wake-up latencies, if any, are drawn from the station's own stream.
func newStation(g *sim.Group, strm *sim.Streams, name string, threads int, a Activity) *sim.Station {
	st := g.NewStation(name, threads, 0)
	st.SetWaitHistogram(false) // the results need the mean only
	if a.WakeupLatency > 0 && a.SleepTimeConstant > 0 {
		a.Rand = strm.Rand("wakeup/" + name)
	}
	st.SetActivity(a)
	return st
}

// Activity is the activity model of a proxy or app (see sim.Activity).
type Activity = sim.Activity

// pick returns the worker a connection with key k is pinned to.
func (c *container) pick(k uint32) *sim.Station {
	if len(c.workers) == 1 {
		return c.workers[0]
	}
	return c.workers[k%uint32(len(c.workers))]
}

// startMeasure starts the measured window: CPU is counted from now and the
// stations' statistics are reset.
func (c *container) startMeasure() {
	c.cpu0 = c.g.CPUTime()
	c.thr0, _ = c.g.Throttled()
	for _, w := range c.workers {
		w.ResetStats()
	}
}

// cores returns the mean CPU cores used over the window of length d.
func (c *container) cores(d sim.Time) float64 {
	if d <= 0 {
		return 0
	}
	return float64(c.g.CPUTime()-c.cpu0) / float64(d)
}

// throttled returns the time its CPU limit throttled it in the window.
func (c *container) throttled() sim.Time {
	t, _ := c.g.Throttled()
	return t - c.thr0
}

// utilisation returns the busy fraction of the container's worker threads
// (a thread holding a request, running or waiting for a CPU).
func (c *container) utilisation() float64 {
	var u float64
	for _, w := range c.workers {
		u += w.Utilisation()
	}
	return u / float64(len(c.workers))
}

// meanWait returns the mean time a request waited for a worker thread.
func (c *container) meanWait() sim.Time {
	var sum sim.Time
	var n int64
	for _, w := range c.workers {
		sum += w.MeanWait() * sim.Time(w.Served())
		n += w.Served()
	}
	if n == 0 {
		return 0
	}
	return sum / sim.Time(n)
}

// wakeups returns the measured wake-ups of the container's workers.
func (c *container) wakeups() float64 {
	var w float64
	for _, s := range c.workers {
		w += s.Wakeups()
	}
	return w
}

// served returns the requests the workers finished in the window.
func (c *container) served() int64 {
	var n int64
	for _, s := range c.workers {
		n += s.Served()
	}
	return n
}

// connKey mixes a connection identity into a well-spread 32-bit key
// (splitmix64's finaliser): pinned workers are chosen by key modulo their
// count, as the kernel's SO_REUSEPORT hash spreads accepted connections.
func connKey(a, b uint64) uint32 {
	z := a*0x9e3779b97f4a7c15 + b
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return uint32((z ^ (z >> 31)) >> 16)
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
