package models

import (
	"github.com/ambientsim/ambientsim/internal/istiometric"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Telemetry: the metrics a real cluster would show, with Istio's standard
// names and labels (ambient-internals §5). During the run they are counted
// in fixed arrays per (edge, backend, reporter, outcome); label strings are
// built only when exporting.
//
//   - Envoy (sidecars, waypoints) reports HTTP metrics: istio_requests_total,
//     istio_request_duration_milliseconds, istio_request_bytes,
//     istio_response_bytes, with reporter=source|destination (sidecars) or
//     reporter=waypoint.
//   - ztunnel reports only TCP metrics: istio_tcp_connections_opened_total,
//     istio_tcp_connections_closed_total, istio_tcp_sent_bytes_total,
//     istio_tcp_received_bytes_total, reporter=source|destination,
//     request_protocol=tcp. So an L4-only ambient path has no HTTP status
//     codes, exactly as in a real cluster.
//
// Every series also has a "mode" label naming the dataplane mode simulated.

// EnvoyBuckets are Envoy's default histogram buckets (ms for durations,
// bytes for sizes).
var EnvoyBuckets = istiometric.DurationBucketsMs

const nBuckets = 19

// Reporters.
const (
	repSource uint8 = iota
	repDestination
	repWaypoint
	nReporters
)

var reporterName = [nReporters]string{istiometric.ReporterSource, istiometric.ReporterDestination, istiometric.ReporterWaypoint}

// HTTP outcome series: response code and flags.
const (
	hc200 uint8 = iota
	hc403
	hc500
	hc503UF
	hc503UH
	hc504UT
	hc404NR
	hc503NC
	hc301
	hc302
	hc0DC // the downstream went away before the response: Envoy's code 0, flag DC
	nHTTPCodes
)

var httpCode = [nHTTPCodes]string{"200", "403", "500", "503", "503", "504", "404", "503", "301", "302", "0"}
var httpFlag = [nHTTPCodes]string{"-", "-", "-", "UF", "UH", "UT", "NR", "NC", "-", "-", "DC"}

// timeoutBody is the body of Envoy's 504 when the router's timeout fires.
const timeoutBody = int32(len("upstream request timeout"))

// TCP response flags.
const (
	tfNone uint8 = iota
	tfDeny
	tfConnect
	nTCPFlags
)

var tcpFlag = [nTCPFlags]string{"-", "DENY", "CONNECT"}

type tgtTel struct {
	http [nReporters][nHTTPCodes]int32 // 1-based series index, 0 = none yet
	tcp  [nReporters][nTCPFlags]int32
}

// Metrics detail levels (Config.MetricsDetail).
const (
	MetricsByWorkload = "workload"
	MetricsByPod      = "pod"
)

// Reporting instance kinds at pod detail (the inst fields of a series).
const (
	instNone     uint8 = iota // workload detail: no pod label
	instPod                   // a sidecar: the pod (global index)
	instZtunnel               // ztunnel: the node (index)
	instWaypoint              // a waypoint replica (index into reps)
)

// podKey is a series' key at pod detail.
type podKey struct {
	edge      int32
	tgt       int16
	rep, code uint8
	kind      uint8
	inst      int32
}

type httpSeries struct {
	edge            int32
	tgt             int16
	rep, code       uint8
	instKind        uint8
	inst            int32
	n               uint64
	durSum          float64
	reqSum, respSum float64
	dur, req, resp  [nBuckets]uint64 // non-cumulative bucket counts; +Inf = n - sum
}

type tcpSeries struct {
	edge                         int32
	tgt                          int16
	rep, flag                    uint8
	instKind                     uint8
	inst                         int32
	opened, closed, sent, recved uint64
}

type snapshot struct {
	at   sim.Time
	http []httpSeries
	tcp  []tcpSeries
}

type telemetry struct {
	http  []httpSeries
	tcp   []tcpSeries
	snaps []snapshot
	// byPod indexes the series at pod detail (nil at workload detail,
	// where the per-target arrays of tgtTel do).
	byPod map[podKey]int32
}

func newTelemetry(m *Mesh) *telemetry {
	t := &telemetry{}
	if m.cfg.MetricsDetail == MetricsByPod {
		t.byPod = map[podKey]int32{}
	}
	return t
}

func (t *telemetry) newTarget() tgtTel { return tgtTel{} }

func (t *telemetry) reset() {
	t.http = t.http[:0]
	t.tcp = t.tcp[:0]
	t.snaps = nil
	if t.byPod != nil {
		clear(t.byPod)
	}
}

// inst is a reporting instance at pod detail: its kind and index.
type inst struct {
	kind uint8
	i    int32
}

func (t *telemetry) httpAt(tg *target, ei int32, ti int16, rep, code uint8, in inst) *httpSeries {
	if t.byPod != nil {
		pk := podKey{ei, ti, rep, code, in.kind, in.i}
		k, ok := t.byPod[pk]
		if !ok {
			t.http = append(t.http, httpSeries{edge: ei, tgt: ti, rep: rep, code: code, instKind: in.kind, inst: in.i})
			k = int32(len(t.http))
			t.byPod[pk] = k
		}
		return &t.http[k-1]
	}
	k := tg.tel.http[rep][code]
	if k == 0 {
		t.http = append(t.http, httpSeries{edge: ei, tgt: ti, rep: rep, code: code})
		k = int32(len(t.http))
		tg.tel.http[rep][code] = k
	}
	return &t.http[k-1]
}

func (t *telemetry) tcpAt(tg *target, ei int32, ti int16, rep, flag uint8, in inst) *tcpSeries {
	if t.byPod != nil {
		pk := podKey{ei, ti, rep, 128 | flag, in.kind, in.i} // 128: TCP, apart from HTTP codes
		k, ok := t.byPod[pk]
		if !ok {
			t.tcp = append(t.tcp, tcpSeries{edge: ei, tgt: ti, rep: rep, flag: flag, instKind: in.kind, inst: in.i})
			k = int32(len(t.tcp))
			t.byPod[pk] = k
		}
		return &t.tcp[k-1]
	}
	k := tg.tel.tcp[rep][flag]
	if k == 0 {
		t.tcp = append(t.tcp, tcpSeries{edge: ei, tgt: ti, rep: rep, flag: flag})
		k = int32(len(t.tcp))
		tg.tel.tcp[rep][flag] = k
	}
	return &t.tcp[k-1]
}

func bucketOf(v float64) int {
	for i, b := range EnvoyBuckets {
		if v <= b {
			return i
		}
	}
	return nBuckets
}

func (h *httpSeries) observe(durMs float64, req, resp int32) {
	h.n++
	h.durSum += durMs
	h.reqSum += float64(req)
	h.respSum += float64(resp)
	if i := bucketOf(durMs); i < nBuckets {
		h.dur[i]++
	}
	if i := bucketOf(float64(req)); i < nBuckets {
		h.req[i]++
	}
	if i := bucketOf(float64(resp)); i < nBuckets {
		h.resp[i]++
	}
}

func codeOf(out uint8) uint8 {
	switch out {
	case outOK:
		return hc200
	case outL7Denied:
		return hc403
	case outDependency:
		return hc500
	case outNoUpstream:
		return hc503UH
	case outTimeout:
		return hc504UT
	case outNotFound:
		return hc404NR
	case outBadBackend:
		return hc500
	case outNoCluster:
		return hc503NC
	}
	return hc503UF
}

// record counts one attempt at every proxy that saw it. Envoy's stats
// filter sees a downstream request once, its router's retries happen
// upstream of it (decision 075): an attempt its router retries (retried)
// counts only at the proxies beyond the router, and the router and the
// proxies before it report the request's final try, timed from its first
// (c.reqAt). A per-try zombie (pertry.go) counts only at the proxies
// beyond its router, which the call's own record leaves out: its path ends
// there.
func (t *telemetry) record(m *Mesh, c *call, e *edgeRT, tg *target, end sim.Time, closed, retried bool) {
	ei, ti := c.ei, c.ti
	reached := func(k uint8) bool {
		if c.outcome == outNetPolicy || (c.outcome == outNoUpstream && !c.answer) {
			return false
		}
		if c.outcome == outTLS || failureOutcome(c.outcome) {
			// Only proxies before the failed handshake saw the request.
			for i := int8(0); i < c.n; i++ {
				if c.kinds[i] == k {
					return i <= c.i
				}
			}
			return false
		}
		for i := int8(0); i < c.n; i++ {
			if c.kinds[i] == k {
				return c.denyAt < 0 || c.denyAt >= i
			}
		}
		return false
	}
	durMs := (end - c.reqAt).Milliseconds()
	code := codeOf(c.outcome)
	if c.answer && c.outcome == outOK {
		code = hc302 // a redirect answered by the routing proxy
		if e.routes[c.rq].redirect == 301 {
			code = hc301
		}
	}
	// The reporting instances, at pod detail only.
	var srcIn, wpIn, dstIn inst
	if t.byPod != nil {
		srcIn, wpIn, dstIn = reportingInstances(m, c, e, tg)
	}
	if !e.tcp && c.cutAt > 0 {
		t.recordCut(m, c, tg, code, reached, wpIn, dstIn)
	} else if !e.tcp {
		// A source sidecar routes its client's requests: it is the router
		// whenever the call has one.
		if tg.src == vScSrc && !c.zombie && !retried {
			t.httpAt(tg, ei, ti, repSource, code, srcIn).observe(durMs, c.reqB, c.respB)
		}
		if tg.wp >= 0 && reached(vWP) && !(retried && c.wpRoutes()) {
			t.httpAt(tg, ei, ti, repWaypoint, code, wpIn).observe((c.wpDur + c.wpEarlier()).Milliseconds(), c.reqB, c.respB)
		}
		if tg.dstK == vScDst && reached(vScDst) {
			t.httpAt(tg, ei, ti, repDestination, code, dstIn).observe(c.dstDur.Milliseconds(), c.reqB, c.respB)
		}
	}
	flag := tfNone
	switch c.outcome {
	case outL4Denied:
		flag = tfDeny
	case outNetPolicy, outTLS, outRefused, outConnTimeout:
		flag = tfConnect
	}
	// ztunnel (always TCP metrics) and Envoy for raw TCP.
	tcpRep := func(rep uint8, opened bool, sent, recv int32, close bool, in inst) {
		s := t.tcpAt(tg, ei, ti, rep, tfNone, in)
		if opened {
			s.opened++
		}
		s.sent += uint64(sent)
		s.recved += uint64(recv)
		if close {
			t.tcpAt(tg, ei, ti, rep, flag, in).closed++
		}
	}
	if (tg.src == vZtSrc || (tg.src == vScSrc && e.tcp)) && !c.zombie {
		tcpRep(repSource, c.newStream, c.reqB, c.respB, closed, srcIn)
	}
	if tg.wp >= 0 && e.tcp && reached(vWP) {
		tcpRep(repWaypoint, c.newStream, c.respB, c.reqB, closed, wpIn)
	}
	if (tg.dstK == vZtDst && reached(vZtDst)) || (tg.dstK == vScDst && e.tcp && reached(vScDst)) {
		opened, cl := c.newStream, closed
		if tg.wp >= 0 {
			opened, cl = c.leg2Stream, c.outcome == outL4Denied
		}
		tcpRep(repDestination, opened, c.respB, c.reqB, cl, dstIn)
	}
}

// recordCut counts at the L7 proxies upstream of the cut of an attempt a
// timeout cut in flight (c.cutAt, c.cutBy; timeout.go), when it ends: each
// reports its own answer (code) if it had sent it before the reset reached
// it, else 0 DC. The router and the proxies between it and the client
// reported at the cut (recordCutNear).
func (t *telemetry) recordCut(m *Mesh, c *call, tg *target, code uint8, reached func(uint8) bool, wpIn, dstIn inst) {
	ei, ti := c.ei, c.ti
	// earlier: how long a router held the request before this try.
	up := func(rep uint8, k int8, at, dur, earlier sim.Time, in inst) {
		if dc, held := m.upstreamView(c, k, at, dur); dc {
			t.httpAt(tg, ei, ti, rep, hc0DC, in).observe((held + earlier).Milliseconds(), c.reqB, 0)
		} else {
			t.httpAt(tg, ei, ti, rep, code, in).observe((dur + earlier).Milliseconds(), c.reqB, c.respB)
		}
	}
	if tg.wp >= 0 && reached(vWP) {
		if k := m.findVisit(c, vWP); k > c.cutBy {
			dur := c.wpDur
			if k == c.routeAt && c.outcome != outOK && m.routerRetries(c, &m.edges[ei]) {
				// The waypoint would have retried this try, not answered
				// (the model decides its retry when the answer reaches
				// the client): it still held the request at the reset.
				dur = 0
			}
			up(repWaypoint, k, c.wpAt, dur, c.wpEarlier(), wpIn)
		}
	}
	if tg.dstK == vScDst && reached(vScDst) {
		up(repDestination, m.findVisit(c, vScDst), c.dstAt, c.dstDur, 0, dstIn)
	}
}

// recordCutNear counts, when a timeout cuts attempt c (timeout.go), at the
// L7 proxies from the client to the cut: the router that timed out reports
// 504 UT, the client's sidecar 0 DC when the client closed, each timed
// from when the request first reached it (its earlier tries included). (No
// L7 proxy reports between the client and the router: a client with a
// sidecar routes there, a waypoint routes for ztunnel clients only.) A
// request waiting for its router's retry back-off (c.backoff) has no try
// in flight: a waypoint router reports it here also when the client
// closed, 0 DC when the client's reset reaches it.
func (t *telemetry) recordCutNear(m *Mesh, c *call, e *edgeRT, tg *target) {
	if e.tcp || c.attemptStart < m.measure {
		return
	}
	ei, ti := c.ei, c.ti
	var srcIn, wpIn inst
	if t.byPod != nil {
		srcIn, wpIn, _ = reportingInstances(m, c, e, tg)
	}
	if tg.src == vScSrc {
		held := (c.cutAt - c.reqAt).Milliseconds()
		if c.cutBy < 0 {
			t.httpAt(tg, ei, ti, repSource, hc0DC, srcIn).observe(held, c.reqB, 0)
		} else {
			t.httpAt(tg, ei, ti, repSource, hc504UT, srcIn).observe(held, c.reqB, timeoutBody)
		}
	}
	first := sim.Time(-1) // when the waypoint first held the request
	switch {
	case c.tries > 1 || c.backoff:
		first = c.reqAt
	case c.wpAt >= c.attemptStart && c.wpAt < c.cutAt:
		first = c.wpAt
	}
	if c.cutBy >= 0 && c.kinds[c.cutBy] == vWP {
		held := sim.Time(0)
		if first >= 0 {
			held = c.cutAt - first
		}
		t.httpAt(tg, ei, ti, repWaypoint, hc504UT, wpIn).observe(held.Milliseconds(), c.reqB, timeoutBody)
	} else if c.cutBy < 0 && c.backoff && c.wpRoutes() {
		reset := c.cutAt + m.baseOneWay(c.cutNode(), c.locs[c.routeAt+1])
		t.httpAt(tg, ei, ti, repWaypoint, hc0DC, wpIn).observe(max(reset-first, 0).Milliseconds(), c.reqB, 0)
	}
}

// wpRoutes reports whether c's waypoint is its routing proxy.
func (c *call) wpRoutes() bool { return c.routeAt >= 0 && c.kinds[c.routeAt] == vWP }

// wpEarlier is how long c's waypoint, when it routes, held the request
// before this try reached it: its earlier tries and back-offs.
func (c *call) wpEarlier() sim.Time {
	if c.tries > 1 && c.wpRoutes() {
		return max(c.wpAt-c.reqAt, 0)
	}
	return 0
}

// reportingInstances are the instances that report a call at pod detail: the
// source side (its sidecar's pod, or the ztunnel of its node), the
// waypoint replica, and the destination side (sidecar pod or ztunnel).
func reportingInstances(m *Mesh, c *call, e *edgeRT, tg *target) (src, wp, dst inst) {
	if c.srcL >= 0 && int(c.srcL) < len(e.src) {
		p := e.src[c.srcL]
		if tg.src == vZtSrc {
			src = inst{instZtunnel, m.pods[p].node}
		} else {
			src = inst{instPod, p}
		}
	}
	if tg.wp >= 0 && c.repL >= 0 && int(c.repL) < len(m.wps[tg.wp].reps) {
		wp = inst{instWaypoint, m.wps[tg.wp].reps[c.repL]}
	}
	if c.dstL >= 0 && int(c.dstL) < len(tg.dst) {
		p := tg.dst[c.dstL]
		if tg.dstK == vZtDst {
			dst = inst{instZtunnel, m.pods[p].node}
		} else {
			dst = inst{instPod, p}
		}
	}
	return src, wp, dst
}

// podName is the pod label of a reporting instance.
func (x *Metrics) podName(kind uint8, i int32) string {
	m := x.m
	switch kind {
	case instPod:
		return m.pods[i].p.Name
	case instZtunnel:
		return "ztunnel-" + m.nodes[i].name
	case instWaypoint:
		// <waypoint>-<replica>, like a Deployment's pods.
		r := m.reps[i].name
		return m.wps[m.reps[i].wp].w.Name + "-" + r[strings.LastIndexByte(r, '/')+1:]
	}
	return istiometric.Unknown
}

func (t *telemetry) snapshot(at sim.Time) {
	t.snaps = append(t.snaps, snapshot{at: at,
		http: append([]httpSeries(nil), t.http...),
		tcp:  append([]tcpSeries(nil), t.tcp...)})
}

// Metrics is a finished run's telemetry, ready to export.
type Metrics struct {
	m    *Mesh
	mode string
}

var httpLabelNames = append(istiometric.HTTPLabels(), "mode")

// The simulated ztunnel reports its TCP metrics with Envoy's TCP labels
// (no locality labels); the exposition sorts labels by name.
var tcpLabelNames = append(istiometric.EnvoyTCPLabels(), "mode")

// At pod detail every series also names its reporting pod.
var (
	httpPodLabelNames = append(append([]string(nil), httpLabelNames...), "pod")
	tcpPodLabelNames  = append(append([]string(nil), tcpLabelNames...), "pod")
	descReqsPod       = prometheus.NewDesc(istiometric.RequestsTotal, "Requests processed by an Istio proxy (simulated).", httpPodLabelNames, nil)
	descDurPod        = prometheus.NewDesc(istiometric.RequestDuration, "Request duration in milliseconds (simulated).", httpPodLabelNames, nil)
	descReqBPod       = prometheus.NewDesc(istiometric.RequestBytes, "HTTP request body sizes (simulated).", httpPodLabelNames, nil)
	descRespBPod      = prometheus.NewDesc(istiometric.ResponseBytes, "HTTP response body sizes (simulated).", httpPodLabelNames, nil)
	descOpenedPod     = prometheus.NewDesc(istiometric.TCPOpened, "TCP connections opened (simulated).", tcpPodLabelNames, nil)
	descClosedPod     = prometheus.NewDesc(istiometric.TCPClosed, "TCP connections closed (simulated).", tcpPodLabelNames, nil)
	descSentPod       = prometheus.NewDesc(istiometric.TCPSent, "Bytes sent during TCP connections (simulated).", tcpPodLabelNames, nil)
	descReceivedPod   = prometheus.NewDesc(istiometric.TCPReceived, "Bytes received during TCP connections (simulated).", tcpPodLabelNames, nil)
)

// byPod reports whether the run's metrics carry the pod label.
func (x *Metrics) byPod() bool { return x.m.tel.byPod != nil }

var (
	descReqs     = prometheus.NewDesc(istiometric.RequestsTotal, "Requests processed by an Istio proxy (simulated).", httpLabelNames, nil)
	descDur      = prometheus.NewDesc(istiometric.RequestDuration, "Request duration in milliseconds (simulated).", httpLabelNames, nil)
	descReqB     = prometheus.NewDesc(istiometric.RequestBytes, "HTTP request body sizes (simulated).", httpLabelNames, nil)
	descRespB    = prometheus.NewDesc(istiometric.ResponseBytes, "HTTP response body sizes (simulated).", httpLabelNames, nil)
	descOpened   = prometheus.NewDesc(istiometric.TCPOpened, "TCP connections opened (simulated).", tcpLabelNames, nil)
	descClosed   = prometheus.NewDesc(istiometric.TCPClosed, "TCP connections closed (simulated).", tcpLabelNames, nil)
	descSent     = prometheus.NewDesc(istiometric.TCPSent, "Bytes sent during TCP connections (simulated).", tcpLabelNames, nil)
	descReceived = prometheus.NewDesc(istiometric.TCPReceived, "Bytes received during TCP connections (simulated).", tcpLabelNames, nil)
)

// peer is one side's label values.
type peer struct {
	workload, canonical, revision, namespace, principal, app, version, cluster string
}

func unknownPeer() peer {
	u := istiometric.Unknown
	return peer{u, u, u, u, u, u, u, u}
}

func workloadPeer(w *topology.Workload, td string, mesh bool) peer {
	if w == nil {
		return unknownPeer()
	}
	app := w.Labels["app"]
	if app == "" {
		app = w.Labels["app.kubernetes.io/name"]
	}
	canon := app
	if canon == "" {
		canon = w.Name
		app = "unknown"
	}
	ver := w.Labels["version"]
	rev := ver
	if rev == "" {
		rev = "latest"
		ver = "unknown"
	}
	p := peer{workload: w.Name, canonical: canon, revision: rev, namespace: w.Namespace, principal: "unknown", app: app, version: ver, cluster: "Kubernetes"}
	if mesh {
		sa := w.ServiceAccount
		if sa == "" {
			sa = "default"
		}
		p.principal = "spiffe://" + td + "/ns/" + w.Namespace + "/sa/" + sa
	}
	return p
}

func waypointPeer(w *topology.Waypoint, td string) peer {
	return peer{workload: w.Name, canonical: w.Name, revision: "latest", namespace: w.Namespace,
		principal: w.Identity(td), app: "unknown", version: "unknown", cluster: "Kubernetes"}
}

func (x *Metrics) labels(edge int32, ti int16, rep uint8, http bool, code uint8, instKind uint8, in int32) []string {
	m := x.m
	e := &m.edges[edge]
	tg := &e.tgts[ti]
	td := m.top.TrustDomain
	if td == "" {
		td = topology.DefaultTrustDomain
	}
	srcW := m.wls[e.from].w
	srcMesh := tg.src != 255
	src := workloadPeer(srcW, td, srcMesh)
	svc := e.cfg.Call.To // an external target is always the addressed host
	if tg.svc >= 0 {
		svc = m.svcs[tg.svc].s
	}
	svcFQDN := svc.Name + "." + svc.Namespace + ".svc." + td
	if svc.Entry() != nil {
		svcFQDN = svc.Name // Istio reports a ServiceEntry host as itself
	}
	var dstW *topology.Workload
	if len(tg.dst) > 0 {
		dstW = m.pods[tg.dst[0]].p.Workload
	}
	dst := workloadPeer(dstW, td, tg.dstK != 255)
	if !http && tg.wp >= 0 {
		// ztunnel legs of a waypoint path name the waypoint as the peer.
		wp := waypointPeer(m.wps[tg.wp].w, td)
		if rep == repSource {
			dst = wp
		} else if rep == repDestination {
			src = wp
		}
	}
	if rep == repDestination && !srcMesh && tg.wp < 0 {
		src = unknownPeer() // plaintext from outside the mesh: no identity
	}
	secure := "mutual_tls"
	switch {
	case rep == repSource && http:
		secure = "unknown" // Envoy source reporters do not set it
	case rep == repDestination && !srcMesh && tg.wp < 0:
		secure = "unknown"
	}
	proto := e.cfg.Protocol.String()
	if !http {
		proto = "tcp"
	}
	out := []string{reporterName[rep],
		src.workload, src.canonical, src.revision, src.namespace, src.principal, src.app, src.version, src.cluster,
		dst.workload, dst.namespace, dst.principal, dst.app, dst.version,
		svcFQDN, dst.canonical, dst.revision, svc.Name, svc.Namespace, dst.cluster,
		proto}
	if http {
		grpc := ""
		if e.cfg.Protocol == GRPC {
			grpc = "0"
			if code != hc200 {
				grpc = "14"
			}
		}
		out = append(out, httpCode[code], grpc, httpFlag[code], secure, x.mode)
	} else {
		out = append(out, tcpFlag[code], secure, x.mode)
	}
	if x.byPod() {
		out = append(out, x.podName(instKind, in))
	}
	return out
}

// descs are the run's metric descriptors: with the pod label at pod
// detail.
func (x *Metrics) descs() (reqs, dur, reqB, respB, opened, closed, sent, received *prometheus.Desc) {
	if x.byPod() {
		return descReqsPod, descDurPod, descReqBPod, descRespBPod, descOpenedPod, descClosedPod, descSentPod, descReceivedPod
	}
	return descReqs, descDur, descReqB, descRespB, descOpened, descClosed, descSent, descReceived
}

// Describe implements prometheus.Collector.
func (x *Metrics) Describe(ch chan<- *prometheus.Desc) {
	a, b, c, d, e, f, g, h := x.descs()
	for _, d := range []*prometheus.Desc{a, b, c, d, e, f, g, h} {
		ch <- d
	}
}

// Collect implements prometheus.Collector with the run's final values.
func (x *Metrics) Collect(ch chan<- prometheus.Metric) {
	x.collect(ch, x.m.tel.http, x.m.tel.tcp, time.Time{})
}

func cumulative(b *[nBuckets]uint64) map[float64]uint64 {
	out := make(map[float64]uint64, nBuckets)
	var c uint64
	for i, v := range b {
		c += v
		out[EnvoyBuckets[i]] = c
	}
	return out
}

func (x *Metrics) collect(ch chan<- prometheus.Metric, hs []httpSeries, ts []tcpSeries, at time.Time) {
	emit := func(pm prometheus.Metric) {
		if !at.IsZero() {
			pm = prometheus.NewMetricWithTimestamp(at, pm)
		}
		ch <- pm
	}
	// Several edges can share a label set (a ztunnel leg that names the
	// waypoint as its peer): sum them, as the real proxy's counter would.
	type hAgg struct {
		labels []string
		s      httpSeries
	}
	type tAgg struct {
		labels []string
		s      tcpSeries
	}
	hm := map[string]*hAgg{}
	for i := range hs {
		h := &hs[i]
		l := x.labels(h.edge, h.tgt, h.rep, true, h.code, h.instKind, h.inst)
		k := strings.Join(l, "\x00")
		a := hm[k]
		if a == nil {
			a = &hAgg{labels: l}
			hm[k] = a
		}
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
	descReqs, descDur, descReqB, descRespB, descOpened, descClosed, descSent, descReceived := x.descs()
	for _, k := range sortedStrings(hm) {
		a := hm[k]
		h, l := &a.s, a.labels
		emit(prometheus.MustNewConstMetric(descReqs, prometheus.CounterValue, float64(h.n), l...))
		emit(prometheus.MustNewConstHistogram(descDur, h.n, h.durSum, cumulative(&h.dur), l...))
		emit(prometheus.MustNewConstHistogram(descReqB, h.n, h.reqSum, cumulative(&h.req), l...))
		emit(prometheus.MustNewConstHistogram(descRespB, h.n, h.respSum, cumulative(&h.resp), l...))
	}
	tm := map[string]*tAgg{}
	for i := range ts {
		s := &ts[i]
		l := x.labels(s.edge, s.tgt, s.rep, false, s.flag, s.instKind, s.inst)
		k := strings.Join(l, "\x00")
		a := tm[k]
		if a == nil {
			a = &tAgg{labels: l, s: tcpSeries{flag: s.flag}}
			tm[k] = a
		}
		a.s.opened += s.opened
		a.s.closed += s.closed
		a.s.sent += s.sent
		a.s.recved += s.recved
	}
	for _, k := range sortedStrings(tm) {
		a := tm[k]
		s, l := &a.s, a.labels
		if s.flag == tfNone {
			emit(prometheus.MustNewConstMetric(descOpened, prometheus.CounterValue, float64(s.opened), l...))
			emit(prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(s.sent), l...))
			emit(prometheus.MustNewConstMetric(descReceived, prometheus.CounterValue, float64(s.recved), l...))
		}
		if s.closed > 0 || s.flag == tfNone {
			emit(prometheus.MustNewConstMetric(descClosed, prometheus.CounterValue, float64(s.closed), l...))
		}
	}
}

// Registry returns a new registry holding the final metrics.
func (x *Metrics) Registry() (*prometheus.Registry, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(x); err != nil {
		return nil, err
	}
	return reg, nil
}

// Epoch is the wall-clock instant simulated time 0 maps to in timestamped
// metrics, fixed so the output is deterministic: 2026-01-01T00:00:00Z.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type snapCollector struct {
	x  *Metrics
	sn *snapshot
}

