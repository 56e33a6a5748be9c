package sweep

// MSER returns the warm-up truncation point of a series by the Marginal
// Standard Error Rule (White 1997) on batches of batchSize observations:
// the number of leading batches d that minimises
//
//	MSER(d) = Σ_{j>d} (b_j − b̄_d)² / (m − d)²
//
// where b_1..b_m are the batch means and b̄_d the mean of those kept. d is
// searched over the first half of the series only (0 ≤ d ≤ m/2): near the
// end MSER(d) rests on a handful of batches and dips by chance, a known
// artefact of the rule. It returns the number of observations to discard
// (d · batchSize) and ok = false when the minimum sits at the m/2 limit,
// the sign that the transient may last longer and the run is too short.
// Trailing observations that do not fill a batch are ignored, as the rule
// prescribes.
func MSER(series []float64, batchSize int) (discard int, ok bool) {
	if batchSize < 1 {
		batchSize = 1
	}
	m := len(series) / batchSize
	if m < 2 {
		return 0, m > 0
	}
	b := make([]float64, m)
	for j := range b {
		var s float64
		for _, x := range series[j*batchSize : (j+1)*batchSize] {
			s += x
		}
		b[j] = s / float64(batchSize)
	}
	// Suffix sums make every MSER(d) O(1): Σ(b−b̄)² = Σb² − (Σb)²/k.
	sum, sumSq := make([]float64, m+1), make([]float64, m+1)
	for j := m - 1; j >= 0; j-- {
		sum[j] = sum[j+1] + b[j]
		sumSq[j] = sumSq[j+1] + b[j]*b[j]
	}
	best, bestD := 0.0, -1
	for d := 0; d <= min(m/2, m-2); d++ {
		k := float64(m - d)
		ss := sumSq[d] - sum[d]*sum[d]/k
		if ss < 0 {
			ss = 0 // rounding
		}
		v := ss / (k * k)
		if bestD < 0 || v < best {
			best, bestD = v, d
		}
	}
	return bestD * batchSize, bestD < m/2
}

// MSER5 is MSER with the customary batches of five observations.
func MSER5(series []float64) (discard int, ok bool) { return MSER(series, 5) }
