package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Visit kinds: which proxy a request crosses, and on which side.
const (
	vZtSrc    uint8 = iota // the source pod's node ztunnel (outbound)
	vZtDst                 // the destination pod's node ztunnel (inbound)
	vWP                    // a waypoint replica
	vScSrc                 // the source pod's sidecar (outbound) or an ingress gateway
	vScDst                 // the destination pod's sidecar (inbound)
	vEgw                   // a sidecar-era egress gateway pod's Envoy (egress to a ServiceEntry host)
	maxVisits = 4
)

// Mesh is one dataplane mode's simulation of a topology: every node's
// ztunnel, every waypoint replica, every sidecar and app pod as stations,
// the HBONE and Envoy connection pools as slices, and the request flow as
// events on a sim.Sim. Build it with NewMesh, run it with Run.
type Mesh struct {
	cfg  Config
	top  *topology.Topology
	s    *sim.Sim
	c    costs
	strm *sim.Streams

	nodes []nodeRT
	pods  []podRT
	// podHot: per pod, what the per-call path reads (podHot's comment).
	podHot []podHot
	wls    []wlRT
	svcs   []svcRT
	wps    []wpRT
	exts   []extRT // servers outside the cluster (ServiceEntry hosts called)
	reps   []repRT
	edges  []edgeRT

	ztPool []hboneSlot // ztunnel HBONE pool slots (src pod, next hop)
	upPool []envoySlot // Envoy upstream pool slots (waypoint replica or sidecar, dst pod)

	free     []*call // recycled calls
	slab     []call  // the newest slab chunk of calls (flow.go alloc)
	slabUsed int     // calls of slab handed out
	genSeq   int32   // HBONE connection generations
	connSeq  uint64  // app connections opened (worker pinning keys)
	stampSeq int64   // attempts started (call stamps)

	tel     *telemetry
	stats   runStats
	measure sim.Time // start of the measured window
	end     sim.Time
	cp      controlPlane
	mem     *memState // configuration sizes (memory.go)

	failOn bool    // failures are scheduled (the only per-request cost when not)
	flt    *faults // failure windows, nil without failures
	series *seriesRec
	// batchSum and batchN accumulate end-to-end latency (ms) per
	// Config.BatchInterval from t = 0, else nil.
	batchSum []float64
	batchN   []int64
	retries  []int64 // per edge: retries made (retry budget)

	// Route tables' sources per Service (routesOf), for config sizes.
	svcRoutes     [][]int
	svcRoutesDone []bool
	routeIdx      map[string]int

	podIdx map[*topology.Pod]int32
	svcIdx map[*topology.Service]int32
	wlIdx  map[*topology.Workload]int32
	wpIdx  map[*topology.Waypoint]int32
	extIdx map[*topology.Service]int32
}

// extRT is a server outside the cluster behind a ServiceEntry host.
type extRT struct {
	svc  *topology.Service // the ServiceEntry's AsService view
	se   *topology.ServiceEntry
	st   sim.Dist // service time, ns
	half sim.Time // half the round trip, each way
	reqs int64    // requests answered (measured)
}

type nodeRT struct {
	name    string
	zone    int32
	mach    *sim.Machine
	machine Machine    // its type, CPUs and speed
	zt      *container // the node's ztunnel
	nicFree sim.Time   // when the NIC's transmit queue empties
	nicNs   float64    // NIC serialisation, ns per byte
	// latR: the added-latency draws of ztunnel, waypoint and sidecar
	// crossings here: each its own stream's state, held in the node (no
	// pointer chase per draw; rand.Rand.Uint64 is the source's Uint64).
	latR    [3]rand.PCG
	pods    int   // ambient pods captured on the node
	conns   int64 // HBONE connections currently open (client + server side)
	streams int64 // HBONE streams currently open
	maxConn int64
	maxStr  int64
	opened  int64 // HBONE connections dialled by this ztunnel (measured)
	hs      int64 // handshakes (either side, measured)
	msgs    int64 // requests crossing (measured; each side of a call counts once)
	txBytes int64 // bytes sent onto the network (measured)
}

