package sim

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
)

// job is a unit of work waiting at a Station.
type job struct {
	demand  Time // work on the job's path (reference-core ns)
	hold    Time // work after the job is done (off its path)
	wake    Time // blocked (I/O) and wake-up delay before the work (no CPU)
	arrived Time
	done    Handler
	ev      Event
}

// Thread phases.
const (
	thIdle    uint8 = iota
	thWaking        // asleep: the job waits for the wake-up latency
	thRunning       // the job's on-path work
	thHolding       // off-path work after the job was done
)

// thread is a station's thread and the job it holds: what is left of the
// job once it started (80 bytes; the arrival time and blocked time are
// spent by then).
type thread struct {
	demand Time // on-path work (read when a wake-up ends)
	hold   Time // off-path work after the job is done
	done   Handler
	ev     Event
	phase  uint8
	core   int32 // the machine CPU it woke on (activity model), -1 none
}

// freeBits is how many of a station's threads an idle bit mask covers;
// threads beyond it wait idle on a stack.
const freeBits = 64

// Station is a FIFO queue in front of a pool of threads: the worker threads
// of a ztunnel or an Envoy, the request workers of an app, a pinned worker
// (one thread). Work arrives with Submit, waits while every thread is busy
// (or is rejected when the queue is full), runs on a thread for its demand,
// and then its done handler runs.
//
// The threads run on a Machine's cores, in a Group: a station made with
// Group.NewStation shares the machine with every other group's threads, so
// its jobs take longer when the machine is contended or the group is
// throttled. NewStation gives the station a machine of its own on which
// every thread always has a reference core to itself: the classic FIFO
// multi-server queue.
//
// The Station keeps the statistics capacity planning needs: time-weighted
// busy threads and queue length, utilisation, waiting-time histogram,
// served and rejected counts (CPU time is the group's). It allocates
// nothing per job in steady state.
type Station struct {
	// What a job that finds an idle thread touches comes first: the
	// first two cache lines, then thread 0 (an idle station's jobs run on
	// its lowest idle thread, so mostly on thread 0). A simulation with
	// thousands of stations finds each one cold: these lines are loaded
	// together, where a pointer to a separate thread array or free list
	// would be loaded only after the station (see docs/performance.md).
	sim      *Sim
	m        *Machine // g.m, one load closer
	g        *Group
	servers  int
	nbusy    int
	qlen     int
	freeMask uint64 // idle threads among 0..63 (bit i: thread i)
	busy     Gauge  // threads holding a job
	waitSum  Time
	waitN    int64
	served   int64
	idleAt   Time  // when the last thread went idle
	nth      int32 // threads created (lazily, up to servers)
	act      bool
	noHist   bool // keep only the waits' sum and count

	th0 thread   // thread 0
	thx []thread // threads 1, 2, ...
	hi  []int32  // idle threads >= freeBits

	name  string
	limit int // queue limit; 0 = unlimited

	ring []job
	head int

	capacity Gauge      // threads configured
	queue    Gauge      // jobs waiting (not on a thread)
	wait     *Histogram // made on first use
	rejected int64

	pathFrac float64
	wakeCPU  Time
	wakeLat  Time
	tau      float64
	rng      *rand.Rand
	wakes    float64
}

// NewStation returns a station with servers threads (>= 0) and room for
// queueLimit waiting jobs (0 = unlimited), on a machine of its own where
// each thread has a reference core (speed 1) to itself: a FIFO c-server
// queue whose jobs take exactly their demand.
func NewStation(s *Sim, name string, servers, queueLimit int) *Station {
	m := NewMachine(s, name, MachineSpec{Cores: math.MaxInt32, Speed: 1})
	return m.NewGroup(name, GroupSpec{Weight: 1}).NewStation(name, servers, queueLimit)
}

// NewStation returns a station of servers threads (>= 0) in group g, with
// room for queueLimit waiting jobs (0 = unlimited).
func (g *Group) NewStation(name string, servers, queueLimit int) *Station {
	if servers < 0 || queueLimit < 0 {
		panic(fmt.Sprintf("sim: NewStation(%q, servers=%d, queueLimit=%d): negative size", name, servers, queueLimit))
	}
	s := g.m.s
	st := &Station{sim: s, m: g.m, name: name, g: g, servers: servers, limit: queueLimit, idleAt: s.Now()}
	st.th0.core = -1
	now := s.Now()
	st.busy.Reset(now)
	st.queue.Reset(now)
	st.capacity.Set(now, float64(servers))
	st.capacity.Reset(now)
	g.addThreads(servers)
	return st
}

