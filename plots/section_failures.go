package plots

import (
	"fmt"
	"math"
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
	if len(s.Failures) > 1 {
		out = append(out, b.failureOverview())
	}
	for fi, f := range s.Failures {
		out = append(out, heading(fmt.Sprintf("Failure %d: %s%s (%s of %s)", fi+1, f.Name, inMode(f.Mode), orDash(f.Kind), orDash(f.Target))))
		out = append(out, table(&Table{
			Caption: "What failed and how far it reached" + inMode(f.Mode),
			Columns: numeric(cols("Starts at (s)", "Lasts (s)", "Detected after", "Recovered after", "Failed requests", "Unprotected requests", "Policy-bypassed requests", "Nodes", "Proxy instances", "Pods", "Services"), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
			Rows: []Row{{Tone: failureTone(f), Cells: []string{fixed(f.AtS, 1), fixed(f.DurationS, 1), detectText(f.DetectS), recoverText(f.RecoverS),
				count(f.FailedRequests), count(f.Unprotected), count(f.PolicyBypassed),
				counti(len(f.Nodes)), counti(len(f.Instances)), counti(len(f.Pods)), counti(len(f.Services))}}},
		}))
		if f.Note != "" {
			out = append(out, note(f.Note))
		}
		if len(f.Nodes)+len(f.Instances)+len(f.Services) > 0 {
			out = append(out, items(
				"Nodes: "+listCapped(f.Nodes, 20),
				"Proxy instances: "+listCapped(f.Instances, 20),
				"Services: "+listCapped(f.Services, 20),
			))
		}
		if len(f.Identities)+len(f.Reachable) > 0 {
			out = append(out, items(
				"Identities usable from the compromised node ("+counti(len(f.Identities))+"): "+listCapped(f.Identities, 20),
				"Services those identities may call under the policies ("+counti(len(f.Reachable))+"): "+listCapped(f.Reachable, 20),
			))
		}
		if fi < maxFailureCharts {
			out = append(out, b.failureCharts(fi, f)...)
		}
		if len(f.Transitive) > 0 {
			tt := &Table{Caption: "Workloads affected through their calls (transitive blast radius)" + inMode(f.Mode),
				Columns: numeric(cols("Workload", "Share of its requests failed", "Affected chain (caller → … → failed component)"), 1)}
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
			Columns: numeric(cols("Design", "Mode", "Failed requests", "Unprotected requests", "Affected workloads", "Detected after", "Recovered after", "p99 (ms)", "Mesh CPU (cores)"), 2, 3, 4, 5, 6, 7, 8)}
		for i, w := range s.WhatIf {
			designs[i] = w.Design
			failed[i] = float64(w.Failed)
			wt.Rows = append(wt.Rows, Row{Cells: []string{w.Design, orDash(w.Mode), count(w.Failed), count(w.Unprotected), counti(w.Affected),
				detectText(w.DetectS), recoverText(w.RecoverS), ms(w.P99Ms), cores(w.CPUCores)}})
		}
		out = append(out, chart(&Chart{
			ID: chartID("failures", "whatif"), Kind: ChartBar, HeightPx: 300, Labels: true,
			Title:   "Failed requests per design alternative",
			Caption: "Lower is better: the design that keeps the most requests succeeding under the same failures. Weigh it against the CPU column of the table.",
			X:       Axis{Type: "category", Categories: designs},
			Y:       Axis{Name: "failed requests", Type: "value", Integer: true},
			Series:  []Series{{Name: "failed requests", Color: "#d62728", Values: failed}},
		}), table(wt))
	}
	return out
}

// failureOverview compares every failure in every mode in one table: the
// summary has one entry per failure per mode (and per what-if design).
func (b *builder) failureOverview() Block {
	t := &Table{Caption: "Every failure in every mode (one row each; details below)",
		Columns: numeric(cols("Failure", "Mode", "Kind", "Failed requests", "Unprotected requests", "Affected workloads", "Detected after", "Recovered after"), 3, 4, 5)}
	for _, f := range b.s.Failures {
		t.Rows = append(t.Rows, Row{Tone: failureTone(f), Cells: []string{f.Name, orDash(f.Mode), orDash(f.Kind),
			count(f.FailedRequests), count(f.Unprotected), counti(len(f.Transitive)), detectText(f.DetectS), recoverText(f.RecoverS)}})
	}
	return table(t)
}

// inMode is " in <mode>" for headings and captions, or "" without a mode.
func inMode(mode string) string {
	if mode == "" {
		return ""
	}
	return " in " + mode
}

// failureTone marks a failure that failed requests or let requests cross
// unprotected.
func failureTone(f results.FailureResult) string {
	switch {
	case f.FailedRequests > 0 || f.Unprotected > 0:
		return "fail"
	case len(f.Transitive) > 0:
		return "warn"
	}
	return ""
}

// detectText renders a time to detect (-1: never visible in the series).
func detectText(s float64) string {
	if s < 0 {
		return "never visible"
	}
	return fixed(s, 1) + " s"
}

// recoverText renders a time to recover (0: never unhealthy; -1: still
// unhealthy at the end of the run).
func recoverText(s float64) string {
	switch {
	case s < 0:
		return "not by the end"
	case s == 0:
		return "never unhealthy"
	}
	return fixed(s, 1) + " s"
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
	svcs, partial, lastTS := failureSeries(f, b.s.DurationS)
	if len(svcs) > maxSeriesServices {
		out = append(out, note(fmt.Sprintf("Time series show the %d services hit hardest (by peak error rate, then p99) of %d.", maxSeriesServices, len(svcs))))
		svcs = svcs[:maxSeriesServices]
	}
	if len(svcs) > 0 {
		out = append(out, failureTimeCharts(fi, f, svcs, partial, lastTS)...)
	}
	return append(out, b.blastRadiusGraph(fi, f)...)
}

// svcSeries is one service's time series around a failure.
type svcSeries struct {
	name             string
	peakErr, peakP99 float64
	rate, err, p99   []Point
}

// failureSeries groups a failure's series by service, hardest hit first
// (peak error rate, then peak p99, then name), leaving out the partial
// bucket at the end of the run: partial counts the points left out, lastTS
// is the last bucket drawn.
func failureSeries(f results.FailureResult, durationS float64) (svcs []*svcSeries, partial int, lastTS float64) {
	bySvc := map[string]*svcSeries{}
	for _, p := range f.Series {
		if !fullBucket(p.TS, durationS) {
			partial++
			continue
		}
		ss := bySvc[p.Service]
		if ss == nil {
			ss = &svcSeries{name: p.Service}
			bySvc[p.Service] = ss
			svcs = append(svcs, ss)
		}
		lastTS = max(lastTS, round(p.TS))
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
	return svcs, partial, lastTS
}

// failureTimeCharts are the rate, error-rate and p99 charts of the
// services' series, the failure's start and end marked.
func failureTimeCharts(fi int, f results.FailureResult, svcs []*svcSeries, partial int, lastTS float64) []Block {
	marks := []Mark{{Label: "failure starts", Value: f.AtS}}
	if f.DurationS > 0 {
		marks = append(marks, Mark{Label: "failure ends", Value: f.AtS + f.DurationS})
	}
	mk := func(name, title, yname, caption string, pick func(*svcSeries) []Point) Block {
		c := &Chart{ID: chartID("failures", name, fi), Kind: ChartLine, HeightPx: 280, Title: title, Caption: caption,
			X: Axis{Name: "s since the measured window began", Type: "value", Max: lastTS}, Y: Axis{Name: yname, Type: "value"}, MarkX: marks}
		for i, ss := range svcs {
			c.Series = append(c.Series, styled(Series{Name: ss.name, Color: colorFor("", i), Points: pick(ss)}, i))
		}
		c.Caption += coincidentNote(c.Series)
		return chart(c)
	}
	return []Block{
		mk("rate", "Request rate around "+f.Name+inMode(f.Mode), "rps",
			"Requests per second per service in 1-second buckets; the vertical dashed lines mark the failure. A dip that outlasts the failure means slow recovery."+partialNote(partial),
			func(s *svcSeries) []Point { return s.rate }),
		mk("errors", "Error rate around "+f.Name+inMode(f.Mode), "failed fraction",
			errorsCaption(f, svcs),
			func(s *svcSeries) []Point { return s.err }),
		mk("p99", "p99 latency around "+f.Name+inMode(f.Mode), "ms",
			"Tail latency per service: retries and reconnects show up here before they show up as errors.",
			func(s *svcSeries) []Point { return s.p99 }),
	}
}

// blastRadiusGraph draws the failure's blast radius on the call graph:
// what it hit directly, what failed some requests through its calls, and
// the rest. Nothing when nothing was hit: an all-grey graph says nothing.
func (b *builder) blastRadiusGraph(fi int, f results.FailureResult) []Block {
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
	if len(direct)+len(trans) == 0 {
		return nil
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
	if len(g.Nodes) == 0 {
		return nil
	}
	out := []Block{chart(&Chart{
		ID: chartID("failures", "blast", fi), Kind: ChartGraph, HeightPx: 480,
		Title:   "Blast radius of " + f.Name + inMode(f.Mode),
		Caption: "Red: services and proxies the failure hit directly; orange: workloads that failed some requests through their calls (hover for the fraction). A long orange chain means the failure propagates through the call graph.",
		Graph:   g,
	})}
	if gnote != "" {
		out = append(out, note(gnote))
	}
	return out
}

// fullBucket reports whether the 1-second bucket starting at ts (seconds
// since the measured window began) lies inside the window of durationS
// seconds. The bucket at the window's end holds only the calls that
// finished at its last instant: drawn, it would drop every series to zero
// and read as an outage. Without a duration (old results) every bucket is
// drawn.
func fullBucket(ts, durationS float64) bool {
	return durationS <= 0 || ts+1 <= durationS+1e-9
}

func partialNote(n int) string {
	if n == 0 {
		return ""
	}
	return " The bucket at the end of the run is left out: it covers less than a second."
}

// errorsCaption explains the error-rate chart from what its series show. A
// service that already fails before the window (policy refusals, a broken
// route) is not blast radius, and one whose errors fall inside the window
// lost something that was refusing its requests: the failure bypassed
// enforcement rather than breaking traffic (cni-bypass is the example).
func errorsCaption(f results.FailureResult, svcs []*svcSeries) string {
	const caption = "Fraction of each service's requests that failed."
	end := math.Inf(1)
	if f.DurationS > 0 {
		end = f.AtS + f.DurationS
	}
	var standing, falling []string
	for _, ss := range svcs {
		before, inside := meanWhere(ss.err, func(ts float64) bool { return ts+1 <= f.AtS }),
			meanWhere(ss.err, func(ts float64) bool { return ts >= f.AtS && ts+1 <= end })
		if math.IsNaN(before) || before < 0.001 {
			continue
		}
		standing = append(standing, ss.name)
		if !math.IsNaN(inside) && inside < before/2 {
			falling = append(falling, ss.name)
		}
	}
	if len(standing) == 0 {
		return caption + " Non-zero only inside the window is the expected blast radius; errors on services that do not depend on the target mean the failure spread further."
	}
	verb := " already fail"
	if len(standing) == 1 {
		verb = " already fails"
	}
	out := caption + " " + listCapped(standing, 4) + verb + " before the failure starts: errors it did not cause (a policy refusing requests, a broken route), so read the change at the window, not the level."
	if len(falling) > 0 {
		out += " The error rate falls inside the window on " + listCapped(falling, 4) + ": the failure removed what was refusing those requests, so enforcement was bypassed while it lasted."
	}
	return out
}

// meanWhere is the mean of the points whose timestamp satisfies in (NaN
// when none does).
func meanWhere(ps []Point, in func(ts float64) bool) float64 {
	sum, n := 0.0, 0
	for _, p := range ps {
		if in(p[0]) && !math.IsNaN(p[1]) {
			sum += p[1]
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// coincidentNote names the lines of a chart that lie on top of each other
// (every point within 2% of the chart's range), which no dash pattern can
// show: "Lines that coincide: shop/a = shop/b."
func coincidentNote(ss []Series) string {
	lo, hi := 0.0, 0.0
	for _, s := range ss {
		for _, p := range s.Points {
			lo, hi = min(lo, p[1]), max(hi, p[1])
		}
	}
	tol := 0.02 * (hi - lo)
	same := func(a, b []Point) bool {
		if len(a) != len(b) || len(a) == 0 {
			return false
		}
		for i := range a {
			if a[i][0] != b[i][0] || math.Abs(a[i][1]-b[i][1]) > tol {
				return false
			}
		}
		return true
	}
	used := make([]bool, len(ss))
	var groups []string
	for i := range ss {
		if used[i] {
			continue
		}
		g := []string{ss[i].Name}
		for j := i + 1; j < len(ss); j++ {
			if !used[j] && same(ss[i].Points, ss[j].Points) {
				used[j] = true
				g = append(g, ss[j].Name)
			}
		}
		if len(g) > 1 {
			groups = append(groups, strings.Join(g, " = "))
		}
	}
	if len(groups) == 0 {
		return ""
	}
	return " Lines that coincide (drawn on top of each other): " + strings.Join(groups, "; ") + "."
}
