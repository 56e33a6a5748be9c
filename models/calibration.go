package models

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Calibration is the optional `calibration:` section of a profile: how a
// calibrated profile was measured and how well its parameters fit. It is
// metadata: the simulator never reads it, so it does not change results
// (it does change the profile's hash, and so a run's inputs hash). It is
// written by `ambientsim calibrate` and is the machine-readable source of
// truth for a calibration's machine, date, data-plane revision, design and
// fit quality; the comment header of a calibrated profile repeats the gist
// for people.
type Calibration struct {
	// Tool and ToolVersion name what wrote the section, e.g.
	// "ambientsim calibrate" and ambientsim's version.
	Tool        string `yaml:"tool"`
	ToolVersion string `yaml:"tool_version"`
	// Date is when the measurement ran: an RFC 3339 date ("2026-11-25")
	// or date-time ("2026-11-25T12:00:00Z").
	Date string `yaml:"date"`
	// Backend is where the data plane ran ("local").
	Backend   string               `yaml:"backend,omitempty"`
	Machine   CalibrationMachine   `yaml:"machine"`
	DataPlane CalibrationDataPlane `yaml:"data_plane"`
	Design    CalibrationDesign    `yaml:"design"`
	// Fits are the fits the calibrated values come from.
	Fits []CalibrationFit `yaml:"fits"`
	// Derived lists parameters set from the measurements without a fit
	// (e.g. the app's service-time variability).
	Derived []DerivedParameter `yaml:"derived,omitempty"`
	// Residuals are measured − fitted per run of the design, per fit (in
	// that fit's unit).
	Residuals []RunResiduals `yaml:"residuals,omitempty"`
	// NotCalibrated lists the parameters kept from the base profile.
	NotCalibrated []NotCalibrated `yaml:"not_calibrated,omitempty"`
}

// CalibrationMachine describes the machine the data plane ran on.
type CalibrationMachine struct {
	CPUModel  string  `yaml:"cpu_model"`
	Cores     int     `yaml:"cores"`                // logical CPUs the process could use
	MemoryMiB float64 `yaml:"memory_mib,omitempty"` // total memory
	Kernel    string  `yaml:"kernel"`
	GoVersion string  `yaml:"go_version"`
	// Cgroup is the calibrating process's cgroup and its CPU and memory
	// limits, e.g. "/user.slice cpu.max=max 100000 memory.max=max".
	Cgroup string `yaml:"cgroup,omitempty"`
	// Notes are free-form facts about the conditions (load average at the
	// start, a shared machine).
	Notes string `yaml:"notes,omitempty"`
}

// String is a one-line description, e.g. "2 × AMD EPYC 7B13, Linux 6.1".
func (m CalibrationMachine) String() string {
	s := fmt.Sprintf("%d × %s", m.Cores, orDashString(m.CPUModel))
	if m.Kernel != "" {
		s += ", Linux " + m.Kernel
	}
	return s
}

// CalibrationDataPlane identifies the data plane that was measured.
type CalibrationDataPlane struct {
	// Revision is the git revision it was built from ("+dirty" with local
	// changes; "unknown" when it could not be found).
	Revision string `yaml:"revision"`
	// Binary names the binary, e.g. "validation/cmd/meshnode sha256:…".
	Binary string `yaml:"binary,omitempty"`
}

// CalibrationDesign is the set of measured runs.
type CalibrationDesign struct {
	Name         string `yaml:"name"`
	Steps        int    `yaml:"steps"`
	StepDuration string `yaml:"step_duration"` // a Go duration, e.g. "10s"
}

// CalibrationFit is one fit: its quality and the parameters it sets.
type CalibrationFit struct {
	// Name names the fit, e.g. "ztunnel_cpu" or "latency_p50".
	Name string `yaml:"name"`
	// Method is how it was solved, e.g. "non-negative least squares".
	Method       string `yaml:"method,omitempty"`
	Observations int    `yaml:"observations"`
	DOF          int    `yaml:"dof"`
	// R2 is 1 − SS_res/SS_tot; absent when the measured values are
	// constant. It can be negative for a constrained fit, never above 1.
	R2          *float64 `yaml:"r2,omitempty"`
	ResidualRMS float64  `yaml:"residual_rms"`
	// Unit is the unit of the fitted quantity and of its residuals.
	Unit   string        `yaml:"unit"`
	Params []FittedParam `yaml:"params"`
}

// FittedParam is one parameter a fit set.
type FittedParam struct {
	// Name is the dotted YAML path of the profile parameter
	// ("ztunnel.per_message_cpu"), or a nuisance term of the fit ending in
	// ".idle_cores" that the profile has no field for.
	Name  string  `yaml:"name"`
	Value float64 `yaml:"value"`
	// SE is the standard error; absent when the fit had no residual
	// degrees of freedom or the constraint holds the parameter at 0. A
	// tied parameter's is Ratio × the SE of the one it follows.
	SE   *float64 `yaml:"se,omitempty"`
	Unit string   `yaml:"unit"`
	// AtBound is set when the non-negativity constraint holds it at 0.
	AtBound bool `yaml:"at_bound,omitempty"`
	// TiedTo names the fitted parameter this one was set from, as
	// Ratio × its value (the runs cannot tell the two apart).
	TiedTo string  `yaml:"tied_to,omitempty"`
	Ratio  float64 `yaml:"ratio,omitempty"`
}

