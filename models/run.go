package models

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

type runStats struct {
	offered, succeeded, failed int64
	// live counts measured external requests started and not finished,
	// independently of the others, so Offered = Succeeded + Failed +
	// InFlight checks the accounting rather than defining it.
	live   int64
	causes [nOutcomes]int64
	byCat  [6]*sim.Histogram // per-call latency by path category (merged at the end)
	e2e    *sim.Histogram    // successful external requests, end to end
}

// RunResult is one run's outcome: what it measured and the telemetry.
type RunResult struct {
	Mode     string      // Config.Mode
	Measured Measurement // the measured window's figures
	Metrics  *Metrics
	Events   uint64 // simulation events handled
	Calls    int64  // calls (every hop of the call graph) completed in the window
	// Series is the per-edge 1-second buckets (Config.Series), else nil.
	Series *Series
	// Batches are the mean end-to-end latencies in ms of successful
	// external requests per Config.BatchInterval from t = 0 (warm-up
	// included; an interval without completions repeats the previous
	// mean, or is 0 before the first), else nil.
	Batches []float64
	// Failures is each scheduled failure's direct impact (Config.Failures
	// order), else nil.
	Failures []FailureImpact
}

// resetStats starts the measured window: every container's CPU and its
// workers' statistics count from now.
func (m *Mesh) resetStats() {
	for _, c := range m.containers() {
		c.startMeasure()
	}
}

// Run simulates warm-up plus duration and returns the measured results.
// ctx is checked every CheckEvents handled events (a fraction of a
// millisecond of wall time, however many events one simulated instant
// holds); when it is done the run stops and Run returns an error wrapping
// ctx.Err(). A run reaching Config.MaxEvents stops with an
// *EventBudgetError. Neither check schedules events, so results do not
// depend on them.
func (m *Mesh) Run(ctx context.Context) (*RunResult, error) {
	if m.cfg.Duration <= 0 {
		return nil, fmt.Errorf("models: duration must be > 0")
	}
	m.measure = m.cfg.Warmup
	m.end = m.cfg.Warmup + m.cfg.Duration
	if err := m.setupFailures(); err != nil {
		return nil, err
	}
	m.retries = make([]int64, len(m.edges))
	if m.cfg.Series {
		m.series = newSeriesRec(len(m.edges), m.cfg.Duration)
	}
	m.stats.e2e = sim.NewHistogram()
	for i := range m.stats.byCat {
		m.stats.byCat[i] = sim.NewHistogram()
	}
	// The window opens before anything else happens at its first instant.
	m.s.At(m.measure, m, sim.Event{Kind: kMeasure})
	m.startGenerators()
	for i := range m.edges {
		e := &m.edges[i]
		if e.rateNs <= 0 || len(e.src) == 0 {
			continue
		}
		first := sim.Time(e.arrR.ExpFloat64() * e.rateNs)
		if e.cfg.Arrival == ArrivalConstant {
			first = sim.Time(e.arrR.Float64() * e.rateNs)
		}
		if e.cfg.Arrival == ArrivalOnOff {
			if e.cfg.On <= 0 || e.cfg.Off <= 0 {
				return nil, fmt.Errorf("edge %s: on-off arrivals need on and off periods > 0", e.id)
			}
			e.onUntil = sim.Time(e.arrR.ExpFloat64() * float64(e.cfg.On))
			// While on, arrive faster so the long-run mean rate is Rate.
			e.rateNs = e.rateNs * float64(e.cfg.On) / float64(e.cfg.On+e.cfg.Off)
			first = e.nextOnOff(0)
		}
		m.s.At(first, m, sim.Event{Kind: kArrive, A: int64(i)})
	}
	if iv := m.cfg.SnapshotInterval; iv > 0 {
		m.s.At(m.measure+iv, m, sim.Event{Kind: kSnapshot})
	}
	if m.cfg.Progress != nil {
		m.s.At(0, m, sim.Event{Kind: kProgress})
	}
	if iv := m.cfg.BatchInterval; iv > 0 {
		n := int((m.end + iv - 1) / iv)
		m.batchSum = make([]float64, n)
		m.batchN = make([]int64, n)
	}
	if err := m.runBounded(ctx); err != nil {
		return nil, err
	}
	if m.cfg.Progress != nil {
		m.cfg.Progress(m.end, m.end)
	}
	return m.result(), nil
}

