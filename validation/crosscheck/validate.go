package crosscheck

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/kind"
)

// Options configure Run.
type Options struct {
	// Profile is the profile under test (a built-in name or a file).
	Profile string
	// Duration of each scenario's loads (default 4 s; 2 s for --quick).
	Duration time.Duration
	// Dir receives validation.json, validation.html and the simulator
	// mirrors (sim/<scenario>/scenario.yaml, replayable with ambientsim run).
	Dir string
	// Scenarios overrides Scenarios(Duration) (tests use fewer).
	Scenarios []Scenario
	// Progress is called after each measured scenario.
	Progress func(i, n int, sc Scenario)
	// HostCores is the CPU count of the machine every node of the plan
	// runs on (the local backend: this machine); the mirrors declare them
	// one host (MirrorOn). 0: no host, each node its own machine.
	HostCores int
	// Repeat measures every scenario this many times (default 1), in
	// rounds: each round is a fresh session (Setup, every scenario once,
	// Teardown), so slow drift of the machine spreads over all scenarios
	// and a failure scenario's victim is back for the next round. Rows
	// then compare the prediction with the median and record the runs'
	// spread (CompareRuns).
	Repeat int
}

// Report is validation.json.
type Report struct {
	Profile   ProfileInfo `json:"profile"`
	Backend   string      `json:"backend"`
	Date      time.Time   `json:"date"`
	DurationS float64     `json:"load_duration_s"`
	Repeat    int         `json:"repeat"`
	// HostCores is the CPU count of the machine the runs shared (the
	// mirrors' topology.hosts); 0 = none declared.
	HostCores int `json:"host_cores,omitempty"`
	// ReplayOf names the validation.json whose measurements were compared
	// again (Replay); empty for a measured report.
	ReplayOf    string         `json:"replay_of,omitempty"`
	NotEmulated []string       `json:"not_emulated"`
	Capture     string         `json:"capture"`
	Scenarios   []ScenarioInfo `json:"scenarios"`
	Rows        []Row          `json:"rows"`
	Summary     Summary        `json:"summary"`
	// Measured holds the raw measurements (loads, CPU, metrics scrapes),
	// one per scenario.
	Measured []*harness.Measurement `json:"measurements"`
}

// ProfileInfo names the profile under test.
type ProfileInfo struct {
	Name       string `json:"name"`
	File       string `json:"file"`
	Provenance string `json:"provenance"`
	Date       string `json:"date"`
	// Calibration is the calibrated profile's key facts (machine, date,
	// data-plane revision, worst fit R²); "" for a published profile.
	Calibration string `json:"calibration,omitempty"`
}

// ScenarioInfo describes one scenario in the report.
type ScenarioInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Mirror      string `json:"simulator_scenario"`
}

// Summary counts the rows.
type Summary struct {
	Rows       int `json:"rows"`
	Passed     int `json:"passed"`
	Missed     int `json:"missed"`
	ReportOnly int `json:"report_only"`
}

// Summarize counts passed, missed and report-only rows.
func Summarize(rows []Row) Summary {
	s := Summary{Rows: len(rows)}
	for _, r := range rows {
		switch {
		case r.Pass == nil:
			s.ReportOnly++
		case *r.Pass:
			s.Passed++
		default:
			s.Missed++
		}
	}
	return s
}

