package sim

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// MachineSpec describes a machine's processors.
type MachineSpec struct {
	// Cores is how many CPUs the scheduler sees (vCPUs: hardware threads).
	// It may be fractional (a VM's allocatable CPU). Must be > 0.
	Cores float64
	// Speed is how much work one CPU running alone does per nanosecond,
	// relative to the reference core work is measured in (default 1).
	Speed float64
	// SMT is the number of hardware threads per physical core: 1 (none,
	// the default) or 2 (hyperthreads, as most cloud vCPUs are).
	SMT int
	// SMTYield is the throughput of a physical core whose two hardware
	// threads are both busy, relative to one thread alone (e.g. 1.25: each
	// of the two runs at 0.625). Used when SMT is 2; must be in [1, 2].
	SMTYield float64
	// Period is the CFS bandwidth period of CPU limits (default 100 ms).
	Period Time
}

// GroupSpec describes a CPU group (a container's cgroup).
type GroupSpec struct {
	// Weight is the group's CFS share of contended CPU time (Kubernetes
	// sets it in proportion to the container's CPU request). Must be > 0.
	Weight float64
	// Limit is the group's CPU quota in CPUs per period (a Kubernetes CPU
	// limit; 0 = unlimited): once the group has used Limit × Period of
	// CPU time within a period, its threads wait for the next period.
	Limit float64
}

// Machine is a set of CPU cores shared by groups of threads, scheduled the
// way Linux's CFS does it in the fluid limit. Runnable threads share the
// cores by weighted fair sharing: groups in proportion to their weights,
// each group's share split evenly over its runnable threads, and no thread
// faster than one core (water-filling). Work is measured in reference-core
// nanoseconds; a thread with a CPU to itself does Speed of it per ns (less
// when its SMT sibling is busy). A group with a limit is throttled until
// the next period once its quota is used up.
//
// The finish time of a job is not known when it starts — later arrivals
// slow it down — so the machine keeps each running job's remaining work as
// a virtual finish tag and keeps exactly one pending event, the earliest of
// the next completion, quota exhaustion or period boundary, rescheduled
// whenever the runnable set changes. While no more threads are runnable
// than there are CPUs, every thread runs at the same rate: an arrival then
// costs O(log n) and moves no other job (the fast path).
//
// Threads belong to Stations (NewStation on a Group). Statistics are per
// group (CPU time used, as the kernel accounts it) and per station.
type Machine struct {
	// What a job's start and end touch: the first two cache lines (the
	// struct is 256 bytes, a size class of whole lines).
	s        *Sim
	v        float64 // machine virtual time: work done by a thread at full share since 0
	tv       Time    // when v was last advanced
	rate     float64 // dv/dt: work per ns of a thread with a whole CPU
	cores    float64
	seq      uint64
	runnable int // threads running or waiting for a CPU, over unthrottled groups

	contended   bool // runnable > cores: shares below 1 (water-filling in force)
	needFull    bool // shares must be recomputed before the next event
	dispatching bool
	trackCore   bool
	smt2        bool // SMT 2: the rate depends on the busy CPUs (else it is speed)

	heap    []*Group // active groups (runnable threads, not throttled), min key first
	binding []*Group // groups whose limit can bind
	timer   Timer    // the one pending event, zero when none
	timerAt Time

	name   string
	speed  float64
	smt    int
	yield  float64
	period Time
	groups []*Group

	// Per-CPU end times for wake-up depth (stations with an activity
	// model): the CPU idle longest is where a waking thread runs.
	coreEnds []Time

	scratch []*Group
	_       [8]byte // to 256 bytes
}

type pendingDone struct {
	h  Handler
	ev Event
}

