package sweep

import (
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// MeanCI returns the sample mean of xs and the half-width of its two-sided
// confidence interval at level conf: t_{(1+conf)/2, n-1} · s / √n, with s the
// sample standard deviation. With fewer than two values the half-width is 0
// and N says why.
func MeanCI(xs []float64, conf float64) Estimate {
	n := len(xs)
	if n == 0 {
		return Estimate{}
	}
	if n == 1 {
		return Estimate{Mean: xs[0], N: 1}
	}
	mean, sd := stat.MeanStdDev(xs, nil)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile((1 + conf) / 2)
	hw := t * sd / math.Sqrt(float64(n))
	if math.IsNaN(hw) || math.IsInf(hw, 0) {
		hw = 0
	}
	return Estimate{Mean: mean, HalfWidth: hw, N: n}
}
