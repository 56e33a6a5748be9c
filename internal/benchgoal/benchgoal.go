package benchgoal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// The unit prefixes that make a metric a goal for the metric named by the
// rest of the unit.
const (
	CeilingPrefix = "goal-max-"
	FloorPrefix   = "goal-min-"
)

// Goal is one figure of one benchmark next to its goal.
type Goal struct {
	Pkg       string    // the benchmark's package (the output's pkg: line)
	Benchmark string    // its name without "Benchmark" and the GOMAXPROCS suffix
	Procs     int       // GOMAXPROCS of the run (go test writes no suffix for 1)
	Unit      string    // the figure's unit as reported, e.g. CPU-s/run
	Limit     float64   // the goal
	Ceiling   bool      // the figure must be at most Limit (else at least)
	Values    []float64 // the figure from each result line, in input order
}

// Median is the figure the table shows: the middle of Values (the mean of
// the middle two for an even count).
func (g Goal) Median() float64 {
	v := slices.Clone(g.Values)
	slices.Sort(v)
	n := len(v)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Met reports whether the median is within the goal.
func (g Goal) Met() bool {
	m := g.Median()
	if g.Ceiling {
		return m <= g.Limit
	}
	return m >= g.Limit
}

// Report is what one or more benchmark outputs say about their goals.
type Report struct {
	Goals []Goal // in order of first appearance
	CPU   string // the first cpu: configuration line seen
	OS    string // goos
	Arch  string // goarch
	index map[goalKey]int
}

type goalKey struct {
	pkg, bench string
	procs      int
	unit       string
}

// Read parses one benchmark output; name is its file name for errors.
func Read(r io.Reader, name string) (*Report, error) {
	rep := &Report{}
	if err := rep.Add(r, name); err != nil {
		return nil, err
	}
	return rep, nil
}

// Add parses one more benchmark output into rep.
func (rep *Report) Add(r io.Reader, name string) error {
	if rep.index == nil {
		rep.index = map[goalKey]int{}
	}
	br := benchfmt.NewReader(r, name)
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return rec
		case *benchfmt.Result:
			if err := rep.addResult(rec); err != nil {
				return err
			}
		}
	}
	return br.Err()
}

// addResult files the goals of one result line.
func (rep *Report) addResult(res *benchfmt.Result) error {
	file, line := res.Pos()
	if rep.CPU == "" {
		rep.CPU, rep.OS, rep.Arch = res.GetConfig("cpu"), res.GetConfig("goos"), res.GetConfig("goarch")
	}
	bench, procs := splitProcs(res.Name)
	figures := make(map[string]float64, len(res.Values))
	for _, v := range res.Values {
		u, x := reported(v)
		figures[u] = x
	}
	for _, v := range res.Values {
		u, limit := reported(v)
		var unit string
		var ceiling bool
		switch {
		case strings.HasPrefix(u, CeilingPrefix):
			unit, ceiling = u[len(CeilingPrefix):], true
		case strings.HasPrefix(u, FloorPrefix):
			unit = u[len(FloorPrefix):]
		default:
			continue
		}
		x, ok := figures[unit]
		if !ok {
			return fmt.Errorf("%s:%d: Benchmark%s reports %s but no %s", file, line, res.Name, u, unit)
		}
		k := goalKey{res.GetConfig("pkg"), bench, procs, unit}
		i, seen := rep.index[k]
		if !seen {
			i = len(rep.Goals)
			rep.index[k] = i
			rep.Goals = append(rep.Goals, Goal{Pkg: k.pkg, Benchmark: bench, Procs: procs, Unit: unit, Limit: limit, Ceiling: ceiling})
		}
		g := &rep.Goals[i]
		if g.Limit != limit || g.Ceiling != ceiling {
			return fmt.Errorf("%s:%d: Benchmark%s reports %s %s, an earlier line %s %s",
				file, line, res.Name, u, num(limit), direction(g.Ceiling)+g.Unit, num(g.Limit))
		}
		g.Values = append(g.Values, x)
	}
	return nil
}

// reported is a value as the benchmark reported it (benchfmt tidies some
// units, MB/s into B/s, and keeps the original beside).
func reported(v benchfmt.Value) (string, float64) {
	if v.OrigUnit != "" {
		return v.OrigUnit, v.OrigValue
	}
	return v.Unit, v.Value
}

// splitProcs splits a result name into the benchmark and its GOMAXPROCS
// suffix ("Hop/up/hbone-2" is Hop/up/hbone with 2; go test writes no
// suffix when GOMAXPROCS is 1).
func splitProcs(n benchfmt.Name) (string, int) {
	s := n.String()
	if i := strings.LastIndexByte(s, '-'); i > 0 && i > strings.LastIndexByte(s, '/') {
		if p, err := strconv.Atoi(s[i+1:]); err == nil && p > 0 {
			return s[:i], p
		}
	}
	return s, 1
}

func direction(ceiling bool) string {
	if ceiling {
		return CeilingPrefix
	}
	return FloorPrefix
}