// Group is a CPU group on a Machine (a container's cgroup): a weight, an
// optional quota, and the threads of its stations.
type Group struct {
	// A job's start and end touch the first two cache lines only (the
	// struct is 256 bytes, a size class of whole lines), and a group
	// running one job keeps it in jobs0, on the second line: simulations
	// with thousands of groups find each one cold.
	m    *Machine
	vg   float64 // group virtual time at vu
	vu   float64 // machine virtual time of the last sync
	tu   Time    // real time of the last sync
	phi  float64 // share of a CPU each running thread gets (≤ 1)
	key  float64 // machine virtual time at which the min job finishes
	cpu  float64 // CPU-ns used since the last ResetStats
	n    int32   // running threads (holding a job, awake)
	hpos int32   // position in m.heap, -1 when inactive

	jobs      []runEntry  // running jobs, min tag first (in jobs0 or spare)
	jobs0     [1]runEntry // jobs' array while it holds at most one
	idx       int32
	bind      bool // limit < threads: the quota can bind
	throttled bool

	budget  float64 // CPU-ns left in the current period
	name    string
	weight  float64
	limit   float64
	quota   float64    // CPU-ns per period (limit × period)
	inBind  int        // position in m.binding, -1 when not there
	threads int        // servers over the group's stations
	thrTime Time       // time throttled since the last ResetStats
	thrAt   Time       // when the current throttle began
	periods int64      // periods in which the group was throttled (since reset)
	spare   []runEntry // an array for jobs when more than one runs, kept when idle
	_       [16]byte   // to 256 bytes
}

// runEntry is a running job in its group's heap: the group virtual time at
// which it finishes, a sequence number for ties and the thread.
type runEntry struct {
	tag float64
	seq uint64
	st  *Station
	th  int32
}

// NewMachine returns a machine attached to s. It panics on an invalid spec
// (a programming error: models validate user input before).
func NewMachine(s *Sim, name string, spec MachineSpec) *Machine {
	if !(spec.Cores > 0) || spec.Speed < 0 || spec.SMT < 0 || spec.SMT > 2 || spec.Period < 0 ||
		(spec.SMT == 2 && !(spec.SMTYield >= 1 && spec.SMTYield <= 2)) {
		panic(fmt.Sprintf("sim: NewMachine(%q, %+v): invalid spec", name, spec))
	}
	m := &Machine{s: s, name: name, cores: spec.Cores, speed: spec.Speed, smt: max(spec.SMT, 1),
		yield: spec.SMTYield, period: spec.Period, tv: s.Now()}
	if m.speed == 0 {
		m.speed = 1
	}
	if m.period == 0 {
		m.period = 100 * Millisecond
	}
	m.rate = m.speed
	m.smt2 = m.smt >= 2
	return m
}

// Name returns the machine's name.
func (m *Machine) Name() string { return m.name }

// Cores returns the machine's CPU count.
func (m *Machine) Cores() float64 { return m.cores }

// Speed returns the relative speed of one CPU running alone.
func (m *Machine) Speed() float64 { return m.speed }

// NewGroup adds a CPU group. It panics on a weight ≤ 0 or a negative limit.
func (m *Machine) NewGroup(name string, spec GroupSpec) *Group {
	if !(spec.Weight > 0) || spec.Limit < 0 {
		panic(fmt.Sprintf("sim: NewGroup(%q, %+v): invalid spec", name, spec))
	}
	g := &Group{m: m, name: name, idx: int32(len(m.groups)), weight: spec.Weight, limit: spec.Limit,
		hpos: -1, inBind: -1, phi: 1, tu: m.s.Now(), vu: m.v}
	g.jobs = g.jobs0[:0]
	if spec.Limit > 0 {
		g.quota = spec.Limit * float64(m.period)
		g.budget = g.quota
	}
	m.groups = append(m.groups, g)
	return g
}

// Name returns the group's name.
func (g *Group) Name() string { return g.name }

// Machine returns the machine the group runs on.
func (g *Group) Machine() *Machine { return g.m }

// Limit returns the group's CPU limit (0 = unlimited).
func (g *Group) Limit() float64 { return g.limit }

// Weight returns the group's weight.
func (g *Group) Weight() float64 { return g.weight }

// addThreads changes the group's thread count (a station added or scaled)
// and whether its limit can bind: only a group with more threads than its
// limit can ever exhaust its quota.
func (g *Group) addThreads(n int) {
	g.threads += n
	bind := g.limit > 0 && float64(g.threads) > g.limit
	if bind == g.bind {
		return
	}
	m := g.m
	m.advance(m.s.Now())
	g.sync(m.s.Now())
	g.bind = bind
	if bind {
		g.inBind = len(m.binding)
		m.binding = append(m.binding, g)
	} else {
		last := m.binding[len(m.binding)-1]
		m.binding[g.inBind] = last
		last.inBind = g.inBind
		m.binding = m.binding[:len(m.binding)-1]
		g.inBind = -1
		if g.throttled {
			m.unthrottle(g)
		}
	}
	m.settle()
}

