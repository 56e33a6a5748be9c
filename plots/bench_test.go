package plots

import (
	"bytes"
	"testing"
)

// BenchmarkReport10kPods builds and renders the report of a 10,000-pod
// topology (2,000 services, 200 nodes, 10,000 sidecars) and reports the page
// size, which aggregation keeps near the 1 MB of inlined ECharts.
func BenchmarkReport10kPods(b *testing.B) {
	s := bigSummary(2000, 5, 200)
	var size int
	for b.Loop() {
		r, err := Build(s, Options{})
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Render(&buf, r); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "html-bytes")
}