func (m *Mesh) containers() []*container {
	var out []*container
	for i := range m.nodes {
		out = append(out, m.nodes[i].zt)
	}
	for i := range m.reps {
		out = append(out, m.reps[i].st)
	}
	for i := range m.pods {
		out = append(out, m.pods[i].app)
		if m.pods[i].sc != nil {
			out = append(out, m.pods[i].sc)
		}
	}
	return out
}

func ms(t sim.Time) float64 { return round3(t.Milliseconds()) }

func round3(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return math.Round(x*1000) / 1000
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func latencyRow(cat string, h *sim.Histogram) LatencyRow {
	r := LatencyRow{Category: cat, Count: h.Count()}
	if h.Count() == 0 {
		r.CDF = []CDFPoint{}
		return r
	}
	r.MeanMs = round3(h.Mean() / 1e6)
	r.P50Ms = ms(h.Quantile(0.5))
	r.P90Ms = ms(h.Quantile(0.9))
	r.P99Ms = ms(h.Quantile(0.99))
	r.P999Ms = ms(h.Quantile(0.999))
	r.MaxMs = ms(h.Max())
	for _, p := range h.CDF(50) {
		r.CDF = append(r.CDF, CDFPoint{Ms: ms(p.Value), Fraction: round6(p.Fraction)})
	}
	return r
}

// MaxAppRows is the pod count above which app pods get no per-instance
// component rows (they are not mesh cost; proxies always get rows).
const MaxAppRows = 1000

func (m *Mesh) result() *RunResult {
	d := m.cfg.Duration
	st := &m.stats
	mr := Measurement{}
	mr.Requests = RequestCounts{Offered: st.offered, Succeeded: st.succeeded, Failed: st.failed,
		InFlight: st.live, ThroughputRPS: round3(float64(st.succeeded) / d.Seconds())}
	for i := range m.edges {
		for j := range m.edges[i].tgts {
			tg := &m.edges[i].tgts[j]
			st.byCat[tg.catIdx].Merge(tg.lat.hist())
		}
	}
	mr.Latency = append(mr.Latency, latencyRow("all", st.e2e))
	for i, c := range categories {
		if st.byCat[i].Count() > 0 {
			mr.Latency = append(mr.Latency, latencyRow(string(c), st.byCat[i]))
		}
	}
	mr.Errors = []ErrorCount{}
	for o := uint8(1); o < nOutcomes; o++ {
		if n := st.causes[o]; n > 0 {
			mr.Errors = append(mr.Errors, ErrorCount{Cause: outcomeCause[o], Count: n})
		}
	}
	sort.Slice(mr.Errors, func(i, j int) bool { return mr.Errors[i].Cause < mr.Errors[j].Cause })

	comps, totals, cpu := m.components(d)
	mr.Components = comps
	mr.Totals = totals
	mr.ControlPlane = cpu
	mr.Telemetry = m.telemetrySplit()
	mr.Edges = m.edgeResults(d)
	mr.Machines = m.machineUsage(d)
	var calls int64
	for i := range st.byCat {
		calls += st.byCat[i].Count()
	}
	return &RunResult{Mode: m.cfg.Mode, Measured: mr, Metrics: &Metrics{m: m, mode: m.cfg.Mode}, Events: m.s.Fired(), Calls: calls,
		Series: m.seriesResult(), Batches: m.batches(), Failures: m.failureImpacts()}
}

func (m *Mesh) hasAmbient() bool {
	for i := range m.pods {
		if m.pods[i].mode == topology.Ambient {
			return true
		}
	}
	return false
}

func (m *Mesh) components(d sim.Time) ([]ComponentUsage, MeshCost, ControlPlaneUsage) {
	var out []ComponentUsage
	totals := MeshCost{ByKind: map[string]KindCost{}}
	add := func(u ComponentUsage) {
		out = append(out, u)
		if u.Kind == "app" {
			return
		}
		k := totals.ByKind[u.Kind]
		k.Instances++
		k.CPUCores += u.CPUCores
		k.MemoryGiB += u.MemoryMiB / 1024
		totals.ByKind[u.Kind] = k
	}
	if m.hasAmbient() {
		for i := range m.nodes {
			n := &m.nodes[i]
			mem := m.ztunnelMemory(i)
			add(ComponentUsage{Kind: "ztunnel", Instance: "ztunnel/" + n.name, Node: n.name,
				CPUCores: round6(n.zt.cores(d)), Utilisation: round6(n.zt.utilisation()), QueueWaitMs: round6(n.zt.meanWait().Milliseconds()),
				ThrottledS: round6(n.zt.throttled().Seconds()),
				MemoryMiB:  round3(mem), Connections: n.opened, Handshakes: n.hs, RequestsSeen: n.msgs})
		}
	}
	for i := range m.reps {
		if m.neverServed(i) {
			continue // an autoscaling slot never used
		}
		r := &m.reps[i]
		mem := m.waypointMemory(i)
		add(ComponentUsage{Kind: "waypoint", Instance: r.name, Node: m.nodes[r.node].name,
			CPUCores: round6(r.st.cores(d)), Utilisation: round6(r.st.utilisation()), QueueWaitMs: round6(r.st.meanWait().Milliseconds()),
			ThrottledS: round6(r.st.throttled().Seconds()),
			MemoryMiB:  round3(mem), Connections: r.maxC, Handshakes: r.hs, RequestsSeen: r.reqs})
	}
	for i := range m.pods {
		p := &m.pods[i]
		if p.sc == nil {
			continue
		}
		mem := m.sidecarMemory(i)
		add(ComponentUsage{Kind: "sidecar", Instance: m.envoyInstance(int32(i)), Node: m.nodes[p.node].name,
			CPUCores: round6(p.sc.cores(d)), Utilisation: round6(p.sc.utilisation()), QueueWaitMs: round6(p.sc.meanWait().Milliseconds()),
			ThrottledS: round6(p.sc.throttled().Seconds()),
			MemoryMiB:  round3(mem), Connections: p.scConns, Handshakes: p.scHS, RequestsSeen: p.scReqs})
	}
	if len(m.pods) <= MaxAppRows {
		for i := range m.pods {
			p := &m.pods[i]
			add(ComponentUsage{Kind: "app", Instance: "app/" + p.p.ID(), Node: m.nodes[p.node].name,
				CPUCores: round6(p.app.cores(d)), Utilisation: round6(p.app.utilisation()), QueueWaitMs: round6(p.app.meanWait().Milliseconds()),
				ThrottledS: round6(p.app.throttled().Seconds()),
				MemoryMiB:  round3(m.c.appMem), RequestsSeen: m.podHot[i].appReqs})
		}
	}
	var cpu ControlPlaneUsage
	if l := m.cp.usage(m, d); l.usage.Active() {
		cpu = l.usage
		add(ComponentUsage{Kind: ControlPlaneKind, Instance: "istiod/istio-system", CPUCores: round6(l.cores),
			MemoryMiB: round3(l.mib), RequestsSeen: int64(math.Round(l.renewals))})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Instance < out[j].Instance
	})
	totals.Sum()
	return out, totals, cpu
}

