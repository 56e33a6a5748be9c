package scenarios

import (
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/topology"
)

// DefaultMaxEvents is the event budget of one simulation (one mode of one
// run, one replication of a sweep point) when none is given: four times the
// largest built-in scenario (large-cluster, about 50 million events), a
// few minutes of one core. A run estimated above it is refused before it
// starts; a run that reaches it anyway is stopped (docs/limits.md).
const DefaultMaxEvents = 200_000_000

// Events per call of the model's request flow: a call visits each proxy
// on its path twice (request and response), each visit an arrival and the
// end of its CPU work on a node's cores, and the app once (arrival and
// CPU), plus its start and end; an external request adds its arrival.
// Measured on the built-in library (TestEventEstimate keeps estimates
// within a factor of two of the events the runs handle).
const (
	eventsPerHop     = 4
	eventsPerCall    = 4
	eventsPerArrival = 1
)

// generatorRate is a closed-loop load generator's request rate for the
// estimate: its qps, or, as fast as answers come (qps 0), one request per
// millisecond per request slot (an upper guess: answers within 1 ms).
func generatorRate(g *models.Generator) float64 {
	if g.QPS > 0 {
		return g.QPS
	}
	return float64(g.Connections*max(g.Window, 1)) * 1000
}

// maxCycleWorkloads bounds the workloads of one call-graph cycle solved
// exactly (a dense solve, O(n³)).
const maxCycleWorkloads = 2000

// EventEstimate is what one simulation is expected to cost, worked out
// from the configuration before it runs.
type EventEstimate struct {
	Events float64 // events the run is expected to handle
	// CallsPerRequest is the mean number of calls (every hop of the call
	// graph) one external request causes, fan-out and cycles included.
	CallsPerRequest float64
	// ExternalRPS is the offered external rate, surges averaged in.
	ExternalRPS float64
	// Cycles names the call-graph cycles (each a finite expected number
	// of calls: their fan-out product is below 1), "a/x -> a/y -> a/x".
	Cycles []string
}

// BudgetError is a run refused before it starts: its estimate is above the
// event budget.
type BudgetError struct {
	File     string
	Line     int // of the scenario's duration (or its top), where the budget is spent
	Mode     string
	Estimate EventEstimate
	Max      uint64
	Seconds  float64 // simulated seconds, warm-up included
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("%s:%d: duration: mode %s: the run would handle about %.3g events (%.4g external requests/s × %.4g calls each × %.4g s simulated, every hop a few events), above the event budget of %d; shorten the duration, lower the rates or fan-out, or raise --max-events",
		e.File, e.Line, e.Mode, e.Estimate.Events, e.Estimate.ExternalRPS, e.Estimate.CallsPerRequest, e.Seconds, e.Max)
}

