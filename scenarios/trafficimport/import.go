package trafficimport

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/ambientsim/ambientsim/internal/histquantile"
	"github.com/ambientsim/ambientsim/scenarios"
)

// Options select what to import.
type Options struct {
	End   time.Time     // end of the range (default: now)
	Range time.Duration // length of the range (default 1h)
	// PeakWindow is the rate window of the peak rate (default 1m: at
	// least twice the scrape interval), PeakStep its subquery step
	// (default PeakWindow/2).
	PeakWindow, PeakStep time.Duration
	// Namespaces keeps edges whose source workload or destination service
	// is in one of them (default: all).
	Namespaces []string
	// Selector is extra PromQL label matchers for every query, e.g.
	// `cluster="prod"` (or `mode="sidecar"` on simulator output).
	Selector string
}

func (o Options) withDefaults() Options {
	if o.Range <= 0 {
		o.Range = time.Hour
	}
	if o.PeakWindow <= 0 {
		o.PeakWindow = time.Minute
	}
	if o.PeakStep <= 0 {
		o.PeakStep = o.PeakWindow / 2
	}
	return o
}

// Validate checks the options a user gives.
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.Range < time.Second:
		return fmt.Errorf("range %s: want at least 1s", o.Range)
	case o.PeakWindow > o.Range:
		return fmt.Errorf("peak window %s is longer than the range %s", o.PeakWindow, o.Range)
	case o.PeakStep > o.PeakWindow:
		return fmt.Errorf("peak step %s is longer than the peak window %s", o.PeakStep, o.PeakWindow)
	case strings.ContainsAny(o.Selector, "\n"):
		return fmt.Errorf("selector %q: one line of label matchers, e.g. cluster=\"prod\"", o.Selector)
	}
	return nil
}

// Edge is one imported call-graph edge: what the traffic section gets and
// what was observed.
type Edge struct {
	Observed scenarios.ObservedEdge
	// Rate is the external arrival rate written to the traffic section
	// (0 for an edge whose source serves requests: its calls are fan-out).
	Rate float64
	// FanOut is the calls per served request, when the source serves.
	FanOut *float64
	// RequestSize and ResponseSize are the fitted size distributions.
	RequestSize, ResponseSize sizeFit
	// Connections is per-request for tcp edges (one call per connection).
	Connections string
	// Method and Path are the dominant request's, when labels carry them.
	Method, Path string
}

// Result is an import's outcome.
type Result struct {
	Options  Options
	Source   string
	Edges    []Edge   // sorted by source, then destination
	Warnings []string // what was skipped and why
}

// series is one row of a grouped query.
type series struct {
	reporter, from, to, dstWorkload string
	protocol, code, method, path    string
	le                              float64
	v                               float64
}

func parseVector(vec model.Vector) []series {
	out := make([]series, 0, len(vec))
	for _, s := range vec {
		m := s.Metric
		r := series{reporter: string(m["reporter"]),
			from:        string(m["source_workload_namespace"]) + "/" + string(m["source_workload"]),
			to:          string(m["destination_service_namespace"]) + "/" + string(m["destination_service_name"]),
			dstWorkload: string(m["destination_workload_namespace"]) + "/" + string(m["destination_workload"]),
			protocol:    string(m["request_protocol"]), code: string(m["response_code"]),
			method: string(m["request_method"]), path: string(m["request_path"]), v: float64(s.Value)}
		if le, ok := m["le"]; ok {
			fmt.Sscan(string(le), &r.le)
			if string(le) == "+Inf" {
				r.le = math.Inf(1)
			}
		}
		if math.IsNaN(r.v) || math.IsInf(r.v, 0) || r.v < 0 {
			continue
		}
		out = append(out, r)
	}
	return out
}

type edgeKey struct{ from, to string }