func (m *Mesh) telemetrySplit() TelemetrySplit {
	ts := TelemetrySplit{HTTPMetrics: []string{}, TCPMetrics: []string{}, Notes: []string{}}
	httpRep := map[string]bool{}
	tcpRep := map[string]bool{}
	for _, h := range m.tel.http {
		name := reporterName[h.rep] + " (sidecar)"
		if h.rep == repWaypoint {
			name = "waypoint"
		}
		httpRep[name] = true
	}
	for _, t := range m.tel.tcp {
		e := &m.edges[t.edge]
		tg := &e.tgts[t.tgt]
		who := "ztunnel"
		if e.cfg.Protocol == TCP && (t.rep == repWaypoint || (t.rep == repSource && tg.src == vScSrc) || (t.rep == repDestination && tg.dstK == vScDst)) {
			who = "envoy"
		}
		tcpRep[reporterName[t.rep]+" ("+who+")"] = true
	}
	ts.HTTPMetrics = append(ts.HTTPMetrics, sortedStrings(httpRep)...)
	ts.TCPMetrics = append(ts.TCPMetrics, sortedStrings(tcpRep)...)
	seen := map[topology.Category]bool{}
	for i := range m.edges {
		for _, tg := range m.edges[i].tgts {
			seen[tg.cat] = true
		}
	}
	notes := map[topology.Category]string{
		topology.CatOutOfMesh:       "out-of-mesh paths: no proxy, no Istio metrics (ztunnel reports the destination side only when the destination is ambient)",
		topology.CatAmbientL4:       "ambient-l4 paths: ztunnel istio_tcp_* only (reporter source and destination); no istio_requests_total, no HTTP status codes",
		topology.CatAmbientWaypoint: "ambient-waypoint paths: istio_requests_total and duration with reporter=waypoint; ztunnel istio_tcp_* on both HBONE legs, naming the waypoint as the peer",
		topology.CatSidecar:         "sidecar paths: istio_requests_total with reporter=source and reporter=destination",
		topology.CatMixed:           "mixed paths: each side reports what its proxy can (sidecar: HTTP; ztunnel: TCP)",
		topology.CatExternal:        "external paths (ServiceEntry hosts): the source's proxy and the egress waypoint report (destination_service the host, destination workload unknown); nothing reports from outside the cluster, and the egress gateway's own metrics are not simulated",
	}
	for _, c := range categories {
		if seen[c] {
			ts.Notes = append(ts.Notes, notes[c])
		}
	}
	return ts
}

