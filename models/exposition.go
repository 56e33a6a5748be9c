package models

import (
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ambientsim/ambientsim/internal/exposition"
	"github.com/ambientsim/ambientsim/internal/istiometric"
)

// Streaming export: metrics.prom and metrics.om written straight from the
// run's series arrays. Each distinct (edge, backend, reporter, outcome)
// series gets its label set built and rendered once (labelGroups); the
// series sharing a label set (a ztunnel leg naming the waypoint as its
// peer) are summed into one group, as the registry path does; then every
// sample is a name, the rendered labels and a number. The output is byte
// for byte what Registry + prometheus.WriteToTextfile and Timestamped +
// expfmt's OpenMetrics encoder write (TestStreamingExportMatchesRegistry).

// seriesKey identifies a run series.
type seriesKey struct {
	edge     int32
	tgt      int16
	rep      uint8
	code     uint8 // HTTP code or TCP flag
	instKind uint8 // pod detail: the reporting instance
	inst     int32
}

// labelGroups maps one mode's series to their label groups.
type labelGroups struct {
	x        *Metrics
	http     bool
	byKey    map[seriesKey]int32
	byLabels map[string]int32
	sets     []exposition.LabelSet
	flags    []uint8 // TCP groups: the flag (one per label set)
}

func newLabelGroups(x *Metrics, http bool) *labelGroups {
	return &labelGroups{x: x, http: http, byKey: map[seriesKey]int32{}, byLabels: map[string]int32{}}
}

// group returns the label group of a series, building its labels the
// first time the series is seen.
func (g *labelGroups) group(k seriesKey) int32 {
	if gi, ok := g.byKey[k]; ok {
		return gi
	}
	l := g.x.labels(k.edge, k.tgt, k.rep, g.http, k.code, k.instKind, k.inst)
	j := strings.Join(l, "\x00")
	gi, ok := g.byLabels[j]
	if !ok {
		names := httpLabelNames
		if !g.http {
			names = tcpLabelNames
		}
		if g.x.byPod() {
			names = httpPodLabelNames
			if !g.http {
				names = tcpPodLabelNames
			}
		}
		ls, err := exposition.NewLabelSet(names, l)
		if err != nil {
			panic(err) // the label tables and labels() disagree: a bug
		}
		gi = int32(len(g.sets))
		g.sets = append(g.sets, ls)
		g.flags = append(g.flags, k.code)
		g.byLabels[j] = gi
	}
	g.byKey[k] = gi
	return gi
}

// httpAgg and tcpAgg are a group's summed values at one instant.
type httpAgg struct {
	present bool
	s       httpSeries
}

type tcpAgg struct {
	present bool
	s       tcpSeries
}

func (g *labelGroups) sumHTTP(hs []httpSeries) []httpAgg {
	out := make([]httpAgg, 0, len(g.sets))
	for i := range hs {
		h := &hs[i]
		gi := g.group(seriesKey{h.edge, h.tgt, h.rep, h.code, h.instKind, h.inst})
		for int(gi) >= len(out) {
			out = append(out, httpAgg{})
		}
		a := &out[gi]
		a.present = true
		a.s.n += h.n
		a.s.durSum += h.durSum
		a.s.reqSum += h.reqSum
		a.s.respSum += h.respSum
		for b := 0; b < nBuckets; b++ {
			a.s.dur[b] += h.dur[b]
			a.s.req[b] += h.req[b]
			a.s.resp[b] += h.resp[b]
		}
	}
	return out
}

func (g *labelGroups) sumTCP(ts []tcpSeries) []tcpAgg {
	out := make([]tcpAgg, 0, len(g.sets))
	for i := range ts {
		s := &ts[i]
		gi := g.group(seriesKey{s.edge, s.tgt, s.rep, s.flag, s.instKind, s.inst})
		for int(gi) >= len(out) {
			out = append(out, tcpAgg{})
		}
		a := &out[gi]
		a.present = true
		a.s.flag = g.flags[gi]
		a.s.opened += s.opened
		a.s.closed += s.closed
		a.s.sent += s.sent
		a.s.recved += s.recved
	}
	return out
}