// Reporter preference: the one reporter whose figures an edge takes, so no
// request is counted twice (a sidecar call is reported by both ends, a
// waypoint call by the waypoint and by two ztunnels).
var (
	// HTTP: the server side's view first; the waypoint for ambient
	// waypoint hops (no destination Envoy); the client sidecar last (it
	// is all an out-of-mesh destination has).
	httpPreference = []string{"destination", "waypoint", "source"}
	// TCP (edges with no HTTP metrics): ztunnel's source reporter names
	// the client and the intended service even through a waypoint; the
	// destination ztunnel names the waypoint as the source there.
	tcpPreference = []string{"source", "destination", "waypoint"}
)

func unknownRef(ref string) bool {
	ns, name, _ := strings.Cut(ref, "/")
	return ns == "" || name == "" || ns == "unknown" || name == "unknown"
}

// Import runs the queries against src and builds the edges.
func Import(ctx context.Context, src Source, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	if o.End.IsZero() {
		o.End = time.Now()
	}
	o.End = o.End.UTC().Truncate(time.Millisecond)
	rows := map[string][]series{}
	for _, q := range Queries(o) {
		vec, err := src.Vector(ctx, q, o.End)
		if err != nil {
			return nil, err
		}
		rows[q.ID] = parseVector(vec)
	}
	im := &importer{o: o, rows: rows, secs: o.Range.Seconds(), res: &Result{Options: o, Source: src.Describe()},
		skipped: map[string]int{}, edges: map[edgeKey]*Edge{}, inbound: map[string]float64{}}
	chosen, tcpChosen := chooseReporters(rows)
	im.addEdges(chosen, "HTTP edges with an unknown source workload or destination service", im.httpEdge)
	im.addEdges(tcpChosen, "TCP edges with an unknown source workload or destination service (out-of-mesh clients seen by the destination ztunnel)", im.tcpEdge)
	res := im.finish()
	if len(res.Edges) == 0 {
		return res, fmt.Errorf("%s: no Istio traffic in the %s before %s (selector %s); check --range, --end and --selector", src.Describe(), o.Range, o.End.Format(time.RFC3339), o.selector())
	}
	return res, nil
}

// importer builds the edges from the query results.
type importer struct {
	o       Options
	rows    map[string][]series // query ID → its series
	secs    float64             // the range in seconds
	res     *Result
	skipped map[string]int // why → how many edges
	edges   map[edgeKey]*Edge
	inbound map[string]float64 // calls/s served by each destination workload
}

// addEdges builds each chosen edge that passes the namespace filter with
// build; an edge with an unknown end is counted as skipped, for why.
func (im *importer) addEdges(chosen map[edgeKey]string, why string, build func(k edgeKey, rep string)) {
	for k, rep := range chosen {
		if unknownRef(k.from) || unknownRef(k.to) {
			im.skipped[why]++
			continue
		}
		if im.keep(k) {
			build(k, rep)
		}
	}
}

// keep reports whether the edge passes the namespace filter.
func (im *importer) keep(k edgeKey) bool {
	if len(im.o.Namespaces) == 0 {
		return true
	}
	fns, _, _ := strings.Cut(k.from, "/")
	tns, _, _ := strings.Cut(k.to, "/")
	for _, n := range im.o.Namespaces {
		if n == fns || n == tns {
			return true
		}
	}
	return false
}

// chooseReporters picks each edge's reporter: HTTP edges by httpPreference;
// TCP-only edges (not HTTP, not from a waypoint, with traffic) by
// tcpPreference. A waypoint is the destination workload ztunnel's source
// reporter names on an edge whose HTTP metrics come from a waypoint.
func chooseReporters(rows map[string][]series) (chosen, tcpChosen map[edgeKey]string) {
	httpReps := map[edgeKey]map[string]bool{}
	for _, r := range rows[QRequests] {
		addReporter(httpReps, edgeKey{r.from, r.to}, r.reporter)
	}
	chosen = preferred(httpReps, httpPreference)
	waypoints := map[string]bool{}
	for _, r := range rows[QTCPOpened] {
		if r.reporter == "source" && chosen[edgeKey{r.from, r.to}] == "waypoint" {
			waypoints[r.dstWorkload] = true
		}
	}
	tcpReps := map[edgeKey]map[string]bool{}
	for _, id := range []string{QTCPOpened, QTCPSent, QTCPReceived} {
		for _, r := range rows[id] {
			k := edgeKey{r.from, r.to}
			if _, isHTTP := httpReps[k]; isHTTP || waypoints[r.from] || r.v == 0 {
				continue
			}
			addReporter(tcpReps, k, r.reporter)
		}
	}
	return chosen, preferred(tcpReps, tcpPreference)
}

