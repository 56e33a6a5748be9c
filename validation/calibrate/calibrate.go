package calibrate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/validation/crosscheck"
	"github.com/ambientsim/ambientsim/validation/harness"
)

// Observation is what one step measured: CPU seconds per proxy kind
// (summed over its processes), the CPU window, and the load's latency.
type Observation struct {
	Step    Step    `json:"step"`
	Name    string  `json:"name"`
	WindowS float64 `json:"window_s"` // loads' run time + settle: the span the CPU counters cover
	// CPUSeconds per kind: "ztunnel" (both node proxies), "waypoint",
	// "sidecar" (both sidecars), "echo" (all echo apps).
	CPUSeconds map[string]float64 `json:"cpu_seconds"`
	// Procs counts the processes of each kind (for the idle term).
	Procs map[string]int `json:"procs"`
	// ProcessCPU is CPU seconds per proxy process ("sidecar/sc-client"):
	// the fit uses one row per process when every observation has it, so
	// two processes of one kind in different roles (a client-side and a
	// server-side sidecar) are told apart. Records from before it existed
	// fit per kind.
	ProcessCPU map[string]float64 `json:"process_cpu_seconds,omitempty"`
	Calls      int64              `json:"calls"`
	Errors     int64              `json:"errors"`
	P50Ms      float64            `json:"p50_ms"`
	P90Ms      float64            `json:"p90_ms"`
	P99Ms      float64            `json:"p99_ms"`
	MeanMs     float64            `json:"mean_ms"`
	StdMs      float64            `json:"stddev_ms"`
}

// kindOf maps a harness process kind to the profile section it calibrates.
func kindOf(k harness.ProcessKind) string {
	switch k {
	case harness.KindNodeProxy:
		return "ztunnel"
	case harness.KindWaypoint:
		return "waypoint"
	case harness.KindSidecar:
		return "sidecar"
	case harness.KindEcho:
		return "echo"
	}
	return ""
}

// Observe turns one step's measurement into an Observation.
func Observe(s Step, m *harness.Measurement, settle time.Duration) (Observation, error) {
	o := Observation{Step: s, Name: s.Name(), CPUSeconds: map[string]float64{}, Procs: map[string]int{},
		ProcessCPU: map[string]float64{}, WindowS: m.End.Sub(m.Start).Seconds() + settle.Seconds()}
	for _, p := range m.Processes {
		if k := kindOf(p.Kind); k != "" {
			o.CPUSeconds[k] += p.CPUSeconds
			o.Procs[k]++
			if k != "echo" {
				o.ProcessCPU[p.Process] += p.CPUSeconds
			}
		}
	}
	if len(m.Loads) != 1 || m.Loads[0].Result == nil {
		msg := "no result"
		if len(m.Loads) == 1 && m.Loads[0].Err != "" {
			msg = m.Loads[0].Err
		}
		return o, fmt.Errorf("calibrate: step %s: the load generator failed: %s", o.Name, msg)
	}
	r := m.Loads[0].Result
	h := &r.DurationHistogram
	for _, p := range []struct {
		pc  float64
		dst *float64
	}{{50, &o.P50Ms}, {90, &o.P90Ms}, {99, &o.P99Ms}} {
		v, ok := h.Percentile(p.pc)
		if !ok {
			return o, fmt.Errorf("calibrate: step %s: the load result has no p%g", o.Name, p.pc)
		}
		*p.dst = v * 1e3
	}
	o.MeanMs, o.StdMs = h.Avg*1e3, h.StdDev*1e3
	for _, n := range r.RetCodes {
		o.Calls += n
	}
	o.Errors = r.Errors()
	if o.Errors*20 > o.Calls {
		return o, fmt.Errorf("calibrate: step %s: %d of %d requests failed; the data plane is not healthy (see the run's logs)", o.Name, o.Errors, o.Calls)
	}
	return o, nil
}

// BackendFactory returns a fresh backend for the data plane, with
// unpooled HBONE (one stream per connection) when asked.
type BackendFactory func(unpooled bool) (harness.Backend, error)

