package sweep

import (
	"math"

	"github.com/ambientsim/ambientsim/sim"
)

// MeanCI returns the sample mean of xs and the half-width of its two-sided
// Student-t confidence interval at level conf (sim.MeanCI: t_{(1+conf)/2,
// n-1} · s / √n, with s the sample standard deviation). With fewer than two
// values the half-width is 0 and N says why.
func MeanCI(xs []float64, conf float64) Estimate {
	n := len(xs)
	if n == 0 {
		return Estimate{}
	}
	mean, hw := sim.MeanCI(xs, conf)
	if math.IsNaN(hw) || math.IsInf(hw, 0) {
		hw = 0
	}
	return Estimate{Mean: mean, HalfWidth: hw, N: n}
}
