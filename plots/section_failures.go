package plots

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

const (
	// maxFailureCharts caps the failures drawn with charts; later failures
	// get their tables only.
	maxFailureCharts = 10
	// maxSeriesServices caps the services drawn per failure time series.
	maxSeriesServices = 8
)

// failures is section 6: per failure, time series of rate, errors and p99
// around it, its blast radius on the call graph, and the what-if designs.
func (b *builder) failures() []Block {
	s := b.s
	if len(s.Failures) == 0 && len(s.WhatIf) == 0 {
		return nil
	}
	var out []Block
	for fi, f := range s.Failures {
		out = append(out, heading(fmt.Sprintf("Failure %d: %s (%s of %s)", fi+1, f.Name, orDash(f.Kind), orDash(f.Target))))
		out = append(out, table(&Table{
			Caption: "What failed and how far it reached",
			Columns: numeric(cols("Starts at (s)", "Lasts (s)", "Detected after (s)", "Recovered after (s)", "Nodes", "Proxy instances", "Pods", "Services", "Unprotected requests"), 0, 1, 2, 3, 4, 5, 6, 7, 8),
			Rows: []Row{{Tone: tone(f.Unprotected > 0, "fail"), Cells: []string{fixed(f.AtS, 1), fixed(f.DurationS, 1), fixed(f.DetectS, 1), fixed(f.RecoverS, 1),
				counti(len(f.Nodes)), counti(len(f.Instances)), counti(len(f.Pods)), counti(len(f.Services)), count(f.Unprotected)}}},
		}))
		if len(f.Nodes)+len(f.Instances)+len(f.Services) > 0 {
			out = append(out, items(
				"Nodes: "+listCapped(f.Nodes, 20),
				"Proxy instances: "+listCapped(f.Instances, 20),
				"Services: "+listCapped(f.Services, 20),
			))
		}
		if fi < maxFailureCharts {
			out = append(out, b.failureCharts(fi, f)...)
		}
		if len(f.Transitive) > 0 {
			tt := &Table{Caption: "Workloads affected through their calls (transitive blast radius)", Columns: numeric(cols("Workload", "Failed requests", "Call chain"), 1)}
			for i, a := range f.Transitive {
				if i == b.opts.TopN {
					tt.Omitted = len(f.Transitive) - i
					break
				}
				tt.Rows = append(tt.Rows, Row{Tone: tone(a.FailureFraction >= 0.5, "fail"), Cells: []string{a.Workload, pct(a.FailureFraction), orDash(strings.Join(a.Chain, " → "))}})
			}
			out = append(out, table(tt))
		}
	}
	if len(s.Failures) > maxFailureCharts {
		out = append(out, note(fmt.Sprintf("Charts are drawn for the first %d of %d failures; the tables cover all of them.", maxFailureCharts, len(s.Failures))))
	}

	if len(s.WhatIf) > 0 {
		out = append(out, heading("What-if: design alternatives under the same failures"))
		designs := make([]string, len(s.WhatIf))
		failed := make([]float64, len(s.WhatIf))
		wt := &Table{Caption: "Each design alternative replayed with the same failures and traffic",
			Columns: numeric(cols("Design", "Failed requests", "Affected workloads", "p99 (ms)", "Mesh CPU (cores)"), 1, 2, 3, 4)}
		for i, w := range s.WhatIf {
			designs[i] = w.Design
			failed[i] = float64(w.Failed)
			wt.Rows = append(wt.Rows, Row{Cells: []string{w.Design, count(w.Failed), counti(w.Affected), ms(w.P99Ms), cores(w.CPUCores)}})
		}
		out = append(out, chart(&Chart{
			ID: chartID("failures", "whatif"), Kind: ChartBar, HeightPx: 300,
			Title:   "Failed requests per design alternative",
			Caption: "Lower is better: the design that keeps the most requests succeeding under the same failures. Weigh it against the CPU column of the table.",
			X:       Axis{Type: "category", Categories: designs},
			Y:       Axis{Name: "failed requests", Type: "value"},
			Series:  []Series{{Name: "failed requests", Color: "#d62728", Values: failed}},
		}), table(wt))
	}
	return out
}

func tone(cond bool, t string) string {
	if cond {
		return t
	}
	return ""
}