// addReporter records that rep reported edge k.
func addReporter(reps map[edgeKey]map[string]bool, k edgeKey, rep string) {
	if reps[k] == nil {
		reps[k] = map[string]bool{}
	}
	reps[k][rep] = true
}

// preferred picks, per edge, the first reporter of pref that reported it.
func preferred(reps map[edgeKey]map[string]bool, pref []string) map[edgeKey]string {
	chosen := map[edgeKey]string{}
	for k, rs := range reps {
		for _, p := range pref {
			if rs[p] {
				chosen[k] = p
				break
			}
		}
	}
	return chosen
}

// httpEdge builds HTTP edge k from reporter rep's rows: rate, errors,
// protocol, peak, latency quantiles, sizes and the request mix.
func (im *importer) httpEdge(k edgeKey, rep string) {
	rows := im.rows
	e := &Edge{Observed: scenarios.ObservedEdge{From: k.from, To: k.to, Reporter: rep, Protocol: "http"}}
	var total, errs float64
	mix := map[[2]string]float64{}
	protos := map[string]float64{}
	for _, r := range rows[QRequests] {
		if r.from != k.from || r.to != k.to || r.reporter != rep {
			continue
		}
		total += r.v
		if strings.HasPrefix(r.code, "5") {
			errs += r.v
		}
		mix[[2]string{r.method, r.path}] += r.v
		protos[r.protocol] += r.v
		if !unknownRef(r.dstWorkload) {
			im.inbound[r.dstWorkload] += r.v / im.secs
		}
	}
	if total <= 0 {
		return
	}
	if protos["grpc"] > protos["http"] {
		e.Observed.Protocol = "grpc"
	}
	e.Observed.MeanRPS = total / im.secs
	e.Observed.ErrorRatio = round(errs/total, 6)
	e.Observed.PeakRPS = peakOf(rows[QRequestsPeak], k, rep)
	lat := bucketsOf(rows[QDuration], k, rep)
	e.Observed.P50Ms = quantilePtr(0.5, lat)
	e.Observed.P99Ms = quantilePtr(0.99, lat)
	e.RequestSize = fitSize(bucketsOf(rows[QRequestBytes], k, rep), sumOf(rows[QRequestBytesS], k, rep))
	e.ResponseSize = fitSize(bucketsOf(rows[QResponseBytes], k, rep), sumOf(rows[QResponseBytesS], k, rep))
	e.Observed.RequestBytes = round(e.RequestSize.Mean, 1)
	e.Observed.ResponseBytes = round(e.ResponseSize.Mean, 1)
	e.Method, e.Path, e.Observed.Mix = requestMix(mix, total)
	im.edges[k] = e
}