// Measure runs every step of the design on fresh environments of Plan()
// built by newBackend: one for the pooled steps and one for the unpooled
// ones (node proxies started with --pool-max-streams 1), each one Setup,
// one Run per step, Teardown — also on Ctrl-C. progress, if set, is called
// after each step. It returns the observations in design order and the
// backends' NotEmulated list.
func Measure(ctx context.Context, newBackend BackendFactory, d Design, progress func(i int, o Observation)) ([]Observation, []string, error) {
	obs := make([]Observation, len(d.Steps))
	var notEmulated []string
	done := 0
	for _, unpooled := range []bool{false, true} {
		var idx []int
		var exps []*harness.Experiment
		for i, s := range d.Steps {
			if s.Unpooled == unpooled {
				idx = append(idx, i)
				exps = append(exps, s.Experiment(d.Duration))
			}
		}
		if len(idx) == 0 {
			continue
		}
		b, err := newBackend(unpooled)
		if err != nil {
			return nil, nil, err
		}
		_, err = harness.SessionRuns(ctx, b, Plan(), exps, 60*time.Second, func(k int, m *harness.Measurement) error {
			i := idx[k]
			o, err := Observe(d.Steps[i], m, exps[k].Settle)
			if err != nil {
				return err
			}
			notEmulated = m.NotEmulated
			obs[i] = o
			if progress != nil {
				progress(done, o)
			}
			done++
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	if notEmulated == nil {
		notEmulated = []string{}
	}
	return obs, notEmulated, nil
}

// CPU parameters fitted per proxy kind, with the perturbation used to
// compute their column of the design matrix in the simulator. A tied
// parameter moves with its fitted one at the base profile's ratio: the
// client and server sides of an mTLS handshake always happen together, so
// the runs cannot tell them apart. A kind's wake-up CPU is fitted only
// when the processes sleep (a sleep time constant > 0): its column is zero
// otherwise.
var cpuParams = []cpuKind{
	{"ztunnel", []string{"ztunnel.per_message_cpu", "ztunnel.cross_node_message_cpu", "ztunnel.per_byte_cpu", "ztunnel.stream_open_cpu", "ztunnel.handshake_server_cpu", "ztunnel.activity.wakeup_cpu"}, []float64{10, 10, 1, 10, 50, 20},
		map[string]string{"ztunnel.handshake_client_cpu": "ztunnel.handshake_server_cpu"}},
	{"waypoint", []string{"waypoint.per_request_cpu", "waypoint.per_byte_cpu", "waypoint.activity.wakeup_cpu"}, []float64{10, 1, 20}, nil},
	{"sidecar", []string{"sidecar.per_request_cpu", "sidecar.inbound_request_cpu", "sidecar.per_byte_cpu", "sidecar.activity.wakeup_cpu"}, []float64{10, 10, 1, 20}, nil},
}

// needsPerProcess reports whether a parameter is told apart from the
// others only by per-process CPU rows (a role-specific cost).
func needsPerProcess(name string) bool { return strings.Contains(name, ".inbound_") }

// isWakeParam reports whether a parameter belongs to the wake-up model
// (fitted only when the processes sleep).
func isWakeParam(name string) bool { return strings.Contains(name, ".wakeup_") }

// Tie records a parameter set from a fitted one by a fixed ratio.
type Tie struct {
	Of    string  `json:"of"`
	Ratio float64 `json:"ratio"`
}

// latParam is a latency parameter fitted to the steps' medians, with its
// Jacobian perturbation, its upper bound (0 = none) and the parameters
// that share its value: one Go data plane runs every proxy kind here, so
// the share of CPU on the request's path and the wake-up latency of a
// sleeping proxy are one property of it, not three.
type latParam struct {
	name  string
	delta float64
	max   float64
	same  []string
}

// latParams are the latency parameters, in fit order.
var latParams = []latParam{
	{name: "app.service_time_mean", delta: 50},
	{name: "network.cross_node_latency", delta: 50},
	{name: "ztunnel.added_latency", delta: 50},
	{name: "waypoint.added_latency", delta: 50},
	{name: "sidecar.added_latency", delta: 50},
	{name: "ztunnel.activity.critical_path_fraction", delta: 0.1, max: 1,
		same: []string{"waypoint.activity.critical_path_fraction", "sidecar.activity.critical_path_fraction"}},
	{name: "ztunnel.activity.wakeup_latency", delta: 50,
		same: []string{"waypoint.activity.wakeup_latency", "sidecar.activity.wakeup_latency"}},
	{name: "app.wakeup_latency", delta: 50},
}

// sleepParams are set together to each candidate of SleepGrid: how fast
// an idle process sinks into deep sleep is a property of the machine (CPU
// idle states, the hypervisor) and the Go runtime, shared by every process.
var sleepParams = []string{"ztunnel.activity.sleep_time_constant", "waypoint.activity.sleep_time_constant", "sidecar.activity.sleep_time_constant", "app.sleep_time_constant"}

// SleepGrid are the sleep time constants (µs) the fit tries; 0 is the
// model without wake-ups. The CPU fits choose among them (the wake-up CPU
// is linear given the time constant, the time constant is not).
var SleepGrid = []float64{0, 500, 1000, 2000, 4000, 8000}

// minAppTime is the smallest app service time (µs) the fit may set: the
// simulator's service-time distributions need a positive mean.
const minAppTime = 1.0

// IdleParam names the nuisance parameter of a kind's fit: CPU cores one
// idle process of that kind burns (Go runtime, timers, certificate
// refresh). It is fitted so it does not bias the per-request costs; the
// profile schema has no field for it.
func IdleParam(kind string) string { return kind + ".idle_cores" }

// FitResult is a calibration: the fits, the profile they give, and what
// they were fitted on.
type FitResult struct {
	Design       Design        `json:"design"`
	Observations []Observation `json:"observations"`
	// CPU holds one fit per proxy kind (CPU seconds per step).
	CPU map[string]*Fit `json:"cpu"`
	// Latency is the fit of the steps' median latency (ms) to the latency
	// parameters, through the simulator (Gauss–Newton).
	Latency *Fit `json:"latency"`
	// LatencyIterations is how many Gauss–Newton steps it took.
	LatencyIterations int `json:"latency_iterations"`
	// AppCV is the app service-time coefficient of variation taken from
	// the out-of-mesh steps (their latency's stddev / mean).
	AppCV float64 `json:"app_cv"`
	// Tied lists parameters set from a fitted one (value = Ratio × it).
	Tied map[string]Tie `json:"tied,omitempty"`
	// SleepTimeConstantUS is the sleep time constant (µs) the CPU fits
	// chose from SleepGrid, and SleepSSE the candidates of the final round
	// with the CPU fits' total weighted squared residual at each.
	// NotIdentified lists latency parameters no fitted run's median moved
	// (in the final Gauss–Newton step): they keep their starting value
	// and are not reported as fitted.
	NotIdentified       []string         `json:"not_identified,omitempty"`
	SleepTimeConstantUS float64          `json:"sleep_time_constant_us"`
	SleepSSE            []SleepCandidate `json:"sleep_sse"`
	// Profile is the calibrated profile.
	Profile *models.Profile `json:"-"`
}

// FitOptions configure FitProfile.
type FitOptions struct {
	// Base is the profile whose other parameters the calibrated one keeps
	// (default models.DefaultProfile).
	Base string
	// Scratch is a directory for the simulator mirrors (required).
	Scratch string
	// SleepGrid overrides the sleep time constants tried (default
	// SleepGrid; tests that know the truth use fewer).
	SleepGrid []float64
}

// evaluator runs the simulator mirror of each step with a given profile.
type evaluator struct {
	scratch string
	design  Design
	scs     []*scenarios.Scenario
	n       int
}

type simOut struct {
	cpu  map[string]float64 // per kind
	proc map[string]float64 // per process
	p50  float64
}

func newEvaluator(scratch string, d Design) (*evaluator, error) {
	ev := &evaluator{scratch: scratch, design: d}
	plan := Plan()
	for i, s := range d.Steps {
		path, err := crosscheck.MirrorOn(filepath.Join(scratch, fmt.Sprintf("step%02d-%s", i, s.Name())), plan, s.Experiment(d.Duration), d.HostCores)
		if err != nil {
			return nil, err
		}
		sc, err := scenarios.Load(path)
		if err != nil {
			return nil, fmt.Errorf("calibrate: mirror of step %s: %w", s.Name(), err)
		}
		ev.scs = append(ev.scs, sc)
	}
	return ev, nil
}

// run simulates every step with profile p.
func (ev *evaluator) run(p *models.Profile) ([]simOut, error) {
	data, err := yaml.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	// Unpooled steps: HBONE connections carry one stream, as the node
	// proxies ran with --pool-max-streams 1.
	up := cloneProfile(p)
	up.HBONE.MaxStreamsPerConn.Value = 1
	upData, err := yaml.Marshal(up)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	ev.n++
	path := filepath.Join(ev.scratch, fmt.Sprintf("profile-%03d.yaml", ev.n))
	upPath := filepath.Join(ev.scratch, fmt.Sprintf("profile-%03d-unpooled.yaml", ev.n))
	for _, f := range []struct {
		path string
		data []byte
	}{{path, data}, {upPath, upData}} {
		if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
			return nil, fmt.Errorf("calibrate: %w", err)
		}
		defer os.Remove(f.path)
	}
	// The steps' simulations are independent and each is deterministic,
	// so they run in parallel (GOMAXPROCS workers); results land by index.
	plan := Plan()
	out := make([]simOut, len(ev.scs))
	errs := make([]error, len(ev.scs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(ev.scs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				prof := path
				if ev.design.Steps[i].Unpooled {
					prof = upPath
				}
				out[i], errs[i] = ev.step(i, prof, plan)
			}
		}()
	}
	for i := range ev.scs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// step simulates step i with the profile file prof.
func (ev *evaluator) step(i int, prof string, plan *harness.Plan) (simOut, error) {
	run, err := scenarios.Execute(ev.scs[i], scenarios.Options{Profile: prof})
	if err != nil {
		return simOut{}, fmt.Errorf("calibrate: simulate step %s: %w", ev.design.Steps[i].Name(), err)
	}
	pr, err := crosscheck.Predict(run, plan, ev.design.Steps[i].Experiment(ev.design.Duration))
	if err != nil {
		return simOut{}, err
	}
	o := simOut{cpu: map[string]float64{}, proc: map[string]float64{}, p50: pr.Loads[0].P50}
	for proc, sec := range pr.CPUSeconds {
		kind, _, _ := cutSlash(proc)
		o.cpu[kindOf(harness.ProcessKind(kind))] += sec
		o.proc[proc] += sec
	}
	return o, nil
}

func cutSlash(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// FitProfile fits the cost parameters to the observations. The design
// matrix comes from the simulator: column j of a kind's CPU fit is how much
// that kind's simulated CPU grows per unit of parameter j (the model is
// linear in its CPU costs, so one perturbation gives the exact count of
// messages, bytes, streams, handshakes or wake-ups the model charges), plus
// an idle term (window × processes). The sleep time constant is not linear:
// the CPU fits are solved at each SleepGrid candidate and the one with the
// smallest total weighted residual is kept. Latency parameters enter the
// simulated median almost linearly; they are fitted by Gauss–Newton on the
// simulator (Jacobian by perturbation), after the CPU costs, as CPU time is
// part of every crossing.
func FitProfile(obs []Observation, d Design, o FitOptions) (*FitResult, error) {
	if o.Scratch == "" {
		return nil, errors.New("calibrate: FitOptions.Scratch is required")
	}
	if len(obs) != len(d.Steps) {
		return nil, fmt.Errorf("calibrate: %d observations for a design of %d steps", len(obs), len(d.Steps))
	}
	base, err := models.LoadProfile(o.Base)
	if err != nil {
		return nil, err
	}
	ev, err := newEvaluator(o.Scratch, d)
	if err != nil {
		return nil, err
	}
	res := &FitResult{Design: d, Observations: obs, CPU: map[string]*Fit{}}
	if res.Tied, err = tiesOf(base); err != nil {
		return nil, err
	}
	res.AppCV = appCV(obs, base)
	lf := &latencyFit{ev: ev, base: base, obs: obs, theta: map[string]float64{}}
	for i := range obs {
		lf.labels = append(lf.labels, obs[i].Name)
	}
	grid := SleepGrid
	if o.SleepGrid != nil {
		grid = o.SleepGrid
	}

	// CPU, then latency, twice: the wake-up CPU a run is charged depends on
	// the idle gaps between messages, which the latency parameters move
	// (a proxy's off-path work ends later than the message leaves), so the
	// second round refits the CPU at the first round's latency values.
	var fit *Fit
	var cpuNI, latNI []string // parameters the runs cannot move
	tauIdx := -1
	for round := 0; round < 2; round++ {
		var best *cpuFit
		if best, tauIdx, err = bestSleepFit(ev, base, res, obs, lf.latencyValues(), grid, round, tauIdx); err != nil {
			return nil, err
		}
		res.CPU, cpuNI, res.SleepTimeConstantUS = best.fits, best.notIdentified, best.tau
		lf.values = best.values
		for _, name := range sleepParams {
			lf.values[name] = best.tau
		}
		lf.values["app.service_time_cv"] = res.AppCV
		if fit, latNI, err = lf.fit(best.tau, res); err != nil {
			return nil, err
		}
	}
	for j := range fit.Params {
		fit.Params[j].Value = lf.theta[fit.Params[j].Name]
	}
	res.NotIdentified = append(append([]string(nil), cpuNI...), latNI...)
	final, err := withValues(base, withTies(res.Tied, lf.with(lf.theta)))
	if err != nil {
		return nil, err
	}
	if err := lf.score(fit, final); err != nil {
		return nil, err
	}
	res.Latency = fit
	res.Profile = final
	return res, nil
}

// bestSleepFit fits the CPU, one linear fit per kind, at each sleep time
// constant of grid (in round two, only the first round's choice, tauIdx,
// and its grid neighbours), records each candidate's weighted SSE in
// res.SleepSSE and returns the best fit and its index in grid.
func bestSleepFit(ev *evaluator, base *models.Profile, res *FitResult, obs []Observation, latVals map[string]float64, grid []float64, round, tauIdx int) (*cpuFit, int, error) {
	var best *cpuFit
	res.SleepSSE = nil
	for i, tau := range grid {
		if round > 0 && (i < tauIdx-1 || i > tauIdx+1) {
			continue
		}
		cf, err := fitCPU(ev, base, res.Tied, obs, tau, latVals)
		if err != nil {
			return nil, 0, fmt.Errorf("calibrate: sleep time constant %g µs: %w", tau, err)
		}
		res.SleepSSE = append(res.SleepSSE, SleepCandidate{TauUS: tau, SSE: cf.sse})
		if best == nil || cf.sse < best.sse {
			best, tauIdx = cf, i
		}
	}
	return best, tauIdx, nil
}

// fit fits the latency parameters by Gauss–Newton on the simulator, at
// most five steps, until they move less than 0.02 (1 µs, or 0.002 of a
// fraction). Without sleeping (tau 0) the wake-up latencies have no
// effect and are left out.
func (lf *latencyFit) fit(tau float64, res *FitResult) (fit *Fit, notIdentified []string, err error) {
	if err := lf.params(tau); err != nil {
		return nil, nil, err
	}
	for it := 1; it <= 5; it++ {
		var moved float64
		if fit, notIdentified, moved, err = lf.step(it); err != nil {
			return nil, nil, err
		}
		res.LatencyIterations = it
		if moved < 0.02 {
			break
		}
	}
	return fit, notIdentified, nil
}

// tiesOf returns the tied parameters: the CPU ties at the base profile's
// ratios and the latency parameters that share one value.
func tiesOf(base *models.Profile) (map[string]Tie, error) {
	ties := map[string]Tie{}
	for _, k := range cpuParams {
		for tied, of := range k.tied {
			qt, err := quantity(base, tied)
			if err != nil {
				return nil, err
			}
			qo, err := quantity(base, of)
			if err != nil {
				return nil, err
			}
			if qo.Value <= 0 {
				return nil, fmt.Errorf("calibrate: base profile %s is 0: cannot tie %s to it", of, tied)
			}
			ties[tied] = Tie{Of: of, Ratio: qt.Value / qo.Value}
		}
	}
	for _, lp := range latParams {
		for _, same := range lp.same {
			ties[same] = Tie{Of: lp.name, Ratio: 1}
		}
	}
	return ties, nil
}

// appCV is the app's service-time variability: the median stddev/mean of
// the out-of-mesh steps' latency (the base profile's without such steps).
func appCV(obs []Observation, base *models.Profile) float64 {
	var cvs []float64
	for _, ob := range obs {
		if (ob.Step.Path == PathPlain || ob.Step.Path == PathPlainSN) && ob.MeanMs > 0 {
			cvs = append(cvs, ob.StdMs/ob.MeanMs)
		}
	}
	if len(cvs) == 0 {
		return base.App.ServiceTimeCV.Value
	}
	sort.Float64s(cvs)
	return math.Min(math.Max(cvs[len(cvs)/2], 0.05), 3)
}

// latencyFit is the Gauss–Newton fit of the latency parameters to the
// steps' measured medians, through the simulator.
type latencyFit struct {
	ev     *evaluator
	base   *models.Profile
	obs    []Observation
	labels []string
	values map[string]float64 // every other fitted parameter
	lat    []latParam         // the parameters being fitted
	theta  map[string]float64 // their current values
}

// params selects the latency parameters for sleep time constant tau (the
// wake-up latencies only when processes sleep), starting each from its
// current value or, the first time, the base profile's.
func (lf *latencyFit) params(tau float64) error {
	lf.lat = nil
	for _, lp := range latParams {
		if tau == 0 && isWakeParam(lp.name) {
			continue
		}
		lf.lat = append(lf.lat, lp)
		if _, ok := lf.theta[lp.name]; ok {
			continue // round two starts from round one's values
		}
		q, err := quantity(lf.base, lp.name)
		if err != nil {
			return err
		}
		lf.theta[lp.name] = q.Value
	}
	return nil
}

// with is the other values plus the latency parameters th (and the ones
// sharing their values).
func (lf *latencyFit) with(th map[string]float64) map[string]float64 {
	cur := map[string]float64{}
	for k, v := range lf.values {
		cur[k] = v
	}
	for _, lp := range lf.lat {
		cur[lp.name] = th[lp.name]
		for _, same := range lp.same {
			cur[same] = th[lp.name]
		}
	}
	return cur
}

// latencyValues is the latency parameters' current values alone (empty
// before the first latency fit).
func (lf *latencyFit) latencyValues() map[string]float64 {
	out := map[string]float64{}
	for _, lp := range lf.lat {
		out[lp.name] = lf.theta[lp.name]
		for _, same := range lp.same {
			out[same] = lf.theta[lp.name]
		}
	}
	return out
}

// jacobian simulates the steps at theta and with each parameter perturbed.
func (lf *latencyFit) jacobian() ([]simOut, [][]float64, error) {
	p0, err := withValues(lf.base, lf.with(lf.theta))
	if err != nil {
		return nil, nil, err
	}
	s0, err := lf.ev.run(p0)
	if err != nil {
		return nil, nil, err
	}
	jac := make([][]float64, len(lf.obs))
	for i := range jac {
		jac[i] = make([]float64, len(lf.lat))
	}
	for j, lp := range lf.lat {
		th := map[string]float64{}
		for k, v := range lf.theta {
			th[k] = v
		}
		// Perturb inside the bounds (a fraction at 1 is perturbed down).
		delta := lp.delta
		if lp.max > 0 && th[lp.name]+delta > lp.max {
			delta = -delta
		}
		th[lp.name] += delta
		pj, err := withValues(lf.base, lf.with(th))
		if err != nil {
			return nil, nil, err
		}
		sj, err := lf.ev.run(pj)
		if err != nil {
			return nil, nil, err
		}
		for i := range lf.obs {
			jac[i][j] = (sj[i].p50 - s0[i].p50) / delta
		}
	}
	return s0, jac, nil
}

// step is one damped Gauss–Newton step. It returns the linearised fit, the
// parameters no fitted run's median moves, and how far theta moved (in
// units of each parameter's perturbation).
//
// Unpooled steps identify handshake CPU; their latency is the handshakes'
// and a node proxy near saturation, which the latency parameters are not
// meant to explain: they are left out. A parameter no fitted run's median
// moves (a wake-up latency when the processes barely sleep at the chosen
// τ, within the histogram's resolution) cannot be estimated: it keeps its
// value, is left out of the step and is reported as not identified rather
// than failing the calibration.
func (lf *latencyFit) step(it int) (*Fit, []string, float64, error) {
	s0, jac, err := lf.jacobian()
	if err != nil {
		return nil, nil, 0, err
	}
	var active []int
	var notIdentified []string
	for j, lp := range lf.lat {
		moves := false
		for i, ob := range lf.obs {
			if !ob.Step.Unpooled && jac[i][j] != 0 {
				moves = true
			}
		}
		if moves {
			active = append(active, j)
		} else {
			notIdentified = append(notIdentified, lp.name)
		}
	}
	prob := Problem{}
	for _, j := range active {
		prob.Names = append(prob.Names, lf.lat[j].name)
		prob.NonNegative = append(prob.NonNegative, true)
	}
	var lobs []Observation
	for i, ob := range lf.obs {
		if ob.Step.Unpooled {
			continue
		}
		y := ob.P50Ms - s0[i].p50
		row := make([]float64, 0, len(active))
		for _, j := range active {
			y += jac[i][j] * lf.theta[lf.lat[j].name]
			row = append(row, jac[i][j])
		}
		prob.X = append(prob.X, row)
		prob.Y = append(prob.Y, y)
		prob.Labels = append(prob.Labels, lf.labels[i])
		lobs = append(lobs, ob)
	}
	prob.Weights = relativeWeights(lobs, func(o Observation) float64 { return o.P50Ms })
	fit, err := Solve(prob)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("calibrate: latency: %w", err)
	}
	moved := 0.0
	for k, e := range fit.Params {
		lp := lf.lat[active[k]]
		v := e.Value
		if lp.name == "app.service_time_mean" {
			v = math.Max(v, minAppTime) // a distribution's mean must be positive
		}
		if lp.max > 0 {
			v = math.Min(v, lp.max)
		}
		// A damped step: the medians are histogram quantiles of a
		// stochastic simulation, so full Gauss–Newton steps can oscillate;
		// half steps after the first converge.
		if it > 1 {
			v = lf.theta[lp.name] + 0.5*(v-lf.theta[lp.name])
		}
		moved = math.Max(moved, math.Abs(v-lf.theta[lp.name])/lp.delta)
		lf.theta[lp.name] = v
	}
	return fit, notIdentified, moved, nil
}

// score restates the latency fit against the final profile's simulation:
// fitted values and residuals for every step (unpooled ones included, for
// the report); R² and RMS over the steps the fit used.
func (lf *latencyFit) score(fit *Fit, final *models.Profile) error {
	sf, err := lf.ev.run(final)
	if err != nil {
		return err
	}
	obs := lf.obs
	fit.Fitted, fit.Residuals, fit.Labels = make([]float64, len(obs)), make([]float64, len(obs)), lf.labels
	var ss, mean, tot float64
	n := 0
	for i, ob := range obs {
		fit.Fitted[i] = sf[i].p50
		fit.Residuals[i] = ob.P50Ms - sf[i].p50
		if !ob.Step.Unpooled {
			ss += fit.Residuals[i] * fit.Residuals[i]
			mean += ob.P50Ms
			n++
		}
	}
	mean /= float64(max(n, 1))
	for _, ob := range obs {
		if !ob.Step.Unpooled {
			tot += (ob.P50Ms - mean) * (ob.P50Ms - mean)
		}
	}
	fit.RMS = math.Sqrt(ss / float64(max(n, 1)))
	if tot > 0 {
		fit.R2 = 1 - ss/tot
	}
	return nil
}

// SleepCandidate is one sleep time constant the CPU fits tried and their
// total weighted squared residual there.
type SleepCandidate struct {
	TauUS float64 `json:"tau_us"`
	SSE   float64 `json:"sse"`
}

// dropZeroColumns removes from p the first nParams columns that are zero
// in every row (no run moves them) and returns their names; the columns
// after them (nuisance terms) are kept.
func dropZeroColumns(p Problem, nParams int) (Problem, []string) {
	keep := make([]bool, len(p.Names))
	var dropped []string
	for j := range p.Names {
		keep[j] = j >= nParams
		for _, row := range p.X {
			if row[j] != 0 {
				keep[j] = true
				break
			}
		}
		if !keep[j] {
			dropped = append(dropped, p.Names[j])
		}
	}
	if dropped == nil {
		return p, nil
	}
	q := Problem{Weights: p.Weights, Y: p.Y, Labels: p.Labels}
	for j, name := range p.Names {
		if keep[j] {
			q.Names = append(q.Names, name)
			q.NonNegative = append(q.NonNegative, j < len(p.NonNegative) && p.NonNegative[j])
		}
	}
	for _, row := range p.X {
		var r []float64
		for j, v := range row {
			if keep[j] {
				r = append(r, v)
			}
		}
		q.X = append(q.X, r)
	}
	return q, dropped
}

// withTies returns vals plus the tied parameters' values (Ratio × the
// value they follow, when it is in vals).
func withTies(ties map[string]Tie, vals map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range vals {
		out[k] = v
	}
	for tied, t := range ties {
		if v, ok := vals[t.Of]; ok {
			out[tied] = v * t.Ratio
		}
	}
	return out
}

// cpuKind is one proxy kind's fitted CPU parameters, the perturbation of
// each that measures its column, and its tied parameters.
type cpuKind struct {
	kind   string
	params []string
	delta  []float64
	tied   map[string]string // tied parameter → the fitted one it follows
}

// cpuFit is the CPU fits at one sleep time constant.
type cpuFit struct {
	notIdentified []string // parameters no run charges
	tau           float64
	fits          map[string]*Fit
	values        map[string]float64 // fitted parameters, ties included
	sse           float64            // total weighted squared residual
}

// fitCPU fits every kind's CPU parameters with the processes' sleep time
// constant tau µs (0: never sleep). A second pass recomputes the columns at the first
// pass's values: the model is linear in its CPU costs up to requests
// crossing the window's edges as they slow down, and wake-ups moving as
// the off-path work changes when a proxy's last work ends.
func fitCPU(ev *evaluator, base *models.Profile, ties map[string]Tie, obs []Observation, tau float64, latVals map[string]float64) (*cpuFit, error) {
	values := map[string]float64{}
	for name, v := range latVals {
		values[name] = v
	}
	for _, name := range sleepParams {
		values[name] = tau
	}
	out := &cpuFit{tau: tau, fits: map[string]*Fit{}}
	for pass := 0; pass < 2; pass++ {
		cur, err := withValues(base, withTies(ties, values))
		if err != nil {
			return nil, err
		}
		at0, err := ev.run(cur)
		if err != nil {
			return nil, err
		}
		next := map[string]float64{}
		for name, v := range values {
			if _, isLat := latVals[name]; isLat || strings.HasSuffix(name, "sleep_time_constant") {
				next[name] = v
			}
		}
		out.sse = 0
		cp := &cpuPass{ev: ev, base: base, ties: ties, obs: obs, tau: tau, pass: pass, values: values, cur: cur, at0: at0, out: out}
		for _, k := range cpuParams {
			if err := cp.fitKind(k, next); err != nil {
				return nil, err
			}
		}
		values = withTies(ties, next)
	}
	out.values = values
	return out, nil
}

// cpuPass is one pass of fitCPU: the profile it linearises at (cur, with
// values) and the simulated runs there (at0).
type cpuPass struct {
	ev     *evaluator
	base   *models.Profile
	ties   map[string]Tie
	obs    []Observation
	tau    float64
	pass   int
	values map[string]float64
	cur    *models.Profile
	at0    []simOut
	out    *cpuFit
}

// fitKind fits one kind's CPU parameters and its idle term, adds the fit
// to the result and its values to next.
func (cp *cpuPass) fitKind(k cpuKind, next map[string]float64) error {
	params, delta := cp.kindParams(k)
	cols, err := cp.perturbed(params, delta)
	if err != nil {
		return err
	}
	prob, measured := cp.problem(k, params, delta, cols)
	// A parameter no run charges (a kind the design does not
	// exercise) cannot be estimated: it keeps its value and is
	// reported as not identified.
	prob, dropped := dropZeroColumns(prob, len(params))
	for _, name := range dropped {
		q, _ := quantity(cp.cur, name)
		next[name] = q.Value
		if cp.pass == 1 {
			cp.out.notIdentified = append(cp.out.notIdentified, name)
		}
	}
	f, err := Solve(prob)
	if err != nil {
		return fmt.Errorf("%s CPU: %w", k.kind, err)
	}
	for i, r := range f.Residuals {
		cp.out.sse += (r * prob.Weights[i]) * (r * prob.Weights[i])
	}
	// Residuals and R² against the measured CPU itself.
	rescore(f, measured)
	cp.out.fits[k.kind] = f
	for _, e := range f.Params {
		if e.Name != IdleParam(k.kind) {
			next[e.Name] = e.Value
		}
	}
	return nil
}

// kindParams are the kind's parameters this pass can fit, with their
// perturbations: no wake-up CPU without sleeping, and a role's extra cost
// only from per-process rows (summed per kind it moves with the
// per-request cost; it is then reported as not identified).
func (cp *cpuPass) kindParams(k cpuKind) (params []string, delta []float64) {
	obs := cp.obs
	perProc := len(obs) > 0 && len(cpuRows(obs[:1], k.kind)) > 0 && cpuRows(obs[:1], k.kind)[0].proc != ""
	for j, name := range k.params {
		if cp.tau == 0 && isWakeParam(name) {
			continue
		}
		if needsPerProcess(name) && !perProc {
			if cp.pass == 1 {
				cp.out.notIdentified = append(cp.out.notIdentified, name)
			}
			continue
		}
		params = append(params, name)
		delta = append(delta, k.delta[j])
	}
	return params, delta
}

// perturbed runs the simulator once per parameter, that parameter raised
// by its delta: the design matrix's columns.
func (cp *cpuPass) perturbed(params []string, delta []float64) ([][]simOut, error) {
	cols := make([][]simOut, len(params))
	for j, name := range params {
		q, err := quantity(cp.cur, name)
		if err != nil {
			return nil, err
		}
		vals := map[string]float64{}
		for n, v := range cp.values {
			vals[n] = v
		}
		vals[name] = q.Value + delta[j]
		pp, err := withValues(cp.base, withTies(cp.ties, vals))
		if err != nil {
			return nil, err
		}
		if cols[j], err = cp.ev.run(pp); err != nil {
			return nil, err
		}
	}
	return cols, nil
}

// problem is the kind's linear least-squares problem: one row per measured
// CPU row (per kind, or per process), the columns the simulated CPU's
// growth per unit of each parameter plus the idle term, y the measured CPU
// less the simulated CPU at cur plus the columns at cur's values; rows
// weighted relatively. measured is the measured CPU seconds of each row.
func (cp *cpuPass) problem(k cpuKind, params []string, delta []float64, cols [][]simOut) (prob Problem, measured []float64) {
	for _, name := range params {
		prob.Names = append(prob.Names, name)
		prob.NonNegative = append(prob.NonNegative, true)
	}
	prob.Names = append(prob.Names, IdleParam(k.kind))
	prob.NonNegative = append(prob.NonNegative, true)
	for _, r := range cpuRows(cp.obs, k.kind) {
		i, ob := r.obs, cp.obs[r.obs]
		sim0 := func(o simOut) float64 {
			if r.proc == "" {
				return o.cpu[k.kind]
			}
			return o.proc[r.proc]
		}
		row := make([]float64, 0, len(params)+1)
		y := r.cpu - sim0(cp.at0[i])
		for j, name := range params {
			x := (sim0(cols[j][i]) - sim0(cp.at0[i])) / delta[j]
			q, _ := quantity(cp.cur, name)
			y += x * q.Value
			row = append(row, x)
		}
		row = append(row, ob.WindowS*float64(r.procs))
		prob.X = append(prob.X, row)
		prob.Y = append(prob.Y, y)
		prob.Labels = append(prob.Labels, r.label)
		measured = append(measured, r.cpu)
	}
	prob.Weights = relativeWeightsOf(measured)
	return prob, measured
}

// rescore restates a CPU fit's fitted values and R² in terms of the
// measured CPU seconds (the problem's y is shifted by the simulated CPU at
// the linearisation point; the residuals are the same).
func rescore(f *Fit, measured []float64) {
	var mean, tot, ss float64
	for i, m := range measured {
		f.Fitted[i] = m - f.Residuals[i]
		mean += m / float64(len(measured))
		ss += f.Residuals[i] * f.Residuals[i]
	}
	for _, m := range measured {
		tot += (m - mean) * (m - mean)
	}
	f.R2 = math.NaN()
	if tot > 0 {
		f.R2 = 1 - ss/tot
	}
}

// cpuRow is one row of a kind's CPU fit: one process of one run, or the
// kind's sum over a run's processes (records without per-process CPU).
type cpuRow struct {
	obs   int
	proc  string // "" = the kind's sum
	procs int    // processes the row covers (for the idle term)
	cpu   float64
	label string
}

// cpuRows returns the rows of kind's CPU fit: per process when every
// observation recorded per-process CPU, per kind otherwise.
func cpuRows(obs []Observation, kind string) []cpuRow {
	perProc := true
	for _, ob := range obs {
		if ob.ProcessCPU == nil {
			perProc = false
		}
	}
	var rows []cpuRow
	for i, ob := range obs {
		if !perProc {
			rows = append(rows, cpuRow{obs: i, procs: ob.Procs[kind], cpu: ob.CPUSeconds[kind], label: ob.Name})
			continue
		}
		var names []string
		for p := range ob.ProcessCPU {
			if k, _, _ := cutSlash(p); kindOf(harness.ProcessKind(k)) == kind {
				names = append(names, p)
			}
		}
		sort.Strings(names)
		for _, p := range names {
			rows = append(rows, cpuRow{obs: i, proc: p, procs: 1, cpu: ob.ProcessCPU[p], label: ob.Name + " " + p})
		}
	}
	return rows
}

// relativeWeights weights each observation by 1/max(y, 10% of the largest
// y): the fit then minimises relative errors (the validation targets are
// relative), without letting near-zero observations (a proxy idle in a
// run that does not use it) dominate.
func relativeWeights(obs []Observation, y func(Observation) float64) []float64 {
	ys := make([]float64, len(obs))
	for i, o := range obs {
		ys[i] = y(o)
	}
	return relativeWeightsOf(ys)
}

// relativeWeightsOf is relativeWeights over plain values.
func relativeWeightsOf(ys []float64) []float64 {
	top := 0.0
	for _, y := range ys {
		top = math.Max(top, y)
	}
	floor := math.Max(0.1*top, 1e-9)
	w := make([]float64, len(ys))
	for i, y := range ys {
		w[i] = 1 / math.Max(y, floor)
	}
	return w
}
