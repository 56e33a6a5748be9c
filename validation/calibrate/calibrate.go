package calibrate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
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
	Procs  map[string]int `json:"procs"`
	Calls  int64          `json:"calls"`
	Errors int64          `json:"errors"`
	P50Ms  float64        `json:"p50_ms"`
	P90Ms  float64        `json:"p90_ms"`
	P99Ms  float64        `json:"p99_ms"`
	MeanMs float64        `json:"mean_ms"`
	StdMs  float64        `json:"stddev_ms"`
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
		WindowS: m.End.Sub(m.Start).Seconds() + settle.Seconds()}
	for _, p := range m.Processes {
		if k := kindOf(p.Kind); k != "" {
			o.CPUSeconds[k] += p.CPUSeconds
			o.Procs[k]++
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
// the runs cannot tell them apart.
var cpuParams = []struct {
	kind   string
	params []string
	delta  []float64
	tied   map[string]string // tied parameter → the fitted one it follows
}{
	{"ztunnel", []string{"ztunnel.per_message_cpu", "ztunnel.per_byte_cpu", "ztunnel.stream_open_cpu", "ztunnel.handshake_server_cpu"}, []float64{10, 1, 10, 50},
		map[string]string{"ztunnel.handshake_client_cpu": "ztunnel.handshake_server_cpu"}},
	{"waypoint", []string{"waypoint.per_request_cpu", "waypoint.per_byte_cpu"}, []float64{10, 1}, nil},
	{"sidecar", []string{"sidecar.per_request_cpu", "sidecar.per_byte_cpu"}, []float64{10, 1}, nil},
}

// Tie records a parameter set from a fitted one by a fixed ratio.
type Tie struct {
	Of    string  `json:"of"`
	Ratio float64 `json:"ratio"`
}

// latParams are the latency parameters fitted to the steps' medians.
var latParams = []string{"app.service_time_mean", "network.cross_node_latency", "ztunnel.added_latency", "waypoint.added_latency", "sidecar.added_latency"}

const latDelta = 50.0 // µs perturbation for the latency Jacobian

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
}

// evaluator runs the simulator mirror of each step with a given profile.
type evaluator struct {
	scratch string
	design  Design
	scs     []*scenarios.Scenario
	n       int
}

type simOut struct {
	cpu map[string]float64
	p50 float64
}

func newEvaluator(scratch string, d Design) (*evaluator, error) {
	ev := &evaluator{scratch: scratch, design: d}
	plan := Plan()
	for i, s := range d.Steps {
		path, err := crosscheck.Mirror(filepath.Join(scratch, fmt.Sprintf("step%02d-%s", i, s.Name())), plan, s.Experiment(d.Duration))
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
	plan := Plan()
	out := make([]simOut, len(ev.scs))
	for i, sc := range ev.scs {
		prof := path
		if ev.design.Steps[i].Unpooled {
			prof = upPath
		}
		run, err := scenarios.Execute(sc, scenarios.Options{Profile: prof})
		if err != nil {
			return nil, fmt.Errorf("calibrate: simulate step %s: %w", ev.design.Steps[i].Name(), err)
		}
		pr, err := crosscheck.Predict(run, plan, ev.design.Steps[i].Experiment(ev.design.Duration))
		if err != nil {
			return nil, err
		}
		o := simOut{cpu: map[string]float64{}, p50: pr.Loads[0].P50}
		for proc, sec := range pr.CPUSeconds {
			kind, _, _ := cutSlash(proc)
			o.cpu[kindOf(harness.ProcessKind(kind))] += sec
		}
		out[i] = o
	}
	return out, nil
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
// matrix comes from the simulator itself: column j of a kind's CPU fit is
// how much that kind's simulated CPU grows per unit of parameter j (the
// model is linear in its CPU costs, so one perturbation gives the exact
// count of messages, bytes or streams the model charges), plus an idle
// term (window × processes). Latency parameters enter the simulated
// median almost linearly; they are fitted by Gauss–Newton on the
// simulator (Jacobian by perturbation), after the CPU costs, as CPU time
// is part of every crossing.
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
	res := &FitResult{Design: d, Observations: obs, CPU: map[string]*Fit{}, Tied: map[string]Tie{}}
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
			res.Tied[tied] = Tie{Of: of, Ratio: qt.Value / qo.Value}
		}
	}
	// withTies adds the tied parameters' values to vals.
	withTies := func(vals map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for k, v := range vals {
			out[k] = v
		}
		for tied, t := range res.Tied {
			if v, ok := vals[t.Of]; ok {
				out[tied] = v * t.Ratio
			}
		}
		return out
	}
	labels := make([]string, len(obs))
	for i := range obs {
		labels[i] = obs[i].Name
	}

	// CPU: one linear fit per kind; a second pass recomputes the columns
	// at the first pass's values (the model is linear in its CPU costs up
	// to requests crossing the window's edges as they slow down).
	values := map[string]float64{}
	for pass := 0; pass < 2; pass++ {
		cur, err := withValues(base, withTies(values))
		if err != nil {
			return nil, err
		}
		at0, err := ev.run(cur)
		if err != nil {
			return nil, err
		}
		next := map[string]float64{}
		for _, k := range cpuParams {
			prob := Problem{Labels: labels}
			cols := make([][]simOut, len(k.params))
			for j, name := range k.params {
				q, err := quantity(cur, name)
				if err != nil {
					return nil, err
				}
				pp, err := withValues(cur, withTies(map[string]float64{name: q.Value + k.delta[j]}))
				if err != nil {
					return nil, err
				}
				if cols[j], err = ev.run(pp); err != nil {
					return nil, err
				}
				prob.Names = append(prob.Names, name)
				prob.NonNegative = append(prob.NonNegative, true)
			}
			prob.Names = append(prob.Names, IdleParam(k.kind))
			prob.NonNegative = append(prob.NonNegative, true)
			for i, ob := range obs {
				row := make([]float64, 0, len(k.params)+1)
				y := ob.CPUSeconds[k.kind] - at0[i].cpu[k.kind]
				for j, name := range k.params {
					x := (cols[j][i].cpu[k.kind] - at0[i].cpu[k.kind]) / k.delta[j]
					q, _ := quantity(cur, name)
					y += x * q.Value
					row = append(row, x)
				}
				row = append(row, ob.WindowS*float64(ob.Procs[k.kind]))
				prob.X = append(prob.X, row)
				prob.Y = append(prob.Y, y)
			}
			prob.Weights = relativeWeights(obs, func(o Observation) float64 { return o.CPUSeconds[k.kind] })
			f, err := Solve(prob)
			if err != nil {
				return nil, fmt.Errorf("calibrate: %s CPU: %w", k.kind, err)
			}
			// Residuals and R² against the measured CPU itself.
			rescore(f, prob, obs, k.kind)
			res.CPU[k.kind] = f
			for _, name := range k.params {
				e, _ := f.Param(name)
				next[name] = e.Value
			}
		}
		values = withTies(next)
	}

	// The app's service-time variability from the out-of-mesh steps.
	var cvs []float64
	for _, ob := range obs {
		if (ob.Step.Path == PathPlain || ob.Step.Path == PathPlainSN) && ob.MeanMs > 0 {
			cvs = append(cvs, ob.StdMs/ob.MeanMs)
		}
	}
	res.AppCV = base.App.ServiceTimeCV.Value
	if len(cvs) > 0 {
		sort.Float64s(cvs)
		res.AppCV = math.Min(math.Max(cvs[len(cvs)/2], 0.05), 3)
	}
	values["app.service_time_cv"] = res.AppCV

	// Latency: Gauss–Newton on the simulator.
	theta := map[string]float64{}
	for _, name := range latParams {
		q, err := quantity(base, name)
		if err != nil {
			return nil, err
		}
		theta[name] = q.Value
	}
	var fit *Fit
	for it := 1; it <= 4; it++ {
		cur := map[string]float64{}
		for k, v := range values {
			cur[k] = v
		}
		for k, v := range theta {
			cur[k] = v
		}
		p0, err := withValues(base, cur)
		if err != nil {
			return nil, err
		}
		s0, err := ev.run(p0)
		if err != nil {
			return nil, err
		}
		jac := make([][]float64, len(obs))
		for i := range jac {
			jac[i] = make([]float64, len(latParams))
		}
		for j, name := range latParams {
			pj, err := withValues(p0, map[string]float64{name: theta[name] + latDelta})
			if err != nil {
				return nil, err
			}
			sj, err := ev.run(pj)
			if err != nil {
				return nil, err
			}
			for i := range obs {
				jac[i][j] = (sj[i].p50 - s0[i].p50) / latDelta
			}
		}
		// Unpooled steps identify handshake CPU; their latency is the
		// handshakes' and a node proxy near saturation, which the latency
		// parameters are not meant to explain: they are left out.
		prob := Problem{Names: latParams}
		for range latParams {
			prob.NonNegative = append(prob.NonNegative, true)
		}
		var lobs []Observation
		for i, ob := range obs {
			if ob.Step.Unpooled {
				continue
			}
			y := ob.P50Ms - s0[i].p50
			for j, name := range latParams {
				y += jac[i][j] * theta[name]
			}
			prob.X = append(prob.X, jac[i])
			prob.Y = append(prob.Y, y)
			prob.Labels = append(prob.Labels, labels[i])
			lobs = append(lobs, ob)
		}
		prob.Weights = relativeWeights(lobs, func(o Observation) float64 { return o.P50Ms })
		fit, err = Solve(prob)
		if err != nil {
			return nil, fmt.Errorf("calibrate: latency: %w", err)
		}
		res.LatencyIterations = it
		moved := 0.0
		for _, e := range fit.Params {
			v := e.Value
			if e.Name == "app.service_time_mean" {
				v = math.Max(v, minAppTime) // a distribution's mean must be positive
			}
			moved = math.Max(moved, math.Abs(v-theta[e.Name]))
			theta[e.Name] = v
		}
		if moved < 1 { // µs
			break
		}
	}
	for j := range fit.Params {
		fit.Params[j].Value = theta[fit.Params[j].Name]
	}
	// Report the latency fit's residuals against the final simulation.
	for k, v := range theta {
		values[k] = v
	}
	final, err := withValues(base, values)
	if err != nil {
		return nil, err
	}
	sf, err := ev.run(final)
	if err != nil {
		return nil, err
	}
	// Fitted and residuals for every step (unpooled ones included, for
	// the report); R² and RMS over the steps the fit used.
	fit.Fitted, fit.Residuals, fit.Labels = make([]float64, len(obs)), make([]float64, len(obs)), labels
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
	res.Latency = fit
	res.Profile = final
	return res, nil
}