// EstimateEvents works out what the run cfg describes will cost. It
// fails, naming the cycle, when the call graph has a cycle whose fan-out
// makes the expected number of calls per request infinite (every request
// would call around it forever).
func EstimateEvents(cfg models.Config) (EventEstimate, error) {
	var est EventEstimate
	top := cfg.Topology
	if top == nil {
		return est, nil
	}
	T := (cfg.Warmup + cfg.Duration).Seconds()
	wlIdx := map[*topology.Workload]int{}
	for i, w := range top.Workloads {
		wlIdx[w] = i
	}
	n := len(top.Workloads)
	// share[s] is how the endpoints of service s split over workloads.
	type part struct {
		wl   int
		frac float64
	}
	shares := map[*topology.Service][]part{}
	shareOf := func(s *topology.Service) []part {
		if p, ok := shares[s]; ok {
			return p
		}
		eps := top.EndpointsOf(s)
		count := map[int]int{}
		var order []int
		for _, p := range eps {
			if p.Workload == nil {
				continue
			}
			i, ok := wlIdx[p.Workload]
			if !ok {
				continue
			}
			if count[i] == 0 {
				order = append(order, i)
			}
			count[i]++
		}
		var out []part
		for _, i := range order {
			out = append(out, part{i, float64(count[i]) / float64(len(eps))})
		}
		shares[s] = out
		return out
	}
	surge := surgeFactors(cfg)
	// b: external requests/s served per workload; a: the fan-out graph
	// (requests served by `to` per request served by `from`).
	b := make([]float64, n)
	var arcs []fanArc
	ext := make([]float64, len(cfg.Edges))
	for i, e := range cfg.Edges {
		if e.Call == nil || e.Call.From == nil || e.Call.To == nil {
			continue
		}
		ext[i] = e.Rate * surge(e)
		if g := e.Generator; g != nil && g.Connections > 0 {
			ext[i] = generatorRate(g)
		}
		est.ExternalRPS += ext[i]
		from, ok := wlIdx[e.Call.From]
		for _, p := range shareOf(e.Call.To) {
			b[p.wl] += ext[i] * p.frac
			if ok && e.FanOut > 0 {
				arcs = append(arcs, fanArc{from, p.wl, e.FanOut * p.frac})
			}
		}
	}
	out := make([][]fanArc, n)
	for _, a := range arcs {
		out[a.from] = append(out[a.from], a)
	}
	// served[w]: requests/s workload w serves, solved SCC by SCC in
	// topological order (Tarjan yields sinks first).
	served := make([]float64, n)
	sccs := tarjan(n, func(v int, f func(int)) {
		for _, a := range out[v] {
			f(a.to)
		}
	})
	in := make([][]fanArc, n)
	for _, a := range arcs {
		in[a.to] = append(in[a.to], a)
	}
	for k := len(sccs) - 1; k >= 0; k-- {
		comp := sccs[k]
		member := map[int]int{}
		for j, v := range comp {
			member[v] = j
		}
		cyclic := len(comp) > 1
		rhs := make([]float64, len(comp))
		for j, v := range comp {
			rhs[j] = b[v]
			for _, a := range in[v] {
				if _, inside := member[a.from]; inside {
					if a.from == v {
						cyclic = true
					}
					continue
				}
				rhs[j] += a.w * served[a.from]
			}
		}
		if !cyclic {
			served[comp[0]] = rhs[0]
			continue
		}
		name := cycleName(top, comp, out, member)
		if len(comp) > maxCycleWorkloads {
			return est, fmt.Errorf("the call graph has a cycle through %d workloads (%s); at most %d can be checked", len(comp), name, maxCycleWorkloads)
		}
		x, err := solveCycle(comp, member, in, rhs)
		if err != nil {
			return est, fmt.Errorf("the call graph has a cycle (%s) whose fan-out makes every request call around it forever: the fan-outs around it multiply to 1 or more; break the cycle or give one of its edges fanout below 1", name)
		}
		for j, v := range comp {
			served[v] = x[j]
		}
		est.Cycles = append(est.Cycles, name)
	}
	// Calls per edge and the events they cost.
	var calls, events float64
	hops := map[*topology.Call]int{}
	for i, e := range cfg.Edges {
		if e.Call == nil || e.Call.From == nil || e.Call.To == nil {
			continue
		}
		c := ext[i]
		if from, ok := wlIdx[e.Call.From]; ok {
			c += e.FanOut * served[from]
		}
		h, ok := hops[e.Call]
		if !ok {
			h = len(top.PathFrom(firstPod(top, e.Call.From), e.Call.To, e.Call.Port).Hops)
			hops[e.Call] = h
		}
		calls += c
		events += c*float64(eventsPerCall+eventsPerHop*h) + ext[i]*eventsPerArrival
	}
	if est.ExternalRPS > 0 {
		est.CallsPerRequest = calls / est.ExternalRPS
	}
	est.Events = events * T
	if iv := cfg.SnapshotInterval; iv > 0 {
		est.Events += float64(cfg.Duration/iv) + 1
	}
	if a := cfg.WaypointAutoscale; a != nil && a.Period > 0 {
		est.Events += float64((cfg.Warmup+cfg.Duration)/a.Period) + 1
	}
	if math.IsNaN(est.Events) || math.IsInf(est.Events, 0) {
		est.Events = math.Inf(1)
	}
	sort.Strings(est.Cycles)
	return est, nil
}

// fanArc is one arc of the fan-out graph between workloads: each request
// `from` serves makes `to` serve w requests.
type fanArc struct {
	from, to int
	w        float64
}

// surgeFactors returns each edge's rate multiplier averaged over the run:
// traffic surges raise it for their window.
func surgeFactors(cfg models.Config) func(e models.EdgeConfig) float64 {
	total := float64(cfg.Warmup + cfg.Duration)
	var surges []models.Failure
	for _, f := range cfg.Failures {
		if f.Kind == models.FailTrafficSurge && f.Factor > 0 {
			surges = append(surges, f)
		}
	}
	return func(e models.EdgeConfig) float64 {
		k := 1.0
		if total <= 0 {
			return k
		}
		for _, f := range surges {
			if !globMatch(f.From, e.Call.From.ID()) || !globMatch(f.To, e.Call.To.ID()) {
				continue
			}
			d := f.Duration
			if d <= 0 || f.At+d > cfg.Warmup+cfg.Duration {
				d = cfg.Warmup + cfg.Duration - f.At
			}
			if d > 0 {
				k += (f.Factor - 1) * float64(d) / total
			}
		}
		return math.Max(k, 0)
	}
}

