package meshtest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Sum adds up every sample of metric name in g whose labels include all of
// match (counters and gauges; for histograms, the sample count).
func Sum(g prometheus.Gatherer, name string, match map[string]string) float64 {
	mfs, err := g.Gather()
	if err != nil {
		return -1
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			for k, v := range match {
				if labels[k] != v {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				total += m.GetCounter().GetValue()
			case m.Gauge != nil:
				total += m.GetGauge().GetValue()
			case m.Histogram != nil:
				total += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return total
}