// Run measures every scenario on b (one Setup of Plan(), one Run per
// scenario, Teardown — also on Ctrl-C), simulates each scenario's mirror
// with the profile, and compares them. It does not write files (see
// Report.Write).
func Run(ctx context.Context, b harness.Backend, o Options) (*Report, error) {
	if o.Dir == "" {
		return nil, fmt.Errorf("crosscheck: Options.Dir is required")
	}
	if o.Duration <= 0 {
		o.Duration = 4 * time.Second
	}
	if o.Repeat < 1 {
		o.Repeat = 1
	}
	scs := o.Scenarios
	if scs == nil {
		scs = Scenarios(o.Duration)
	}
	prof, err := models.LoadProfile(o.Profile)
	if err != nil {
		return nil, err
	}
	plan := Plan()
	rep := &Report{Profile: ProfileInfo{Name: prof.Name, File: o.Profile, Provenance: prof.Provenance, Date: prof.Date, Calibration: calibrationFacts(prof)},
		Backend: b.Name(), Date: time.Now().UTC(), DurationS: o.Duration.Seconds(), Repeat: o.Repeat, HostCores: o.HostCores, Capture: captureDescription(b.Name(), plan)}
	// Simulate first: a scenario the simulator cannot mirror fails before
	// anything is built.
	preds, infos, err := predictAll(scs, plan, o)
	if err != nil {
		return nil, err
	}
	rep.Scenarios = infos
	exps := make([]*harness.Experiment, len(scs))
	for i, sc := range scs {
		exps[i] = sc.Experiment
	}
	// One session (Setup … Teardown) per round: a failure scenario leaves
	// its victim dead, and the next round must start from a whole cluster.
	var ms []*harness.Measurement
	for r := 0; r < o.Repeat; r++ {
		round, err := harness.SessionRuns(ctx, b, plan, exps, 60*time.Second, func(i int, m *harness.Measurement) error {
			if o.Progress != nil {
				o.Progress(r*len(scs)+i, o.Repeat*len(scs), scs[i])
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("crosscheck: %w", err)
		}
		ms = append(ms, round...)
	}
	rep.Measured = ms
	meas := make([][]*Prediction, len(scs))
	for k, m := range ms {
		i := k % len(scs)
		rep.NotEmulated = m.NotEmulated
		for _, lr := range m.Loads {
			if lr.Result == nil && !scs[i].Blast {
				return nil, fmt.Errorf("crosscheck: scenario %s: load %s gave no result: %s", scs[i].Name, label(lr.Load), lr.Err)
			}
		}
		meas[i] = append(meas[i], Measured(m))
	}
	for i, sc := range scs {
		rep.Rows = append(rep.Rows, CompareRuns(sc, preds[i], meas[i])...)
	}
	if rep.NotEmulated == nil {
		rep.NotEmulated = []string{}
	}
	rep.Summary = Summarize(rep.Rows)
	return rep, nil
}

// Write writes validation.json and validation.html into dir, atomically.
func (r *Report) Write(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("crosscheck: %w", err)
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("crosscheck: validation.json: %w", err)
	}
	jp := filepath.Join(dir, "validation.json")
	if err := writeAtomic(jp, append(js, '\n')); err != nil {
		return nil, err
	}
	html, err := r.HTML()
	if err != nil {
		return nil, err
	}
	hp := filepath.Join(dir, "validation.html")
	if err := writeAtomic(hp, html); err != nil {
		return nil, err
	}
	return []string{jp, hp}, nil
}

// calibrationFacts is the one-line summary of a profile's calibration
// section, or "" when it has none.
func calibrationFacts(p *models.Profile) string {
	if p.Calibration == nil {
		return ""
	}
	return p.Calibration.Facts().String()
}

// captureDescription is the backend's one-line capture description.
func captureDescription(backend string, plan *harness.Plan) string {
	if backend == "kind" {
		return kind.CaptureDescription(plan)
	}
	return harness.CaptureDescription(plan)
}

// predictAll simulates every scenario's mirror (under o.Dir/sim) with the
// profile.
func predictAll(scs []Scenario, plan *harness.Plan, o Options) ([]*Prediction, []ScenarioInfo, error) {
	preds := make([]*Prediction, len(scs))
	var infos []ScenarioInfo
	for i, sc := range scs {
		dir := filepath.Join(o.Dir, "sim", sc.Name)
		run, err := Simulate(dir, plan, sc.Experiment, o.Profile, o.HostCores)
		if err != nil {
			return nil, nil, err
		}
		if preds[i], err = Predict(run, plan, sc.Experiment); err != nil {
			return nil, nil, err
		}
		infos = append(infos, ScenarioInfo{Name: sc.Name, Description: sc.Description, Mirror: filepath.Join(dir, "scenario.yaml")})
	}
	return preds, infos, nil
}
