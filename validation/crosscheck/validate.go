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
}

// Report is validation.json.
type Report struct {
	Profile     ProfileInfo    `json:"profile"`
	Backend     string         `json:"backend"`
	Date        time.Time      `json:"date"`
	DurationS   float64        `json:"load_duration_s"`
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
	scs := o.Scenarios
	if scs == nil {
		scs = Scenarios(o.Duration)
	}
	prof, err := models.LoadProfile(o.Profile)
	if err != nil {
		return nil, err
	}
	plan := Plan()
	rep := &Report{Profile: ProfileInfo{Name: prof.Name, File: o.Profile, Provenance: prof.Provenance, Date: prof.Date},
		Backend: b.Name(), Date: time.Now().UTC(), DurationS: o.Duration.Seconds(), Capture: harness.CaptureDescription(plan)}
	// Simulate first: a scenario the simulator cannot mirror fails before
	// anything is built.
	preds := make([]*Prediction, len(scs))
	for i, sc := range scs {
		dir := filepath.Join(o.Dir, "sim", sc.Name)
		run, err := Simulate(dir, plan, sc.Experiment, o.Profile)
		if err != nil {
			return nil, err
		}
		if preds[i], err = Predict(run, plan, sc.Experiment); err != nil {
			return nil, err
		}
		rep.Scenarios = append(rep.Scenarios, ScenarioInfo{Name: sc.Name, Description: sc.Description, Mirror: filepath.Join(dir, "scenario.yaml")})
	}
	exps := make([]*harness.Experiment, len(scs))
	for i, sc := range scs {
		exps[i] = sc.Experiment
	}
	ms, err := harness.SessionRuns(ctx, b, plan, exps, 60*time.Second, func(i int, m *harness.Measurement) error {
		if o.Progress != nil {
			o.Progress(i, len(scs), scs[i])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("crosscheck: %w", err)
	}
	rep.Measured = ms
	for i, m := range ms {
		rep.NotEmulated = m.NotEmulated
		for _, lr := range m.Loads {
			if lr.Result == nil && !scs[i].Blast {
				return nil, fmt.Errorf("crosscheck: scenario %s: load %s gave no result: %s", scs[i].Name, label(lr.Load), lr.Err)
			}
		}
		rep.Rows = append(rep.Rows, Compare(scs[i], preds[i], Measured(m))...)
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
