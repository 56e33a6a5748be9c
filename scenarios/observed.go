package scenarios

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ambientsim/ambientsim/internal/histquantile"
	"github.com/ambientsim/ambientsim/internal/istiometric"
	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

// Observed is a scenario's `observed:` section: what a real cluster's
// Prometheus showed on each edge over a range, as `ambientsim import
// traffic` writes it. `run` compares each mode's prediction with it
// (summary.json "observed"). It changes nothing in the simulation: the
// traffic section drives that.
type Observed struct {
	// Source says where the observations came from, e.g.
	// "prometheus http://prom:9090".
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
	// End is the RFC 3339 end of the observed range and Range its length.
	End   string   `yaml:"end,omitempty" json:"end,omitempty"`
	Range Duration `yaml:"range,omitempty" json:"range,omitempty" range:"[0s,8760h]" unit:"observed time range"`
	// Selector is the extra PromQL label matchers the import used.
	Selector string         `yaml:"selector,omitempty" json:"selector,omitempty"`
	Edges    []ObservedEdge `yaml:"edges" json:"edges"`
}

// ObservedEdge is one call-graph edge as one reporter saw it.
type ObservedEdge struct {
	From     string `yaml:"from" json:"from"`         // ns/workload
	To       string `yaml:"to" json:"to"`             // ns/service
	Reporter string `yaml:"reporter" json:"reporter"` // source | destination | waypoint
	Protocol string `yaml:"protocol" json:"protocol"` // http | grpc | tcp
	// MeanRPS is the mean rate over the range (requests/s; connections/s
	// for tcp), PeakRPS the highest short-window rate in it.
	MeanRPS float64 `yaml:"mean_rps" json:"mean_rps" range:"[0,1e9]" unit:"requests/s observed"`
	PeakRPS float64 `yaml:"peak_rps,omitempty" json:"peak_rps,omitempty" range:"[0,1e9]" unit:"requests/s observed"`
	// P50Ms and P99Ms are histogram_quantile over the reporter's
	// istio_request_duration_milliseconds (absent for tcp).
	P50Ms *float64 `yaml:"p50_ms,omitempty" json:"p50_ms,omitempty" range:"[0,1e7]" unit:"ms"`
	P99Ms *float64 `yaml:"p99_ms,omitempty" json:"p99_ms,omitempty" range:"[0,1e7]" unit:"ms"`
	// ErrorRatio is the share of responses with a 5xx code (http).
	ErrorRatio float64 `yaml:"error_ratio,omitempty" json:"error_ratio,omitempty" range:"[0,1]" unit:"5xx / responses"`
	// RequestBytes and ResponseBytes are mean sizes per request (per
	// connection for tcp: bytes sent and received).
	RequestBytes  float64 `yaml:"request_bytes,omitempty" json:"request_bytes,omitempty" range:"[0,1.1e12]" unit:"bytes per request"`
	ResponseBytes float64 `yaml:"response_bytes,omitempty" json:"response_bytes,omitempty" range:"[0,1.1e12]" unit:"bytes per response"`
	// Mix is the request mix by method and path when the metrics carry
	// such labels (Istio's standard labels do not).
	Mix []RequestMix `yaml:"mix,omitempty" json:"mix,omitempty"`
}

// RequestMix is one method and path's share of an edge's requests.
type RequestMix struct {
	Method string  `yaml:"method,omitempty" json:"method,omitempty"`
	Path   string  `yaml:"path,omitempty" json:"path,omitempty"`
	Share  float64 `yaml:"share" json:"share" range:"[0,1]" unit:"share of the edge's requests"`
}

// ObservedReporters and ObservedProtocols are the accepted values.
var (
	ObservedReporters = []string{"source", "destination", "waypoint"}
	ObservedProtocols = []string{"http", "grpc", "tcp"}
)

func (s *Scenario) validateObserved(ferr func(field, format string, a ...any) error) error {
	if s.Observed == nil {
		return nil
	}
	seen := map[string]bool{}
	for i, e := range s.Observed.Edges {
		f := fmt.Sprintf("observed.edges[%d]", i)
		if !exactRef(e.From) {
			return ferr(f+".from", "want one workload as ns/name, got %q", e.From)
		}
		if !exactRef(e.To) {
			return ferr(f+".to", "want one service as ns/name, got %q", e.To)
		}
		if !contains(ObservedReporters, e.Reporter) {
			return ferr(f+".reporter", "want one of %s, got %q", strings.Join(ObservedReporters, ", "), e.Reporter)
		}
		if !contains(ObservedProtocols, e.Protocol) {
			return ferr(f+".protocol", "want one of %s, got %q", strings.Join(ObservedProtocols, ", "), e.Protocol)
		}
		for name, v := range map[string]float64{"mean_rps": e.MeanRPS, "peak_rps": e.PeakRPS, "error_ratio": e.ErrorRatio,
			"request_bytes": e.RequestBytes, "response_bytes": e.ResponseBytes} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return ferr(f+"."+name, "want a finite number ≥ 0, got %v", v)
			}
		}
		for name, p := range map[string]*float64{"p50_ms": e.P50Ms, "p99_ms": e.P99Ms} {
			if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0) || *p < 0) {
				return ferr(f+"."+name, "want a finite latency ≥ 0 ms, got %v", *p)
			}
		}
		if e.ErrorRatio > 1 {
			return ferr(f+".error_ratio", "want a ratio in [0, 1], got %v", e.ErrorRatio)
		}
		k := e.From + "->" + e.To
		if seen[k] {
			return ferr(f, "edge %s -> %s observed twice", e.From, e.To)
		}
		seen[k] = true
	}
	return nil
}

