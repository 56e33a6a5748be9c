package exposition

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Format is an exposition format.
type Format uint8

// Formats.
const (
	Text        Format = iota // Prometheus text 0.0.4 (metrics.prom)
	OpenMetrics               // OpenMetrics 1.0 text (metrics.om), ends with # EOF
)

// Type is a metric family's type.
type Type uint8

// Types.
const (
	Counter Type = iota
	Histogram
)

// Writer streams families and their samples to an io.Writer through a
// buffer. Errors are sticky: the first one is returned by Close.
type Writer struct {
	w      *bufio.Writer
	format Format
	typ    Type
	name   []byte // the family's sample name (OpenMetrics: counter _total kept)
	num    []byte
	le     map[float64][]byte // rendered `,le="…"}` per bucket bound
	err    error
}

// NewWriter returns a Writer of format f on w.
func NewWriter(w io.Writer, f Format) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 1<<16), format: f, le: map[float64][]byte{}}
}

// Family starts a family: its HELP and TYPE lines. In OpenMetrics a
// counter's name is given with its _total suffix, as in Prometheus text;
// the HELP and TYPE lines drop it, as the OpenMetrics encoder does.
func (w *Writer) Family(name, help string, t Type) {
	w.typ = t
	w.name = append(w.name[:0], name...)
	meta := name
	if w.format == OpenMetrics && t == Counter {
		meta = strings.TrimSuffix(name, "_total")
	}
	w.str("# HELP ")
	w.str(meta)
	w.w.WriteByte(' ')
	if w.format == OpenMetrics {
		escapeTo(w.w, help, true)
	} else {
		escapeTo(w.w, help, false)
	}
	w.str("\n# TYPE ")
	w.str(meta)
	switch t {
	case Counter:
		if w.format == OpenMetrics && meta == name {
			w.str(" unknown\n") // the encoder's choice for a counter without _total
		} else {
			w.str(" counter\n")
		}
	case Histogram:
		w.str(" histogram\n")
	}
}

// Counter writes one counter sample. labels is a rendered label set
// (Labels); ts, when not nil, is the sample's timestamp in ms.
func (w *Writer) Counter(labels []byte, v float64, ts *int64) {
	w.w.Write(w.name)
	w.open(labels)
	w.w.WriteByte('}')
	w.w.WriteByte(' ')
	w.float(v)
	w.stamp(ts)
}

// Histogram writes one histogram: a bucket line per bound (cum[i] samples
// at or below bounds[i]), the +Inf bucket (count), _sum and _count.
func (w *Writer) Histogram(labels []byte, bounds []float64, cum []uint64, count uint64, sum float64, ts *int64) {
	for i, b := range bounds {
		w.sample("_bucket", labels)
		w.w.Write(w.leOf(b))
		w.w.WriteByte(' ')
		w.count(cum[i])
		w.stamp(ts)
	}
	w.sample("_bucket", labels)
	w.w.Write(w.leOf(math.Inf(1)))
	w.w.WriteByte(' ')
	w.count(count)
	w.stamp(ts)
	w.sample("_sum", labels)
	w.w.WriteByte('}')
	w.w.WriteByte(' ')
	w.float(sum)
	w.stamp(ts)
	w.sample("_count", labels)
	w.w.WriteByte('}')
	w.w.WriteByte(' ')
	w.count(count)
	w.stamp(ts)
}

// Close ends the stream (OpenMetrics: # EOF) and flushes it.
func (w *Writer) Close() error {
	if w.format == OpenMetrics {
		w.str("# EOF\n")
	}
	if err := w.w.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	return w.err
}

func (w *Writer) str(s string) {
	if _, err := w.w.WriteString(s); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *Writer) sample(suffix string, labels []byte) {
	w.w.Write(w.name)
	w.str(suffix)
	w.open(labels)
}

// open writes `{labels` (no closing brace: a bucket's le follows).
func (w *Writer) open(labels []byte) {
	w.w.WriteByte('{')
	w.w.Write(labels)
}

// leOf is `,le="bound"}` (or `le="bound"}` for an empty label set, which
// this package's callers never have; see Labels).
func (w *Writer) leOf(b float64) []byte {
	if s, ok := w.le[b]; ok {
		return s
	}
	s := []byte(`,le="`)
	if w.format == OpenMetrics {
		s = appendOMFloat(s, b)
	} else {
		s = appendTextFloat(s, b)
	}
	s = append(s, '"', '}')
	w.le[b] = s
	return s
}