// Activity parameterises Station.SetActivity: what a thread costs beyond
// its jobs' demand.
type Activity struct {
	// PathFraction of each job's demand delays the job; the rest keeps
	// the thread busy after the job has been done (bookkeeping).
	PathFraction float64
	// A job arriving g after the station's threads all went idle finds
	// them asleep to depth f = 1 − exp(−g/SleepTimeConstant), times that
	// of the machine's longest-idle CPU: it waits f×WakeupLatency (no
	// CPU) and the wake-up costs f×WakeupCPU of work after the job.
	// SleepTimeConstant 0 disables wake-ups.
	WakeupCPU, WakeupLatency, SleepTimeConstant Time
	// Rand, when set, makes each wake-up latency exponentially
	// distributed with mean f×WakeupLatency; without it the latency is
	// exactly f×WakeupLatency.
	Rand *rand.Rand
}

// SetActivity turns on the activity model (see Activity). A station
// without it puts each job's whole demand on the job's path and never
// sleeps.
func (st *Station) SetActivity(a Activity) {
	st.act = a.PathFraction != 1 || a.SleepTimeConstant > 0
	st.pathFrac = a.PathFraction
	st.wakeCPU, st.wakeLat, st.tau, st.rng = a.WakeupCPU, a.WakeupLatency, float64(a.SleepTimeConstant), a.Rand
	if a.SleepTimeConstant > 0 && st.m.cores < math.MaxInt32 {
		st.g.m.trackCore = true
	}
}

// Name returns the station's name.
func (st *Station) Name() string { return st.name }

// Group returns the CPU group the station's threads run in.
func (st *Station) Group() *Group { return st.g }

// Submit offers a job needing demand of work (reference-core ns). It
// returns false, and counts a rejection, when the queue is full; otherwise
// done.Handle(ev) runs when the job is done (done may be nil). A negative
// demand panics.
func (st *Station) Submit(demand Time, done Handler, ev Event) bool {
	return st.SubmitBlocked(0, demand, done, ev)
}

// SubmitBlocked offers a job that, once a thread takes it, first blocks
// for blocked (waiting on I/O: the thread is held, no CPU is used) and then
// needs demand of work. Otherwise it is Submit.
func (st *Station) SubmitBlocked(blocked, demand Time, done Handler, ev Event) bool {
	if demand < 0 || blocked < 0 {
		st.badSubmit(blocked, demand)
	}
	now := st.sim.now
	if st.nbusy < st.servers && st.qlen == 0 {
		st.startNew(&job{demand: demand, wake: blocked, arrived: now, done: done, ev: ev})
		return true
	}
	if st.limit > 0 && st.qlen >= st.limit {
		st.rejected++
		return false
	}
	if st.qlen == len(st.ring) {
		st.grow()
	}
	st.ring[(st.head+st.qlen)%len(st.ring)] = job{demand: demand, wake: blocked, arrived: now, done: done, ev: ev}
	st.qlen++
	st.queue.Set(now, float64(st.qlen))
	return true
}

// badSubmit panics for a negative demand or blocked time; out of line to
// keep SubmitBlocked small.
func (st *Station) badSubmit(blocked, demand Time) {
	panic(fmt.Sprintf("sim: Station %q: negative demand %v or blocked time %v", st.name, demand, blocked))
}

func (st *Station) grow() {
	n := max(8, 2*len(st.ring))
	r := make([]job, n)
	for i := 0; i < st.qlen; i++ {
		r[i] = st.ring[(st.head+i)%len(st.ring)]
	}
	st.ring, st.head = r, 0
}

// thread returns thread i.
func (st *Station) thread(i int32) *thread {
	if i == 0 {
		return &st.th0
	}
	return &st.thx[i-1]
}

// takeThread returns an idle thread: the lowest-numbered idle one of the
// first 64 (so a lightly loaded station keeps using thread 0, which lies
// next to its hot fields), else the last freed of the others, else a new
// one.
// Which thread runs a job is not observable: threads are alike.
func (st *Station) takeThread() int32 {
	if st.freeMask != 0 {
		i := bits.TrailingZeros64(st.freeMask)
		st.freeMask &= st.freeMask - 1
		return int32(i)
	}
	if n := len(st.hi); n > 0 {
		i := st.hi[n-1]
		st.hi = st.hi[:n-1]
		return i
	}
	i := st.nth
	st.nth++
	if i > 0 {
		st.thx = append(st.thx, thread{core: -1})
	}
	return i
}

