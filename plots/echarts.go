package plots

import (
	"encoding/json"
	"fmt"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// optionJSON builds the ECharts option of one chart with go-echarts and
// returns it as JSON that is safe inside a <script> element.
//
// go-echarts' own templates write the option with HTML escaping turned off
// (JSONNotEscaped), so a workload named "</script><script>…" would end the
// script element; they also run a regexp over the whole page that deletes
// every "__f__" (its marker for inline JS functions), which would corrupt
// names. So the report takes only the option map from go-echarts and encodes
// it with encoding/json, which escapes <, > and & as \u003c, \u003e and
// \u0026. The report uses no JS functions, so nothing needs the marker.
func optionJSON(c *Chart) ([]byte, error) {
	var (
		base *charts.BaseConfiguration
		err  error
	)
	switch c.Kind {
	case ChartLine:
		base, err = lineOption(c)
	case ChartBar:
		base, err = barOption(c)
	case ChartGraph:
		base, err = graphOption(c)
	default:
		return nil, fmt.Errorf("chart %s: unknown kind %q", c.ID, c.Kind)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(base.JSON())
}

// common sets what every chart shares: fixed id, no animation (so a
// screenshot or a test sees the final picture at once), scrolling legend.
func common(c *Chart, legend []string) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{ChartID: c.ID}),
		charts.WithAnimation(false),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(len(legend) > 0), Type: "scroll", Top: "0", Data: legend}),
	}
}

func rectOpts(c *Chart, legend []string) []charts.GlobalOpts {
	x := opts.XAxis{Type: c.X.Type, Name: c.X.Name, NameLocation: "middle", NameGap: 28}
	if c.X.Type == "category" {
		x.Data = c.X.Categories
		x.AxisLabel = &opts.AxisLabel{Interval: "0", HideOverlap: opts.Bool(true)}
	}
	if c.X.Type == "value" || c.X.Type == "log" {
		x.Scale = opts.Bool(true)
		if c.X.Max > 0 {
			x.Max = finite(c.X.Max)
		}
	}
	y := opts.YAxis{Type: c.Y.Type, Name: c.Y.Name}
	if c.Y.Max > 0 {
		y.Max = finite(c.Y.Max)
	}
	if c.Y.Min > 0 {
		y.Min = finite(c.Y.Min)
	}
	if c.Y.Integer {
		y.MinInterval = 1
	}
	trigger := "axis"
	if c.X.Type != "category" {
		trigger = "item"
	}
	return append(common(c, legend),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: trigger}),
		charts.WithGridOpts(opts.Grid{Left: "3%", Right: "4%", Top: "48", Bottom: "40", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(x),
		charts.WithYAxisOpts(y),
	)
}

func seriesNames(ss []Series) []string {
	n := make([]string, len(ss))
	for i, s := range ss {
		n[i] = s.Name
	}
	return n
}

// markOpts draws the chart's reference lines on its first series.
func markOpts(c *Chart) []charts.SeriesOpts {
	if len(c.MarkX) == 0 && len(c.MarkY) == 0 {
		return nil
	}
	var o []charts.SeriesOpts
	color := "#d62728" // an objective
	if len(c.MarkY) == 0 {
		color = "#555555" // an event in time
	}
	for _, m := range c.MarkX {
		o = append(o, charts.WithMarkLineNameXAxisItemOpts(opts.MarkLineNameXAxisItem{Name: m.Label, XAxis: finite(m.Value)}))
	}
	for _, m := range c.MarkY {
		o = append(o, charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: m.Label, YAxis: finite(m.Value)}))
	}
	return append(o, charts.WithMarkLineStyleOpts(opts.MarkLineStyle{
		Symbol:    []string{"none", "none"},
		LineStyle: &opts.LineStyle{Type: "dashed", Color: color, Width: 1.5},
		Label:     &opts.Label{Show: opts.Bool(true), Formatter: "{b}", Position: "insideEndTop"},
	}))
}

func lineOption(c *Chart) (*charts.BaseConfiguration, error) {
	l := charts.NewLine()
	l.SetGlobalOptions(rectOpts(c, seriesNames(c.Series))...)
	if c.X.Type == "category" {
		l.SetXAxis(c.X.Categories)
	}
	for i, s := range c.Series {
		var data []opts.LineData
		if len(s.Points) > 0 {
			data = make([]opts.LineData, len(s.Points))
			for j, p := range s.Points {
				data[j] = opts.LineData{Value: []float64{finite(p[0]), finite(p[1])}}
			}
		} else {
			data = make([]opts.LineData, len(s.Values))
			for j, v := range s.Values {
				data[j] = opts.LineData{Value: finite(v)}
			}
		}
		symbol := s.Symbol
		if symbol == "" {
			symbol = "circle"
		}
		so := []charts.SeriesOpts{
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(len(data) <= 40), Symbol: symbol, SymbolSize: 7}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: s.Color}),
			charts.WithLineStyleOpts(opts.LineStyle{Color: s.Color, Width: 2, Type: s.Dash}),
		}
		if i == 0 {
			so = append(so, markOpts(c)...)
		}
		l.AddSeries(s.Name, data, so...)
		if s.Band != nil {
			addBand(l, i, s)
		}
	}
	l.Validate()
	return &l.BaseConfiguration, nil
}