// DerivedParameter is a parameter computed from the measurements directly.
type DerivedParameter struct {
	Parameter string  `yaml:"parameter"`
	Value     float64 `yaml:"value"`
	Unit      string  `yaml:"unit"`
	Method    string  `yaml:"method"`
}

// RunResiduals are one run's residuals, by fit name.
type RunResiduals struct {
	Run    string             `yaml:"run"`
	Values map[string]float64 `yaml:"values"`
}

// NotCalibrated is a parameter the calibration left at the base profile's
// value, and why.
type NotCalibrated struct {
	Parameter string `yaml:"parameter"`
	Reason    string `yaml:"reason"`
}

// NuisanceSuffix ends the name of a fitted parameter that is not a profile
// field (a kind's idle CPU, fitted so it does not bias the others).
const NuisanceSuffix = ".idle_cores"

// ProfileParameter is one cost parameter of the profile schema.
type ProfileParameter struct {
	Path string // dotted YAML path, e.g. "ztunnel.per_message_cpu"
	Unit string // the unit the schema requires
}

// ProfileParameters lists every Quantity of the profile schema, in schema
// order.
func ProfileParameters() []ProfileParameter {
	var out []ProfileParameter
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, ok := yamlPath(f, prefix)
			if !ok {
				continue
			}
			switch {
			case f.Type == reflect.TypeOf(Quantity{}):
				out = append(out, ProfileParameter{Path: name, Unit: f.Tag.Get("unit")})
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, name)
			}
		}
	}
	walk(reflect.TypeOf(Profile{}), "")
	return out
}

// ParameterUnit returns the unit the schema requires of the parameter at a
// dotted YAML path, and whether there is such a parameter.
func ParameterUnit(path string) (string, bool) {
	for _, p := range ProfileParameters() {
		if p.Path == path {
			return p.Unit, true
		}
	}
	return "", false
}

// CalibrationFacts are the key facts of a calibration, for reports.
type CalibrationFacts struct {
	Machine  string  // e.g. "2 × AMD EPYC 7B13, Linux 6.1"
	Date     string  // as recorded
	Revision string  // data-plane git revision
	Design   string  // design name
	WorstFit string  // the fit with the lowest R² ("" when no fit has one)
	WorstR2  float64 // its R² (NaN when WorstFit is "")
}

// Facts summarises the calibration.
func (c *Calibration) Facts() CalibrationFacts {
	f := CalibrationFacts{Machine: c.Machine.String(), Date: c.Date, Revision: c.DataPlane.Revision,
		Design: c.Design.Name, WorstR2: math.NaN()}
	for _, fit := range c.Fits {
		if fit.R2 != nil && (f.WorstFit == "" || *fit.R2 < f.WorstR2) {
			f.WorstFit, f.WorstR2 = fit.Name, *fit.R2
		}
	}
	return f
}

// String is a one-line summary, e.g. "calibrated 2026-11-25 on 2 × …,
// data plane abc123, worst fit R² 0.9712 (latency_p50)".
func (f CalibrationFacts) String() string {
	s := fmt.Sprintf("calibrated %s on %s, data plane %s", orDashString(f.Date), f.Machine, orDashString(f.Revision))
	if f.WorstFit != "" {
		s += fmt.Sprintf(", worst fit R² %.4f (%s)", f.WorstR2, f.WorstFit)
	}
	return s
}

