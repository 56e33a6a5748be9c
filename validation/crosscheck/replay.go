package crosscheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/validation/harness"
)

// Replay compares the measurements recorded in an earlier validation.json
// with the predictions of another profile (or of a changed model), without
// measuring again and without root: the same runs, so two profiles or two
// model versions are compared on identical data, free of the machine's
// run-to-run noise. The scenarios are rebuilt from the report's load
// duration and matched to the measurements by experiment name; o.Profile
// and o.Dir apply, o.HostCores when not 0 (else the report's), o.Repeat
// and o.Duration come from the report. The report keeps the original's
// date and backend.
func Replay(reportPath string, o Options) (*Report, error) {
	if o.Dir == "" {
		return nil, fmt.Errorf("crosscheck: Options.Dir is required")
	}
	data, err := yamlcheck.ReadFile(reportPath, yamlcheck.MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("crosscheck: replay: %w", err)
	}
	scs := o.Scenarios
	old, meas, scs, err := decodeReplay(reportPath, data, scs)
	if err != nil {
		return nil, err
	}
	if o.HostCores == 0 {
		o.HostCores = old.HostCores
	}
	return replay(reportPath, old, meas, scs, o)
}

// decodeReplay decodes a recorded validation.json and groups its
// measurements by validation scenario (scs, or the default scenarios of
// the recorded load duration).
func decodeReplay(reportPath string, data []byte, scs []Scenario) (*Report, [][]*Prediction, []Scenario, error) {
	var old Report
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&old); err != nil {
		return nil, nil, nil, fmt.Errorf("crosscheck: replay: %s: not a validation report: %w", reportPath, err)
	}
	if !(old.DurationS > 0 && old.DurationS <= 86400) || len(old.Measured) == 0 {
		return nil, nil, nil, fmt.Errorf("crosscheck: replay: %s: field measurements: nothing recorded (load_duration_s %g, %d measurements)", reportPath, old.DurationS, len(old.Measured))
	}
	if scs == nil {
		scs = Scenarios(time.Duration(old.DurationS * float64(time.Second)))
	}
	meas := make([][]*Prediction, len(scs))
	for k, m := range old.Measured {
		i := -1
		for j, sc := range scs {
			if m != nil && m.Experiment == sc.Experiment.Name {
				i = j
			}
		}
		if i < 0 {
			return nil, nil, nil, fmt.Errorf("crosscheck: replay: %s: field measurements[%d]: experiment %q is not a validation scenario", reportPath, k, experimentName(m))
		}
		meas[i] = append(meas[i], Measured(m))
	}
	return &old, meas, scs, nil
}

// replay predicts every scenario with o.Profile and compares the recorded
// measurements with the predictions.
func replay(reportPath string, old *Report, meas [][]*Prediction, scs []Scenario, o Options) (*Report, error) {
	prof, err := models.LoadProfile(o.Profile)
	if err != nil {
		return nil, err
	}
	plan := Plan()
	rep := &Report{Profile: ProfileInfo{Name: prof.Name, File: o.Profile, Provenance: prof.Provenance, Date: prof.Date, Calibration: calibrationFacts(prof)},
		Backend: old.Backend, Date: old.Date, DurationS: old.DurationS, Repeat: old.Repeat, HostCores: o.HostCores, NotEmulated: old.NotEmulated,
		Capture: old.Capture, Measured: old.Measured, ReplayOf: reportPath}
	preds, infos, err := predictAll(scs, plan, o)
	if err != nil {
		return nil, err
	}
	rep.Scenarios = infos
	for i, sc := range scs {
		if len(meas[i]) == 0 {
			return nil, fmt.Errorf("crosscheck: replay: %s: no measurement of scenario %s", reportPath, sc.Name)
		}
		rep.Rows = append(rep.Rows, CompareRuns(sc, preds[i], meas[i])...)
	}
	if rep.NotEmulated == nil {
		rep.NotEmulated = []string{}
	}
	rep.Summary = Summarize(rep.Rows)
	return rep, nil
}

func experimentName(m *harness.Measurement) string {
	if m == nil {
		return ""
	}
	return m.Experiment
}
