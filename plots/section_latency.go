package plots

import (
	"sort"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// maxCDFPoints caps the points per CDF line; results are already
// down-sampled, this only guards the page size against a huge input.
const maxCDFPoints = 200

// latency is section 4: CDFs and percentile bars per path category and
// mode, side-by-side tables, request and error counts.
func (b *builder) latency() []Block {
	s := b.s
	if len(s.Modes) == 0 {
		return nil
	}
	cats := latencyCategories(s.Modes)
	var slo []Mark
	if b.opts.SLO.P99Ms > 0 {
		slo = []Mark{{Label: "SLO p99 " + ms(b.opts.SLO.P99Ms) + " ms", Value: b.opts.SLO.P99Ms}}
	}
	var out []Block
	out = append(out, latencyPercentiles(s.Modes, slo)...)
	out = append(out, latencyByCategory(s.Modes, cats, slo))
	out = append(out, latencyCDFs(s.Modes, cats)...)
	out = append(out, heading("Side by side"))
	out = append(out, latencyTables(s, cats)...)
	if et := errorTable(s.Modes); len(et.Rows) > 0 {
		out = append(out, table(et))
	}
	out = append(out, b.observedTable()...)
	return out
}

// observedTable compares the simulation with the cluster's Prometheus,
// edge by edge, when the scenario carried observations (ambientsim import
// traffic).
func (b *builder) observedTable() []Block {
	o := b.s.Observed
	if o == nil || len(o.Edges) == 0 {
		return nil
	}
	opt := func(v *float64) string {
		if v == nil {
			return "—"
		}
		return ms(*v)
	}
	caption := "Predicted against observed, per edge and mode"
	if o.Source != "" {
		caption += " (observed: " + o.Source + ")"
	}
	t := &Table{Caption: caption,
		Columns: numeric(cols("Mode", "Edge", "Reporter", "Observed rate", "Predicted rate", "Rate error", "Observed p50 (ms)", "Predicted p50 (ms)", "Observed p99 (ms)", "Predicted p99 (ms)", "Predicted from"), 3, 4, 5, 6, 7, 8, 9)}
	for i, e := range o.Edges {
		if i == 4*b.opts.TopN {
			t.Omitted = len(o.Edges) - i
			break
		}
		unit := " rps"
		if e.Protocol == "tcp" {
			unit = " conn/s"
		}
		tn := ""
		if e.RateError > 0.1 || e.RateError < -0.1 {
			tn = "warn"
		}
		t.Rows = append(t.Rows, Row{Tone: tn, Cells: []string{e.Mode, e.Source + " → " + e.Destination, orDash(e.Reporter),
			fixed(e.ObservedRPS, 1) + unit, fixed(e.PredictedRPS, 1) + unit, pct(e.RateError),
			opt(e.ObservedP50Ms), opt(e.PredictedP50Ms), opt(e.ObservedP99Ms), opt(e.PredictedP99Ms), orDash(e.PredictedFrom)}})
	}
	return []Block{heading("Predicted against observed"), table(t)}
}

// latencyPercentiles is the bar chart of all requests' percentiles, one
// group per percentile and a bar per mode.
func latencyPercentiles(modes []results.ModeResult, slo []Mark) []Block {
	var out []Block
	// Percentiles of all requests, one bar group per percentile.
	pcts := []string{"p50", "p90", "p99", "p99.9"}
	var allSeries []Series
	for i, m := range modes {
		if lat, ok := allLatency(m); ok {
			allSeries = append(allSeries, Series{Name: m.Mode, Color: colorFor(m.Mode, i),
				Values: []float64{round(lat.P50Ms), round(lat.P90Ms), round(lat.P99Ms), round(lat.P999Ms)}})
		}
	}
	if len(allSeries) > 0 {
		out = append(out, chart(&Chart{
			ID: chartID("latency", "percentiles"), Kind: ChartBar, HeightPx: 340,
			Title:   "End-to-end latency percentiles, all requests",
			Caption: "Each group is one percentile; each bar one mode on identical traffic. The gap between modes at p99 and p99.9 is the tail the mesh adds; a dashed line marks the SLO when one is set.",
			X:       Axis{Type: "category", Categories: pcts},
			Y:       Axis{Name: "ms", Type: "value"},
			Series:  allSeries,
			MarkY:   slo,
		}))
	}

	return out
}

// latencyByCategory is p99 per path category, a bar per mode.
func latencyByCategory(modes []results.ModeResult, cats []string, slo []Mark) Block {
	var catSeries []Series
	for i, m := range modes {
		vals := make([]float64, len(cats))
		for j, c := range cats {
			if r, ok := latencyRow(m, c); ok {
				vals[j] = round(r.P99Ms)
			}
		}
		catSeries = append(catSeries, Series{Name: m.Mode, Color: colorFor(m.Mode, i), Values: vals})
	}
	return chart(&Chart{
		ID: chartID("latency", "p99-by-category"), Kind: ChartBar, HeightPx: 340,
		Title:   "p99 latency per path category and mode",
		Caption: "Which kind of path carries the tail: waypoint paths add an L7 proxy hop, sidecar paths two. A missing bar means that mode has no path of that category.",
		X:       Axis{Type: "category", Categories: cats},
		Y:       Axis{Name: "ms", Type: "value"},
		Series:  catSeries,
		MarkY:   slo,
	})

}

// latencyCDFs is one CDF chart per path category, a line per mode.
func latencyCDFs(modes []results.ModeResult, cats []string) []Block {
	var out []Block
	for ci, c := range cats {
		var series []Series
		for i, m := range modes {
			r, ok := latencyRow(m, c)
			if !ok || len(r.CDF) == 0 {
				continue
			}
			series = append(series, styled(Series{Name: m.Mode, Color: colorFor(m.Mode, i), Points: cdfPoints(r.CDF)}, i))
		}
		if len(series) == 0 {
			continue
		}
		out = append(out, chart(&Chart{
			ID: chartID("latency", "cdf", ci), Kind: ChartLine, HeightPx: 300, Half: true,
			Title:   "Latency CDF: " + c,
			Caption: "Fraction of requests (y) finished within a latency (x, log scale). A curve further right is slower; compare where the curves flatten near 1.0 for the tail.",
			X:       Axis{Name: "ms", Type: "log"},
			Y:       Axis{Name: "fraction", Type: "value"},
			Series:  series,
		}))
	}

	return out
}

// latencyTables are the comparison across modes, each category's latency
// and the request accounting.
func latencyTables(s *results.Summary, cats []string) []Block {
	var out []Block
	modes := make([]string, len(s.Modes))
	for i, m := range s.Modes {
		modes[i] = m.Mode
	}
	if len(s.Comparison) > 0 {
		t := &Table{Caption: "Comparison across modes (same traffic, same seed)", Columns: cols(append([]string{"Metric", "Unit"}, modes...)...)}
		for i := range modes {
			t.Columns[2+i].Numeric = true
		}
		for _, r := range s.Comparison {
			cells := []string{r.Metric, r.Unit}
			for i := range modes {
				v := "—"
				if i < len(r.Values) {
					v = compact(r.Values[i])
				}
				cells = append(cells, v)
			}
			t.Rows = append(t.Rows, Row{Cells: cells})
		}
		out = append(out, table(t))
	}
	for _, c := range cats {
		t := &Table{Caption: "Latency of " + c + " paths (ms)",
			Columns: numeric(cols("Mode", "Requests", "Mean", "p50", "p90", "p99", "p99.9", "Max"), 1, 2, 3, 4, 5, 6, 7)}
		for _, m := range s.Modes {
			if r, ok := latencyRow(m, c); ok {
				t.Rows = append(t.Rows, Row{Cells: []string{m.Mode, count(r.Count), ms(r.MeanMs), ms(r.P50Ms), ms(r.P90Ms), ms(r.P99Ms), ms(r.P999Ms), ms(r.MaxMs)}})
			}
		}
		out = append(out, table(t))
	}

	rt := &Table{Caption: "Requests (offered = succeeded + failed + in flight)",
		Columns: numeric(cols("Mode", "Offered", "Succeeded", "Failed", "In flight", "Throughput (rps)"), 1, 2, 3, 4, 5)}
	for _, m := range s.Modes {
		q := m.Requests
		tone := ""
		if q.Offered != q.Succeeded+q.Failed+q.InFlight {
			tone = "fail"
		}
		rt.Rows = append(rt.Rows, Row{Tone: tone, Cells: []string{m.Mode, count(q.Offered), count(q.Succeeded), count(q.Failed), count(q.InFlight), fixed(q.ThroughputRPS, 1)}})
	}
	out = append(out, table(rt))

	return out
}

// errorTable lists failed requests by cause (rows) and mode (columns).
func errorTable(modes []results.ModeResult) *Table {
	var causes []string
	seen := map[string]bool{}
	for _, m := range modes {
		for _, e := range m.Errors {
			if !seen[e.Cause] {
				seen[e.Cause] = true
				causes = append(causes, e.Cause)
			}
		}
	}
	sort.Strings(causes)
	names := []string{"Cause", "What it is"}
	for _, m := range modes {
		names = append(names, m.Mode)
	}
	t := &Table{Caption: "Failed calls by cause (a request refused by policy is the policy's intended outcome, not a failure of the mesh)", Columns: cols(names...)}
	for i := range modes {
		t.Columns[2+i].Numeric = true
	}
	for _, c := range causes {
		what := "failure"
		switch {
		case isDenial(c):
			what = "refused by policy (intended)"
			if d, ok := denialCauses[c]; ok {
				what += ": " + d
			}
		case c == dependencyCause:
			what = "follows from a failed downstream call"
		}
		cells := []string{c, what}
		for _, m := range modes {
			var n int64
			for _, e := range m.Errors {
				if e.Cause == c {
					n += e.Count
				}
			}
			cells = append(cells, count(n))
		}
		t.Rows = append(t.Rows, Row{Cells: cells})
	}
	return t
}

// latencyCategories lists every category any mode reports, "all" first.
func latencyCategories(modes []results.ModeResult) []string {
	seen := map[string]bool{}
	var cats []string
	for _, m := range modes {
		for _, r := range m.Latency {
			if !seen[r.Category] {
				seen[r.Category] = true
				cats = append(cats, r.Category)
			}
		}
	}
	sortCategories(cats)
	return cats
}

func latencyRow(m results.ModeResult, category string) (results.LatencyRow, bool) {
	for _, r := range m.Latency {
		if r.Category == category {
			return r, true
		}
	}
	return results.LatencyRow{}, false
}

// cdfPoints converts a CDF for a log axis: non-positive latencies cannot be
// drawn there and are dropped; long CDFs are thinned evenly, always keeping
// the last point (the maximum).
func cdfPoints(cdf []results.CDFPoint) []Point {
	var pts []Point
	for _, p := range cdf {
		if finite(p.Ms) > 0 {
			pts = append(pts, Point{round(p.Ms), round(p.Fraction)})
		}
	}
	if len(pts) <= maxCDFPoints {
		return pts
	}
	thin := make([]Point, 0, maxCDFPoints)
	for i := 0; i < maxCDFPoints-1; i++ {
		thin = append(thin, pts[i*(len(pts)-1)/(maxCDFPoints-1)])
	}
	return append(thin, pts[len(pts)-1])
}

// compact formats a comparison value: integers without decimals, others
// with up to three.
func compact(v float64) string {
	v = finite(v)
	if v == float64(int64(v)) && v < 1e15 && v > -1e15 {
		return count(int64(v))
	}
	if a := v; a < 1 && a > -1 {
		return fixed(v, 4)
	}
	return fixed(v, 3)
}
