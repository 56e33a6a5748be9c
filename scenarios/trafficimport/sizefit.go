package trafficimport

import (
	"math"

	"github.com/ambientsim/ambientsim/internal/histquantile"
)

// sizeFit is a byte-size distribution fitted to an Istio size histogram:
// constant when the sizes sit in one bucket, else lognormal with the exact
// mean (sum / count) and the median read from the buckets.
type sizeFit struct {
	Mean float64 // bytes
	CV   float64 // 0: constant
}

// maxFitCV bounds the fitted spread: beyond it the buckets say too little.
const maxFitCV = 10

// fitSize fits sizes from cumulative buckets and the sum of the sizes.
// For a lognormal, mean = median · exp(σ²/2), so σ² = 2 ln(mean / median)
// and cv = √(exp(σ²) − 1) = √((mean/median)² − 1).
func fitSize(b []histquantile.Bucket, sum float64) sizeFit {
	if len(b) == 0 || !math.IsInf(b[len(b)-1].UpperBound, 1) {
		return sizeFit{}
	}
	count := b[len(b)-1].Count
	if count <= 0 || sum <= 0 {
		return sizeFit{}
	}
	mean := sum / count
	// Most sizes in one bucket: the median inside it is a guess.
	prev := 0.0
	for _, x := range b {
		if x.Count-prev >= 0.9*count {
			return sizeFit{Mean: mean}
		}
		prev = x.Count
	}
	median := histquantile.Quantile(0.5, b)
	if !(median > 0) || median >= mean || math.IsInf(median, 0) {
		return sizeFit{Mean: mean}
	}
	cv := math.Sqrt((mean/median)*(mean/median) - 1)
	return sizeFit{Mean: mean, CV: round(math.Min(cv, maxFitCV), 3)}
}

// yaml is the traffic section's value: "1024" or {dist: lognormal, ...}.
func (f sizeFit) yaml() any {
	if f.Mean <= 0 {
		return nil
	}
	mean := math.Round(f.Mean)
	if f.CV == 0 {
		return int64(mean)
	}
	return map[string]any{"dist": "lognormal", "mean": int64(mean), "cv": f.CV}
}