type podRT struct {
	svcTime sim.Dist // service time; nil when podHot.svcRate > 0
	p       *topology.Pod
	node    int32
	wl      int32
	mode    topology.Mode
	app     *container
	sc      *container // sidecar (sidecar mode only)
	scConns int64      // sidecar upstream+downstream mTLS connections open
	scReqs  int64
	scHS    int64
	wlLocal int32 // index among its workload's pods (= index in an edge's sources)
}

// podHot is what a call reads of a pod (its attempt, its app's request and
// fan-out, its completion), in one cache line a pod, dense (Mesh.podHot, by
// pod index): one line brought in serves every step of a call at that pod.
type podHot struct {
	node    int32
	out     int32        // outstanding requests (least-request LB)
	fanWl   int32        // its workload when that calls services (fan-out), else -1
	wlLocal int32        // index among its workload's pods (= index in an edge's sources)
	appSt   *sim.Station // the app's request workers (app.workers[0])
	// svcRate > 0: the service time is exponential at this rate, drawn
	// inline from the pod's own stream state svcPCG (the draws
	// distuv.Exponential makes from that stream, without its pointer
	// chase); else podRT.svcTime draws it.
	svcRate float64
	svcPCG  rand.PCG
	cpuFrac float64 // share of the service time on the CPU
	appReqs int64   // requests its app served (measured)
}

// serviceTime draws pod pi's app service time (ns).
func (m *Mesh) serviceTime(pi int32) float64 {
	if ph := &m.podHot[pi]; ph.svcRate > 0 {
		// Exactly distuv.Exponential's draw: rand.New(src).ExpFloat64() / Rate.
		return rand.New(&ph.svcPCG).ExpFloat64() / ph.svcRate
	}
	return m.pods[pi].svcTime.Rand()
}

type wlRT struct {
	w    *topology.Workload
	pods []int32
	out  []int32 // edges whose source is this workload (fan-out)
	fan  *rand.Rand
}

type svcRT struct {
	s    *topology.Service
	pods []int32
	wp   int32 // waypoint serving service traffic, or -1
	rr   uint32
}

type wpRT struct {
	w    *topology.Waypoint
	reps []int32
}

type repRT struct {
	wp    int32
	name  string
	node  int32
	st    *container
	rrWk  uint32 // next worker for a new downstream HBONE connection (ExactBalance)
	conns int64  // HBONE connections open (downstream + upstream)
	maxC  int64
	hs    int64
	reqs  int64
}

// hboneSlot is one key of a ztunnel connection pool: (source pod identity
// and IP, expected destination identity, next-hop pod IP:15008). Only the
// current connection is kept; a connection that reached the stream cap is
// retired: it keeps serving its streams and closes when they end.
type hboneSlot struct {
	gen      int32    // generation of the current connection; 0 = none
	streams  int32    // active streams on the current connection
	readyAt  sim.Time // when the current connection's handshake completes
	lastUse  sim.Time // last checkout (idle release after IdleTimeout)
	dialAt   sim.Time // when the current connection was dialled
	floor    int32    // generations <= floor were torn down by a failure
	retired  int32    // retired connections still open
	retStrms int32    // streams on retired connections
	srcNode  int32
	dstNode  int32  // node of the next hop (ztunnel or waypoint replica's node)
	wk       uint32 // the waypoint worker the current connection is pinned to
}

// envoySlot is an Envoy upstream pool toward one pod (waypoint replica →
// pod over HBONE, or sidecar → pod over Istio mTLS): HBONE/TLS connection
// state plus idle upstream HTTP connections (streams) ready for reuse.
type envoySlot struct {
	up      bool
	readyAt sim.Time
	lastUse sim.Time
	dialAt  sim.Time
	idle    int32 // idle upstream connections/streams
	open    int32 // upstream connections/streams open
}