// CPUTime returns the CPU time the group's threads used since creation or
// the last ResetStats, as the kernel accounts it (a thread on a CPU counts
// whether or not its SMT sibling slows it down).
func (g *Group) CPUTime() Time {
	now := g.m.s.Now()
	c := g.cpu
	if g.hpos >= 0 {
		c += float64(g.n) * g.phi * float64(now-g.tu)
	}
	return Time(c + 0.5)
}

// Throttled returns the time the group spent throttled by its limit and
// the number of periods in which it was throttled, since creation or the
// last ResetStats (cpu.stat throttled_time and nr_throttled).
func (g *Group) Throttled() (Time, int64) {
	t := g.thrTime
	if g.throttled {
		t += g.m.s.Now() - g.thrAt
	}
	return t, g.periods
}

// ResetStats clears the group's CPU and throttling statistics as of Now().
func (g *Group) ResetStats() {
	m := g.m
	now := m.s.Now()
	m.advance(now)
	g.sync(now)
	g.cpu, g.thrTime, g.periods = 0, 0, 0
	if g.throttled {
		g.thrAt = now
	}
}

// advance brings the machine's virtual time to now.
func (m *Machine) advance(now Time) {
	if now > m.tv {
		m.v += m.rate * float64(now-m.tv)
		m.tv = now
	}
}

// vgNow is the group's virtual time at the machine's current virtual time.
func (g *Group) vgNow() float64 {
	if g.hpos < 0 {
		return g.vg
	}
	return g.vg + g.phi*(g.m.v-g.vu)
}

// sync brings the group's virtual time, CPU time and quota budget to now
// (the machine must have been advanced to now).
func (g *Group) sync(now Time) {
	if g.hpos >= 0 {
		g.vg += g.phi * (g.m.v - g.vu)
		used := float64(g.n) * g.phi * float64(now-g.tu)
		g.cpu += used
		if g.bind {
			g.budget -= used
		}
	}
	g.vu = g.m.v
	g.tu = now
}

// effRate is the work per ns of a thread holding a whole CPU when busy CPUs
// are busy: the speed, less when SMT siblings share physical cores (threads
// spread over physical cores first, then pair up).
func (m *Machine) effRate(busy float64) float64 {
	if m.smt < 2 || busy <= 0 {
		return m.speed
	}
	p := m.cores / 2
	if busy <= p {
		return m.speed
	}
	busy = math.Min(busy, m.cores)
	return m.speed * ((2*p - busy) + (busy-p)*m.yield) / busy
}

// start makes a thread of g runnable with a job finishing after work more
// group virtual time.
func (g *Group) start(st *Station, th int32, work float64) {
	m := g.m
	g.sync(m.tv)
	m.seq++
	g.push(runEntry{tag: g.vg + work, seq: m.seq, st: st, th: th})
	g.n++
	if g.throttled {
		m.touch(g)
		return
	}
	m.runnable++
	if g.hpos < 0 && !m.contended && float64(m.runnable) <= m.cores {
		// The common case, an idle group on an uncontended machine:
		// heapPush and touch in one, keying the group once at share 1.
		if m.smt2 {
			m.rate = m.effRate(float64(m.runnable))
		}
		g.phi = 1
		g.rekey()
		g.hpos = int32(len(m.heap))
		m.heap = append(m.heap, g)
		m.heapUp(int(g.hpos))
		return
	}
	if g.hpos < 0 {
		m.heapPush(g)
	}
	m.touch(g)
}

// touch records that g's runnable threads or earliest job changed.
func (m *Machine) touch(g *Group) {
	contended := float64(m.runnable) > m.cores
	if contended || m.contended {
		m.needFull = true
		return
	}
	if m.smt2 {
		m.rate = m.effRate(float64(m.runnable))
	}
	if g.hpos >= 0 {
		g.phi = 1
		g.rekey()
		m.heapFix(int(g.hpos))
	}
}

