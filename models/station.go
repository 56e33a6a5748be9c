package models

import (
	"math"
	"math/rand/v2"

	"github.com/ambientsim/ambientsim/sim"
)

// Station is a FIFO queue in front of c identical servers (worker threads,
// CPU cores, a NIC), computed by the Kiefer–Wolfowitz recursion instead of
// completion events: when a job arrives at time t with a known demand, its
// start is max(t, earliest server free time) and its finish is start+demand.
// The caller learns the finish time at arrival and schedules its own next
// step there, so a station visit costs one event instead of two.
//
// The recursion is exact for FIFO c-server queues as long as Arrive is called
// in non-decreasing arrival time, which holds when it is called from event
// handlers at sim.Now(). TestStationMatchesKernel checks it against
// sim.Station, the kernel's event-driven queue, on the same job stream.
//
// All times are sim.Time (ns).
type Station struct {
	Name    string
	free    []sim.Time // when each server next becomes free
	measure sim.Time   // statistics count jobs arriving at or after this

	busy    sim.Time // total demand of measured jobs (server-ns)
	waitSum sim.Time // total queueing delay of measured jobs
	maxWait sim.Time
	served  int64

	// Activity (SetActivity): the share of a job's demand on its critical
	// path, and the cost of waking after the station has been idle.
	activity         bool
	pathFrac         float64
	wakeCPU, wakeLat sim.Time
	tau              float64  // sleep time constant, ns (0: never sleeps)
	lastFree         sim.Time // when the station's latest work ends
	rng              *rand.Rand
	host             *Host
	wakes            float64
}

// Activity parameterises Station.SetActivity.
type Activity struct {
	// PathFraction of each job's demand delays the job; the rest keeps
	// the server busy after the job has left (bookkeeping).
	PathFraction float64
	// A job arriving g after the station's last work ended finds it
	// asleep to depth f = 1 − exp(−g/SleepTimeConstant): it waits
	// f×WakeupLatency (the server is held, no CPU counted) and the wake-up
	// costs f×WakeupCPU of server time after the job. SleepTimeConstant 0
	// disables wake-ups.
	WakeupCPU, WakeupLatency, SleepTimeConstant sim.Time
	// Rand, when set, makes each wake-up latency exponentially
	// distributed with mean f×WakeupLatency (scheduler wake-ups vary);
	// without it the latency is exactly f×WakeupLatency.
	Rand *rand.Rand
}

// SetActivity turns on the activity model (see Activity). A station without
// it charges each job's whole demand on the job's path and never parks.
func (st *Station) SetActivity(a Activity) {
	st.activity = a.PathFraction != 1 || a.SleepTimeConstant > 0
	st.pathFrac = a.PathFraction
	st.wakeCPU, st.wakeLat, st.tau, st.rng = a.WakeupCPU, a.WakeupLatency, float64(a.SleepTimeConstant), a.Rand
}

// NewStation returns a station with servers servers (at least 1).
func NewStation(name string, servers int) *Station {
	if servers < 1 {
		servers = 1
	}
	return &Station{Name: name, free: make([]sim.Time, servers)}
}

// newStation returns a station with the activity model a; wake-up
// latencies, if any, are drawn from the station's own random stream.
func newStation(strm *sim.Streams, name string, servers int, a Activity) *Station {
	st := NewStation(name, servers)
	if a.WakeupLatency > 0 && a.SleepTimeConstant > 0 {
		a.Rand = strm.Rand("wakeup/" + name)
	}
	st.SetActivity(a)
	return st
}

// Servers returns the number of servers.
func (st *Station) Servers() int { return len(st.free) }