// ErrNoGoals is returned by Markdown for output without any goal.
var ErrNoGoals = errors.New("no goal-max-… or goal-min-… metrics in the benchmark output")

// Markdown renders the table: one row per goal, in input order, with the
// machine the output names and note (free text: date, load) above it.
func (rep *Report) Markdown(note string) ([]byte, error) {
	if len(rep.Goals) == 0 {
		return nil, ErrNoGoals
	}
	var b bytes.Buffer
	machine := rep.CPU
	if rep.OS != "" {
		machine += fmt.Sprintf(" (%s/%s)", rep.OS, rep.Arch)
	}
	fmt.Fprintf(&b, "Generated by `cmd/benchtable` from `go test -bench` output on %s", strings.TrimSpace(machine))
	procs, mixed := commonProcs(rep.Goals)
	if mixed {
		fmt.Fprintf(&b, ", GOMAXPROCS=%d unless a row says otherwise", procs)
	}
	if note = strings.TrimSpace(note); note != "" {
		fmt.Fprintf(&b, "; %s", note)
	}
	b.WriteString(".\n\n| package | benchmark | figure | goal | measured | met? |\n|---|---|---|---|---|---|\n")
	prefix := commonDir(rep.Goals)
	for _, g := range rep.Goals {
		name := g.Benchmark
		if g.Procs != procs {
			name += fmt.Sprintf(" (GOMAXPROCS=%d)", g.Procs)
		}
		limit := "≥ " + num(g.Limit)
		if g.Ceiling {
			limit = "≤ " + num(g.Limit)
		}
		measured := num(g.Median())
		if len(g.Values) > 1 {
			measured += fmt.Sprintf(" (median of %d, %s–%s)", len(g.Values), num(slices.Min(g.Values)), num(slices.Max(g.Values)))
		}
		met := "yes"
		if !g.Met() {
			met = "**no**"
			if g.Limit != 0 {
				met += fmt.Sprintf(" (%.2f× the goal)", g.Median()/g.Limit)
			}
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s |\n",
			strings.TrimPrefix(g.Pkg, prefix), name, g.Unit, limit, measured, met)
	}
	return b.Bytes(), nil
}

// commonDir is the longest directory prefix of every goal's package, so
// the table names packages as the module's directories.
func commonDir(goals []Goal) string {
	p := goals[0].Pkg
	for _, g := range goals[1:] {
		for !strings.HasPrefix(g.Pkg, p) {
			p = p[:len(p)-1]
		}
	}
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i+1]
	}
	return ""
}

// commonProcs is the GOMAXPROCS of most goals (the first seen of equally
// common ones), and whether some goals come from runs at another (those
// rows say which).
func commonProcs(goals []Goal) (procs int, mixed bool) {
	n := map[int]int{}
	for _, g := range goals {
		n[g.Procs]++
		if g.Procs != goals[0].Procs {
			mixed = true
		}
	}
	for _, g := range goals {
		if n[g.Procs] > n[procs] {
			procs = g.Procs
		}
	}
	return procs, mixed
}

// num formats a figure with three significant digits, in millions from a
// million up, without exponents.
func num(x float64) string {
	switch a := math.Abs(x); {
	case a >= 1e6:
		return num(x/1e6) + " M"
	case a >= 1000:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a == 0:
		return "0"
	}
	d := max(0, 2-int(math.Floor(math.Log10(math.Abs(x)))))
	s := strconv.FormatFloat(x, 'f', d, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// The markers between which Splice puts the table.
const (
	BeginMarker = "<!-- benchtable:begin -->"
	EndMarker   = "<!-- benchtable:end -->"
)

// Splice returns doc with the lines between BeginMarker and EndMarker
// replaced by table. Each marker must stand on its own line, once, begin
// before end.
func Splice(doc, table []byte) ([]byte, error) {
	begin, err := markerLine(doc, BeginMarker)
	if err != nil {
		return nil, err
	}
	end, err := markerLine(doc, EndMarker)
	if err != nil {
		return nil, err
	}
	if end < begin {
		return nil, fmt.Errorf("%s comes before %s", EndMarker, BeginMarker)
	}
	afterBegin := begin + bytes.IndexByte(doc[begin:], '\n') + 1 // end is on a later line
	var out bytes.Buffer
	out.Write(doc[:afterBegin])
	out.Write(table)
	if len(table) > 0 && table[len(table)-1] != '\n' {
		out.WriteByte('\n')
	}
	out.Write(doc[end:])
	return out.Bytes(), nil
}

// markerLine is the offset of the one line that is exactly marker.
func markerLine(doc []byte, marker string) (int, error) {
	at, n := -1, 0
	for off := 0; off < len(doc); {
		line := doc[off:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		if string(bytes.TrimRight(line, "\r")) == marker {
			at = off
			n++
		}
		off += len(line) + 1
	}
	switch {
	case n == 0:
		return 0, fmt.Errorf("no line %s", marker)
	case n > 1:
		return 0, fmt.Errorf("%d lines %s, want one", n, marker)
	}
	return at, nil
}
