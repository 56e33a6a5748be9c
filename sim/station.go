package sim

import "fmt"

// job is a unit of work at a Station.
type job struct {
	demand  Time // service time needed
	arrived Time
	done    Handler
	ev      Event
}

// Station is a FIFO queue in front of c identical servers: CPU cores of a
// ztunnel, worker threads of a waypoint, a link. Work arrives with Submit,
// waits if every server is busy (or is rejected when the queue is full), is
// served for its demand, and then its done handler runs. The Station keeps
// the statistics capacity planning needs: time-weighted busy servers and
// queue length, utilisation, waiting-time histogram, served and rejected
// counts. It allocates nothing per job in steady state.
type Station struct {
	sim     *Sim
	name    string
	servers int
	limit   int // queue limit; 0 = unlimited

	// FIFO ring of waiting jobs.
	ring       []job
	head, qlen int

	// Jobs in service, indexed by the completion event's A field.
	active []job
	free   []int32

	busy     Gauge // servers busy
	capacity Gauge // servers configured
	queue    Gauge // jobs waiting (not in service)
	wait     Histogram
	served   int64
	rejected int64
}

// NewStation returns a station with servers servers (>= 0) and room for
// queueLimit waiting jobs (0 = unlimited), attached to s.
func NewStation(s *Sim, name string, servers, queueLimit int) *Station {
	if servers < 0 || queueLimit < 0 {
		panic(fmt.Sprintf("sim: NewStation(%q, servers=%d, queueLimit=%d): negative size", name, servers, queueLimit))
	}
	st := &Station{sim: s, name: name, servers: servers, limit: queueLimit}
	now := s.Now()
	st.busy.Reset(now)
	st.queue.Reset(now)
	st.capacity.Set(now, float64(servers))
	st.capacity.Reset(now)
	return st
}

// Name returns the station's name.
func (st *Station) Name() string { return st.name }

// Submit offers a job needing demand of service. It returns false, and
// counts a rejection, when the queue is full; otherwise done.Handle(ev) runs
// when service completes (done may be nil). A negative demand panics.
func (st *Station) Submit(demand Time, done Handler, ev Event) bool {
	if demand < 0 {
		panic(fmt.Sprintf("sim: Station %q: negative demand %v", st.name, demand))
	}
	j := job{demand: demand, arrived: st.sim.now, done: done, ev: ev}
	if st.busy.v < float64(st.servers) && st.qlen == 0 {
		st.start(j)
		return true
	}
	if st.limit > 0 && st.qlen >= st.limit {
		st.rejected++
		return false
	}
	if st.qlen == len(st.ring) {
		st.grow()
	}
	st.ring[(st.head+st.qlen)%len(st.ring)] = j
	st.qlen++
	st.queue.Set(st.sim.now, float64(st.qlen))
	return true
}

func (st *Station) grow() {
	n := max(8, 2*len(st.ring))
	r := make([]job, n)
	for i := 0; i < st.qlen; i++ {
		r[i] = st.ring[(st.head+i)%len(st.ring)]
	}
	st.ring, st.head = r, 0
}

func (st *Station) start(j job) {
	now := st.sim.now
	var idx int32
	if n := len(st.free); n > 0 {
		idx = st.free[n-1]
		st.free = st.free[:n-1]
	} else {
		idx = int32(len(st.active))
		st.active = append(st.active, job{})
	}
	st.active[idx] = j
	st.busy.Add(now, 1)
	st.wait.Record(now - j.arrived)
	st.sim.After(j.demand, (*stationDone)(st), Event{A: int64(idx)})
}

// startWaiting moves waiting jobs into service while servers are free.
func (st *Station) startWaiting() {
	for st.qlen > 0 && st.busy.v < float64(st.servers) {
		j := st.ring[st.head]
		st.ring[st.head] = job{}
		st.head = (st.head + 1) % len(st.ring)
		st.qlen--
		st.queue.Set(st.sim.now, float64(st.qlen))
		st.start(j)
	}
}

// stationDone receives a Station's service completions without giving
// Station an exported Handle method.
type stationDone Station

func (d *stationDone) Handle(ev Event) {
	st := (*Station)(d)
	j := st.active[ev.A]
	st.active[ev.A] = job{}
	st.free = append(st.free, int32(ev.A))
	st.busy.Add(st.sim.now, -1)
	st.served++
	st.startWaiting()
	if j.done != nil {
		j.done.Handle(j.ev)
	}
}

// Servers returns the configured number of servers.
func (st *Station) Servers() int { return st.servers }

// SetServers changes the number of servers (scaling out or in). Extra
// servers start on waiting jobs at once; when scaling in, jobs in service
// finish and the reduction takes effect as servers free up.
func (st *Station) SetServers(n int) {
	if n < 0 {
		panic(fmt.Sprintf("sim: Station %q: SetServers(%d)", st.name, n))
	}
	st.servers = n
	st.capacity.Set(st.sim.now, float64(n))
	st.startWaiting()
}

// Busy returns the number of servers currently serving a job.
func (st *Station) Busy() int { return int(st.busy.v) }

// QueueLen returns the number of jobs waiting for a server.
func (st *Station) QueueLen() int { return st.qlen }

// QueueLimit returns the queue limit (0 = unlimited).
func (st *Station) QueueLimit() int { return st.limit }

// BusyTime returns the server-time spent serving since creation or the last
// ResetStats (two servers busy for 1 s count 2 s).
func (st *Station) BusyTime() Time { return Time(st.busy.Integral(st.sim.now) + 0.5) }

// Utilisation returns the time-weighted fraction of server capacity that
// was busy since creation or the last ResetStats: busy server-time divided by
// configured server-time. It is 0 before any time has passed.
func (st *Station) Utilisation() float64 {
	c := st.capacity.Integral(st.sim.now)
	if c <= 0 {
		return 0
	}
	return st.busy.Integral(st.sim.now) / c
}

// MeanBusy returns the time-weighted mean number of busy servers.
func (st *Station) MeanBusy() float64 { return st.busy.Mean(st.sim.now) }

// MeanQueueLen returns the time-weighted mean number of waiting jobs (not
// counting those in service).
func (st *Station) MeanQueueLen() float64 { return st.queue.Mean(st.sim.now) }

// MaxQueueLen returns the longest the queue has been since the last reset.
func (st *Station) MaxQueueLen() int { return int(st.queue.Max()) }

// Served returns the number of jobs that completed service.
func (st *Station) Served() int64 { return st.served }

// Rejected returns the number of jobs turned away by a full queue.
func (st *Station) Rejected() int64 { return st.rejected }

// Wait returns the histogram of queueing delays (ns from Submit to start of
// service) of jobs that started service.
func (st *Station) Wait() *Histogram { return &st.wait }

// ResetStats clears the statistics (not the jobs) as of Now(), typically at
// the end of a warm-up period.
func (st *Station) ResetStats() {
	now := st.sim.now
	st.busy.Reset(now)
	st.queue.Reset(now)
	st.capacity.Reset(now)
	st.wait.Reset()
	st.served, st.rejected = 0, 0
}
