// Package sim is ambientsim's discrete-event kernel: a virtual clock, an
// event queue, seeded random streams, machines whose cores are shared by
// groups of threads (CFS-like fair sharing with quotas), FIFO stations of
// threads and the statistics (histograms, counters, time-weighted gauges, confidence
// intervals) that mesh models are measured with. It knows nothing about
// meshes; package models builds ztunnels, waypoints and sidecars on top.
//
// Like raft's core, sim is a pure state machine: it never reads the wall
// clock, starts a goroutine or does I/O, and every random draw comes from a
// named, seeded stream. A run is therefore a function of its inputs and seed:
// the same scenario gives the same event trace, byte for byte.
//
// # A usage story
//
// A load generator sends requests to a two-core proxy. Each request needs
// an exponentially distributed 200 µs of CPU; requests arrive as a Poisson
// stream at 8000/s, so the proxy runs at 80% utilisation.
//
//	s := sim.New()
//	rs := sim.NewStreams(42) // the scenario seed
//	cpu := sim.NewStation(s, "proxy/cpu", 2, 0)
//	demand, _ := sim.DistSpec{Kind: "exponential", Mean: 200e3}.New(rs.Source("proxy/demand"))
//	gap, _ := sim.DistSpec{Kind: "exponential", Mean: 125e3}.New(rs.Source("client/arrivals"))
//	latency := sim.NewHistogram()
//
//	var arrive sim.HandlerFunc
//	arrive = func(sim.Event) {
//		start := s.Now()
//		cpu.Submit(sim.FromNanoseconds(demand.Rand()), sim.HandlerFunc(func(sim.Event) {
//			latency.Record(s.Now() - start)
//		}), sim.Event{})
//		s.After(sim.FromNanoseconds(gap.Rand()), arrive, sim.Event{})
//	}
//	s.After(0, arrive, sim.Event{})
//	s.RunUntil(10 * sim.Second) // warm up
//	cpu.ResetStats()
//	latency.Reset()
//	s.RunUntil(70 * sim.Second)
//	fmt.Println(cpu.Utilisation(), latency.Quantile(0.99))
//
// Because the arrival stream is named "client/arrivals", a second run with a
// differently configured proxy sees exactly the same arrivals (common random
// numbers) and the difference between the runs is the proxy's alone.
//
// # Time and events
//
// Time is int64 nanoseconds. At schedules at an absolute time, After after a
// delay; both return a Timer that Cancel removes in O(1) without allocating
// (request timeouts, pool idle timeouts and retries are mostly cancelled).
// Events due at the same time run in the order they were scheduled. A
// Handler receives an Event by value — an int32 kind, two int64s and an
// `any` — so hot paths schedule without allocation: handlers are long-lived
// values (a *Ztunnel) and the Event says what happened.
//
// # The event queue
//
// The queue exploits the fact that simulated time never goes backwards: it
// is a hierarchical radix queue over the integer time key with 8-bit digits
// (256-way buckets per level, close kin of a hierarchical timing wheel), ties
// kept in scheduling order. Queue entries are 16 bytes — time and a slot
// index — so the entries the queue moves are small (the queue is stable, so
// ties need no sequence number in the entry); the handler, Event and
// sequence number wait in a slot table (one 64-byte cache line per slot,
// the most recently freed slot reused first, so a handler that schedules its
// follow-up writes a line that is already hot). The lowest bucket becomes
// the next run by an insertion sort (few entries) or a counting sort on the
// time's lowest byte (a level-1 bucket of any size); a larger bucket splits
// into sub-buckets sized in one counting pass, and when a run starts
// the slot lines of its next 64 events are loaded together, so their cache
// and TLB misses overlap instead of stalling each pop in turn. Bucket arrays
// circulate through a pool, so a steady-state run schedules and pops without
// allocating. The design was chosen by measurement against container/heap,
// a 4-ary heap, a binary radix heap and inline 72-byte entries
// (BenchmarkQueue, BenchmarkScheduler). A Timer is a slot index and the
// slot's generation: cancelling is O(1) and allocation-free, cancelled
// entries are skipped when they come due and purged in bulk once they
// outnumber live ones.
//
// # Randomness
//
// Streams derives one PCG stream per name from the scenario seed, so a
// stream depends on its name only, not on creation order. DistSpec is the
// YAML/JSON form of a distribution (exponential, lognormal, pareto,
// constant, uniform, empirical); means are in the caller's unit and the
// heavy-tailed kinds are parameterised by their mean so a what-if changes
// shape without changing load. Sampling uses gonum's stat/distuv.
//
// # Machines, groups and stations
//
// A Machine is a node's CPUs: Cores of relative Speed (work is measured in
// reference-core nanoseconds), optionally with SMT (two hardware threads
// per physical core, each slower when its sibling is busy). A Group is a
// container's cgroup on it, with a weight (CFS shares, in proportion to
// the CPU request) and an optional limit (a CFS quota: Limit × 100 ms of
// CPU per 100-ms period; a group that used it waits for the next period).
// A Station is a FIFO queue served by a pool of threads of one group: a
// pinned Envoy worker is a station of one thread, an app's worker pool a
// station of many.
//
// Runnable threads share the machine in the fluid limit of CFS: groups in
// proportion to their weights, a group's share evenly over its runnable
// threads, no thread above one CPU (water-filling). A job's finish time is
// therefore not known when it starts — later arrivals slow it — so the
// machine keeps every running job's remaining work as a finish tag in its
// group's virtual time and keeps one pending event: the next completion,
// quota exhaustion or period boundary, rescheduled when the runnable set
// changes. While no more threads are runnable than there are CPUs every
// thread runs at full speed and an arrival moves no other job (O(log n)).
// The tests check it against M/G/1 processor sharing (mean sojourn
// S/(1−ρ), proportional to the job's size), the M/M/c knee, exact CFS
// throttling delays and weighted splits.
//
// Large simulations find each station and group cold when a job
// arrives, so the fast path is laid out for cache misses. A station hands
// a job to its lowest idle thread, and thread 0 is stored inside the
// Station. A group's first running job is stored inside the Group. The
// fields a job touches come first in each struct. None of this is
// observable: threads are alike.
//
// NewStation(s, ...) gives a station a machine of its own where each thread
// always has a reference core: the classic FIFO c-server queue. A
// station's optional Activity model charges what a thread costs beyond its
// work: a share of each job's work done after the job is released, and a
// wake-up (latency and CPU, growing with the idle gap as 1 − exp(−gap/τ))
// when the station had gone to sleep.
//
// # Statistics
//
// Histogram records durations with log-linear buckets (≤ 1% relative error
// for quantiles from 128 ns to 18 minutes, exact count, min, max and mean)
// and merges across replications. Gauge integrates a value over virtual
// time; Station uses Gauges for busy threads and queue length, and a Group
// integrates the CPU time its threads use (what the kernel accounts, so an
// overloaded container never reports more CPU than it was given). MeanCI turns
// per-replication results into a Student-t confidence interval.
package sim