type target struct {
	// The path shape and tables each visit reads, first (one cache line).
	svc int32
	wp  int32 // waypoint, or -1
	// ext: the server outside the cluster (index in Mesh.exts) when the
	// backend is a ServiceEntry host, else -1; dst is then empty.
	ext int32
	// egw: the egress gateway pod the path crosses before the host, -1
	// none; egwOut: what it answers when it cannot send the request on
	// (outRefused: no listener; outNotFound: no route), outOK otherwise.
	egw    int32
	egwOut uint8
	src    uint8 // vZtSrc, vScSrc, or 255 (none)
	dstK   uint8 // vZtDst, vScDst, or 255 (none)
	hs     uint8 // how the first leg is secured: 0 plaintext, 1 HBONE pool, 2 Envoy mTLS pool
	// bypass: a waypoint serves this service but the path skips it
	// (topology.Path.Bypass); successful calls count as bypassed.
	bypass   bool
	allowAll bool // no policy applies: every decision is decAllow (noPolicyFor)
	nextHops int
	dst      []int32 // destination pods (global index)
	// zt: ztunnel pool slot per (src local, next hop local); next hop is a
	// waypoint replica (len(reps)) or a destination pod.
	zt []int32
	// up: Envoy upstream slot per (proxy local, dst local); the proxy is
	// the waypoint replica or the source pod's sidecar.
	up []int32
	// decisions caches policy outcomes per (request class, source pod,
	// destination pod); the request attributes are constants of the class,
	// so the cache is exact.
	decisions []uint8
	tel       tgtTel
	lat       latRec  // latency of measured calls to this backend
	enforceAt [4]int8 // per decision value: visit index that enforces it
	port      int     // the backend's Service port
	cat       topology.Category
	catIdx    int
}

// nDst is how many destinations the target's per-destination tables
// (pool slots, policy decisions) hold: its pods, or the one external host.
func (tg *target) nDst() int32 {
	if tg.ext >= 0 {
		return 1
	}
	return int32(len(tg.dst))
}

type appConn struct {
	key      uint32 // identity for worker pinning (set when opened)
	inflight int32
	opened   bool
	openedAt sim.Time // when the client opened it (failures reset older ones)
	pinned   int32    // destination pod local index (L4 paths), -1 unset
	rep      int32    // waypoint replica local index, -1 unset
	wk       uint32   // waypoint worker of the HBONE connection its stream is on
	tgt      int16
}

type edgeRT struct {
	// What a call's events read and count, first (they share a few cache
	// lines; EdgeConfig, which the run rarely reads, is last).
	tgts      []target // target 0: the addressed Service
	src       []int32  // source pods
	conns     []appConn
	routes    []routeRT // Routing (routing.go): the request classes
	reqSz     sim.Dist
	respSz    sim.Dist
	lbR       *rand.Rand
	extHalf   sim.Time // an external client's half round trip, each way
	connRR    uint32   // next multiplexed app connection (HTTP/2)
	pool      int32    // cfg.Pool (app connections per source pod), as set up
	keepAlive bool     // cfg.KeepAlive
	mux       bool     // cfg.Protocol multiplexes requests (HTTP/2, gRPC)
	tcp       bool     // cfg.Protocol is TCP
	router    uint8    // who routes (routing.go)
	timeout   sim.Time // cfg.Timeout
	started   int64    // calls started in the measured window
	calls     int64    // measured calls finished
	failed    int64
	bytes     int64 // request and response bytes of measured successful calls
	fanInt    int
	fanFrac   float64
	streams   int64    // app connections opened (measured)
	hs        int64    // mTLS handshakes caused (measured)
	hsCPU     sim.Time // their CPU, both sides
	// bypassed counts measured calls that succeeded on a path skipping the
	// waypoint that serves their destination (unchecked by its policies).
	bypassed int64

	id      string
	from    int32
	rr      uint32 // next source pod for external arrivals
	arrR    *rand.Rand
	rateNs  float64 // mean inter-arrival (ns) while on
	on      bool
	onUntil sim.Time
	port    int
	// Routing draws.
	rqCum          float64
	rqR, beR, mirR *rand.Rand
	// wpDec caches the routing waypoint's decision on the requests it
	// answers itself, per (request class, source pod) (routerDecision);
	// nil until first needed. Cold: only answered requests read it.
	wpDec []uint8

	// Load generator (loadgen.go).
	external bool       // the client is outside the cluster
	users    int32      // closed-loop request slots (connections × window)
	window   int32      // requests in flight per connection
	period   sim.Time   // per slot between requests (0: as fast as answered)
	userNext []sim.Time // each slot's next scheduled send

	cfg EdgeConfig
}