// releaseThread makes thread i idle.
func (st *Station) releaseThread(i int32) {
	if i < freeBits {
		st.freeMask |= 1 << uint(i)
		return
	}
	st.hi = append(st.hi, i)
}

// split applies the activity model to a job starting service now: its
// on-path and held work, and (when the station was asleep) its wake-up.
func (st *Station) split(j *job, now Time, wasIdle bool) {
	on := Time(float64(j.demand)*st.pathFrac + 0.5)
	j.hold = j.demand - on
	j.demand = on
	if !wasIdle || st.tau <= 0 {
		return
	}
	gap := now - st.idleAt
	if gap <= 0 {
		return
	}
	depth := -math.Expm1(-float64(gap) / st.tau)
	m := st.m
	if m.trackCore {
		// A thread wakes on the machine's longest-idle CPU: a CPU another
		// process used a moment ago is not asleep.
		c := m.idlestCore()
		cgap := now - m.coreEnds[c]
		depth *= -math.Expm1(-float64(max(cgap, 0)) / st.tau)
	}
	lat := depth * float64(st.wakeLat)
	if st.rng != nil && lat > 0 {
		lat *= st.rng.ExpFloat64()
	}
	j.wake += Time(lat + 0.5)
	j.hold += Time(depth*float64(st.wakeCPU) + 0.5)
	st.wakes += depth
}

// startNew puts job j on an idle thread now.
func (st *Station) startNew(j *job) {
	now := st.sim.now
	wasIdle := st.nbusy == 0
	idx := st.takeThread()
	st.nbusy++
	st.busy.Add(now, 1)
	st.recordWait(now - j.arrived)
	if st.act {
		st.split(j, now, wasIdle)
	}
	t := st.thread(idx)
	t.demand, t.hold, t.done, t.ev = j.demand, j.hold, j.done, j.ev
	m := st.m
	m.advance(now)
	if m.trackCore {
		t.core = m.idlestCore()
		m.coreEnds[t.core] = MaxTime
	}
	if j.wake > 0 {
		t.phase = thWaking
		st.sim.After(j.wake, (*stationWake)(st), Event{A: int64(idx)})
		return
	}
	t.phase = thRunning
	st.g.start(st, idx, float64(j.demand))
	m.settle()
}

// stationWake receives the end of a thread's wake-up.
type stationWake Station

func (w *stationWake) Handle(ev Event) {
	st := (*Station)(w)
	t := st.thread(int32(ev.A))
	t.phase = thRunning
	m := st.m
	m.advance(st.sim.now)
	st.g.start(st, int32(ev.A), float64(t.demand))
	m.settle()
}

// finished is called by the machine when thread th's current phase ended
// at group virtual time vgEnd.
func (st *Station) finished(th int32, vgEnd float64) {
	t := st.thread(th)
	if t.phase == thRunning {
		st.served++
		if t.done != nil {
			s := st.sim
			s.done = append(s.done, pendingDone{h: t.done, ev: t.ev})
		}
		t.done, t.ev = nil, Event{}
		if t.hold > 0 {
			t.phase = thHolding
			st.g.continueWith(st, th, vgEnd, float64(t.hold))
			return
		}
	}
	now := st.sim.now
	if st.qlen > 0 && st.nbusy <= st.servers {
		j := st.ring[st.head]
		st.ring[st.head] = job{}
		st.head = (st.head + 1) % len(st.ring)
		st.qlen--
		st.queue.Set(now, float64(st.qlen))
		st.recordWait(now - j.arrived)
		if st.act {
			st.split(&j, now, false)
		}
		t.demand, t.hold, t.done, t.ev = j.demand, j.hold, j.done, j.ev
		if j.wake > 0 {
			t.phase = thWaking
			st.sim.After(j.wake, (*stationWake)(st), Event{A: int64(th)})
			return
		}
		t.phase = thRunning
		st.g.continueWith(st, th, vgEnd, float64(j.demand))
		return
	}
	t.phase = thIdle
	t.demand, t.hold = 0, 0
	if t.core >= 0 {
		st.m.coreEnds[t.core] = now
		t.core = -1
	}
	st.releaseThread(th)
	st.nbusy--
	st.busy.Add(now, -1)
	if st.nbusy == 0 {
		st.idleAt = now
	}
	if st.qlen > 0 {
		st.startWaiting()
	}
}

