package scenarios

import (
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/traverse"
	"gonum.org/v1/gonum/stat"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Blast radius: a failure's run is compared with the same design's run
// without it, on the same random streams. Before the failure the two runs
// are identical event for event, so every difference after it is the
// failure's doing. Definitions (docs/failures.md, "Results"):
//
//   - a call is bad when it failed, or succeeded slower than the scenario's
//     SLO latency (when one is set);
//   - a workload is transitively affected when its outgoing calls from the
//     failure's start to the end of the run have more bad calls than
//     without the failure (with an SLO, by more than max(2, 0.5%) of them,
//     as slow calls shift a little with the changed timing); its failure
//     fraction is that excess over its calls;
//   - a 1-second bucket of a service is unhealthy when its error rate is
//     more than 1 percentage point above the run without the failure, or
//     its p99 is above 2 × that run's p99 + 10 ms, or above the SLO when
//     that run's is not (p99 only with 20 calls or more in both), or
//     fewer than half as many calls finished (of 10 or more);
//   - time to detect: from the failure's start to the end of the first
//     unhealthy bucket of any affected service (-1: never visible);
//   - time to recover: from the failure's start to the end of the last
//     unhealthy bucket (0: never unhealthy; -1: still unhealthy when the
//     run ends).

// Blast-radius thresholds.
const (
	errRateSlack  = 0.01 // error-rate points above the failure-free run
	p99Factor     = 2.0  // p99 above factor × the failure-free p99 ...
	p99SlackMs    = 10.0 // ... plus this
	seriesBefore  = 5    // seconds of series before the failure
	seriesAfter   = 30   // seconds of series after the failure ends
	seriesMaxSpan = 120  // longest series (seconds)
	minP99Calls   = 20   // calls a bucket needs for its p99 to count
)

// blastInput is one failure in one design.
type blastInput struct {
	spec   *FailureSpec
	design string // mode or what-if design name
	top    *topology.Topology
	base   *models.RunResult // without failures
	fail   *models.RunResult // with this failure (alone, or all when that is the only one)
	impact models.FailureImpact
	slo    sim.Time
}

// edgeBad sums an edge's bad calls and calls over buckets [from, to).
func edgeBad(es *models.EdgeSeries, from, to int, sloMs float64) (bad, failed, calls int64) {
	for b := max(from, 0); b < min(to, len(es.Buckets)); b++ {
		x := &es.Buckets[b]
		calls += x.Calls
		failed += x.Failed
		bad += x.Failed
		if sloMs > 0 {
			// Latencies are sorted; failed calls are counted already, so
			// count slow ones beyond the failures.
			slow := int64(len(x.LatMs) - sort.SearchFloat64s(x.LatMs, sloMs+1e-9))
			bad += max(slow-x.Failed, 0)
		}
	}
	return
}

// blastRadius computes one failure's result in one design.
func blastRadius(in blastInput) results.FailureResult {
	f := in.spec
	r := results.FailureResult{Name: f.Name, Kind: f.Kind, Target: f.Target.String(), AtS: f.At.T().Seconds(), DurationS: f.Duration.T().Seconds(),
		Mode: in.design, Nodes: nonNil(in.impact.Nodes), Instances: nonNil(in.impact.Instances), Pods: nonNil(in.impact.Pods),
		Services: nonNil(in.impact.Services), Transitive: []results.Affected{}, Series: []results.SeriesPoint{},
		Unprotected: in.impact.Unprotected, PolicyBypassed: in.impact.PolicyBypassed, Note: in.impact.NotApplicable}
	r.FailedRequests = max(in.fail.Measured.Requests.Failed-in.base.Measured.Requests.Failed, 0)
	bs, fs := in.base.Series, in.fail.Series
	if bs == nil || fs == nil {
		return r
	}
	sloMs := in.slo.Milliseconds()
	atB := int(f.At.T() / sim.Second)
	nb := 0
	if len(fs.Edges) > 0 {
		nb = len(fs.Edges[0].Buckets)
	}
	svcHit := map[string]bool{}
	for _, s := range r.Services {
		svcHit[s] = true
	}
	byWl := excessByWorkload(fs, bs, atB, nb, sloMs, svcHit)
	r.Transitive = append(r.Transitive, transitive(in, byWl, sloMs)...)
	firstBad, lastBad := serviceSeries(&r, f, fs, bs, sortedKeys(svcHit), atB, nb, sloMs)
	at := f.At.T().Seconds()
	switch {
	case firstBad < 0:
		r.DetectS, r.RecoverS = -1, 0
	default:
		r.DetectS = round3(float64(firstBad+1) - at)
		r.RecoverS = round3(float64(lastBad+1) - at)
		if lastBad == nb-1 {
			r.RecoverS = -1
		}
	}
	return r
}

// workloadExcess is one calling workload's bad calls beyond those without
// the failure.
type workloadExcess struct {
	excess, calls int64
	hit           []string // services it calls with excess bad calls
}

// excessByWorkload compares each edge's bad calls from the failure's
// start with and without the failure, per calling workload; a called
// service with excess bad calls beyond noise is added to svcHit.
func excessByWorkload(fs, bs *models.Series, atB, nb int, sloMs float64, svcHit map[string]bool) map[string]*workloadExcess {
	byWl := map[string]*workloadExcess{}
	for i := range fs.Edges {
		fe, be := &fs.Edges[i], &bs.Edges[i]
		badF, _, callsF := edgeBad(fe, atB, nb, sloMs)
		badB, _, _ := edgeBad(be, atB, nb, sloMs)
		w := byWl[fe.From]
		if w == nil {
			w = &workloadExcess{}
			byWl[fe.From] = w
		}
		w.excess += badF - badB
		w.calls += callsF
		if badF-badB > tolerance(callsF, sloMs) {
			svcHit[fe.To] = true
			w.hit = append(w.hit, fe.To)
		}
	}
	return byWl
}

// transitive lists the callers with more bad calls than without the
// failure (beyond noise), by name, each with the chain of calls that
// reaches what failed.
func transitive(in blastInput, byWl map[string]*workloadExcess, sloMs float64) []results.Affected {
	var out []results.Affected
	direct := directWorkloads(in.top, in.impact)
	g := newCallGraph(in.top)
	for _, name := range sortedKeysOf(byWl) {
		w := byWl[name]
		if w.excess <= tolerance(w.calls, sloMs) || w.calls == 0 {
			continue
		}
		a := results.Affected{Workload: name, FailureFraction: round6(math.Min(float64(w.excess)/float64(w.calls), 1)), Chain: g.chain(name, direct)}
		if len(a.Chain) == 1 && !direct[name] && len(w.hit) > 0 {
			// Not through the call graph: a shared component (a waypoint)
			// carried both. Name the services whose calls went bad.
			sort.Strings(w.hit)
			a.Chain = append(a.Chain, w.hit...)
		}
		out = append(out, a)
	}
	return out
}

// serviceSeries adds each affected service's time series around failure
// f to r (from seriesBefore buckets before it to seriesAfter after it
// ends, at most seriesMaxSpan) and returns the first and last bucket from
// the failure's start in which any of them was unhealthy, -1 when none
// was.
func serviceSeries(r *results.FailureResult, f *FailureSpec, fs, bs *models.Series, svcs []string, atB, nb int, sloMs float64) (firstBad, lastBad int) {
	lo := max(atB-seriesBefore, 0)
	end := nb
	if f.Duration > 0 {
		end = min(nb, int((f.At.T()+f.Duration.T()+sim.Second-1)/sim.Second)+seriesAfter)
	}
	end = min(end, lo+seriesMaxSpan)
	firstBad, lastBad = -1, -1
	into := map[string][]int{} // service → edges calling it
	for i := range fs.Edges {
		into[fs.Edges[i].To] = append(into[fs.Edges[i].To], i)
	}
	for _, s := range svcs {
		for b := lo; b < nb; b++ {
			pf := servicePoint(fs, into[s], b)
			pb := servicePoint(bs, into[s], b)
			if b < end {
				r.Series = append(r.Series, results.SeriesPoint{Service: s, TS: float64(b), RateRPS: float64(pf.calls),
					ErrorRate: round4(pf.errRate()), P99Ms: round3(pf.p99)})
			}
			if b >= atB && unhealthy(pf, pb, sloMs) {
				if firstBad < 0 || b < firstBad {
					firstBad = b
				}
				if b > lastBad {
					lastBad = b
				}
			}
		}
	}
	return firstBad, lastBad
}

// tolerance is how many more bad calls than without the failure are noise.
func tolerance(calls int64, sloMs float64) int64 {
	if sloMs <= 0 {
		return 0
	}
	return max(2, calls/200)
}

type point struct {
	calls, failed int64
	p99           float64
}

func (p point) errRate() float64 {
	if p.calls == 0 {
		return 0
	}
	return float64(p.failed) / float64(p.calls)
}

// servicePoint merges bucket b of the given edges (those calling one
// service).
func servicePoint(s *models.Series, edges []int, b int) point {
	var p point
	var lat []float64
	for _, i := range edges {
		e := &s.Edges[i]
		if b >= len(e.Buckets) {
			continue
		}
		x := &e.Buckets[b]
		p.calls += x.Calls
		p.failed += x.Failed
		lat = append(lat, x.LatMs...)
	}
	if len(lat) > 0 {
		sort.Float64s(lat)
		p.p99 = stat.Quantile(0.99, stat.Empirical, lat, nil)
	}
	return p
}

func unhealthy(f, b point, sloMs float64) bool {
	if b.calls >= 10 && f.calls*2 < b.calls {
		return true
	}
	if f.calls == 0 {
		return false
	}
	if f.errRate()-b.errRate() > errRateSlack {
		return true
	}
	if f.calls < minP99Calls || b.calls < minP99Calls {
		return false // too few calls for a p99
	}
	if f.p99 > p99Factor*b.p99+p99SlackMs {
		return true
	}
	return sloMs > 0 && f.p99 > sloMs && b.p99 <= sloMs
}

// directWorkloads are the workloads of the failure's directly affected
// pods and services.
func directWorkloads(top *topology.Topology, im models.FailureImpact) map[string]bool {
	out := map[string]bool{}
	pods := map[string]bool{}
	for _, p := range im.Pods {
		pods[p] = true
	}
	for _, p := range top.Pods {
		if pods[p.ID()] && p.Workload != nil {
			out[p.Workload.ID()] = true
		}
	}
	for _, id := range im.Services {
		if s := serviceByID(top, id); s != nil {
			for _, p := range top.EndpointsOf(s) {
				if p.Workload != nil {
					out[p.Workload.ID()] = true
				}
			}
		}
	}
	return out
}

// callGraph is the workload call graph (caller → workload behind the
// called service) as a gonum directed graph.
type callGraph struct {
	g     *simple.DirectedGraph
	ids   map[string]int64
	names []string
}

func newCallGraph(top *topology.Topology) *callGraph {
	cg := &callGraph{g: simple.NewDirectedGraph(), ids: map[string]int64{}}
	id := func(name string) int64 {
		if i, ok := cg.ids[name]; ok {
			return i
		}
		i := int64(len(cg.names))
		cg.ids[name] = i
		cg.names = append(cg.names, name)
		cg.g.AddNode(simple.Node(i))
		return i
	}
	for _, w := range top.Workloads {
		id(w.ID())
	}
	for _, c := range top.Calls {
		if c.From == nil || c.To == nil {
			continue
		}
		from := id(c.From.ID())
		for _, p := range top.EndpointsOf(c.To) {
			if p.Workload == nil {
				continue
			}
			to := id(p.Workload.ID())
			if from != to && !cg.g.HasEdgeFromTo(from, to) {
				cg.g.SetEdge(simple.Edge{F: simple.Node(from), T: simple.Node(to)})
			}
		}
	}
	return cg
}

// chain is the shortest call chain from workload w to a directly affected
// workload (ties broken by name), w first; [w] when w is direct or none
// is reachable.
func (cg *callGraph) chain(w string, direct map[string]bool) []string {
	start, ok := cg.ids[w]
	if !ok || direct[w] {
		return []string{w}
	}
	// Distances from w (breadth-first).
	dist := map[int64]int{}
	var bf traverse.BreadthFirst
	bf.Walk(cg.g, simple.Node(start), func(n graph.Node, d int) bool {
		dist[n.ID()] = d
		return false
	})
	best := int64(-1)
	for name := range direct {
		i, ok := cg.ids[name]
		if !ok {
			continue
		}
		if d, ok := dist[i]; ok && (best < 0 || d < dist[best] || (d == dist[best] && name < cg.names[best])) {
			best = i
		}
	}
	if best < 0 {
		return []string{w}
	}
	// Walk back from the target along predecessors one step closer.
	path := []string{cg.names[best]}
	cur := best
	for cur != start {
		var pick int64 = -1
		preds := cg.g.To(cur)
		for preds.Next() {
			p := preds.Node().ID()
			if d, ok := dist[p]; ok && d == dist[cur]-1 && (pick < 0 || cg.names[p] < cg.names[pick]) {
				pick = p
			}
		}
		if pick < 0 {
			break
		}
		path = append(path, cg.names[pick])
		cur = pick
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path
}

// Upstream returns every workload that calls one of the given workloads,
// directly or through other calls (not including them), sorted: the
// transitive callers a failure of those workloads reaches.
func (cg *callGraph) upstream(of []string) []string {
	seen := map[int64]bool{}
	var queue []int64
	for _, w := range of {
		if i, ok := cg.ids[w]; ok {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		preds := cg.g.To(n)
		for preds.Next() {
			p := preds.Node().ID()
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	var out []string
	for i := range seen {
		out = append(out, cg.names[i])
	}
	sort.Strings(out)
	return out
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// compromise is the static security blast radius of an attacker owning
// the nodes: the identities usable there (ztunnel holds certificates for
// every service account with a pod on its node; a sidecar holds its own
// pod's; a waypoint replica its waypoint's) and the services those
// identities may call under the policies in force (topology.Evaluate with
// the request GET /).
func compromise(f *FailureSpec, top *topology.Topology, design string) results.FailureResult {
	r := results.FailureResult{Name: f.Name, Kind: f.Kind, Target: f.Target.String(), AtS: f.At.T().Seconds(), Mode: design,
		Nodes: []string{}, Instances: []string{}, Pods: []string{}, Services: []string{}, Transitive: []results.Affected{},
		Series: []results.SeriesPoint{}, DetectS: -1, Identities: []string{}, Reachable: []string{},
		Note: "static: identities whose credentials sit on the node and what they may call under the policies in force (GET /); nothing is simulated"}
	nodes, err := f.Target.resolveNodes(top)
	if err != nil {
		r.Note = "target: " + err.Error()
		return r
	}
	on := map[string]bool{}
	for _, n := range nodes {
		on[n] = true
	}
	r.Nodes = nodes
	c := credentialsOn(top, on)
	sort.Strings(c.pods)
	r.Pods = nonNil(c.pods)
	r.Instances = sortedKeys(c.inst)
	r.Services = sortedKeys(servicesOf(top, c.pods))
	r.Identities = sortedKeysOf(c.ids)
	r.Reachable = sortedKeys(reachableBy(top, c.ids))
	return r
}

// nodeCredentials are the mesh credentials on a set of nodes.
type nodeCredentials struct {
	ids  map[string]*topology.Pod // identity → a pod holding it
	inst map[string]bool          // proxy instances holding them
	pods []string                 // meshed pods on the nodes
}

// credentialsOn collects the credentials on the nodes in on: each meshed
// pod's (held by ztunnel/<node>, sidecar/<ns>/<pod> or, for an ingress
// gateway, gateway/<ns>/<pod>) and each waypoint replica's there.
func credentialsOn(top *topology.Topology, on map[string]bool) nodeCredentials {
	td := top.TrustDomain
	c := nodeCredentials{ids: map[string]*topology.Pod{}, inst: map[string]bool{}}
	for _, p := range top.Pods {
		if !on[p.Node] || (p.Workload != nil && p.Workload.System) {
			continue
		}
		in := p.Instance()
		if in == "" {
			continue // no mesh credential
		}
		c.inst[in] = true
		c.pods = append(c.pods, p.ID())
		if _, ok := c.ids[p.Identity(td)]; !ok {
			c.ids[p.Identity(td)] = p
		}
	}
	for _, w := range top.Waypoints {
		for i, p := range w.Pods {
			if on[p.Node] {
				c.inst[w.Instance()+"/"+strconv.Itoa(i)] = true
				if _, ok := c.ids[w.Identity(td)]; !ok {
					c.ids[w.Identity(td)] = p
				}
			}
		}
	}
	return c
}

// servicesOf is the set of services with an endpoint among pods.
func servicesOf(top *topology.Topology, pods []string) map[string]bool {
	svcs := map[string]bool{}
	for _, s := range top.Services {
		for _, p := range top.EndpointsOf(s) {
			for _, id := range pods {
				if p.ID() == id {
					svcs[s.ID()] = true
				}
			}
		}
	}
	return svcs
}

// reachableBy is the set of services one of the identities may call
// (GET / on the service's first port) under the policies in force.
func reachableBy(top *topology.Topology, ids map[string]*topology.Pod) map[string]bool {
	reach := map[string]bool{}
	for _, id := range sortedKeysOf(ids) {
		src := ids[id]
		for _, s := range top.Services {
			eps := top.EndpointsOf(s)
			if len(eps) == 0 || reach[s.ID()] {
				continue
			}
			port := 0
			if len(s.Ports) > 0 {
				port = s.Ports[0].Port
			}
			req := topology.Request{Method: "GET", Path: "/", Host: s.Name + "." + s.Namespace + ".svc.cluster.local", Service: s}
			if top.Evaluate(src, eps[0], s.Waypoint, s.TargetPort(port), req).Allow {
				reach[s.ID()] = true
			}
		}
	}
	return reach
}
