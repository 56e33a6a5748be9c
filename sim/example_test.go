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