func (w *Writer) float(v float64) {
	if w.format == OpenMetrics {
		w.num = appendOMFloat(w.num[:0], v)
	} else {
		w.num = appendTextFloat(w.num[:0], v)
	}
	w.w.Write(w.num)
}

// count writes an integer count: OpenMetrics writes it as an integer,
// Prometheus text as the float64 it is converted to.
func (w *Writer) count(c uint64) {
	if w.format == OpenMetrics {
		w.num = strconv.AppendUint(w.num[:0], c, 10)
		w.w.Write(w.num)
		return
	}
	w.float(float64(c))
}

func (w *Writer) stamp(ts *int64) {
	if ts != nil {
		w.w.WriteByte(' ')
		if w.format == OpenMetrics {
			w.num = appendOMFloat(w.num[:0], float64(*ts)/1000)
		} else {
			w.num = strconv.AppendInt(w.num[:0], *ts, 10)
		}
		w.w.Write(w.num)
	}
	if err := w.w.WriteByte('\n'); err != nil && w.err == nil {
		w.err = err
	}
}

// appendTextFloat formats like expfmt's text writer.
func appendTextFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, '1')
	case f == 0:
		return append(b, '0')
	case f == -1:
		return append(b, "-1"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendOMFloat formats like expfmt's OpenMetrics writer: a float always
// shows a decimal point or an exponent.
func appendOMFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, "1.0"...)
	case f == 0:
		return append(b, "0.0"...)
	case f == -1:
		return append(b, "-1.0"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'g', -1, 64)
	if !bytes.ContainsAny(b[start:], "e.") {
		b = append(b, '.', '0')
	}
	return b
}

// escapeTo writes s escaped as the exposition formats escape label values
// (quote true) or text HELP strings (quote false).
func escapeTo(w *bufio.Writer, s string, quote bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			w.WriteString(`\\`)
		case c == '\n':
			w.WriteString(`\n`)
		case c == '"' && quote:
			w.WriteString(`\"`)
		default:
			w.WriteByte(c)
		}
	}
}

// LabelSet is one series' labels, names sorted, values escaped and
// rendered once: `a="x",b="y"`. Values keeps the raw values in name order
// for sorting.
type LabelSet struct {
	Rendered []byte
	Values   []string
	omKey    string
}

// ErrLabels reports mismatched label names and values.
var ErrLabels = errors.New("exposition: label names and values differ in number")

// NewLabelSet renders the pairs (names[i], values[i]) sorted by name.
// names must be valid Prometheus label names (the caller's constants).
func NewLabelSet(names, values []string) (LabelSet, error) {
	if len(names) != len(values) {
		return LabelSet{}, ErrLabels
	}
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return names[idx[a]] < names[idx[b]] })
	ls := LabelSet{Values: make([]string, len(names))}
	var r bytes.Buffer
	var key strings.Builder
	bw := bufio.NewWriter(&r)
	for k, i := range idx {
		if k > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(names[i])
		bw.WriteString(`="`)
		escapeTo(bw, values[i], true)
		bw.WriteByte('"')
		ls.Values[k] = values[i]
		key.WriteString(names[i])
		key.WriteByte('=')
		key.WriteString(strconv.Quote(values[i]))
		key.WriteByte(',')
	}
	bw.Flush()
	ls.Rendered = r.Bytes()
	ls.omKey = key.String()
	return ls, nil
}

// Labels is NewLabelSet's rendering for callers with fixed, matching
// names; it panics on a length mismatch (a programming error).
func Labels(names, values []string) []byte {
	ls, err := NewLabelSet(names, values)
	if err != nil {
		panic(err)
	}
	return ls.Rendered
}

// TextLess orders series as client_golang's registry does in Prometheus
// text: by label values, in label-name order.
func TextLess(a, b *LabelSet) bool {
	if len(a.Values) != len(b.Values) {
		return len(a.Values) < len(b.Values)
	}
	for i := range a.Values {
		if a.Values[i] != b.Values[i] {
			return a.Values[i] < b.Values[i]
		}
	}
	return false
}

// OpenMetricsKey is the key metrics.om's series are sorted by: every
// name="Go-quoted value", pair followed by a comma.
func (l *LabelSet) OpenMetricsKey() string { return l.omKey }