// tcpEdge builds TCP edge k from reporter rep's rows: one call per
// connection opened, the bytes each way per connection.
func (im *importer) tcpEdge(k edgeKey, rep string) {
	rows, secs := im.rows, im.secs
	opened := sumOf(rows[QTCPOpened], k, rep)
	sent, recv := sumOf(rows[QTCPSent], k, rep), sumOf(rows[QTCPReceived], k, rep)
	req, resp := sent, recv
	if rep != "source" { // the server side sends the responses
		req, resp = recv, sent
	}
	e := &Edge{Observed: scenarios.ObservedEdge{From: k.from, To: k.to, Reporter: rep, Protocol: "tcp",
		MeanRPS: opened / secs, PeakRPS: peakOf(rows[QTCPOpenedPeak], k, rep)}, Connections: "per-request"}
	if opened <= 0 {
		// Bytes over connections opened before the range: L4 metrics
		// carry no request count, so the edge keeps its call at rate 0.
		im.res.Warnings = append(im.res.Warnings, fmt.Sprintf("%s -> %s: %.0f bytes/s over long-lived connections and none opened in the range; "+
			"ztunnel's metrics carry no request rate: set the edge's rate by hand, or observe it through a waypoint", k.from, k.to, (req+resp)/secs))
		im.edges[k] = e
		return
	}
	e.RequestSize = sizeFit{Mean: req / opened}
	e.ResponseSize = sizeFit{Mean: resp / opened}
	e.Observed.RequestBytes = round(e.RequestSize.Mean, 1)
	e.Observed.ResponseBytes = round(e.ResponseSize.Mean, 1)
	for _, r := range rows[QTCPOpened] {
		if r.from == k.from && r.to == k.to && r.reporter == rep && !unknownRef(r.dstWorkload) {
			im.inbound[r.dstWorkload] += r.v / secs
		}
	}
	im.edges[k] = e
}

// finish sets each edge's rate: a workload that serves requests makes its
// calls per served request (fan-out); the others are open-loop clients at
// their mean rate. It returns the result with the edges and warnings
// sorted.
func (im *importer) finish() *Result {
	res := im.res
	for _, e := range im.edges {
		e.Observed.MeanRPS = round(e.Observed.MeanRPS, 6)
		e.Observed.PeakRPS = round(e.Observed.PeakRPS, 6)
		if in := im.inbound[e.Observed.From]; in > 0 {
			f := round(e.Observed.MeanRPS/in, 6)
			e.FanOut = &f
			continue
		}
		e.Rate = e.Observed.MeanRPS
	}
	for k := range im.edges {
		res.Edges = append(res.Edges, *im.edges[k])
	}
	sort.Slice(res.Edges, func(i, j int) bool {
		a, b := res.Edges[i].Observed, res.Edges[j].Observed
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	for why, n := range im.skipped {
		res.Warnings = append(res.Warnings, fmt.Sprintf("skipped %d %s", n, why))
	}
	sort.Strings(res.Warnings)
	return res
}

func peakOf(rows []series, k edgeKey, rep string) float64 {
	for _, r := range rows {
		if r.from == k.from && r.to == k.to && r.reporter == rep {
			return r.v
		}
	}
	return 0
}

func sumOf(rows []series, k edgeKey, rep string) float64 {
	var s float64
	for _, r := range rows {
		if r.from == k.from && r.to == k.to && r.reporter == rep {
			s += r.v
		}
	}
	return s
}

// bucketsOf sums an edge's cumulative buckets over its other labels.
func bucketsOf(rows []series, k edgeKey, rep string) []histquantile.Bucket {
	by := map[float64]float64{}
	for _, r := range rows {
		if r.from == k.from && r.to == k.to && r.reporter == rep {
			by[r.le] += r.v
		}
	}
	out := make([]histquantile.Bucket, 0, len(by))
	for le, c := range by {
		out = append(out, histquantile.Bucket{UpperBound: le, Count: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UpperBound < out[j].UpperBound })
	return out
}

func quantilePtr(q float64, b []histquantile.Bucket) *float64 {
	v := histquantile.Quantile(q, b)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	v = round(v, 3)
	return &v
}

// requestMix returns the dominant method and path and the mix, when the
// metrics carry method or path labels.
func requestMix(mix map[[2]string]float64, total float64) (method, path string, out []scenarios.RequestMix) {
	if len(mix) == 1 {
		for k := range mix {
			if k[0] == "" && k[1] == "" {
				return "", "", nil
			}
		}
	}
	for k, v := range mix {
		out = append(out, scenarios.RequestMix{Method: k[0], Path: k[1], Share: round(v/total, 4)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Share != out[j].Share {
			return out[i].Share > out[j].Share
		}
		return out[i].Method+out[i].Path < out[j].Method+out[j].Path
	})
	return out[0].Method, out[0].Path, out
}

// round keeps n decimals.
func round(x float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(x*p) / p
}
