package plots

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

const (
	// maxSweepGroups caps the small multiples of a sweep that varies
	// several parameters: one chart per combination of the others.
	maxSweepGroups = 24
)

// pointLabel lists a point's parameters other than skip, e.g.
// "nodes=3, podsPerService=2".
func pointLabel(sw *results.Sweep, p results.SweepPoint, skip string) string {
	var parts []string
	for _, pi := range sw.Parameters {
		if pi.Name == "mode" || pi.Name == skip {
			continue
		}
		if v := p.Get(pi.Name); v != "" {
			parts = append(parts, pi.Name+"="+v)
		}
	}
	return strings.Join(parts, ", ")
}

// sloMetric returns which ModeStats figure the sweep's SLO judges, for
// charts: the SLO's latency percentile, else p99.
func sloMetric(sw *results.Sweep) (string, func(results.SweepModeStats) results.Estimate) {
	metric := "p99"
	if sw.SLO != nil && sw.SLO.Metric != "" && sw.SLO.Metric != "error_rate" {
		metric = sw.SLO.Metric
	}
	switch metric {
	case "p50":
		return metric, func(m results.SweepModeStats) results.Estimate { return m.P50Ms }
	case "p90":
		return metric, func(m results.SweepModeStats) results.Estimate { return m.P90Ms }
	case "p999":
		return metric, func(m results.SweepModeStats) results.Estimate { return m.P999Ms }
	}
	return "p99", func(m results.SweepModeStats) results.Estimate { return m.P99Ms }
}

// estimate prints mean ± half-width, the half-width with as many decimals
// as the mean (378.6 ± 70.1, not 378.6 ± 70.126).
func estimate(e results.Estimate, f func(float64) string) string {
	m := f(e.Mean)
	if e.HalfWidth == 0 {
		return m
	}
	if strings.HasSuffix(m, "%") {
		return m + " ± " + f(e.HalfWidth)
	}
	dec := 0
	if i := strings.LastIndexByte(m, '.'); i >= 0 {
		dec = len(m) - i - 1
	}
	return m + " ± " + fixed(e.HalfWidth, dec)
}

// sweeps is section 7, present only when RESULTS_DIR holds a sweep.json:
// the SLO metric against the swept parameter with confidence bands and the
// SLO line, mesh CPU against it, the SLO search and sizing answers, the cost
// table and every point.
func (b *builder) sweeps() []Block {
	sw := b.opts.Sweep
	if sw == nil || len(sw.Points) == 0 {
		return nil
	}
	var out []Block
	out = append(out, text(fmt.Sprintf("Sweep of %s: %s design points, %d replications each, %s confidence intervals (%s). Warm-up: %s.",
		orDash(sw.Scenario), counti(len(sw.Points)), sw.Replications, pct(sw.Confidence), orDash(sw.Interval), orDash(sw.Warmup.Description))))

	xName, xUnit := sweepXAxis(sw)
	metric, pick := sloMetric(sw)
	var slo []Mark
	if sw.SLO != nil && sw.SLO.Threshold > 0 && sw.SLO.Metric != "error_rate" {
		slo = []Mark{{Label: fmt.Sprintf("SLO %s %s ms", metric, ms(sw.SLO.Threshold)), Value: sw.SLO.Threshold}}
	}
	if xName != "" {
		out = append(out, b.sweepCharts(sw, xName, xUnit, metric, pick, slo)...)
	}
	if len(sw.Searches) > 0 {
		out = append(out, searchTable(sw))
	}
	if len(sw.Sizing) > 0 {
		out = append(out, sizingTable(sw))
	}
	if c := sw.Cost; c != nil && len(c.Rows) > 0 {
		out = append(out, b.costTable(c))
		if c.Method != "" {
			out = append(out, note("Method: "+c.Method))
		}
	}
	return append(out, b.pointsTable(sw, metric, pick))
}

// sweepXAxis is the charts' x axis: the first swept parameter with several
// values, load first; "" when no parameter has several values.
func sweepXAxis(sw *results.Sweep) (name, unit string) {
	for _, pi := range sw.Parameters {
		if pi.Name != "mode" && len(pi.Values) > 1 && (name == "" || pi.Name == "load") {
			name, unit = pi.Name, pi.Unit
		}
	}
	return name, unit
}