func exactRef(s string) bool {
	ns, name, ok := strings.Cut(s, "/")
	return ok && ns != "" && name != "" && !strings.ContainsAny(s, "*?[") && !strings.Contains(name, "/")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// observedResults compares each mode's prediction with the scenario's
// observed edges; nil when the scenario has none.
func observedResults(sc *Scenario, run *Run) (*results.Observed, error) {
	if sc.Observed == nil {
		return nil, nil
	}
	out := &results.Observed{Source: sc.Observed.Source, End: sc.Observed.End, RangeS: sc.Observed.Range.T().Seconds(),
		Edges: []results.EdgeComparison{}}
	for i, mr := range run.Modes {
		hists, err := durationHistograms(mr.Metrics)
		if err != nil {
			return nil, fmt.Errorf("observed: mode %s: %w", mr.Mode, err)
		}
		edges := map[string]results.EdgeResult{}
		for _, e := range run.Summary.Modes[i].Edges {
			edges[e.Source+"->"+e.Destination] = e
		}
		for _, o := range sc.Observed.Edges {
			c := results.EdgeComparison{Mode: mr.Mode, Source: o.From, Destination: o.To, Reporter: o.Reporter, Protocol: o.Protocol,
				ObservedRPS: o.MeanRPS, ObservedP50Ms: o.P50Ms, ObservedP99Ms: o.P99Ms}
			e, ok := edges[o.From+"->"+o.To]
			if ok {
				c.PredictedRPS = e.RateRPS
			}
			if o.MeanRPS > 0 {
				c.RateError = round6((c.PredictedRPS - o.MeanRPS) / o.MeanRPS)
			}
			if o.Protocol != "tcp" {
				if b := hists[histKey{o.Reporter, o.From, o.To}]; len(b) > 0 {
					c.PredictedP50Ms = finitePtr(round3(histquantile.Quantile(0.5, b)))
					c.PredictedP99Ms = finitePtr(round3(histquantile.Quantile(0.99, b)))
					c.PredictedFrom = "istio_request_duration_milliseconds reporter=" + o.Reporter + " (histogram_quantile)"
				} else if ok && e.Calls > 0 {
					c.PredictedP50Ms, c.PredictedP99Ms = finitePtr(e.P50Ms), finitePtr(e.P99Ms)
					c.PredictedFrom = "simulated client-side call latency (this mode has no reporter=" + o.Reporter + " on the edge)"
				}
			}
			out.Edges = append(out.Edges, c)
		}
	}
	return out, nil
}

type histKey struct{ reporter, from, to string }

// durationHistograms sums each (reporter, edge)'s simulated
// istio_request_duration_milliseconds buckets over response codes (the
// same series the metrics.prom of the mode holds).
func durationHistograms(m *models.Metrics) (map[histKey][]histquantile.Bucket, error) {
	reg, err := m.Registry()
	if err != nil {
		return nil, err
	}
	fams, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	sums := map[histKey]map[float64]float64{}
	for _, f := range fams {
		if f.GetName() != istiometric.RequestDuration {
			continue
		}
		for _, mt := range f.Metric {
			l := map[string]string{}
			for _, lp := range mt.Label {
				l[lp.GetName()] = lp.GetValue()
			}
			k := histKey{l["reporter"], l["source_workload_namespace"] + "/" + l["source_workload"],
				l["destination_service_namespace"] + "/" + l["destination_service_name"]}
			h := mt.GetHistogram()
			if h == nil {
				continue
			}
			b := sums[k]
			if b == nil {
				b = map[float64]float64{}
				sums[k] = b
			}
			for _, bk := range h.Bucket {
				b[bk.GetUpperBound()] += float64(bk.GetCumulativeCount())
			}
			b[math.Inf(1)] += float64(h.GetSampleCount())
		}
	}
	out := make(map[histKey][]histquantile.Bucket, len(sums))
	for k, b := range sums {
		bs := make([]histquantile.Bucket, 0, len(b))
		for ub, c := range b {
			bs = append(bs, histquantile.Bucket{UpperBound: ub, Count: c})
		}
		sort.Slice(bs, func(i, j int) bool { return bs[i].UpperBound < bs[j].UpperBound })
		out[k] = bs
	}
	return out, nil
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
