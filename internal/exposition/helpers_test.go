package exposition

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type constCollector []prometheus.Metric

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }
func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}

func timeOfMs(ms int64) time.Time { return time.UnixMilli(ms) }