// searchTable is the SLO search's answer per mode.
func searchTable(sw *results.Sweep) Block {
	t := &Table{Caption: "SLO search: the largest load each mode sustains within the SLO",
		Columns: numeric(cols("Mode", "At", "Status", "Max load (×)", "Confidently met up to (×)", "First violating (×)", "Throughput at max (rps)", "Answer"), 3, 4, 5, 6)}
	for _, s := range sw.Searches {
		tn := ""
		switch {
		case s.Status == "violated-at-min":
			tn = "fail"
		case s.Uncertain:
			tn = "warn"
		}
		thr := "—"
		if s.MaxLoad > 0 {
			thr = estimate(s.ThroughputRPS, func(v float64) string { return fixed(v, 1) })
		}
		t.Rows = append(t.Rows, Row{Tone: tn, Cells: []string{s.Mode, orDash(pointLabel(sw, s.At, "load")), s.Status,
			loadOrNone(s.MaxLoad, "none"), loadOrNone(s.ConfidentMaxLoad, "none"), loadOrNone(s.MinViolatingLoad, "none up to "+mult(searchTop(sw, s))+"×"), thr, s.Note}})
	}
	return table(t)
}

// sizingTable is the sizing answer per mode.
func sizingTable(sw *results.Sweep) Block {
	t := &Table{Caption: "Sizing: the smallest setting that meets the SLO at the sizing load",
		Columns: numeric(cols("Mode", "Parameter", "Load (×)", "At", "Status", "Minimal", "Verdict", "Answer"), 2, 5)}
	for _, s := range sw.Sizing {
		minimal := "—"
		if s.Minimal > 0 {
			minimal = strconv.Itoa(s.Minimal)
		}
		t.Rows = append(t.Rows, Row{Tone: tone(s.Status == "not-met", "fail"), Cells: []string{s.Mode, s.Parameter, mult(s.Load),
			orDash(pointLabel(sw, s.At, "load")), s.Status, minimal, orDash(s.Verdict), s.Note}})
	}
	return table(t)
}

// costTable is the provisioned mesh cost per cluster size (the first
// 4×TopN rows).
func (b *builder) costTable(c *results.CostTable) Block {
	t := &Table{Caption: fmt.Sprintf("Provisioned mesh cost per cluster size (headroom ×%s, %s pods per node)", mult(c.Headroom), mult(c.PodsPerNode)),
		Columns: numeric(cols("Pods", "Mode", "Nodes", "Proxy instances", "CPU provisioned (cores)", "Memory provisioned (GiB)", "CPU used (cores)", "Memory used (GiB)"), 0, 2, 4, 5, 6, 7)}
	for i, r := range c.Rows {
		if i == 4*b.opts.TopN {
			t.Omitted = len(c.Rows) - i
			break
		}
		var inst []string
		for _, k := range r.Instances {
			inst = append(inst, fmt.Sprintf("%s×%d", k.Kind, k.Count))
		}
		t.Rows = append(t.Rows, Row{Cells: []string{counti(r.Pods), r.Mode, counti(r.Nodes), orDash(strings.Join(inst, ", ")),
			estimate(r.CPUCores, cores), estimate(r.MemoryGiB, gib), estimate(r.UsedCPUCores, cores), estimate(r.UsedMemoryGiB, gib)}})
	}
	return table(t)
}

// pointsTable lists every point and mode (the first 4×TopN rows) with the
// SLO metric, errors, throughput, mesh cost and the SLO verdict.
func (b *builder) pointsTable(sw *results.Sweep, metric string, pick func(results.SweepModeStats) results.Estimate) Block {
	pt := &Table{Caption: "Every sweep point (mean ± confidence half-width)",
		Columns: numeric(cols("Point", "Mode", metric+" (ms)", "Error rate", "Throughput (rps)", "Mesh CPU (cores)", "Mesh memory (GiB)", "SLO"), 2, 3, 4, 5, 6)}
	rows := 0
	for _, p := range sw.Points {
		for _, m := range p.Modes {
			if rows == 4*b.opts.TopN {
				pt.Omitted++
				continue
			}
			rows++
			verdict := "—"
			if m.SLO != nil {
				verdict = m.SLO.Verdict
			}
			tn := map[string]string{"holds": "", "violated": "fail", "uncertain": "warn"}[verdict]
			pt.Rows = append(pt.Rows, Row{Tone: tn, Cells: []string{orDash(p.Key), m.Mode, estimate(pick(m), ms), estimate(m.ErrorRate, pct),
				estimate(m.ThroughputRPS, func(v float64) string { return fixed(v, 1) }), estimate(m.MeshCPUCores, cores), estimate(m.MeshMemoryGiB, gib), verdict}})
		}
	}
	return table(pt)
}

// sweepCell is one mode's figures at one point, placed on the x axis.
type sweepCell struct {
	x    float64
	xs   string
	mode results.SweepModeStats
}

// sweepGroups are a sweep's points grouped by the combination of the
// parameters other than the x axis, in first-seen order, with the modes in
// first-seen order.
type sweepGroups struct {
	names   []string
	byGroup map[string][]sweepCell
	modes   []string
}

