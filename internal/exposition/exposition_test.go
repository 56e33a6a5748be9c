package exposition

import (
	"bytes"
	"math"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// TestMatchesExpfmt writes a counter and a histogram with awkward label
// values and numbers through this package and through client_golang +
// expfmt, in both formats, and compares the bytes.
func TestMatchesExpfmt(t *testing.T) {
	names := []string{"z", "a", "m"}
	values := []string{"quote\"d", "back\\slash", "new\nline"}
	bounds := []float64{0.5, 1, 5, 1800000}
	cum := []uint64{0, 3, 3, 7}
	ts := int64(1767225600123)
	for _, tc := range []struct {
		format Format
		efmt   expfmt.Format
		ts     *int64
	}{
		{Text, expfmt.NewFormat(expfmt.TypeTextPlain), nil},
		{OpenMetrics, expfmt.NewFormat(expfmt.TypeOpenMetrics), &ts},
	} {
		var got bytes.Buffer
		w := NewWriter(&got, tc.format)
		w.Family("demo_hist", "A \"histogram\"\nwith help.", Histogram)
		w.Histogram(Labels(names, values), bounds, cum, 9, 123.25, tc.ts)
		w.Family("demo_total", "A counter.", Counter)
		w.Counter(Labels(names, []string{"", "", ""}), 0, tc.ts) // series in the registry's order
		w.Counter(Labels(names, values), 1e21, tc.ts)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}

		reg := prometheus.NewRegistry()
		hd := prometheus.NewDesc("demo_hist", "A \"histogram\"\nwith help.", names, nil)
		cd := prometheus.NewDesc("demo_total", "A counter.", names, nil)
		buckets := map[float64]uint64{}
		for i, b := range bounds {
			buckets[b] = cum[i]
		}
		var ms []prometheus.Metric
		ms = append(ms, prometheus.MustNewConstHistogram(hd, 9, 123.25, buckets, values...),
			prometheus.MustNewConstMetric(cd, prometheus.CounterValue, 1e21, values...),
			prometheus.MustNewConstMetric(cd, prometheus.CounterValue, 0, "", "", ""))
		if tc.ts != nil {
			for i := range ms {
				ms[i] = prometheus.NewMetricWithTimestamp(timeOfMs(*tc.ts), ms[i])
			}
		}
		reg.MustRegister(constCollector(ms))
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := expfmt.NewEncoder(&want, tc.efmt)
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				t.Fatal(err)
			}
		}
		if c, ok := enc.(expfmt.Closer); ok {
			c.Close()
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("format %d:\ngot:\n%s\nwant:\n%s", tc.format, got.Bytes(), want.Bytes())
		}
	}
}

func TestFloats(t *testing.T) {
	for _, tc := range []struct {
		f        float64
		text, om string
	}{
		{1, "1", "1.0"}, {0, "0", "0.0"}, {-1, "-1", "-1.0"}, {2.5, "2.5", "2.5"}, {42, "42", "42.0"},
		{1.8e6, "1.8e+06", "1.8e+06"}, {math.Inf(1), "+Inf", "+Inf"}, {math.NaN(), "NaN", "NaN"},
	} {
		if g := string(appendTextFloat(nil, tc.f)); g != tc.text {
			t.Errorf("text %v: %q, want %q", tc.f, g, tc.text)
		}
		if g := string(appendOMFloat(nil, tc.f)); g != tc.om {
			t.Errorf("openmetrics %v: %q, want %q", tc.f, g, tc.om)
		}
	}
}

func TestLabelSetErrors(t *testing.T) {
	if _, err := NewLabelSet([]string{"a"}, nil); err == nil {
		t.Fatal("mismatched names and values accepted")
	}
}