// The families, in name order (the order both encoders write).
type family struct {
	name, help string
	typ        exposition.Type
	http       bool
	// has reports whether a TCP group emits this family (HTTP groups emit
	// all four); write writes one group's sample.
	has   func(s *tcpSeries) bool
	write func(w *exposition.Writer, ls []byte, h *httpSeries, t *tcpSeries, ts *int64)
}

var exportFamilies = func() []family {
	hist := func(pick func(h *httpSeries) (*[nBuckets]uint64, float64)) func(*exposition.Writer, []byte, *httpSeries, *tcpSeries, *int64) {
		return func(w *exposition.Writer, ls []byte, h *httpSeries, _ *tcpSeries, ts *int64) {
			b, sum := pick(h)
			var cum [nBuckets]uint64
			var c uint64
			for i, v := range b {
				c += v
				cum[i] = c
			}
			w.Histogram(ls, EnvoyBuckets, cum[:], h.n, sum, ts)
		}
	}
	tcp := func(v func(s *tcpSeries) uint64) func(*exposition.Writer, []byte, *httpSeries, *tcpSeries, *int64) {
		return func(w *exposition.Writer, ls []byte, _ *httpSeries, s *tcpSeries, ts *int64) {
			w.Counter(ls, float64(v(s)), ts)
		}
	}
	none := func(s *tcpSeries) bool { return s.flag == tfNone }
	fs := []family{
		{name: istiometric.RequestsTotal, help: "Requests processed by an Istio proxy (simulated).", typ: exposition.Counter, http: true,
			write: func(w *exposition.Writer, ls []byte, h *httpSeries, _ *tcpSeries, ts *int64) {
				w.Counter(ls, float64(h.n), ts)
			}},
		{name: istiometric.RequestDuration, help: "Request duration in milliseconds (simulated).", typ: exposition.Histogram, http: true,
			write: hist(func(h *httpSeries) (*[nBuckets]uint64, float64) { return &h.dur, h.durSum })},
		{name: istiometric.RequestBytes, help: "HTTP request body sizes (simulated).", typ: exposition.Histogram, http: true,
			write: hist(func(h *httpSeries) (*[nBuckets]uint64, float64) { return &h.req, h.reqSum })},
		{name: istiometric.ResponseBytes, help: "HTTP response body sizes (simulated).", typ: exposition.Histogram, http: true,
			write: hist(func(h *httpSeries) (*[nBuckets]uint64, float64) { return &h.resp, h.respSum })},
		{name: istiometric.TCPOpened, help: "TCP connections opened (simulated).", typ: exposition.Counter, has: none,
			write: tcp(func(s *tcpSeries) uint64 { return s.opened })},
		{name: istiometric.TCPClosed, help: "TCP connections closed (simulated).", typ: exposition.Counter,
			has:   func(s *tcpSeries) bool { return s.closed > 0 || s.flag == tfNone },
			write: tcp(func(s *tcpSeries) uint64 { return s.closed })},
		{name: istiometric.TCPSent, help: "Bytes sent during TCP connections (simulated).", typ: exposition.Counter, has: none,
			write: tcp(func(s *tcpSeries) uint64 { return s.sent })},
		{name: istiometric.TCPReceived, help: "Bytes received during TCP connections (simulated).", typ: exposition.Counter, has: none,
			write: tcp(func(s *tcpSeries) uint64 { return s.recved })},
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].name < fs[j].name })
	return fs
}()

// row is one group's value in a family, at one instant.
type row struct {
	ls *exposition.LabelSet
	h  *httpSeries
	t  *tcpSeries
	ts *int64
}