// rekey sets g's key: the machine virtual time at which its earliest job
// finishes at its current share.
func (g *Group) rekey() {
	if len(g.jobs) == 0 || g.phi <= 0 {
		g.key = math.Inf(1)
		return
	}
	if g.phi == 1 { // x/1 == x exactly: skip the division
		g.key = g.vu + (g.jobs[0].tag - g.vg)
		return
	}
	g.key = g.vu + (g.jobs[0].tag-g.vg)/g.phi
}

// recompute sets every active group's share by water-filling the CPUs over
// the groups' weights, each capped at its runnable threads.
func (m *Machine) recompute() {
	m.needFull = false
	now := m.tv
	act := m.heap
	for _, g := range act {
		g.sync(now)
	}
	m.contended = float64(m.runnable) > m.cores
	if !m.contended {
		for _, g := range act {
			g.phi = 1
		}
	} else {
		// Water-filling: groups in order of threads per weight; a group
		// whose threads are fewer than its weighted share gets them all.
		s := append(m.scratch[:0], act...)
		slices.SortFunc(s, byThreadsPerWeight)
		capLeft, wLeft := m.cores, 0.0
		for _, g := range s {
			wLeft += g.weight
		}
		for _, g := range s {
			share := capLeft * g.weight / wLeft
			gamma := math.Min(float64(g.n), share)
			g.phi = gamma / float64(g.n)
			capLeft -= gamma
			wLeft -= g.weight
		}
		m.scratch = s[:0]
	}
	m.rate = m.effRate(math.Min(float64(m.runnable), m.cores))
	for _, g := range act {
		g.rekey()
	}
	m.heapInit()
}

// byThreadsPerWeight orders groups for water-filling: fewest runnable
// threads per unit of weight first, then by creation.
func byThreadsPerWeight(a, b *Group) int {
	if c := cmp.Compare(float64(a.n)/a.weight, float64(b.n)/b.weight); c != 0 {
		return c
	}
	return cmp.Compare(a.idx, b.idx)
}

// settle recomputes shares if needed and (re)schedules the machine's one
// pending event. While the machine is handling its own event, the work is
// left to the end of the handler.
func (m *Machine) settle() {
	if m.dispatching {
		return
	}
	if m.needFull {
		m.recompute()
	}
	m.schedule()
}

// next returns when the machine next needs to act: the earliest job
// completion, quota exhaustion or, with a throttled or partly used quota,
// period boundary. ok is false when nothing is pending.
func (m *Machine) next() (Time, bool) {
	now := m.tv
	at, ok := MaxTime, false
	if len(m.heap) > 0 && m.rate > 0 {
		g := m.heap[0]
		dt := g.key - m.v
		if m.rate != 1 { // x/1 == x exactly: skip the division
			dt /= m.rate
		}
		if dt < float64(MaxTime-now) {
			at, ok = now+Time(max(0, math.Ceil(dt))), true
		}
	}
	if len(m.binding) == 0 {
		return at, ok
	}
	boundary := false
	for _, g := range m.binding {
		if g.throttled || g.budget < g.quota || g.hpos >= 0 {
			boundary = true
		}
		if g.hpos < 0 || g.n == 0 {
			continue
		}
		use := float64(g.n) * g.phi
		if use <= 0 {
			continue
		}
		left := g.budget - use*float64(now-g.tu)
		t := now + Time(math.Max(0, math.Ceil(left/use)))
		if t < at {
			at, ok = t, true
		}
	}
	if boundary {
		b := (now/m.period + 1) * m.period
		if b < at {
			at, ok = b, true
		}
	}
	return at, ok
}

// schedule keeps the machine's one pending event at next().
func (m *Machine) schedule() {
	at, ok := m.next()
	// m.timer is zero when no event is pending (the handler clears it), so
	// this needs no look at the event's slot, a cache miss.
	if m.timer.Valid() {
		if ok && at == m.timerAt {
			return
		}
		m.s.Cancel(m.timer)
	}
	m.timer = Timer{}
	if ok {
		// The event carries the station of the job due first, so the
		// handler can load it in parallel with the group (see Handle).
		var ev Event
		if len(m.heap) > 0 {
			if g := m.heap[0]; len(g.jobs) > 0 {
				ev.P = g.jobs[0].st
			}
		}
		m.timer = m.s.At(at, (*machineTimer)(m), ev)
		m.timerAt = at
	}
}