func groupSweepPoints(sw *results.Sweep, xName string) *sweepGroups {
	sg := &sweepGroups{byGroup: map[string][]sweepCell{}}
	seenMode := map[string]bool{}
	for _, p := range sw.Points {
		g := pointLabel(sw, p.Point, xName)
		if _, ok := sg.byGroup[g]; !ok {
			sg.names = append(sg.names, g)
		}
		xs := p.Point.Get(xName)
		x, _ := strconv.ParseFloat(xs, 64)
		for _, m := range p.Modes {
			sg.byGroup[g] = append(sg.byGroup[g], sweepCell{x: x, xs: xs, mode: m})
			if !seenMode[m.Mode] {
				seenMode[m.Mode] = true
				sg.modes = append(sg.modes, m.Mode)
			}
		}
	}
	return sg
}

// groupSeries is one group's x ticks and its latency and CPU series.
type groupSeries struct {
	ticks    []string
	lat, cpu []Series
}

// series is one series per mode over the group's ticks, band edges clipped
// at 0: neither latency nor CPU can be negative.
func (sg *sweepGroups) series(g string, pick func(results.SweepModeStats) results.Estimate) groupSeries {
	cells := sg.byGroup[g]
	var ticks []string
	seen := map[string]bool{}
	sort.SliceStable(cells, func(i, j int) bool { return cells[i].x < cells[j].x })
	for _, c := range cells {
		if !seen[c.xs] {
			seen[c.xs] = true
			ticks = append(ticks, c.xs)
		}
	}
	idx := map[string]int{}
	for i, tk := range ticks {
		idx[tk] = i
	}
	series := func(val func(results.SweepModeStats) results.Estimate) []Series {
		var ss []Series
		for mi, m := range sg.modes {
			s := styled(Series{Name: m, Color: colorFor(m, mi), Values: make([]float64, len(ticks)),
				Band: &Band{Lower: make([]float64, len(ticks)), Upper: make([]float64, len(ticks))}}, mi)
			for _, c := range cells {
				if c.mode.Mode != m {
					continue
				}
				e := val(c.mode)
				s.Values[idx[c.xs]] = round(e.Mean)
				s.Band.Lower[idx[c.xs]] = round(max(e.Lo(), 0))
				s.Band.Upper[idx[c.xs]] = round(e.Hi())
			}
			ss = append(ss, s)
		}
		return ss
	}
	return groupSeries{ticks: ticks, lat: series(pick), cpu: series(func(m results.SweepModeStats) results.Estimate { return m.MeshCPUCores })}
}

// sweepYAxis is the latency axis every chart of the sweep shares: linear,
// or log when the means span orders of magnitude (overload makes the
// metric jump; a log axis keeps the SLO region readable), from yMin up to
// a round yMax above every band and the SLO. On a log axis band edges must
// stay positive, so a lower edge at or below 0 is moved to half the mean.
func sweepYAxis(all []groupSeries, slo []Mark) (yType string, yMax, yMin float64) {
	var allLat []Series
	top := 0.0
	for _, gs := range all {
		allLat = append(allLat, gs.lat...)
		for _, s := range gs.lat {
			for _, v := range s.Band.Upper {
				top = max(top, v)
			}
			for _, v := range s.Values {
				top = max(top, v)
			}
		}
	}
	for _, m := range slo {
		top = max(top, m.Value)
	}
	yType = "value"
	if wideRange(allLat) {
		yType = "log"
		for _, gs := range all {
			for _, s := range gs.lat {
				for i := range s.Band.Lower {
					if s.Band.Lower[i] <= 0 {
						s.Band.Lower[i] = round(s.Values[i] / 2)
					}
				}
			}
		}
	}
	yMax = niceCeil(top, yType == "log")
	if yType == "log" {
		yMin = logAxisFloor(allLat)
	}
	return yType, yMax, yMin
}

// logAxisFloor is where a log axis starts: the power of ten below the
// smallest mean, in every chart alike, so a confidence band reaching
// towards zero is cut there rather than stretching the axis down decades
// no latency has. 0 when no mean is positive.
func logAxisFloor(ss []Series) float64 {
	lo := 0.0
	for _, s := range ss {
		for _, v := range s.Values {
			if v > 0 && (lo == 0 || v < lo) {
				lo = v
			}
		}
	}
	if lo > 0 {
		return math.Pow(10, math.Floor(math.Log10(lo)))
	}
	return 0
}

// sweepRefGroup is the reference combination drawn full width: the one
// the SLO search ran at, else the first.
func sweepRefGroup(sw *results.Sweep, groups []string, xName string) int {
	ref := 0
	if sw.SLO != nil && sw.SLO.Search != nil && sw.SLO.Search.At != nil {
		want := pointLabel(sw, sw.SLO.Search.At.Point, xName)
		for gi, g := range groups {
			if g == want {
				ref = gi
			}
		}
	}
	return ref
}

// atCombination names a parameter combination in a chart title.
func atCombination(g string) string {
	if g == "" {
		return ""
	}
	return " at " + g
}