func globMatch(pattern, s string) bool {
	if pattern == "" || pattern == "*" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

func firstPod(top *topology.Topology, w *topology.Workload) *topology.Pod {
	for _, p := range top.Pods {
		if p.Workload == w {
			return p
		}
	}
	return nil
}

// solveCycle solves served = rhs + A·served inside one strongly connected
// component, and checks the fan-out around it is below 1: (I − A) must be
// a non-singular M-matrix, i.e. (I − A)·y = 1 has a positive solution.
func solveCycle(comp []int, member map[int]int, in [][]fanArc, rhs []float64) ([]float64, error) {
	k := len(comp)
	m := mat.NewDense(k, k, nil)
	for j := 0; j < k; j++ {
		m.Set(j, j, 1)
	}
	for j, v := range comp {
		for _, a := range in[v] {
			if i, ok := member[a.from]; ok {
				m.Set(j, i, m.At(j, i)-a.w)
			}
		}
	}
	var lu mat.LU
	lu.Factorize(m)
	if c := lu.Cond(); math.IsInf(c, 0) || c > 1e12 {
		return nil, fmt.Errorf("singular")
	}
	ones := make([]float64, k)
	for i := range ones {
		ones[i] = 1
	}
	var y mat.VecDense
	if err := lu.SolveVecTo(&y, false, mat.NewVecDense(k, ones)); err != nil {
		return nil, err
	}
	for i := 0; i < k; i++ {
		if v := y.AtVec(i); !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("divergent")
		}
	}
	var x mat.VecDense
	if err := lu.SolveVecTo(&x, false, mat.NewVecDense(k, rhs)); err != nil {
		return nil, err
	}
	out := make([]float64, k)
	for i := range out {
		out[i] = math.Max(x.AtVec(i), 0)
	}
	return out, nil
}

// cycleName names one cycle through the component: from its first
// workload by ID, along arcs inside it, back to the start.
func cycleName(top *topology.Topology, comp []int, out [][]fanArc, member map[int]int) string {
	start := comp[0]
	for _, v := range comp {
		if top.Workloads[v].ID() < top.Workloads[start].ID() {
			start = v
		}
	}
	// Breadth-first search back to start.
	prev := map[int]int{}
	queue := []int{start}
	found := false
	for len(queue) > 0 && !found {
		v := queue[0]
		queue = queue[1:]
		for _, a := range out[v] {
			if _, ok := member[a.to]; !ok {
				continue
			}
			if a.to == start {
				prev[start] = v
				found = true
				break
			}
			if _, seen := prev[a.to]; !seen {
				prev[a.to] = v
				queue = append(queue, a.to)
			}
		}
	}
	path := []string{top.Workloads[start].ID()}
	for v := prev[start]; found && v != start; v = prev[v] {
		path = append(path, top.Workloads[v].ID())
		if len(path) > len(comp) {
			break
		}
	}
	// path runs backwards from start; reverse all but the first.
	for i, j := 1, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	path = append(path, top.Workloads[start].ID())
	return strings.Join(path, " -> ")
}

// tarjan returns the strongly connected components of the graph with
// vertices 0..n-1 and successors succ, each a slice of vertices, sinks
// first (reverse topological order). Iterative, so a long call chain does
// not grow the goroutine stack.
func tarjan(n int, succ func(v int, f func(int))) [][]int {
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var out [][]int
	next := 0
	type frame struct {
		v     int
		succs []int
		i     int
	}
	for root := 0; root < n; root++ {
		if index[root] >= 0 {
			continue
		}
		var call []frame
		push := func(v int) {
			index[v], low[v] = next, next
			next++
			stack = append(stack, v)
			onStack[v] = true
			var ss []int
			succ(v, func(w int) { ss = append(ss, w) })
			call = append(call, frame{v: v, succs: ss})
		}
		push(root)
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.i < len(f.succs) {
				w := f.succs[f.i]
				f.i++
				if index[w] < 0 {
					push(w)
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				var comp []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				sort.Ints(comp)
				out = append(out, comp)
			}
		}
	}
	return out
}

// admit estimates the simulation cfg describes, refuses it when the
// estimate is above the event budget (max, 0: DefaultMaxEvents) or its call
// graph cycles forever, and sets the budget as the run's hard stop.
func (sc *Scenario) admit(cfg *models.Config, max uint64) (EventEstimate, error) {
	if max == 0 {
		max = DefaultMaxEvents
	}
	est, err := EstimateEvents(*cfg)
	if err != nil {
		field := "traffic.edges"
		if sc.spec != nil {
			field = "topology.spec.calls"
		}
		var doc yaml.Node
		_ = yaml.Unmarshal(sc.raw, &doc) // it parsed once already
		return est, &FieldError{File: sc.file, Line: lineOf(&doc, field), Field: field, Msg: err.Error()}
	}
	if est.Events > float64(max) {
		var doc yaml.Node
		_ = yaml.Unmarshal(sc.raw, &doc)
		return est, &BudgetError{File: sc.file, Line: max1(lineOf(&doc, "duration")), Mode: cfg.Mode, Estimate: est, Max: max, Seconds: (cfg.Warmup + cfg.Duration).Seconds()}
	}
	cfg.MaxEvents = max
	return est, nil
}

// cycleNotes are the summary's assumptions about call-graph cycles.
func cycleNotes(cycles []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cycles {
		if !seen[c] {
			seen[c] = true
			out = append(out, "The call graph has a cycle ("+c+"); its fan-outs multiply to less than 1, so each request makes a finite number of calls around it on average.")
		}
	}
	return out
}

func max1(n int) int { return max(n, 1) }