func (s snapCollector) Describe(ch chan<- *prometheus.Desc) { s.x.Describe(ch) }
func (s snapCollector) Collect(ch chan<- prometheus.Metric) {
	s.x.collect(ch, s.sn.http, s.sn.tcp, Epoch.Add(time.Duration(s.sn.at)))
}

// Timestamped returns the metric families sampled every snapshot interval,
// each series' samples in time order, with timestamps Epoch + simulated
// time: the content of an OpenMetrics backfill file.
func (x *Metrics) Timestamped() ([]*dto.MetricFamily, error) {
	type fam struct {
		mf     *dto.MetricFamily
		series map[string][]*dto.Metric
		order  []string
	}
	fams := map[string]*fam{}
	for i := range x.m.tel.snaps {
		reg := prometheus.NewRegistry()
		if err := reg.Register(snapCollector{x, &x.m.tel.snaps[i]}); err != nil {
			return nil, err
		}
		got, err := reg.Gather()
		if err != nil {
			return nil, err
		}
		for _, mf := range got {
			f := fams[mf.GetName()]
			if f == nil {
				f = &fam{mf: &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type}, series: map[string][]*dto.Metric{}}
				fams[mf.GetName()] = f
			}
			for _, mt := range mf.Metric {
				k := labelKey(mt)
				if _, ok := f.series[k]; !ok {
					f.order = append(f.order, k)
				}
				f.series[k] = append(f.series[k], mt)
			}
		}
	}
	names := sortedStrings(fams)
	out := make([]*dto.MetricFamily, 0, len(names))
	for _, n := range names {
		f := fams[n]
		sort.Strings(f.order)
		for _, k := range f.order {
			f.mf.Metric = append(f.mf.Metric, f.series[k]...)
		}
		out = append(out, f.mf)
	}
	return out, nil
}

