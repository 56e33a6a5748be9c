package models

import "github.com/ambientsim/ambientsim/sim"

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
}

// NewStation returns a station with servers servers (at least 1).
func NewStation(name string, servers int) *Station {
	if servers < 1 {
		servers = 1
	}
	return &Station{Name: name, free: make([]sim.Time, servers)}
}

// Servers returns the number of servers.
func (st *Station) Servers() int { return len(st.free) }

// Arrive admits a job of the given demand arriving at t and returns when it
// finishes. The wait is finish−demand−t.
func (st *Station) Arrive(t, demand sim.Time) sim.Time {
	// free is a binary min-heap of the servers' free times: the job takes
	// the earliest-free server (free[0]).
	f := st.free[0]
	start := t
	if f > start {
		start = f
	}
	fin := start + demand
	st.siftDown(fin)
	if t >= st.measure {
		st.busy += demand
		w := start - t
		st.waitSum += w
		st.served++
		if w > st.maxWait {
			st.maxWait = w
		}
	}
	return fin
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
	st.busy, st.waitSum, st.served, st.maxWait = 0, 0, 0, 0
}

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