// EdgeRates returns each edge's measured call rate (calls/s started in the
// window, all backends), keyed "ns/workload->ns/service".
func (r *RunResult) EdgeRates() map[string]float64 {
	m := r.Metrics.m
	out := map[string]float64{}
	d := m.cfg.Duration.Seconds()
	for i := range m.edges {
		out[m.edges[i].id] = round3(float64(m.edges[i].started) / d)
	}
	return out
}

func (m *Mesh) edgeResults(d sim.Time) []EdgeStats {
	out := make([]EdgeStats, 0, len(m.edges))
	for i := range m.edges {
		e := &m.edges[i]
		c := e.cfg.Call
		r := EdgeStats{Source: c.From.ID(), Destination: c.To.ID(), Category: string(e.tgts[0].cat),
			Calls: e.calls, Failed: e.failed, RateRPS: round3(float64(e.started) / d.Seconds()),
			ConnectionsOpened: e.streams, Handshakes: e.hs, HandshakeCPUMs: round3(e.hsCPU.Milliseconds()),
			Bypassed: e.bypassed, ThroughputMbps: round3(float64(e.bytes) * 8 / 1e6 / d.Seconds()), Routes: m.routeStats(e)}
		lat := sim.NewHistogram()
		for j := range e.tgts {
			lat.Merge(e.tgts[j].lat.hist())
		}
		if lat.Count() > 0 {
			r.MeanMs = round3(lat.Mean() / 1e6)
			r.P50Ms = ms(lat.Quantile(0.5))
			r.P99Ms = ms(lat.Quantile(0.99))
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Destination < out[j].Destination
	})
	return out
}

// batches turns the per-interval sums into means (Config.BatchInterval).
func (m *Mesh) batches() []float64 {
	if m.batchN == nil {
		return nil
	}
	out := make([]float64, len(m.batchN))
	prev := 0.0
	for i, n := range m.batchN {
		if n > 0 {
			prev = m.batchSum[i] / float64(n)
		}
		out[i] = prev
	}
	return out
}

// machineUsage sums every container's CPU per machine (a node's own, or a
// host several nodes share), sorted by machine name.
func (m *Mesh) machineUsage(d sim.Time) []MachineUsage {
	idx := map[*sim.Machine]int{}
	var out []MachineUsage
	row := func(node int32) *MachineUsage {
		n := &m.nodes[node]
		i, ok := idx[n.mach]
		if !ok {
			i = len(out)
			idx[n.mach] = i
			out = append(out, MachineUsage{Name: strings.TrimPrefix(n.mach.Name(), "machine/"), Type: n.machine.Type,
				Cores: n.machine.Cores, Speed: round6(n.machine.Speed)})
		}
		return &out[i]
	}
	for i := range m.nodes {
		r := row(int32(i))
		r.Nodes = append(r.Nodes, m.nodes[i].name)
		r.CPUCores += m.nodes[i].zt.cores(d)
	}
	for i := range m.pods {
		p := &m.pods[i]
		r := row(p.node)
		r.CPUCores += p.app.cores(d)
		if p.sc != nil {
			r.CPUCores += p.sc.cores(d)
		}
	}
	for i := range m.reps {
		if m.neverServed(i) {
			continue
		}
		row(m.reps[i].node).CPUCores += m.reps[i].st.cores(d)
	}
	for i := range out {
		sort.Strings(out[i].Nodes)
		out[i].Utilisation = round6(out[i].CPUCores / out[i].Cores)
		out[i].CPUCores = round6(out[i].CPUCores)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// EdgeLatency returns edge i's (Config.Edges order) latency quantile q over
// its measured calls, and its calls started, failed and succeeded in the
// window.
func (r *RunResult) EdgeLatency(i int, q float64) (lat sim.Time, started, failed, succeeded int64) {
	m := r.Metrics.m
	e := &m.edges[i]
	h := sim.NewHistogram()
	for j := range e.tgts {
		h.Merge(e.tgts[j].lat.hist())
	}
	if h.Count() > 0 {
		lat = h.Quantile(q)
	}
	return lat, e.started, e.failed, e.calls - e.failed
}