// sweepCharts draws the SLO metric against xName per mode with its band:
// full width for the reference combination of the other parameters (the
// SLO search's, else the first) with mesh CPU beside it, then every
// combination as small multiples on one shared scale, up to
// maxSweepGroups.
func (b *builder) sweepCharts(sw *results.Sweep, xName, xUnit, metric string, pick func(results.SweepModeStats) results.Estimate, slo []Mark) []Block {
	sg := groupSweepPoints(sw, xName)
	groups := sg.names
	axisName := xName
	if xUnit != "" {
		axisName += " (" + xUnit + ")"
	}
	all := make([]groupSeries, len(groups))
	for gi, g := range groups {
		all[gi] = sg.series(g, pick)
	}
	yType, yMax, yMin := sweepYAxis(all, slo)
	ref := sweepRefGroup(sw, groups, xName)
	band := fmt.Sprintf("Mean %s over replications with its %s confidence band, per mode (a distinct line and marker per mode).", metric, pct(sw.Confidence))
	var out []Block
	g := groups[ref]
	refWhy := ""
	if len(groups) > 1 {
		refWhy = " This combination is the one the SLO search ran at; every combination follows below on one scale."
		if ref == 0 && (sw.SLO == nil || sw.SLO.Search == nil || sw.SLO.Search.At == nil) {
			refWhy = " Every combination of the other parameters follows below on one scale."
		}
	}
	out = append(out, chart(&Chart{
		ID: chartID("sweeps", "slo"), Kind: ChartLine, HeightPx: 360,
		Title:   metric + " latency vs " + xName + atCombination(g),
		Caption: band + " Where a band crosses the SLO line is the most that mode can take; a band that widens sharply marks saturation." + refWhy,
		X:       Axis{Name: axisName, Type: "category", Categories: all[ref].ticks},
		Y:       Axis{Name: metric + " ms", Type: yType, Max: yMax, Min: yMin},
		Series:  all[ref].lat,
		MarkY:   slo,
	}))
	out = append(out, chart(&Chart{
		ID: chartID("sweeps", "cpu"), Kind: ChartLine, HeightPx: 320,
		Title:   "Mesh CPU vs " + xName + atCombination(g),
		Caption: "Mean CPU of all mesh proxies with its band, per mode: how the mesh's cost grows with " + xName + ".",
		X:       Axis{Name: axisName, Type: "category", Categories: all[ref].ticks},
		Y:       Axis{Name: "cores", Type: "value"},
		Series:  all[ref].cpu,
	}))
	if len(groups) == 1 {
		return out
	}
	out = append(out, heading(fmt.Sprintf("%s vs %s for every combination of the other parameters (%d)", metric, xName, len(groups))))
	for gi, g := range groups {
		if gi == maxSweepGroups {
			out = append(out, note(fmt.Sprintf("Charts are drawn for the first %d of %d parameter combinations; the table of points lists all of them.", maxSweepGroups, len(groups))))
			break
		}
		out = append(out, chart(&Chart{
			ID: chartID("sweeps", "slo", gi), Kind: ChartLine, HeightPx: 260, Half: true,
			Title:   metric + " vs " + xName + atCombination(g),
			Caption: "Same scale in every chart of this grid (bands below the axis are cut); the dashed red line is the SLO.",
			X:       Axis{Name: axisName, Type: "category", Categories: all[gi].ticks},
			Y:       Axis{Name: metric + " ms", Type: yType, Max: yMax, Min: yMin},
			Series:  all[gi].lat,
			MarkY:   slo,
		}))
	}
	return out
}

// niceCeil rounds v up to a round axis maximum: 1, 2, 2.5 or 5 times a
// power of ten, or a power of ten on a log axis.
func niceCeil(v float64, log bool) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	if log {
		if p >= v {
			return p
		}
		return p * 10
	}
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// wideRange reports whether positive series values span more than two
// orders of magnitude (and none is zero, which a log axis cannot show).
func wideRange(ss []Series) bool {
	lo, hi := 0.0, 0.0
	for _, s := range ss {
		for _, v := range s.Values {
			if v <= 0 {
				return false
			}
			if lo == 0 || v < lo {
				lo = v
			}
			hi = max(hi, v)
		}
	}
	return lo > 0 && hi/lo > 100
}

// loadOrNone prints a load multiplier, or none when the search found none
// (0 in sweep.json).
func loadOrNone(v float64, none string) string {
	if v <= 0 {
		return none
	}
	return mult(v)
}

// searchTop is the highest load a search evaluated.
func searchTop(sw *results.Sweep, s results.SLOSearchResult) float64 {
	top := 0.0
	for _, st := range s.Steps {
		top = max(top, st.Load)
	}
	if top == 0 && sw.SLO != nil && sw.SLO.Search != nil {
		top = sw.SLO.Search.To
	}
	return top
}
