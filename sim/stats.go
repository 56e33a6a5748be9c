package sim

import (
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Counter counts events (requests, bytes, rejections). The zero value is 0.
type Counter struct{ v int64 }

// Add adds n.
func (c *Counter) Add(n int64) { c.v += n }

// Inc adds 1.
func (c *Counter) Inc() { c.v++ }

// Value returns the count.
func (c *Counter) Value() int64 { return c.v }

// Reset sets the count to 0.
func (c *Counter) Reset() { c.v = 0 }

// Gauge tracks a quantity that holds its value between changes (connections
// open, queue length, memory in use) and integrates it over virtual time, so
// Mean is time-weighted: a value held for 1 s counts a thousand times more
// than one held for 1 ms. Calls must come in non-decreasing time order. The
// zero value holds 0 from time 0.
type Gauge struct {
	v     float64
	last  Time    // time of the last change
	since Time    // start of the averaging window
	area  float64 // ∫ v dt over [since, last], in value·ns
	max   float64
}

// Set changes the value to v at time now.
func (g *Gauge) Set(now Time, v float64) {
	g.area += g.v * float64(now-g.last)
	g.last = now
	g.v = v
	if v > g.max {
		g.max = v
	}
}

// Add changes the value by dv at time now.
func (g *Gauge) Add(now Time, dv float64) { g.Set(now, g.v+dv) }

// Value returns the current value.
func (g *Gauge) Value() float64 { return g.v }

// Max returns the largest value held since the last Reset.
func (g *Gauge) Max() float64 { return g.max }

// Integral returns ∫ v dt from the last Reset to now, in value·ns.
func (g *Gauge) Integral(now Time) float64 {
	return g.area + g.v*float64(now-g.last)
}

// Mean returns the time-weighted mean from the last Reset to now; with no
// time elapsed it returns the current value.
func (g *Gauge) Mean(now Time) float64 {
	if now <= g.since {
		return g.v
	}
	return g.Integral(now) / float64(now-g.since)
}

// Reset starts a new averaging window at now, keeping the current value.
func (g *Gauge) Reset(now Time) {
	g.area = 0
	g.last = now
	g.since = now
	g.max = g.v
}

// MeanCI returns the sample mean of samples (one per independent replication
// or batch) and the half-width of its two-sided Student-t confidence interval
// at level (e.g. 0.95). With fewer than two samples the half-width is NaN.
func MeanCI(samples []float64, level float64) (mean, halfWidth float64) {
	if len(samples) == 0 {
		return math.NaN(), math.NaN()
	}
	mean, sd := stat.MeanStdDev(samples, nil)
	n := float64(len(samples))
	if len(samples) < 2 || !(level > 0 && level < 1) {
		return mean, math.NaN()
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.5 + level/2)
	return mean, t * sd / math.Sqrt(n)
}