// rescore restates a CPU fit's fitted values and R² in terms of the
// measured CPU seconds (the problem's y is shifted by the simulated CPU at
// the linearisation point; the residuals are the same).
func rescore(f *Fit, p Problem, obs []Observation, kind string) {
	var mean, tot, ss float64
	for i, ob := range obs {
		f.Fitted[i] = ob.CPUSeconds[kind] - f.Residuals[i]
		mean += ob.CPUSeconds[kind] / float64(len(obs))
		ss += f.Residuals[i] * f.Residuals[i]
	}
	for _, ob := range obs {
		d := ob.CPUSeconds[kind] - mean
		tot += d * d
	}
	f.R2 = math.NaN()
	if tot > 0 {
		f.R2 = 1 - ss/tot
	}
}

// relativeWeights weights each observation by 1/max(y, 10% of the largest
// y): the fit then minimises relative errors (the validation targets are
// relative), without letting near-zero observations (a proxy idle in a
// run that does not use it) dominate.
func relativeWeights(obs []Observation, y func(Observation) float64) []float64 {
	top := 0.0
	for _, o := range obs {
		top = math.Max(top, y(o))
	}
	floor := math.Max(0.1*top, 1e-9)
	w := make([]float64, len(obs))
	for i, o := range obs {
		w[i] = 1 / math.Max(y(o), floor)
	}
	return w
}