// Arrive admits a job of the given demand arriving at t and returns when it
// finishes. Without SetActivity the wait is finish−demand−t; with it, a job
// finishes after its on-path share of the demand (plus a wake-up latency
// when it woke the station) and the server stays busy for the rest.
func (st *Station) Arrive(t, demand sim.Time) sim.Time {
	// free is a binary min-heap of the servers' free times: the job takes
	// the earliest-free server (free[0]).
	f := st.free[0]
	start := t
	if f > start {
		start = f
	}
	if !st.activity {
		fin := start + demand
		st.siftDown(fin)
		st.account(t, start, demand)
		if st.host != nil {
			st.host.run(fin)
		}
		return fin
	}
	on := sim.Time(float64(demand)*st.pathFrac + 0.5)
	hold, cpu, wake := demand-on, demand, sim.Time(0)
	core := -1
	if st.host != nil {
		core = st.host.idlest()
	}
	if gap := t - st.lastFree; st.tau > 0 && gap > 0 {
		depth := -math.Expm1(-float64(gap) / st.tau)
		if core >= 0 {
			// The process's thread wakes on its host's longest-idle core:
			// a core another process used a moment ago is not asleep.
			cgap := t - st.host.ends[core]
			depth *= -math.Expm1(-float64(max(cgap, 0)) / st.tau)
		}
		lat := depth * float64(st.wakeLat)
		if st.rng != nil && lat > 0 {
			lat *= st.rng.ExpFloat64()
		}
		wake = sim.Time(lat + 0.5)
		wcpu := sim.Time(depth*float64(st.wakeCPU) + 0.5)
		hold += wcpu
		cpu += wcpu
		if t >= st.measure {
			st.wakes += depth
		}
	}
	fin := start + wake + on
	end := fin + hold
	st.siftDown(end)
	if end > st.lastFree {
		st.lastFree = end
	}
	if core >= 0 {
		st.host.ends[core] = max(st.host.ends[core], end)
	}
	st.account(t, start, cpu)
	return fin
}

// Host is a set of CPU cores that several stations' processes share: the
// nodes of one machine (a kind cluster or the local validation harness
// runs every node on one host). It only tracks when each core last ran
// something, so a wake-up's depth can depend on whether the host was idle
// (Station.SetHost); it does not model contention for the cores.
type Host struct {
	ends []sim.Time // when each core's latest job ends
}

// NewHost returns a host of cores cores (at least 1).
func NewHost(cores int) *Host { return &Host{ends: make([]sim.Time, max(cores, 1))} }

// idlest returns the core that has been idle longest.
func (h *Host) idlest() int {
	c := 0
	for i, e := range h.ends {
		if e < h.ends[c] {
			c = i
		}
	}
	return c
}

// run records a job ending at end on the host's idlest core.
func (h *Host) run(end sim.Time) {
	c := h.idlest()
	h.ends[c] = max(h.ends[c], end)
}

// SetHost places the station's process on h: its jobs keep h's cores
// awake, and with the activity model a wake-up's depth is the product of
// the process's own sleep depth and that of the host's longest-idle core,
// both 1 − exp(−gap/τ).
func (st *Station) SetHost(h *Host) { st.host = h }

// account records a job's statistics when it arrives inside the
// measurement window.
func (st *Station) account(t, start, demand sim.Time) {
	if t >= st.measure {
		st.busy += demand
		w := start - t
		st.waitSum += w
		st.served++
		if w > st.maxWait {
			st.maxWait = w
		}
	}
}

// siftDown replaces the heap's root with v and restores the heap.
func (st *Station) siftDown(v sim.Time) {
	h := st.free
	n := len(h)
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h[r] < h[l] {
			c = r
		}
		if h[c] >= v {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = v
}

// Backlog returns how long a job arriving at t would wait.
func (st *Station) Backlog(t sim.Time) sim.Time {
	if f := st.free[0]; f > t {
		return f - t
	}
	return 0
}

// ResetStats starts measuring at t: earlier arrivals are not counted.
func (st *Station) ResetStats(t sim.Time) {
	st.measure = t
	st.busy, st.waitSum, st.served, st.maxWait, st.wakes = 0, 0, 0, 0, 0
}

// Wakeups returns the measured jobs' wake-ups, each weighted by the depth
// of the sleep it ended (a job after a long idle gap counts 1).
func (st *Station) Wakeups() float64 { return st.wakes }

// BusyTime returns the total service demand of measured jobs (server-ns).
func (st *Station) BusyTime() sim.Time { return st.busy }

// Served returns the number of measured jobs.
func (st *Station) Served() int64 { return st.served }

// MeanWait returns the mean queueing delay of measured jobs.
func (st *Station) MeanWait() sim.Time {
	if st.served == 0 {
		return 0
	}
	return st.waitSum / sim.Time(st.served)
}

// MaxWait returns the longest queueing delay of a measured job.
func (st *Station) MaxWait() sim.Time { return st.maxWait }

// Cores returns the mean number of busy servers over a window of length d.
func (st *Station) Cores(d sim.Time) float64 {
	if d <= 0 {
		return 0
	}
	return float64(st.busy) / float64(d)
}

// Utilisation returns the busy fraction of all servers over a window d.
func (st *Station) Utilisation(d sim.Time) float64 {
	return st.Cores(d) / float64(len(st.free))
}
