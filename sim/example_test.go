package sim_test

import (
	"fmt"

	"github.com/ambientsim/ambientsim/sim"
)

// A request with a timeout: the response arrives first, so the timeout is
// cancelled and never fires.
func ExampleSim() {
	s := sim.New()
	var timeout sim.Timer
	timeout = s.AfterFunc(50*sim.Millisecond, func() {
		fmt.Println(s.Now(), "timed out")
	})
	s.AfterFunc(20*sim.Millisecond, func() {
		fmt.Println(s.Now(), "response; timeout cancelled:", s.Cancel(timeout))
	})
	s.Run()
	fmt.Println("fired", s.Fired(), "pending", s.Pending(), "now", s.Now())
	// Output:
	// 20ms response; timeout cancelled: true
	// fired 1 pending 0 now 20ms
}

// A two-core proxy at 80% load: Poisson arrivals, exponential CPU demand.
func ExampleStation() {
	s := sim.New()
	rs := sim.NewStreams(42)
	cpu := sim.NewStation(s, "proxy/cpu", 2, 0)
	demand, _ := sim.DistSpec{Kind: "exponential", Mean: 200e3}.New(rs.Source("proxy/demand"))
	gap, _ := sim.DistSpec{Kind: "exponential", Mean: 125e3}.New(rs.Source("client/arrivals"))

	var arrive sim.HandlerFunc
	arrive = func(sim.Event) {
		cpu.Submit(sim.FromNanoseconds(demand.Rand()), nil, sim.Event{})
		s.After(sim.FromNanoseconds(gap.Rand()), arrive, sim.Event{})
	}
	s.After(0, arrive, sim.Event{})
	s.RunUntil(10 * sim.Second) // warm up
	cpu.ResetStats()
	s.RunUntil(110 * sim.Second)

	fmt.Printf("utilisation %.2f\n", cpu.Utilisation())
	fmt.Printf("mean wait %.0fµs (M/M/2 theory: 356µs)\n", cpu.Wait().Mean()/1e3)
	// Output:
	// utilisation 0.80
	// mean wait 357µs (M/M/2 theory: 356µs)
}

// A 2-vCPU node shared by a proxy with two worker threads and an app
// container limited to half a CPU: a request's work takes longer when the
// node is contended, and the limited container is throttled in CFS
// periods.
func ExampleMachine() {
	s := sim.New()
	node := sim.NewMachine(s, "node-1", sim.MachineSpec{Cores: 2, Speed: 1})
	proxy := node.NewGroup("proxy", sim.GroupSpec{Weight: 0.1}) // CPU request 100m
	app := node.NewGroup("app", sim.GroupSpec{Weight: 0.1, Limit: 0.5})
	workers := []*sim.Station{proxy.NewStation("worker-0", 1, 0), proxy.NewStation("worker-1", 1, 0)}
	appThreads := app.NewStation("app", 4, 0)

	done := func(what string) sim.Handler {
		return sim.HandlerFunc(func(sim.Event) { fmt.Println(s.Now(), what, "done") })
	}
	// Alone on the node, 100µs of work takes 100µs.
	workers[0].Submit(100*sim.Microsecond, done("request 1"), sim.Event{})
	s.Run()
	// With the app busy on four threads, the two containers get one CPU
	// each (equal requests): each proxy worker runs at half speed. The app
	// then uses both CPUs until its quota (50ms per 100ms period) runs out
	// and waits for the next period: 160ms of work take four periods.
	for i := 0; i < 4; i++ {
		appThreads.Submit(40*sim.Millisecond, nil, sim.Event{})
	}
	workers[0].Submit(100*sim.Microsecond, done("request 2"), sim.Event{})
	workers[1].Submit(100*sim.Microsecond, done("request 3"), sim.Event{})
	s.Run()
	throttled, periods := app.Throttled()
	fmt.Println("app CPU", app.CPUTime(), "throttled", throttled, "in", periods, "periods")
	// Output:
	// 100µs request 1 done
	// 300µs request 2 done
	// 300µs request 3 done
	// app CPU 160ms throttled 224.8ms in 3 periods
}

// A proxy that sleeps when idle: a message after a long gap pays the full
// wake-up (20 µs late, 40 µs more CPU after it); one arriving 30 µs after
// the proxy's last work pays 1 − e^(−30/1000) ≈ 3 % of it. Half of each
// message's CPU holds the worker after the message has left.
func ExampleStation_SetActivity() {
	us := sim.Microsecond
	s := sim.New()
	st := sim.NewStation(s, "ztunnel/node-1", 1, 0)
	st.SetActivity(sim.Activity{PathFraction: 0.5, WakeupCPU: 40 * us, WakeupLatency: 20 * us, SleepTimeConstant: 1000 * us})
	send := func(at sim.Time, what string) {
		s.At(at, sim.HandlerFunc(func(sim.Event) {
			st.Submit(60*us, sim.HandlerFunc(func(sim.Event) {
				fmt.Printf("%s: done in %.1f µs\n", what, (s.Now() - at).Microseconds())
			}), sim.Event{})
		}), sim.Event{})
	}
	send(10*sim.Millisecond, "after 10 ms idle") // asleep: 20 µs wake + 30 µs on path
	// The worker stays busy 30 µs of bookkeeping + 40 µs of wake-up after
	// the first message (done at 10.05 ms): the second arrives 30 µs after
	// that.
	send(10*sim.Millisecond+150*us, "30 µs after")
	s.Run()
	fmt.Printf("busy %.1f µs for 2 messages, %.2f wake-ups\n", st.BusyTime().Microseconds(), st.Wakeups())
	// Output:
	// after 10 ms idle: done in 50.0 µs
	// 30 µs after: done in 30.6 µs
	// busy 181.8 µs for 2 messages, 1.03 wake-ups
}

// Recording latencies and reading percentiles.
func ExampleHistogram() {
	h := sim.NewHistogram()
	for i := 1; i <= 1000; i++ {
		h.Record(sim.Time(i) * sim.Microsecond) // 1µs .. 1ms
	}
	// Quantiles are bucket midpoints: within 1% (here 0.4%) of the exact
	// values 500µs, 900µs, 990µs and 999µs.
	fmt.Println("count", h.Count(), "min", h.Min(), "max", h.Max())
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		fmt.Printf("p%v %v\n", q*100, h.Quantile(q))
	}
	// Output:
	// count 1000 min 1µs max 1ms
	// p50 501.76µs
	// p90 897.024µs
	// p99 987.136µs
	// p99.9 995.328µs
}

// Common random numbers: the stream for a name does not depend on which
// other streams exist.
func ExampleStreams() {
	a := sim.NewStreams(7)
	b := sim.NewStreams(7)
	b.Rand("ztunnel/node-1/cpu") // an extra entity in run b
	fmt.Println(a.Rand("client/arrivals").IntN(1000) == b.Rand("client/arrivals").IntN(1000))
	// Output: true
}

// A configured heavy-tailed size distribution, parameterised by its mean.
func ExampleDistSpec() {
	spec := sim.DistSpec{Kind: "pareto", Mean: 4096, Alpha: 1.5} // bytes
	if err := spec.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	d, _ := spec.New(sim.NewStreams(1).Source("response-size"))
	fmt.Println("mean", d.Mean())
	fmt.Println(sim.DistSpec{Kind: "pareto", Mean: 4096, Alpha: 0.9}.Validate())
	// Output:
	// mean 4096
	// field alpha: pareto needs shape alpha in (1, 1000] for a finite mean (e.g. 1.5 or 2.5), got 0.9
}
