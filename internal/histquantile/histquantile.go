package histquantile

import (
	"math"
	"sort"
)

// Bucket is one cumulative bucket: Count observations were ≤ UpperBound
// (the "le" label).
type Bucket struct {
	UpperBound float64
	Count      float64
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of the cumulative buckets
// the way Prometheus's histogram_quantile does: buckets sorted by bound,
// linear interpolation inside the bucket holding the rank, the lower bound
// of the first bucket taken as 0 (when its bound is positive), and the
// highest finite bound returned when the rank falls in the +Inf bucket. It
// returns NaN without a +Inf bucket or observations, -Inf/+Inf for q
// outside [0, 1].
func Quantile(q float64, buckets []Bucket) float64 {
	switch {
	case math.IsNaN(q):
		return math.NaN()
	case q < 0:
		return math.Inf(-1)
	case q > 1:
		return math.Inf(1)
	}
	b := append([]Bucket(nil), buckets...)
	sort.Slice(b, func(i, j int) bool { return b[i].UpperBound < b[j].UpperBound })
	if len(b) < 2 || !math.IsInf(b[len(b)-1].UpperBound, 1) {
		return math.NaN()
	}
	// Counts must not decrease (Prometheus repairs small float errors).
	for i := 1; i < len(b); i++ {
		if b[i].Count < b[i-1].Count {
			b[i].Count = b[i-1].Count
		}
	}
	total := b[len(b)-1].Count
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	i := sort.Search(len(b)-1, func(i int) bool { return b[i].Count >= rank })
	if i == len(b)-1 {
		return b[len(b)-2].UpperBound
	}
	if i == 0 && b[0].UpperBound <= 0 {
		return b[0].UpperBound
	}
	start, end := 0.0, b[i].UpperBound
	count := b[i].Count
	if i > 0 {
		start = b[i-1].UpperBound
		count -= b[i-1].Count
		rank -= b[i-1].Count
	}
	if count == 0 {
		return end
	}
	return start + (end-start)*(rank/count)
}