func (f *family) rows(g *labelGroups, hs []httpAgg, ts []tcpAgg, at *int64) []row {
	var out []row
	if f.http {
		for i := range hs {
			if hs[i].present {
				out = append(out, row{ls: &g.sets[i], h: &hs[i].s, ts: at})
			}
		}
		return out
	}
	for i := range ts {
		if ts[i].present && f.has(&ts[i].s) {
			out = append(out, row{ls: &g.sets[i], t: &ts[i].s, ts: at})
		}
	}
	return out
}

// WriteText writes every run's final metrics as Prometheus text: what
// prometheus.WriteToTextfile(s.Registry()) writes, without building it.
func (s MetricsSet) WriteText(out io.Writer) error {
	type modeRows struct {
		hg, tg *labelGroups
		h      []httpAgg
		t      []tcpAgg
	}
	ms := make([]modeRows, len(s))
	for i, x := range s {
		hg, tg := newLabelGroups(x, true), newLabelGroups(x, false)
		ms[i] = modeRows{hg: hg, tg: tg, h: hg.sumHTTP(x.m.tel.http), t: tg.sumTCP(x.m.tel.tcp)}
	}
	w := exposition.NewWriter(out, exposition.Text)
	for fi := range exportFamilies {
		f := &exportFamilies[fi]
		var rows []row
		for i := range ms {
			g := ms[i].tg
			if f.http {
				g = ms[i].hg
			}
			rows = append(rows, f.rows(g, ms[i].h, ms[i].t, nil)...)
		}
		if len(rows) == 0 {
			continue
		}
		sort.SliceStable(rows, func(a, b int) bool { return exposition.TextLess(rows[a].ls, rows[b].ls) })
		w.Family(f.name, f.help, f.typ)
		for _, r := range rows {
			f.write(w, r.ls.Rendered, r.h, r.t, r.ts)
		}
	}
	return w.Close()
}

// WriteOpenMetrics writes every run's snapshots as OpenMetrics with
// timestamps Epoch + simulated time + shiftMs: what Timestamped (with its
// timestamps moved by shiftMs) through expfmt's OpenMetrics encoder
// writes. Per family, the modes follow one another; within a mode, series
// are in label order, each with its samples in time order.
func (s MetricsSet) WriteOpenMetrics(out io.Writer, shiftMs int64) error {
	type snapRows struct {
		at int64
		h  []httpAgg
		t  []tcpAgg
	}
	type mode struct {
		hg, tg *labelGroups
		snaps  []snapRows
	}
	ms := make([]mode, len(s))
	for i, x := range s {
		md := mode{hg: newLabelGroups(x, true), tg: newLabelGroups(x, false)}
		for k := range x.m.tel.snaps {
			sn := &x.m.tel.snaps[k]
			at := Epoch.Add(time.Duration(sn.at)).UnixMilli() + shiftMs
			md.snaps = append(md.snaps, snapRows{at: at, h: md.hg.sumHTTP(sn.http), t: md.tg.sumTCP(sn.tcp)})
		}
		ms[i] = md
	}
	w := exposition.NewWriter(out, exposition.OpenMetrics)
	for fi := range exportFamilies {
		f := &exportFamilies[fi]
		started := false
		for i := range ms {
			md := &ms[i]
			g := md.tg
			if f.http {
				g = md.hg
			}
			// Every sample of this mode, then ordered by series key and,
			// within a series, by time (the snapshots' order).
			var rows []row
			for k := range md.snaps {
				sn := &md.snaps[k]
				rows = append(rows, f.rows(g, sn.h, sn.t, &sn.at)...)
			}
			if len(rows) == 0 {
				continue
			}
			sort.SliceStable(rows, func(a, b int) bool { return rows[a].ls.OpenMetricsKey() < rows[b].ls.OpenMetricsKey() })
			if !started {
				w.Family(f.name, f.help, f.typ)
				started = true
			}
			for _, r := range rows {
				f.write(w, r.ls.Rendered, r.h, r.t, r.ts)
			}
		}
	}
	return w.Close()
}
