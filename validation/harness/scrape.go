package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ParseMetrics parses Prometheus text exposition format with
// client_golang's parser (prometheus/common/expfmt).
func ParseMetrics(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return fams, nil
}

// scrapeInNetns GETs url from inside network namespace ns and parses it.
func scrapeInNetns(ctx context.Context, ns, url string, timeout time.Duration) (map[string]*dto.MetricFamily, error) {
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return DialInNetns(ctx, ns, network, addr)
			},
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: HTTP %s", url, resp.Status)
	}
	return ParseMetrics(io.LimitReader(resp.Body, 64<<20))
}

// Sum adds up the values of every sample of family name whose labels
// include all of match: counters, gauges and untyped samples by value,
// histograms and summaries by their sample count.
func (s Scrape) Sum(name string, match map[string]string) (float64, bool) {
	fam, ok := s.Families[name]
	if !ok {
		return 0, false
	}
	var sum float64
	found := false
next:
	for _, m := range fam.GetMetric() {
		for k, v := range match {
			if !hasLabel(m, k, v) {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Summary != nil:
			sum += float64(m.Summary.GetSampleCount())
		}
	}
	return sum, found
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue() == value
		}
	}
	return false
}

// Sample is one scraped value, flattened for JSON output: counters, gauges
// and untyped metrics by name; histograms and summaries as <name>_count
// and <name>_sum.
type Sample struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
}

// Flatten returns every sample of fams, sorted by name and labels.
func Flatten(fams map[string]*dto.MetricFamily) []Sample {
	var out []Sample
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			var labels map[string]string
			if len(m.GetLabel()) > 0 {
				labels = make(map[string]string, len(m.GetLabel()))
				for _, lp := range m.GetLabel() {
					labels[lp.GetName()] = lp.GetValue()
				}
			}
			add := func(n string, v float64) { out = append(out, Sample{Name: n, Labels: labels, Value: v}) }
			switch {
			case m.Counter != nil:
				add(name, m.Counter.GetValue())
			case m.Gauge != nil:
				add(name, m.Gauge.GetValue())
			case m.Untyped != nil:
				add(name, m.Untyped.GetValue())
			case m.Histogram != nil:
				add(name+"_count", float64(m.Histogram.GetSampleCount()))
				add(name+"_sum", m.Histogram.GetSampleSum())
			case m.Summary != nil:
				add(name+"_count", float64(m.Summary.GetSampleCount()))
				add(name+"_sum", m.Summary.GetSampleSum())
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return labelKey(out[i].Labels) < labelKey(out[j].Labels)
	})
	return out
}

func labelKey(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + l[k] + ",")
	}
	return b.String()
}