// machineTimer receives the machine's events without giving Machine an
// exported Handle method.
type machineTimer Machine

func (h *machineTimer) Handle(ev Event) {
	m := (*Machine)(h)
	if st, ok := ev.P.(*Station); ok {
		// A hint, right or not: load the station whose job is probably
		// due (and its thread 0) now, so their cache misses overlap the
		// group's instead of following it (the group, then its job, then
		// the station, would be three misses in a row).
		m.s.touched += uint32(st.nbusy) + uint32(st.th0.phase)
	}
	now := m.s.Now()
	m.advance(now)
	m.dispatching = true
	base := len(m.s.done) // 0: machines' handlers do not nest
	if len(m.binding) > 0 && now%m.period == 0 {
		m.refill(now)
	}
	// Jobs due now finish before a quota used up now throttles their group.
	m.complete()
	if len(m.binding) > 0 {
		m.throttleSpent(now)
	}
	// Callbacks run with the machine consistent; their submissions are
	// settled once, after the last.
	s := m.s
	for i := base; i < len(s.done); i++ {
		d := s.done[i]
		s.done[i] = pendingDone{}
		d.h.Handle(d.ev)
	}
	s.done = s.done[:base]
	m.dispatching = false
	m.timer = Timer{}
	m.settle()
}

// refill starts a new CFS period: every limited group gets its quota back
// and throttled groups run again.
func (m *Machine) refill(now Time) {
	for _, g := range m.binding {
		g.sync(now)
		g.budget = g.quota
		if g.throttled {
			m.unthrottle(g)
		}
	}
}

// throttleSpent throttles the groups that have used their quota.
func (m *Machine) throttleSpent(now Time) {
	for i := 0; i < len(m.binding); i++ {
		g := m.binding[i]
		if g.throttled || g.hpos < 0 {
			continue
		}
		g.sync(now)
		if g.budget > 0.5 {
			continue
		}
		g.throttled = true
		g.thrAt = now
		g.periods++
		m.heapRemove(g)
		m.runnable -= int(g.n)
		m.needFull = true
	}
}

func (m *Machine) unthrottle(g *Group) {
	now := m.s.Now()
	g.throttled = false
	g.thrTime += now - g.thrAt
	g.vu, g.tu = m.v, now
	if g.n > 0 {
		m.runnable += int(g.n)
		m.heapPush(g)
	}
	m.needFull = true
}

// complete finishes every job whose tag the machine's virtual time has
// reached (within half a nanosecond of work).
func (m *Machine) complete() {
	now := m.tv
	eps := m.rate * 0.5
	for len(m.heap) > 0 && m.heap[0].key <= m.v+eps {
		g := m.heap[0]
		g.sync(now)
		lim := g.vg + g.phi*eps
		// The heap says g's first job is due: finish it even if rounding
		// of the group's virtual time leaves it a hair short (a tiny share
		// φ makes φ·eps smaller than the rounding of a large vg).
		first := true
		for len(g.jobs) > 0 && (first || g.jobs[0].tag <= lim) {
			first = false
			e := g.jobs[0]
			vgEnd := e.tag
			g.pop()
			g.n--
			m.runnable--
			e.st.finished(e.th, vgEnd)
		}
		if g.n == 0 {
			m.heapRemove(g)
		} else {
			g.rekey()
			if g.hpos >= 0 {
				m.heapFix(int(g.hpos))
			}
		}
		if m.contended || float64(m.runnable) > m.cores {
			m.needFull = true
		} else if m.smt2 {
			// Without SMT the rate is the speed whatever is busy.
			m.rate = m.effRate(float64(m.runnable))
		}
	}
	if m.needFull {
		m.recompute()
	}
}

// continueWith keeps a thread running on work more of its group's virtual
// time after a job phase ended at group virtual time vgEnd.
func (g *Group) continueWith(st *Station, th int32, vgEnd, work float64) {
	m := g.m
	m.seq++
	g.push(runEntry{tag: vgEnd + work, seq: m.seq, st: st, th: th})
	g.n++
	if !g.throttled {
		m.runnable++
		if g.hpos < 0 {
			g.vu, g.tu = m.v, m.tv
			m.heapPush(g)
		}
	}
	m.touch(g)
}