func labelKey(mt *dto.Metric) string {
	var b strings.Builder
	for _, lp := range mt.Label {
		b.WriteString(lp.GetName())
		b.WriteByte('=')
		b.WriteString(strconv.Quote(lp.GetValue()))
		b.WriteByte(',')
	}
	return b.String()
}

// MetricsSet collects several runs' metrics (one per mode) as one
// collector; the mode label keeps their series apart.
type MetricsSet []*Metrics

// Describe implements prometheus.Collector.
func (s MetricsSet) Describe(ch chan<- *prometheus.Desc) {
	if len(s) > 0 {
		s[0].Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (s MetricsSet) Collect(ch chan<- prometheus.Metric) {
	for _, x := range s {
		x.Collect(ch)
	}
}

// Registry returns a registry holding every run's final metrics.
func (s MetricsSet) Registry() (*prometheus.Registry, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(s); err != nil {
		return nil, err
	}
	return reg, nil
}

// Timestamped merges the runs' timestamped families.
func (s MetricsSet) Timestamped() ([]*dto.MetricFamily, error) {
	byName := map[string]*dto.MetricFamily{}
	for _, x := range s {
		fams, err := x.Timestamped()
		if err != nil {
			return nil, err
		}
		for _, f := range fams {
			if g, ok := byName[f.GetName()]; ok {
				g.Metric = append(g.Metric, f.Metric...)
			} else {
				byName[f.GetName()] = f
			}
		}
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, n := range sortedStrings(byName) {
		out = append(out, byName[n])
	}
	return out, nil
}