// startWaiting moves waiting jobs onto threads while some are free.
func (st *Station) startWaiting() {
	for st.qlen > 0 && st.nbusy < st.servers {
		j := st.ring[st.head]
		st.ring[st.head] = job{}
		st.head = (st.head + 1) % len(st.ring)
		st.qlen--
		st.queue.Set(st.sim.now, float64(st.qlen))
		st.startNew(&j)
	}
}

// recordWait records a job's wait for a thread.
func (st *Station) recordWait(w Time) {
	st.waitSum += w
	st.waitN++
	if !st.noHist {
		st.waitHist().Record(w)
	}
}

// waitHist returns the waiting-time histogram, making it on first use: most
// stations in a large simulation never record one.
func (st *Station) waitHist() *Histogram {
	if st.wait == nil {
		st.wait = new(Histogram)
	}
	return st.wait
}

// SetWaitHistogram turns the waiting-time histogram on (the default) or
// off; MeanWait is kept either way.
func (st *Station) SetWaitHistogram(on bool) { st.noHist = !on }

// MeanWait returns the mean wait for a thread of the jobs that started
// since the last ResetStats.
func (st *Station) MeanWait() Time {
	if st.waitN == 0 {
		return 0
	}
	return st.waitSum / Time(st.waitN)
}

// Servers returns the configured number of threads.
func (st *Station) Servers() int { return st.servers }

// SetServers changes the number of threads (scaling out or in). Extra
// threads start on waiting jobs at once; when scaling in, jobs in service
// finish and the reduction takes effect as threads free up.
func (st *Station) SetServers(n int) {
	if n < 0 {
		panic(fmt.Sprintf("sim: Station %q: SetServers(%d)", st.name, n))
	}
	st.g.addThreads(n - st.servers)
	st.servers = n
	st.capacity.Set(st.sim.now, float64(n))
	st.startWaiting()
}

// Busy returns the number of threads holding a job.
func (st *Station) Busy() int { return st.nbusy }

// QueueLen returns the number of jobs waiting for a thread.
func (st *Station) QueueLen() int { return st.qlen }

// QueueLimit returns the queue limit (0 = unlimited).
func (st *Station) QueueLimit() int { return st.limit }

// BusyTime returns the thread-time spent holding jobs since creation or the
// last ResetStats (two threads busy for 1 s count 2 s). On a contended
// machine a thread holding a job is not always on a CPU: the group's
// CPUTime is what the kernel would account.
func (st *Station) BusyTime() Time { return Time(st.busy.Integral(st.sim.now) + 0.5) }

// Utilisation returns the time-weighted fraction of thread capacity that
// was busy since creation or the last ResetStats. It is 0 before any time
// has passed.
func (st *Station) Utilisation() float64 {
	c := st.capacity.Integral(st.sim.now)
	if c <= 0 {
		return 0
	}
	return st.busy.Integral(st.sim.now) / c
}

// MeanBusy returns the time-weighted mean number of busy threads.
func (st *Station) MeanBusy() float64 { return st.busy.Mean(st.sim.now) }

// MeanQueueLen returns the time-weighted mean number of waiting jobs (not
// counting those on a thread).
func (st *Station) MeanQueueLen() float64 { return st.queue.Mean(st.sim.now) }

// MaxQueueLen returns the longest the queue has been since the last reset.
func (st *Station) MaxQueueLen() int { return int(st.queue.Max()) }

// Served returns the number of jobs done.
func (st *Station) Served() int64 { return st.served }

// Rejected returns the number of jobs turned away by a full queue.
func (st *Station) Rejected() int64 { return st.rejected }

// Wait returns the histogram of queueing delays (ns from Submit to a
// thread taking the job) of jobs that started (empty when turned off by
// SetWaitHistogram).
func (st *Station) Wait() *Histogram { return st.waitHist() }

// Wakeups returns the jobs' wake-ups since the last ResetStats, each
// weighted by the depth of the sleep it ended (1 after a long idle gap).
func (st *Station) Wakeups() float64 { return st.wakes }

// ResetStats clears the statistics (not the jobs) as of Now(), typically at
// the end of a warm-up period. The group's CPU statistics are reset by
// Group.ResetStats.
func (st *Station) ResetStats() {
	now := st.sim.now
	st.busy.Reset(now)
	st.queue.Reset(now)
	st.capacity.Reset(now)
	if st.wait != nil {
		st.wait.Reset()
	}
	st.waitSum, st.waitN = 0, 0
	st.served, st.rejected, st.wakes = 0, 0, 0
}