// Group job heap (min tag, then seq).

func (g *Group) less(i, j int) bool {
	a, b := &g.jobs[i], &g.jobs[j]
	return a.tag < b.tag || (a.tag == b.tag && a.seq < b.seq)
}

func (g *Group) push(e runEntry) {
	if len(g.jobs) == cap(g.jobs) {
		g.growJobs()
	}
	g.jobs = append(g.jobs, e)
	i := len(g.jobs) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !g.less(i, p) {
			break
		}
		g.jobs[i], g.jobs[p] = g.jobs[p], g.jobs[i]
		i = p
	}
}

func (g *Group) pop() {
	n := len(g.jobs) - 1
	g.jobs[0] = g.jobs[n]
	g.jobs[n] = runEntry{}
	g.jobs = g.jobs[:n]
	if n == 0 && cap(g.jobs) > len(g.jobs0) {
		// Back to the inline array, keeping the larger one for later.
		g.spare, g.jobs = g.jobs, g.jobs0[:0]
	}
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && g.less(r, l) {
			c = r
		}
		if !g.less(c, i) {
			break
		}
		g.jobs[i], g.jobs[c] = g.jobs[c], g.jobs[i]
		i = c
	}
}

// growJobs makes room for one more running job: the spare array if it
// has room, else a new array of twice the size.
func (g *Group) growJobs() {
	n := len(g.jobs)
	a := g.spare
	g.spare = nil
	if cap(a) <= n {
		a = make([]runEntry, 0, max(4, 2*n))
	}
	g.jobs = append(a[:0], g.jobs...)
}

// Machine heap of active groups (min key, then group index).

func (m *Machine) hless(i, j int) bool {
	a, b := m.heap[i], m.heap[j]
	return a.key < b.key || (a.key == b.key && a.idx < b.idx)
}

func (m *Machine) hswap(i, j int) {
	m.heap[i], m.heap[j] = m.heap[j], m.heap[i]
	m.heap[i].hpos = int32(i)
	m.heap[j].hpos = int32(j)
}

func (m *Machine) heapPush(g *Group) {
	g.vu, g.tu = m.v, m.tv
	g.hpos = int32(len(m.heap))
	m.heap = append(m.heap, g)
	g.rekey()
	m.heapUp(int(g.hpos))
}

func (m *Machine) heapRemove(g *Group) {
	i := int(g.hpos)
	if i < 0 {
		return
	}
	last := len(m.heap) - 1
	if i != last {
		m.hswap(i, last)
	}
	m.heap[last] = nil
	m.heap = m.heap[:last]
	g.hpos = -1
	if i < last {
		m.heapFix(i)
	}
}

func (m *Machine) heapFix(i int) {
	if !m.heapDown(i) {
		m.heapUp(i)
	}
}

func (m *Machine) heapUp(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !m.hless(i, p) {
			break
		}
		m.hswap(i, p)
		i = p
	}
}

func (m *Machine) heapDown(i0 int) bool {
	i, n := i0, len(m.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && m.hless(r, l) {
			c = r
		}
		if !m.hless(c, i) {
			break
		}
		m.hswap(i, c)
		i = c
	}
	return i > i0
}

func (m *Machine) heapInit() {
	for i, g := range m.heap {
		g.hpos = int32(i)
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.heapDown(i)
	}
}

// ResetStats clears every group's statistics as of Now().
func (m *Machine) ResetStats() {
	for _, g := range m.groups {
		g.ResetStats()
	}
}

// Busy returns the CPUs in use now: runnable threads, at most Cores.
func (m *Machine) Busy() float64 { return math.Min(float64(m.runnable), m.cores) }

// idlestCore returns the CPU that has been idle longest and marks it busy
// (wake-up depth for stations with an activity model).
func (m *Machine) idlestCore() int32 {
	if m.coreEnds == nil {
		m.coreEnds = make([]Time, max(int(math.Ceil(m.cores)), 1))
	}
	c := 0
	for i, e := range m.coreEnds {
		if e < m.coreEnds[c] {
			c = i
		}
	}
	return int32(c)
}
