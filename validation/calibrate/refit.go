package calibrate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
)

// record is the part of a calibration record (NAME.calibration.json, see
// Report.WriteFiles) a refit needs: what was measured, where and how.
type record struct {
	Fit struct {
		Design       Design        `json:"design"`
		Observations []Observation `json:"observations"`
	} `json:"fit"`
	Provenance  Provenance `json:"provenance"`
	NotEmulated []string   `json:"not_emulated"`
}

// Refit fits a profile again to the observations recorded in a
// calibration record, without measuring: after a model change, or with
// another base profile. It needs no root. The profile keeps the record's
// provenance (machine, date, data-plane revision); o.Name, o.Base,
// o.Scratch and o.ToolVersion apply, the backend options do not.
func Refit(recordPath string, o Options) (*Report, error) {
	start := time.Now()
	data, err := yamlcheck.ReadFile(recordPath, yamlcheck.MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("calibrate: refit: %w", err)
	}
	rec, err := decodeRecord(recordPath, data)
	if err != nil {
		return nil, err
	}
	d, obs := rec.Fit.Design, rec.Fit.Observations
	scratch := o.Scratch
	if scratch == "" {
		dir, err := os.MkdirTemp("", "ambientsim-refit-")
		if err != nil {
			return nil, fmt.Errorf("calibrate: %w", err)
		}
		defer os.RemoveAll(dir)
		scratch = dir
	}
	res, err := FitProfile(obs, d, FitOptions{Base: o.Base, Scratch: filepath.Join(scratch, "sim"), SleepGrid: o.SleepGrid})
	if err != nil {
		return nil, err
	}
	prov := rec.Provenance
	if o.ToolVersion != "" {
		prov.ToolVersion = o.ToolVersion
	}
	name := o.Name
	if name == "" {
		name = "calibrated"
	}
	yml, prof, err := ProfileYAML(res, name, prov)
	if err != nil {
		return nil, err
	}
	ne := rec.NotEmulated
	if ne == nil {
		ne = []string{}
	}
	return &Report{Fit: res, Provenance: prov, NotEmulated: ne, ElapsedS: time.Since(start).Seconds(), YAML: yml, Profile: prof}, nil
}

// decodeRecord decodes a calibration record (NAME.calibration.json) and
// checks its observations match its design.
func decodeRecord(recordPath string, data []byte) (*record, error) {
	var rec record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("calibrate: refit: %s: not a calibration record: %w", recordPath, err)
	}
	d, obs := rec.Fit.Design, rec.Fit.Observations
	switch {
	case len(d.Steps) == 0:
		return nil, fmt.Errorf("calibrate: refit: %s: field fit.design.steps: no steps (is this a NAME.calibration.json written by ambientsim calibrate?)", recordPath)
	case len(obs) != len(d.Steps):
		return nil, fmt.Errorf("calibrate: refit: %s: field fit.observations: %d observations for %d design steps", recordPath, len(obs), len(d.Steps))
	case d.Duration <= 0:
		return nil, fmt.Errorf("calibrate: refit: %s: field fit.design.duration_ns: %d, want a positive step duration", recordPath, d.Duration)
	}
	for i, ob := range obs {
		if ob.Step != d.Steps[i] {
			return nil, fmt.Errorf("calibrate: refit: %s: field fit.observations[%d].step: %s does not match design step %s", recordPath, i, ob.Name, d.Steps[i].Name())
		}
	}
	return &rec, nil
}
