package sim

import (
	"math"
	"math/bits"
)

// Histogram layout: values 0..127 ns are counted exactly; above that every
// power-of-two octave [2^e, 2^(e+1)) is split into histSub equal buckets, so a
// bucket is at most 1/64 of its lower bound wide and its midpoint is within
// 1/128 (0.78%) of any value in it. Octaves reach 2^40 ns (about 18 minutes);
// larger values fall into an overflow bucket.
const (
	histSubBits  = 6
	histSub      = 1 << histSubBits // buckets per octave (and per chunk)
	histLinear   = 2 * histSub      // values below this are exact
	histMaxBits  = 40               // values < 2^histMaxBits are bucketed
	histChunks   = (histLinear + (histMaxBits-histSubBits-1)*histSub) / histSub
	histMaxValue = Time(1)<<histMaxBits - 1
)

// Histogram is a streaming histogram of durations (ns) with log-linear
// buckets: quantiles are within 1% relative error from 128 ns to 18 minutes
// (exact below 128 ns); larger values clamp into an overflow bucket and
// negative values count as 0. Count, Min, Max and the sum behind Mean are
// exact regardless. Histograms with the same layout merge exactly, so
// per-replication histograms can be combined. Memory grows with the range of
// values recorded (512 bytes per occupied octave), not with their number.
// The zero value is an empty histogram ready to use.
type Histogram struct {
	chunks   [histChunks]*[histSub]int64
	overflow int64
	count    int64
	sumHi    uint64 // 128-bit exact sum of recorded values
	sumLo    uint64
	min, max Time
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{} }

// histIndex returns v's bucket index; v must be in [0, histMaxValue].
func histIndex(v Time) int {
	if v < histLinear {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1 // 2^e <= v < 2^(e+1), e >= 7
	shift := e - histSubBits
	return histLinear + (e-histSubBits-1)*histSub + int(uint64(v)>>uint(shift)) - histSub
}

// histBucket returns the lower bound and width of bucket i.
func histBucket(i int) (lo, width Time) {
	if i < histLinear {
		return Time(i), 1
	}
	k := i - histLinear
	e := k/histSub + histSubBits + 1
	shift := e - histSubBits
	sub := k % histSub
	return Time(histSub+sub) << uint(shift), Time(1) << uint(shift)
}

// Record adds one observation of v.
func (h *Histogram) Record(v Time) { h.RecordN(v, 1) }

// RecordN adds n observations of v. n <= 0 is ignored.
func (h *Histogram) RecordN(v Time, n int64) {
	if n <= 0 {
		return
	}
	if v < 0 {
		v = 0
	}
	if h.count == 0 || v < h.min {
		h.min = v
	}
	if h.count == 0 || v > h.max {
		h.max = v
	}
	h.count += n
	hi, lo := bits.Mul64(uint64(v), uint64(n))
	var c uint64
	h.sumLo, c = bits.Add64(h.sumLo, lo, 0)
	h.sumHi += hi + c
	if v > histMaxValue {
		h.overflow += n
		return
	}
	i := histIndex(v)
	ch := h.chunks[i/histSub]
	if ch == nil {
		ch = new([histSub]int64)
		h.chunks[i/histSub] = ch
	}
	ch[i%histSub] += n
}

// Count returns the number of observations.
func (h *Histogram) Count() int64 { return h.count }

// Sum returns the exact sum of observations in ns, as a float64.
func (h *Histogram) Sum() float64 {
	return float64(h.sumHi)*0x1p64 + float64(h.sumLo)
}

// Mean returns the exact mean in ns, or NaN when empty.
func (h *Histogram) Mean() float64 {
	if h.count == 0 {
		return math.NaN()
	}
	return h.Sum() / float64(h.count)
}

// Min returns the smallest observation, or 0 when empty.
func (h *Histogram) Min() Time { return h.min }

// Max returns the largest observation, or 0 when empty.
func (h *Histogram) Max() Time { return h.max }

// Quantile returns an estimate of the q-quantile (0 <= q <= 1) under the
// nearest-rank definition: the value of rank ceil(q·Count) in sorted order.
// The estimate is its bucket's midpoint clamped to [Min, Max], so q = 0 and
// q = 1 give Min and Max exactly. It returns 0 when empty.
func (h *Histogram) Quantile(q float64) Time {
	if h.count == 0 {
		return 0
	}
	if !(q > 0) { // also NaN
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	rank := int64(math.Ceil(q * float64(h.count)))
	if rank < 1 {
		rank = 1
	}
	var cum int64
	for c, ch := range h.chunks {
		if ch == nil {
			continue
		}
		for j, n := range ch {
			if n == 0 {
				continue
			}
			cum += n
			if cum >= rank {
				lo, w := histBucket(c*histSub + j)
				return h.clamp(lo + w/2)
			}
		}
	}
	return h.max // rank is in the overflow bucket
}

func (h *Histogram) clamp(v Time) Time {
	return min(max(v, h.min), h.max)
}

// Merge adds all of o's observations to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.count == 0 {
		return
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	if h.count == 0 || o.max > h.max {
		h.max = o.max
	}
	h.count += o.count
	h.overflow += o.overflow
	var c uint64
	h.sumLo, c = bits.Add64(h.sumLo, o.sumLo, 0)
	h.sumHi += o.sumHi + c
	for i, och := range o.chunks {
		if och == nil {
			continue
		}
		ch := h.chunks[i]
		if ch == nil {
			ch = new([histSub]int64)
			h.chunks[i] = ch
		}
		for j, n := range och {
			ch[j] += n
		}
	}
}

// Reset empties h, keeping its memory.
func (h *Histogram) Reset() {
	for _, ch := range h.chunks {
		if ch != nil {
			*ch = [histSub]int64{}
		}
	}
	h.overflow, h.count, h.sumHi, h.sumLo, h.min, h.max = 0, 0, 0, 0, 0, 0
}

// CDFPoint is one point of an empirical distribution function: a Fraction of
// observations are <= Value.
type CDFPoint struct {
	Value    Time
	Fraction float64
}

// CDF samples the distribution at points evenly spaced fractions
// 1/points, 2/points, ..., 1, returning each fraction's quantile. It returns
// nil when h is empty or points < 1.
func (h *Histogram) CDF(points int) []CDFPoint {
	if h.count == 0 || points < 1 {
		return nil
	}
	out := make([]CDFPoint, points)
	for i := range out {
		f := float64(i+1) / float64(points)
		out[i] = CDFPoint{Value: h.Quantile(f), Fraction: f}
	}
	return out
}