// addBand draws a confidence band as two stacked, line-less series: the
// lower edge (transparent) and the band's height (shaded) on top of it.
func addBand(l *charts.Line, i int, s Series) {
	n := len(s.Values)
	lower := make([]opts.LineData, n)
	height := make([]opts.LineData, n)
	for j := 0; j < n; j++ {
		var lo, hi float64
		if j < len(s.Band.Lower) {
			lo = finite(s.Band.Lower[j])
		}
		if j < len(s.Band.Upper) {
			hi = finite(s.Band.Upper[j])
		}
		lower[j] = opts.LineData{Value: lo}
		height[j] = opts.LineData{Value: max(hi-lo, 0)}
	}
	stack := fmt.Sprintf("band-%d", i)
	hidden := opts.LineStyle{Opacity: opts.Float(0)}
	l.AddSeries(s.Name+" band", lower,
		charts.WithLineChartOpts(opts.LineChart{Stack: stack, ShowSymbol: opts.Bool(false)}),
		charts.WithLineStyleOpts(hidden),
	)
	l.AddSeries(s.Name+" band", height,
		charts.WithLineChartOpts(opts.LineChart{Stack: stack, ShowSymbol: opts.Bool(false)}),
		charts.WithLineStyleOpts(hidden),
		charts.WithAreaStyleOpts(opts.AreaStyle{Color: s.Color, Opacity: opts.Float(0.18)}),
	)
}

func barOption(c *Chart) (*charts.BaseConfiguration, error) {
	b := charts.NewBar()
	b.SetGlobalOptions(rectOpts(c, seriesNames(c.Series))...)
	b.SetXAxis(c.X.Categories)
	for i, s := range c.Series {
		data := make([]opts.BarData, len(s.Values))
		for j, v := range s.Values {
			data[j] = opts.BarData{Value: finite(v)}
		}
		so := []charts.SeriesOpts{
			charts.WithBarChartOpts(opts.BarChart{Stack: s.Stack}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: s.Color}),
		}
		if c.Labels {
			so = append(so, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "top"}))
		}
		if i == 0 {
			so = append(so, markOpts(c)...)
		}
		b.AddSeries(s.Name, data, so...)
	}
	b.Validate()
	return &b.BaseConfiguration, nil
}

// graphNodeData is an ECharts graph node. go-echarts' GraphNode has a
// numeric value only; the report puts the tooltip text in value.
type graphNodeData struct {
	Name       string  `json:"name"`
	Category   int     `json:"category"`
	SymbolSize float64 `json:"symbolSize"`
	Value      string  `json:"value,omitempty"`
}

// graphLinkData is an ECharts graph edge with a text value for the tooltip.
type graphLinkData struct {
	Source    string          `json:"source"`
	Target    string          `json:"target"`
	Value     string          `json:"value,omitempty"`
	LineStyle *opts.LineStyle `json:"lineStyle,omitempty"`
}

// graphLayout sets the layout the model chose.
func graphLayout(g *Graph, o opts.GraphChart) opts.GraphChart {
	o.Layout = g.Layout
	switch g.Layout {
	case "circular":
	default:
		o.Layout = "force"
		o.Force = &opts.GraphForce{Repulsion: 320, Gravity: 0.12, EdgeLength: []float64{60, 160}, InitLayout: "circular"}
		if len(g.Nodes) <= 16 {
			// A few vertices huddle in the middle of the chart at the
			// default forces; push them apart to fill it.
			o.Force = &opts.GraphForce{Repulsion: 900, Gravity: 0.08, EdgeLength: []float64{110, 220}, InitLayout: "circular"}
		}
	}
	return o
}

func graphOption(c *Chart) (*charts.BaseConfiguration, error) {
	if c.Graph == nil {
		return nil, fmt.Errorf("chart %s: graph chart without graph data", c.ID)
	}
	g := charts.NewGraph()
	cats := make([]*opts.GraphCategory, len(c.Graph.Categories))
	legend := make([]string, len(c.Graph.Categories))
	for i, gc := range c.Graph.Categories {
		cats[i] = &opts.GraphCategory{Name: gc.Name, ItemStyle: &opts.ItemStyle{Color: gc.Color}}
		legend[i] = gc.Name
	}
	g.SetGlobalOptions(append(common(c, legend),
		// A template, not a function: ECharts HTML-encodes {b} and {c}.
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item", Formatter: "{b}<br/>{c}"}),
	)...)
	g.AddSeries("graph", nil, nil,
		charts.WithGraphChartOpts(graphLayout(c.Graph, opts.GraphChart{
			Roam:           opts.Bool(true),
			Draggable:      opts.Bool(true),
			EdgeSymbol:     []string{"none", "arrow"},
			EdgeSymbolSize: 7,
			Categories:     cats,
		})),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(len(c.Graph.Nodes) <= 60), Position: "right", FontSize: 11}),
		charts.WithLineStyleOpts(opts.LineStyle{Color: "source", Opacity: opts.Float(0.6), Curveness: 0.1}),
		charts.WithCircularStyleOpts(opts.CircularStyle{RotateLabel: opts.Bool(c.Graph.Layout == "circular")}),
	)
	nodes := make([]graphNodeData, len(c.Graph.Nodes))
	for i, n := range c.Graph.Nodes {
		nodes[i] = graphNodeData{Name: n.ID, Category: n.Category, SymbolSize: finite(n.SizePx), Value: n.Detail}
	}
	links := make([]graphLinkData, len(c.Graph.Links))
	for i, l := range c.Graph.Links {
		ls := &opts.LineStyle{Width: float32(finite(l.Width))}
		if l.Dashed {
			ls.Type = "dashed"
		}
		links[i] = graphLinkData{Source: l.Source, Target: l.Target, Value: l.Label, LineStyle: ls}
	}
	g.MultiSeries[0].Data = nodes
	g.MultiSeries[0].Links = links
	g.Validate()
	return &g.BaseConfiguration, nil
}