// NewMesh builds the runtime model of cfg.Topology in the mode its pods are
// in. It validates the configuration and returns an error for anything a
// scenario author can fix.
func NewMesh(cfg Config) (*Mesh, error) {
	if cfg.Topology == nil || cfg.Profile == nil {
		return nil, fmt.Errorf("models: NewMesh needs a topology and a profile")
	}
	switch cfg.MetricsDetail {
	case "", MetricsByWorkload, MetricsByPod:
	default:
		return nil, fmt.Errorf("models: metrics detail %q: want %q or %q", cfg.MetricsDetail, MetricsByWorkload, MetricsByPod)
	}
	m := &Mesh{cfg: cfg, top: cfg.Topology, s: sim.New(), strm: sim.NewStreams(cfg.Seed)}
	m.c = deriveCosts(cfg.Profile)
	if err := m.checkSizes(); err != nil {
		return nil, err
	}
	m.podIdx = make(map[*topology.Pod]int32, len(m.top.Pods))
	m.svcIdx = make(map[*topology.Service]int32, len(m.top.Services))
	m.wlIdx = make(map[*topology.Workload]int32, len(m.top.Workloads))
	m.wpIdx = make(map[*topology.Waypoint]int32, len(m.top.Waypoints))
	m.extIdx = map[*topology.Service]int32{}

	pl, err := newPlacement(cfg.Machines, m.top)
	if err != nil {
		return nil, err
	}
	zones := map[string]int32{}
	nodeIdx := make(map[string]int32, len(m.top.Nodes))
	for _, n := range m.top.Nodes {
		z, ok := zones[n.Zone]
		if !ok {
			z = int32(len(zones))
			zones[n.Zone] = z
		}
		nodeIdx[n.Name] = int32(len(m.nodes))
		m.nodes = append(m.nodes, m.newNode(pl, n.Name, z))
	}
	nodeOf := func(name string) int32 {
		if i, ok := nodeIdx[name]; ok {
			return i
		}
		// A pod on a node the topology does not list: add it.
		i := int32(len(m.nodes))
		nodeIdx[name] = i
		m.nodes = append(m.nodes, m.newNode(pl, name, 0))
		return i
	}
	for _, w := range m.top.Workloads {
		m.wlIdx[w] = int32(len(m.wls))
		m.wls = append(m.wls, wlRT{w: w, fan: m.strm.Rand("fanout/" + w.ID())})
	}
	for _, p := range m.top.Pods {
		i := int32(len(m.pods))
		m.podIdx[p] = i
		wl := int32(-1)
		if p.Workload != nil {
			wl = m.wlIdx[p.Workload]
			m.wls[wl].pods = append(m.wls[wl].pods, i)
		}
		wlLocal := int32(0)
		if wl >= 0 {
			wlLocal = int32(len(m.wls[wl].pods) - 1)
		}
		app := m.cfg.Apps[p.Workload]
		st := app.ServiceTime
		if st.Kind == "" {
			st = sim.DistSpec{Kind: sim.DistLognormal, Mean: float64(m.c.appMean), CV: m.c.appCV}
			if m.c.appCV == 1 {
				st = sim.DistSpec{Kind: sim.DistExponential, Mean: float64(m.c.appMean)}
			}
		}
		d, err := st.New(m.strm.Source("service/" + p.Namespace + "/" + p.Name))
		if err != nil {
			return nil, fmt.Errorf("service time of %s: %w", p.Workload.ID(), err)
		}
		conc := app.Concurrency
		if conc <= 0 {
			conc = m.c.appConc
		}
		node := nodeOf(p.Node)
		res := Resources{Request: m.c.appReq}
		if app.Resources != nil {
			res = *app.Resources
		}
		pr := podRT{p: p, node: node, wl: wl, wlLocal: wlLocal, mode: p.Mode, svcTime: d,
			app: newContainer(m.nodes[node].mach, m.strm, "app/"+p.ID(), res, conc, false, m.c.appAct)}
		ph := podHot{node: node, fanWl: -1, wlLocal: wlLocal, appSt: pr.app.workers[0], cpuFrac: m.c.appFrac}
		if ex, ok := d.(distuv.Exponential); ok && ex.Rate > 0 {
			if src, ok := ex.Src.(*rand.PCG); ok {
				// The stream is the pod's own: its state moves into the pod.
				ph.svcRate, ph.svcPCG, pr.svcTime = ex.Rate, *src, nil
			}
		}
		if app.CPUFraction != nil {
			ph.cpuFrac = *app.CPUFraction
		}
		if p.Mode == topology.Sidecar || (p.Workload != nil && p.Workload.Ingress) {
			res, workers := m.envoyResources(m.cfg.Sidecar, &m.c.sc, m.c.scWorkers)
			pr.sc = newContainer(m.nodes[node].mach, m.strm, podEnvoyName(p), res, workers, true, m.c.scAct)
		}
		if p.Mode == topology.Ambient {
			m.nodes[pr.node].pods++
		}
		m.pods = append(m.pods, pr)
		m.podHot = append(m.podHot, ph)
	}
	for _, w := range m.top.Waypoints {
		wi := int32(len(m.wps))
		m.wpIdx[w] = wi
		wr := wpRT{w: w}
		reps := w.Pods
		n := len(reps)
		if n == 0 {
			n = max(w.Replicas, 1)
		}
		for r := 0; r < n; r++ {
			node := int32(r % max(len(m.nodes), 1))
			name := w.Instance() + "/" + strconv.Itoa(r)
			if r < len(reps) {
				node = nodeOf(reps[r].Node)
			}
			wr.reps = append(wr.reps, int32(len(m.reps)))
			res, workers := m.envoyResources(m.cfg.Waypoint, &m.c.wp, m.c.wpWorkers)
			m.reps = append(m.reps, repRT{wp: wi, name: name, node: node,
				st: newContainer(m.nodes[node].mach, m.strm, name, res, workers, true, m.c.wpAct)})
		}
		m.wps = append(m.wps, wr)
	}
	if err := pl.check(nodeIdx); err != nil {
		return nil, err
	}
	for _, s := range m.top.Services {
		sr := svcRT{s: s, wp: -1}
		for _, p := range m.top.EndpointsOf(s) {
			sr.pods = append(sr.pods, m.podIdx[p])
		}
		if s.Waypoint != nil {
			sr.wp = m.wpIdx[s.Waypoint]
		}
		m.svcIdx[s] = int32(len(m.svcs))
		m.svcs = append(m.svcs, sr)
	}
	m.tel = newTelemetry(m)
	ztKeys := map[[2]int32]int32{}
	upKeys := map[[3]int32]int32{}
	for i := range cfg.Edges {
		if err := m.addEdge(&cfg.Edges[i], ztKeys, upKeys); err != nil {
			return nil, err
		}
	}
	for i := range m.pods {
		if p := &m.pods[i]; p.wl >= 0 && len(m.wls[p.wl].out) > 0 {
			m.podHot[i].fanWl = p.wl
		}
	}
	m.mem = m.newMemState()
	m.cp = newControlPlane(m)
	if err := m.cp.checkRenewal(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Mesh) addEdge(ec *EdgeConfig, ztKeys map[[2]int32]int32, upKeys map[[3]int32]int32) error {
	call := ec.Call
	if call == nil || call.From == nil || call.To == nil {
		return fmt.Errorf("models: edge without a resolved call")
	}
	id := call.From.ID() + "->" + call.To.ID()
	if call.To.Entry() != nil && len(m.cfg.Failures) > 0 {
		return fmt.Errorf("models: edge %s calls an external host: failures are not simulated together with egress edges (drop the failures, or the call to the ServiceEntry host)", id)
	}
	e := edgeRT{cfg: *ec, id: id, from: m.wlIdx[call.From], port: call.Port}
	e.src = m.wls[e.from].pods
	if ec.Pool < 1 {
		e.cfg.Pool = 1
	}
	if e.cfg.LB == "" {
		e.cfg.LB = LBRoundRobin
	}
	var err error
	rq, rs := ec.ReqSize, ec.RespSize
	if rq.Kind == "" {
		rq = sim.DistSpec{Kind: sim.DistConstant, Mean: 1024}
	}
	if rs.Kind == "" {
		rs = sim.DistSpec{Kind: sim.DistConstant, Mean: 1024}
	}
	if e.reqSz, err = sizeDist(rq, m.strm.Source("reqsize/"+id)); err != nil {
		return fmt.Errorf("edge %s request size: %w", id, err)
	}
	if e.respSz, err = sizeDist(rs, m.strm.Source("respsize/"+id)); err != nil {
		return fmt.Errorf("edge %s response size: %w", id, err)
	}
	e.lbR = m.strm.Rand("lb/" + id)
	e.arrR = m.strm.Rand("arrivals/" + id)
	if ec.ArrivalStream != "" {
		// A private copy of the named stream: every edge naming it draws
		// the same sequence.
		e.arrR = sim.NewStreams(m.cfg.Seed).Rand("arrivals/shared/" + ec.ArrivalStream)
	}
	e.fanInt = int(math.Floor(ec.FanOut))
	e.fanFrac = ec.FanOut - float64(e.fanInt)
	if e.port == 0 && len(call.To.Ports) > 0 {
		e.port = call.To.Ports[0].Port
	}
	if err := m.routeEdge(&e, ec, ztKeys, upKeys); err != nil {
		return err
	}
	if ec.Generator != nil {
		e.setupGenerator(ec.Generator)
	}
	if err := checkEdge(id, len(e.src), e.cfg.Pool, 0); err != nil {
		return err
	}
	e.pool, e.keepAlive, e.timeout = int32(e.cfg.Pool), e.cfg.KeepAlive, e.cfg.Timeout
	e.mux = e.cfg.Protocol == HTTP2 || e.cfg.Protocol == GRPC
	e.tcp = e.cfg.Protocol == TCP
	e.conns = make([]appConn, len(e.src)*e.cfg.Pool)
	for i := range e.conns {
		e.conns[i].pinned, e.conns[i].rep = -1, -1
	}
	if ec.Rate > 0 && e.users == 0 {
		e.rateNs = 1e9 / ec.Rate
	}
	ei := int32(len(m.edges))
	m.edges = append(m.edges, e)
	m.wls[e.from].out = append(m.wls[e.from].out, ei)
	return nil
}

// buildTarget resolves the path shape and pool slots of one backend of an
// edge: the pods dst of Service svc on port, reached on the path the
// addressed Service's request takes (its waypoint, when one routes it).
func (m *Mesh) buildTarget(e *edgeRT, svc *topology.Service, dst []int32, port int, path topology.Path, ztKeys map[[2]int32]int32, upKeys map[[3]int32]int32) (target, error) {
	si, ok := m.svcIdx[svc]
	if !ok {
		si = -1 // a ServiceEntry host
	}
	if err := checkEdge(e.id, len(e.src), 0, max(len(dst), len(m.reps))); err != nil {
		return target{}, err
	}
	tg := target{svc: si, dst: dst, port: port, wp: -1, src: 255, dstK: 255, ext: -1, egw: -1}
	if se := svc.Entry(); se != nil {
		x, err := m.external(svc, se)
		if err != nil {
			return target{}, fmt.Errorf("edge %s: %w", e.id, err)
		}
		tg.ext = x
		if err := m.egressGateway(&tg, se, port, path); err != nil {
			return target{}, fmt.Errorf("edge %s: %w", e.id, err)
		}
	}
	var srcPod *topology.Pod
	if len(e.src) > 0 {
		srcPod = m.pods[e.src[0]].p
	}
	tg.cat = path.Category
	tg.bypass = path.Bypass
	tg.catIdx = categoryIndex(path.Category)
	if srcPod != nil {
		switch {
		case srcPod.Workload != nil && srcPod.Workload.Ingress:
			tg.src = vScSrc
		case srcPod.Mode == topology.Ambient:
			tg.src = vZtSrc
		case srcPod.Mode == topology.Sidecar:
			tg.src = vScSrc
		}
	}
	if path.Waypoint != nil {
		tg.wp = m.wpIdx[path.Waypoint]
	}
	if len(tg.dst) > 0 {
		switch m.pods[tg.dst[0]].mode {
		case topology.Ambient:
			tg.dstK = vZtDst
		case topology.Sidecar:
			tg.dstK = vScDst
		}
	}
	switch {
	case tg.src == vZtSrc && tg.ext >= 0 && tg.wp < 0:
		// ztunnel passes egress without a waypoint straight out: no HBONE.
	case tg.src == vZtSrc:
		tg.hs = 1
	case tg.src == vScSrc && (tg.dstK != 255 || tg.egw >= 0):
		tg.hs = 2 // Istio mTLS to the destination's proxy, or the egress gateway
	}
	nd := len(tg.dst)
	// The upstream key of each destination: its pod, the egress gateway
	// pod, or the external host (a negative key).
	upKey := func(di int) int32 {
		switch {
		case tg.egw >= 0:
			return tg.egw
		case tg.ext >= 0:
			return -1 - tg.ext
		}
		return tg.dst[di]
	}
	if tg.ext >= 0 {
		nd = 1
	}
	// Next hops of the source ztunnel's pool.
	if tg.hs == 1 {
		if tg.wp >= 0 {
			tg.nextHops = len(m.wps[tg.wp].reps)
		} else {
			tg.nextHops = nd
		}
		tg.zt = make([]int32, len(e.src)*tg.nextHops)
		for si, sp := range e.src {
			for h := 0; h < tg.nextHops; h++ {
				var hopKey, hopNode int32
				if tg.wp >= 0 {
					r := m.wps[tg.wp].reps[h]
					hopKey, hopNode = -1-r, m.reps[r].node
				} else {
					hopKey, hopNode = tg.dst[h], m.pods[tg.dst[h]].node
				}
				k := [2]int32{sp, hopKey}
				slot, ok := ztKeys[k]
				if !ok {
					slot = int32(len(m.ztPool))
					ztKeys[k] = slot
					m.ztPool = append(m.ztPool, hboneSlot{srcNode: m.pods[sp].node, dstNode: hopNode})
				}
				tg.zt[si*tg.nextHops+h] = slot
			}
		}
	}
	// Envoy upstream pools: waypoint replica -> pod, or sidecar -> pod.
	if tg.wp >= 0 {
		reps := m.wps[tg.wp].reps
		tg.up = make([]int32, len(reps)*nd)
		for ri, r := range reps {
			for di := 0; di < nd; di++ {
				k := [3]int32{1, r, upKey(di)}
				slot, ok := upKeys[k]
				if !ok {
					slot = int32(len(m.upPool))
					upKeys[k] = slot
					m.upPool = append(m.upPool, envoySlot{})
				}
				tg.up[ri*nd+di] = slot
			}
		}
	} else if tg.hs == 2 {
		tg.up = make([]int32, len(e.src)*nd)
		for si, sp := range e.src {
			for di := 0; di < nd; di++ {
				k := [3]int32{2, sp, upKey(di)}
				slot, ok := upKeys[k]
				if !ok {
					slot = int32(len(m.upPool))
					upKeys[k] = slot
					m.upPool = append(m.upPool, envoySlot{})
				}
				tg.up[si*nd+di] = slot
			}
		}
	}
	tg.tel = m.tel.newTarget()
	tg.lat = newLatRec()
	return tg, nil
}

// Categories in result order.
var categories = []topology.Category{topology.CatOutOfMesh, topology.CatAmbientL4, topology.CatAmbientWaypoint, topology.CatSidecar, topology.CatMixed, topology.CatExternal}

func categoryIndex(c topology.Category) int {
	for i, x := range categories {
		if x == c {
			return i
		}
	}
	return 4 // CatMixed
}

// sortedStrings returns the keys of m sorted.
func sortedStrings[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sizeDist is a message size distribution: a constant of 0 bytes is an
// empty message (a bulk stream's bare acknowledgement), which sim's
// distributions refuse as a mean.
func sizeDist(d sim.DistSpec, src rand.Source) (sim.Dist, error) {
	if d.Kind == sim.DistConstant && d.Mean == 0 {
		return emptySize{}, nil
	}
	return d.New(src)
}

// emptySize always draws 0 bytes.
type emptySize struct{}

func (emptySize) Rand() float64 { return 0 }
func (emptySize) Mean() float64 { return 0 }