func orDashString(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// checkCalibration validates the calibration section, if any, naming the
// file, line and field of each problem.
func checkCalibration(filename string, c *Calibration, root *yaml.Node) error {
	if c == nil {
		return nil
	}
	var errs []error
	bad := func(path []any, field, format string, args ...any) {
		line := lineAt(root, append([]any{"calibration"}, path...)...)
		errs = append(errs, fmt.Errorf("%s:%d: calibration.%s: %s", filename, line, field, fmt.Sprintf(format, args...)))
	}
	units := map[string]string{}
	for _, p := range ProfileParameters() {
		units[p.Path] = p.Unit
	}
	if c.Date == "" {
		bad(nil, "date", "missing; give the measurement's RFC 3339 date, e.g. 2026-11-25")
	} else if !validDate(c.Date) {
		bad([]any{"date"}, "date", "%q is not an RFC 3339 date (2026-11-25) or date-time (2026-11-25T12:00:00Z)", c.Date)
	}
	if c.Machine.Cores < 0 {
		bad([]any{"machine", "cores"}, "machine.cores", "negative (%d)", c.Machine.Cores)
	}
	if c.Machine.MemoryMiB < 0 {
		bad([]any{"machine", "memory_mib"}, "machine.memory_mib", "negative (%v)", c.Machine.MemoryMiB)
	}
	if c.Design.Steps < 0 {
		bad([]any{"design", "steps"}, "design.steps", "negative (%d)", c.Design.Steps)
	}
	if d := c.Design.StepDuration; d != "" {
		if v, err := time.ParseDuration(d); err != nil || v < 0 {
			bad([]any{"design", "step_duration"}, "design.step_duration", "%q is not a duration like 10s", d)
		}
	}
	fitNames := map[string]bool{}
	for i, f := range c.Fits {
		at := func(keys ...any) []any { return append([]any{"fits", i}, keys...) }
		field := fmt.Sprintf("fits[%d]", i)
		switch {
		case f.Name == "":
			bad(at(), field+".name", "missing; name the fit, e.g. ztunnel_cpu")
		case fitNames[f.Name]:
			bad(at("name"), field+".name", "fit %q listed twice", f.Name)
		}
		fitNames[f.Name] = true
		if f.Observations < 0 {
			bad(at("observations"), field+".observations", "negative (%d)", f.Observations)
		}
		if f.DOF < 0 || (f.Observations >= 0 && f.DOF > f.Observations) {
			bad(at("dof"), field+".dof", "%d, want between 0 and observations (%d)", f.DOF, f.Observations)
		}
		if f.R2 != nil && (math.IsNaN(*f.R2) || *f.R2 > 1) {
			bad(at("r2"), field+".r2", "%v, want at most 1 (leave it out when the measured values are constant)", *f.R2)
		}
		if f.ResidualRMS < 0 || math.IsNaN(f.ResidualRMS) {
			bad(at("residual_rms"), field+".residual_rms", "%v, want ≥ 0", f.ResidualRMS)
		}
		for j, p := range f.Params {
			pat := func(keys ...any) []any { return at(append([]any{"params", j}, keys...)...) }
			pf := fmt.Sprintf("%s.params[%d]", field, j)
			want, isField := units[p.Name]
			switch {
			case p.Name == "":
				bad(pat(), pf+".name", "missing")
			case isField:
				if p.Unit != want {
					bad(pat("unit"), pf+".unit", "%q for %s, want %q (the schema's unit)", p.Unit, p.Name, want)
				}
			case strings.HasSuffix(p.Name, NuisanceSuffix):
			default:
				bad(pat("name"), pf+".name", "%q is neither a profile parameter (a dotted path such as ztunnel.per_message_cpu) nor a nuisance term ending in %s", p.Name, NuisanceSuffix)
			}
			if p.SE != nil && (*p.SE < 0 || math.IsNaN(*p.SE)) {
				bad(pat("se"), pf+".se", "%v, want ≥ 0 (leave it out when unknown)", *p.SE)
			}
			if p.TiedTo != "" {
				if _, ok := units[p.TiedTo]; !ok {
					bad(pat("tied_to"), pf+".tied_to", "%q is not a profile parameter", p.TiedTo)
				}
				if !(p.Ratio > 0) {
					bad(pat("ratio"), pf+".ratio", "%v, want > 0 for a tied parameter", p.Ratio)
				}
			} else if p.Ratio != 0 {
				bad(pat("ratio"), pf+".ratio", "set without tied_to")
			}
		}
	}
	for i, d := range c.Derived {
		if _, ok := units[d.Parameter]; !ok {
			bad([]any{"derived", i, "parameter"}, fmt.Sprintf("derived[%d].parameter", i), "%q is not a profile parameter", d.Parameter)
		} else if d.Unit != units[d.Parameter] {
			bad([]any{"derived", i, "unit"}, fmt.Sprintf("derived[%d].unit", i), "%q, want %q", d.Unit, units[d.Parameter])
		}
	}
	for i, r := range c.Residuals {
		keys := make([]string, 0, len(r.Values))
		for k := range r.Values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !fitNames[k] {
				bad([]any{"residuals", i, "values", k}, fmt.Sprintf("residuals[%d].values.%s", i, k), "no fit called %q", k)
			}
		}
	}
	for i, n := range c.NotCalibrated {
		if _, ok := units[n.Parameter]; !ok {
			bad([]any{"not_calibrated", i, "parameter"}, fmt.Sprintf("not_calibrated[%d].parameter", i), "%q is not a profile parameter", n.Parameter)
		}
	}
	return errors.Join(errs...)
}

func validDate(s string) bool {
	if _, err := time.Parse("2006-01-02", s); err == nil {
		return true
	}
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

// lineAt finds the line of a path of mapping keys (string) and sequence
// indexes (int) in a YAML document: the deepest line reached, or 0.
func lineAt(root *yaml.Node, path ...any) int {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, step := range path {
		if n == nil {
			return line
		}
		switch s := step.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					line, next = n.Content[i].Line, n.Content[i+1]
					break
				}
			}
			if next == nil {
				return line
			}
			n = next
		case int:
			if n.Kind != yaml.SequenceNode || s >= len(n.Content) {
				return line
			}
			n = n.Content[s]
			line = n.Line
		}
	}
	return line
}