// failureCharts draws the time series around one failure and its blast
// radius graph.
func (b *builder) failureCharts(fi int, f results.FailureResult) []Block {
	var out []Block
	marks := []Mark{{Label: "failure starts", Value: f.AtS}}
	if f.DurationS > 0 {
		marks = append(marks, Mark{Label: "failure ends", Value: f.AtS + f.DurationS})
	}

	// Group the series by service, keep the services hit hardest.
	type svcSeries struct {
		name             string
		peakErr, peakP99 float64
		rate, err, p99   []Point
	}
	bySvc := map[string]*svcSeries{}
	var svcs []*svcSeries
	for _, p := range f.Series {
		ss := bySvc[p.Service]
		if ss == nil {
			ss = &svcSeries{name: p.Service}
			bySvc[p.Service] = ss
			svcs = append(svcs, ss)
		}
		ss.rate = append(ss.rate, Point{round(p.TS), round(p.RateRPS)})
		ss.err = append(ss.err, Point{round(p.TS), round(p.ErrorRate)})
		ss.p99 = append(ss.p99, Point{round(p.TS), round(p.P99Ms)})
		ss.peakErr = max(ss.peakErr, finite(p.ErrorRate))
		ss.peakP99 = max(ss.peakP99, finite(p.P99Ms))
	}
	sort.SliceStable(svcs, func(i, j int) bool {
		if svcs[i].peakErr != svcs[j].peakErr {
			return svcs[i].peakErr > svcs[j].peakErr
		}
		if svcs[i].peakP99 != svcs[j].peakP99 {
			return svcs[i].peakP99 > svcs[j].peakP99
		}
		return svcs[i].name < svcs[j].name
	})
	if len(svcs) > maxSeriesServices {
		out = append(out, note(fmt.Sprintf("Time series show the %d services hit hardest (by peak error rate, then p99) of %d.", maxSeriesServices, len(svcs))))
		svcs = svcs[:maxSeriesServices]
	}
	if len(svcs) > 0 {
		mk := func(name, title, yname, caption string, pick func(*svcSeries) []Point) Block {
			c := &Chart{ID: chartID("failures", name, fi), Kind: ChartLine, HeightPx: 280, Title: title, Caption: caption,
				X: Axis{Name: "s", Type: "value"}, Y: Axis{Name: yname, Type: "value"}, MarkX: marks}
			for i, ss := range svcs {
				c.Series = append(c.Series, Series{Name: ss.name, Color: colorFor("", i), Points: pick(ss)})
			}
			return chart(c)
		}
		out = append(out,
			mk("rate", "Request rate around the failure", "rps",
				"Requests per second per service in 1-second buckets; the dashed lines mark the failure. A dip that outlasts the failure means slow recovery.",
				func(s *svcSeries) []Point { return s.rate }),
			mk("errors", "Error rate around the failure", "failed fraction",
				"Fraction of each service's requests that failed. Non-zero only inside the window is the expected blast radius; errors on services that do not depend on the target mean the failure spread further.",
				func(s *svcSeries) []Point { return s.err }),
			mk("p99", "p99 latency around the failure", "ms",
				"Tail latency per service: retries and reconnects show up here before they show up as errors.",
				func(s *svcSeries) []Point { return s.p99 }),
		)
	}

	// Blast radius on the call graph.
	direct := map[string]bool{}
	for _, svc := range f.Services {
		direct[svc] = true
	}
	for _, in := range f.Instances {
		// waypoint/<ns>/<name>/<replica> is drawn as vertex "waypoint <ns>/<name>".
		if parts := strings.Split(in, "/"); len(parts) >= 3 && parts[0] == "waypoint" {
			direct["waypoint "+parts[1]+"/"+parts[2]] = true
		}
	}
	trans := map[string]float64{}
	for _, a := range f.Transitive {
		trans[a.Workload] = a.FailureFraction
	}
	cats := []GraphCategory{
		{Name: "failed", Color: "#d62728"},
		{Name: "degraded", Color: "#ff9f1c"},
		{Name: "unaffected", Color: "#b8c4d6"},
	}
	g, gnote := b.callGraph(cats, func(v vertex) (string, string) {
		d := serviceDetail(v)
		if direct[v.id] {
			return "failed", d + "; failed directly"
		}
		if fr, ok := trans[v.name]; ok {
			return "degraded", d + "; " + pct(fr) + " of its requests failed"
		}
		return "unaffected", d
	})
	if len(g.Nodes) > 0 {
		out = append(out, chart(&Chart{
			ID: chartID("failures", "blast", fi), Kind: ChartGraph, HeightPx: 480,
			Title:   "Blast radius of " + f.Name,
			Caption: "Red: services and proxies the failure hit directly; orange: workloads that failed some requests through their calls (hover for the fraction). A long orange chain means the failure propagates through the call graph.",
			Graph:   g,
		}))
		if gnote != "" {
			out = append(out, note(gnote))
		}
	}
	return out
}
