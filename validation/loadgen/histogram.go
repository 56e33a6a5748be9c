package loadgen

import "math"

// bucketBounds are fortio's histogram bucket upper bounds, in units of the
// divider (the resolution): 1-by-1 up to 11, then coarser, up to 100000.
var bucketBounds = []int32{
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	12, 14, 16, 18, 20,
	25, 30, 35, 40, 45, 50,
	60, 70, 80, 90, 100,
	120, 140, 160, 180, 200,
	250, 300, 350, 400, 450, 500,
	600, 700, 800, 900, 1000,
	2000, 3000, 4000, 5000, 7500, 10000,
	20000, 30000, 40000, 50000, 75000, 100000,
}

// Histogram accumulates values (seconds) into fortio-compatible buckets:
// bucket i holds values in (bound[i-1], bound[i]] × Divider + Offset, the
// first holds everything ≤ Offset and the last everything above the top bound.
type Histogram struct {
	Offset  float64
	Divider float64
	count   int64
	min     float64
	max     float64
	sum     float64
	sumSq   float64
	buckets []int64
}

// NewHistogram returns an empty histogram; divider is the resolution (e.g.
// 0.001 s for fortio's default, 0.0001 s for sub-millisecond work).
func NewHistogram(offset, divider float64) *Histogram {
	if divider <= 0 {
		divider = 0.001
	}
	return &Histogram{Offset: offset, Divider: divider, buckets: make([]int64, len(bucketBounds)+1)}
}

// Record adds one value.
func (h *Histogram) Record(v float64) {
	if h.count == 0 || v < h.min {
		h.min = v
	}
	if h.count == 0 || v > h.max {
		h.max = v
	}
	h.count++
	h.sum += v
	h.sumSq += v * v
	scaled := (v - h.Offset) / h.Divider
	last := float64(bucketBounds[len(bucketBounds)-1])
	switch {
	case scaled <= 0:
		h.buckets[0]++
	case scaled > last:
		h.buckets[len(bucketBounds)]++
	default:
		// Intervals are open on the left: a value exactly on a bound belongs
		// to the bucket that ends there.
		i := int(scaled)
		if scaled-float64(i) < 1e-12 {
			i--
		}
		h.buckets[bucketIndex(int32(i))]++
	}
}

// bucketIndex returns the first bucket whose bound exceeds v.
func bucketIndex(v int32) int {
	lo, hi := 0, len(bucketBounds)
	for lo < hi {
		mid := (lo + hi) / 2
		if bucketBounds[mid] > v {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// Merge adds o's samples to h; both must share offset and divider.
func (h *Histogram) Merge(o *Histogram) {
	if o.count == 0 {
		return
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	if h.count == 0 || o.max > h.max {
		h.max = o.max
	}
	h.count += o.count
	h.sum += o.sum
	h.sumSq += o.sumSq
	for i := range h.buckets {
		h.buckets[i] += o.buckets[i]
	}
}

// Count returns the number of recorded values.
func (h *Histogram) Count() int64 { return h.count }

// Bucket is one histogram interval with its count and the cumulative
// percentage of values up to its end (fortio's Bucket).
type Bucket struct {
	Start   float64
	End     float64
	Percent float64
	Count   int64
}

// Percentile is a percentile and its estimated value.
type Percentile struct {
	Percentile float64
	Value      float64
}

// HistogramData is fortio's exported histogram.
type HistogramData struct {
	Count       int64
	Min         float64
	Max         float64
	Sum         float64
	Avg         float64
	StdDev      float64
	Data        []Bucket
	Percentiles []Percentile `json:"Percentiles,omitempty"`
}

// Export returns the non-empty buckets, the first starting at Min and the
// last ending at Max, and the requested percentiles.
func (h *Histogram) Export(percentiles ...float64) *HistogramData {
	d := &HistogramData{Count: h.count, Min: h.min, Max: h.max, Sum: h.sum}
	if h.count == 0 {
		return d
	}
	n := float64(h.count)
	d.Avg = h.sum / n
	if v := h.sumSq/n - d.Avg*d.Avg; v > 0 {
		d.StdDev = math.Sqrt(v)
	}
	prev := bucketBounds[0]
	var total int64
	for i, c := range h.buckets {
		if c == 0 {
			if i < len(bucketBounds) {
				prev = bucketBounds[i]
			}
			continue
		}
		total += c
		b := Bucket{Count: c, Percent: 100 * float64(total) / n}
		if len(d.Data) == 0 {
			b.Start = h.min
		} else {
			b.Start = h.Divider*float64(prev) + h.Offset
		}
		if i < len(bucketBounds) {
			b.End = h.Divider*float64(bucketBounds[i]) + h.Offset
			prev = bucketBounds[i]
		} else {
			b.Start = h.Divider*float64(prev) + h.Offset
			b.End = h.max
		}
		d.Data = append(d.Data, b)
	}
	d.Data[len(d.Data)-1].End = h.max
	for _, p := range percentiles {
		d.Percentiles = append(d.Percentiles, Percentile{Percentile: p, Value: d.CalcPercentile(p)})
	}
	return d
}

// CalcPercentile estimates the value below which p percent of the samples
// lie, interpolating linearly inside buckets exactly as fortio does.
func (d *HistogramData) CalcPercentile(p float64) float64 {
	if len(d.Data) == 0 {
		return 0
	}
	if p >= 100 {
		return d.Max
	}
	prev := 100 / float64(d.Count)
	if p <= prev {
		return d.Min
	}
	for _, b := range d.Data {
		if p <= b.Percent {
			return b.Start + (p-prev)/(b.Percent-prev)*(b.End-b.Start)
		}
		prev = b.Percent
	}
	return d.Max
}
