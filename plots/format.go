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

// cores formats CPU cores (three decimals: a millicore).
func cores(v float64) string { return fixed(v, 3) }

// gib formats memory in GiB.
func gib(v float64) string { return fixed(v, 2) }

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

var fallbackColors = []string{"#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#393b79", "#637939"}

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
