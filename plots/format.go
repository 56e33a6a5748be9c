package plots

import (
	"math"
	"strconv"
	"strings"
)

// Number formatting is explicit (no %v) so the report text is stable across
// platforms and Go versions.

// ms formats a latency in milliseconds with precision that suits its size.
func ms(v float64) string {
	v = finite(v)
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a < 1:
		return strconv.FormatFloat(v, 'f', 3, 64)
	case a < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

// fixed formats v with prec decimals.
func fixed(v float64, prec int) string { return strconv.FormatFloat(finite(v), 'f', prec, 64) }

// cores formats CPU cores: three decimals (a millicore, as the CLI prints
// them) below 100, fewer for the provisioned cores of big clusters.
func cores(v float64) string { return magnitude(v) }

// gib formats memory in GiB, with the CLI's three decimals below 100.
func gib(v float64) string { return magnitude(v) }

// magnitude keeps three decimals for small figures and drops them as the
// figure grows: 0.242, 412.5, 1,519.
func magnitude(v float64) string {
	v = finite(v)
	switch a := math.Abs(v); {
	case a >= 1000:
		return count(int64(math.Round(v)))
	case a >= 100:
		return fixed(v, 1)
	}
	return fixed(v, 3)
}

// pct formats a fraction as a percentage.
func pct(v float64) string {
	v = finite(v) * 100
	if v != 0 && math.Abs(v) < 0.1 {
		return strconv.FormatFloat(v, 'f', 3, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "%"
}

// count formats an integer with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func counti(n int) string { return count(int64(n)) }

// finite maps NaN and ±Inf to 0 so they can neither break JSON encoding nor
// print as "NaN" in a table.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// round keeps chart data compact and stable: 4 significant digits after the
// point is more than a chart can show.
func round(v float64) float64 {
	v = finite(v)
	if v == 0 {
		return 0
	}
	mag := math.Pow(10, 4-math.Ceil(math.Log10(math.Abs(v))))
	if math.IsInf(mag, 0) || mag == 0 {
		return v
	}
	r := math.Round(v*mag) / mag
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return v
	}
	return r
}

func ratio(num, den int64) float64 {
	if den <= 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// Colours per dataplane mode and path category, the same in every chart so a
// reader learns them once.
var modeColors = map[string]string{
	"out-of-mesh":      "#8c8c8c",
	"ambient":          "#1f77b4",
	"ambient-l4":       "#1f77b4",
	"ambient+waypoint": "#7b3fb0",
	"ambient-waypoint": "#7b3fb0",
	"sidecar":          "#e07b00",
	"mixed":            "#17a2a2",
	"as-manifests":     "#2c7a3f",
	"all":              "#333333",
	"waypoint":         "#2c9c50",
	"ztunnel":          "#1f77b4",
	"app":              "#b0b0b0",
	"client":           "#555555",
}

// fallbackColors is the Okabe–Ito palette (distinct for the common forms
// of colour blindness), its yellow darkened to read on white.
var fallbackColors = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#A08C00"}

// lineStyles pairs a dash pattern with a marker, so that series which
// overlap or share a hue stay apart: the i-th series of a chart gets the
// i-th style.
// Hollow markers on the later series let an earlier one show through
// where two lines coincide.
var lineStyles = []struct{ dash, symbol string }{
	{"", "circle"}, {"dashed", "rect"}, {"dotted", "triangle"}, {"", "diamond"},
	{"dashed", "emptyCircle"}, {"dotted", "emptyRect"}, {"", "emptyTriangle"}, {"dashed", "emptyDiamond"},
}

// styled gives series i of a line chart its dash pattern and marker.
func styled(s Series, i int) Series {
	st := lineStyles[i%len(lineStyles)]
	s.Dash, s.Symbol = st.dash, st.symbol
	return s
}

// colorFor returns the fixed colour for a known mode, category or component
// kind, and a stable fallback (by position) otherwise.
func colorFor(name string, fallbackIndex int) string {
	if c, ok := modeColors[name]; ok {
		return c
	}
	return fallbackColors[fallbackIndex%len(fallbackColors)]
}

// kindOrder orders component kinds the way a reader expects them.
var kindOrder = map[string]int{"ztunnel": 0, "waypoint": 1, "sidecar": 2, "app": 3}

func kindLess(a, b string) bool {
	oa, oka := kindOrder[a]
	ob, okb := kindOrder[b]
	switch {
	case oka && okb:
		return oa < ob
	case oka != okb:
		return oka
	default:
		return a < b
	}
}

var severityOrder = map[string]int{"high": 0, "medium": 1, "low": 2, "info": 3}

func severityRank(s string) int {
	if r, ok := severityOrder[s]; ok {
		return r
	}
	return 4
}

func severityTone(s string) string {
	switch s {
	case "high":
		return "fail"
	case "medium":
		return "warn"
	}
	return ""
}

func statusTone(s string) string {
	switch s {
	case "pass":
		return "pass"
	case "fail":
		return "fail"
	}
	return "warn"
}

// plural formats a count with its noun, adding "s" unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return counti(n) + " " + noun + "s"
}

// mult formats a load multiplier or factor to three significant digits,
// without trailing zeros: 0.5, 16, 1.3, 0.763.
func mult(v float64) string {
	v = finite(v)
	if math.Abs(v) >= 1000 {
		return count(int64(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
