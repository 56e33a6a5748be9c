package calibrate

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
)

// Machine describes where a calibration ran.
type Machine struct {
	NProc     int     `json:"nproc"`
	CPUModel  string  `json:"cpu_model"`
	MemoryMiB float64 `json:"memory_mib,omitempty"`
	Kernel    string  `json:"kernel"`
	GoVersion string  `json:"go_version"`
	// Cgroup is the process's cgroup (v2) and its CPU and memory limits.
	Cgroup string `json:"cgroup,omitempty"`
	// Notes are facts about the conditions, e.g. the load average.
	Notes string `json:"notes,omitempty"`
}

// String is a one-line description, e.g. "2 × AMD EPYC, Linux 6.18.44".
func (m Machine) String() string {
	return fmt.Sprintf("%d × %s, Linux %s", m.NProc, m.CPUModel, m.Kernel)
}

// DetectMachine reads the CPU count, /proc/cpuinfo's model name, the
// total memory, the kernel release, the process's cgroup limits and the
// load average (a calibration on a busy machine measures contention).
func DetectMachine() Machine {
	m := Machine{NProc: runtime.NumCPU(), CPUModel: "unknown CPU", Kernel: "unknown", GoVersion: runtime.Version()}
	if v, ok := procField("/proc/cpuinfo", "model name"); ok {
		m.CPUModel = v
	}
	if v, ok := procField("/proc/meminfo", "MemTotal"); ok {
		if kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 64); err == nil {
			m.MemoryMiB = math.Round(kb / 1024)
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.Cgroup = cgroupLimits("/proc/self/cgroup", "/sys/fs/cgroup")
	var notes []string
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			notes = append(notes, fmt.Sprintf("load average %s %s %s when detected", f[0], f[1], f[2]))
		}
	}
	notes = append(notes, fmt.Sprintf("GOMAXPROCS %d", runtime.GOMAXPROCS(0)))
	m.Notes = strings.Join(notes, "; ")
	return m
}

// procField returns the value of the first "key: value" line of a /proc
// file whose key is key.
func procField(file, key string) (string, bool) {
	f, err := os.Open(file)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// cgroupLimits describes the process's cgroup v2 and its cpu.max and
// memory.max, e.g. "/user.slice cpu.max=max 100000 memory.max=max"; ""
// when there is no cgroup v2.
func cgroupLimits(selfCgroup, mount string) string {
	b, err := os.ReadFile(selfCgroup)
	if err != nil {
		return ""
	}
	var path string
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			path = strings.TrimSpace(p)
			break
		}
	}
	if path == "" {
		return ""
	}
	out := path
	for _, f := range []string{"cpu.max", "memory.max"} {
		if v, err := os.ReadFile(filepath.Join(mount, path, f)); err == nil {
			out += " " + f + "=" + strings.TrimSpace(string(v))
		}
	}
	return out
}

// Provenance is what a calibrated profile records about its making.
type Provenance struct {
	// ToolVersion is ambientsim's version; Revision the git revision of
	// the data plane measured ("" = unknown).
	ToolVersion string    `json:"tool_version"`
	Revision    string    `json:"revision"`
	Backend     string    `json:"backend"`
	Date        time.Time `json:"date"`
	Machine     Machine   `json:"machine"`
	// Binary identifies the measured data plane binary, e.g.
	// "validation/cmd/meshnode sha256:0123abcd…" (BinaryID); "" = the
	// meshnode built from Revision.
	Binary string `json:"binary,omitempty"`
}

// BinaryID names a data-plane binary by its package and the start of its
// sha256, or just the package when the file cannot be read.
func BinaryID(path string) string {
	const pkg = "validation/cmd/meshnode"
	f, err := os.Open(path)
	if err != nil {
		return pkg
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return pkg
	}
	return fmt.Sprintf("%s sha256:%x", pkg, h.Sum(nil)[:8])
}

// Revision returns the git revision the binary was built from, else the
// one of the checkout at dir ("+dirty" with local changes), else "".
func Revision(dir string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if dirty {
				rev += "+dirty"
			}
			return rev
		}
	}
	if dir == "" {
		return ""
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += "+dirty"
	}
	return rev
}

// ProfileYAML renders the calibrated profile: the base profile's schema
// and values, with every fitted parameter's value, source, date and
// derivation (fit, standard error) replaced, the profile's provenance set
// to "calibrated on <machine>", its `calibration:` section (Section) filled
// in, and a short comment header for people. The section is the source of
// truth for the machine, date, data-plane revision, design and fit
// quality. The result parses with models.ParseProfile.
func ProfileYAML(res *FitResult, name string, prov Provenance) ([]byte, *models.Profile, error) {
	p := cloneProfile(res.Profile)
	date := prov.Date.UTC().Format("2006-01-02")
	p.Name = name
	p.Version = "1"
	p.Description = fmt.Sprintf("Calibrated on the Go validation data plane (%s design, %d runs) on %s", res.Design.Name, len(res.Observations), prov.Machine)
	p.Source = fmt.Sprintf("ambientsim calibrate --backend %s (ambientsim %s, data plane %s)", prov.Backend, prov.ToolVersion, orUnknown(prov.Revision))
	p.Date = date
	p.Provenance = "calibrated on " + prov.Machine.String()
	src := fmt.Sprintf("calibrated: ambientsim calibrate, %s design on %s", res.Design.Name, prov.Machine)
	if err := setFittedValues(p, res, src, date); err != nil {
		return nil, nil, err
	}
	sec, err := Section(res, p, prov)
	if err != nil {
		return nil, nil, err
	}
	p.Calibration = sec
	body, err := yaml.Marshal(p)
	if err != nil {
		return nil, nil, fmt.Errorf("calibrate: render profile: %w", err)
	}
	var b bytes.Buffer
	writeProfileHeader(&b, name, prov, res, sec)
	b.Write(body)
	parsed, err := models.ParseProfile(name+".yaml", b.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("calibrate: the calibrated profile does not load: %w", err)
	}
	return b.Bytes(), parsed, nil
}

// setFittedValues writes every fitted parameter (CPU, tied, latency, the
// app's CV) into p with its source src, date and derivation.
func setFittedValues(p *models.Profile, res *FitResult, src, date string) error {
	for _, kind := range sortedKinds(res.CPU) {
		f := res.CPU[kind]
		for _, e := range f.Params {
			if strings.HasSuffix(e.Name, models.NuisanceSuffix) {
				continue
			}
			q, err := quantity(p, e.Name)
			if err != nil {
				return err
			}
			q.Value = round(e.Value)
			q.Source, q.Date = src, date
			q.Derivation = fmt.Sprintf("least squares of %s CPU seconds over %d runs (design matrix from the simulator), %s; fit R² %.4f, residual RMS %.4g CPU-s",
				kind, f.N, seText(e, q.Unit), f.R2, f.RMS)
		}
	}
	for _, tied := range sortedTies(res.Tied) {
		t := res.Tied[tied]
		q, err := quantity(p, tied)
		if err != nil {
			return err
		}
		of, err := quantity(p, t.Of)
		if err != nil {
			return err
		}
		q.Value = round(of.Value * t.Ratio)
		q.Source, q.Date = src, date
		q.Derivation = fmt.Sprintf("%.4g × %s (the base profile's ratio): the runs cannot tell the two sides of a handshake apart", t.Ratio, t.Of)
	}
	if res.Latency != nil {
		for _, e := range res.Latency.Params {
			q, err := quantity(p, e.Name)
			if err != nil {
				return err
			}
			q.Value = round(q.Value) // the fitted value, after the lower bound of the app time
			q.Source, q.Date = src, date
			q.Derivation = fmt.Sprintf("Gauss-Newton fit of the simulated median latency to the measured medians of %d runs (%d iterations), %s; residual RMS %.4g ms",
				res.Latency.N, res.LatencyIterations, seText(e, q.Unit), res.Latency.RMS)
		}
	}
	q := &p.App.ServiceTimeCV
	q.Value = round(res.AppCV)
	q.Source, q.Date = src, date
	q.Derivation = appCVMethod
	return nil
}

// writeProfileHeader writes the profile's comment header for people:
// machine, date, data plane, design and each fit's quality.
func writeProfileHeader(b *bytes.Buffer, name string, prov Provenance, res *FitResult, sec *models.Calibration) {
	fmt.Fprintf(b, "# Calibrated cost profile %q, written by `ambientsim calibrate`.\n#\n", name)
	fmt.Fprintf(b, "# machine:     %s (nproc %d, CPU %q, kernel %s, %s)\n", prov.Machine, prov.Machine.NProc, prov.Machine.CPUModel, prov.Machine.Kernel, prov.Machine.GoVersion)
	fmt.Fprintf(b, "# date:        %s\n", prov.Date.UTC().Format(time.RFC3339))
	fmt.Fprintf(b, "# data plane:  %s, revision %s (ambientsim %s)\n", sec.DataPlane.Binary, orUnknown(prov.Revision), prov.ToolVersion)
	fmt.Fprintf(b, "# design:      %q, %d runs of %v on backend %s\n", res.Design.Name, len(res.Observations), res.Design.Duration, prov.Backend)
	b.WriteString("# fits:\n")
	for _, f := range sec.Fits {
		r2 := "n/a"
		if f.R2 != nil {
			r2 = fmt.Sprintf("%.4f", *f.R2)
		}
		fmt.Fprintf(b, "#   %-14s R² %s, residual RMS %.4g %s, %d runs, %d dof\n", f.Name, r2, f.ResidualRMS, f.Unit, f.Observations, f.DOF)
	}
	b.WriteString("# The `calibration:` section at the end is the machine-readable record (the source of\n")
	b.WriteString("# truth): every fitted parameter with its standard error, the tied ones, Residuals per run,\n")
	b.WriteString("# and the parameters not calibrated (kept from the base profile) with the reason.\n\n")
}

const appCVMethod = "median stddev/mean of the out-of-mesh runs' latency (the echo app plus the kernel and the load generator)"

// Fit names in the calibration section: "<kind>_cpu" for a CPU fit,
// LatencyFitName for the latency fit.
const (
	CPUFitSuffix   = "_cpu"
	LatencyFitName = "latency_p50"
)

// Section builds the profile's calibration section from a fit: every CPU
// fit (sorted by name) and the latency fit with their parameters, the
// tied parameters next to the one they follow, the derived app CV,
// residuals per run, and every schema parameter the fit did not set. p is
// the calibrated profile (its values are the section's values, so the two
// agree after rounding).
func Section(res *FitResult, p *models.Profile, prov Provenance) (*models.Calibration, error) {
	c := sectionHeader(res, prov)
	sb := newSectionBuilder(res, p)
	for _, kind := range sortedKinds(res.CPU) {
		f := res.CPU[kind]
		cf, err := sb.fit(kind+CPUFitSuffix, "non-negative weighted least squares of the measured CPU seconds (relative weights; design matrix from the simulator)", "CPU-s", f)
		if err != nil {
			return nil, err
		}
		c.Fits = append(c.Fits, cf)
		sb.addResiduals(cf.Name, f)
	}
	if res.Latency != nil {
		cf, err := sb.fit(LatencyFitName, fmt.Sprintf("Gauss-Newton through the simulator on the pooled runs' measured median latency (%d iterations, relative weights, non-negative)", res.LatencyIterations), "ms", res.Latency)
		if err != nil {
			return nil, err
		}
		c.Fits = append(c.Fits, cf)
		sb.addResiduals(cf.Name, res.Latency)
	}
	for _, tied := range sortedTies(res.Tied) {
		if !sb.placed[tied] {
			return nil, fmt.Errorf("calibrate: %s is tied to %s, which no fit sets", tied, res.Tied[tied].Of)
		}
	}
	c.Derived = append(c.Derived, models.DerivedParameter{Parameter: "app.service_time_cv", Value: p.App.ServiceTimeCV.Value,
		Unit: p.App.ServiceTimeCV.Unit, Method: appCVMethod})
	sb.set["app.service_time_cv"] = true
	for _, run := range sb.runs {
		c.Residuals = append(c.Residuals, models.RunResiduals{Run: run, Values: sb.resid[run]})
	}
	c.NotCalibrated = notCalibrated(sb.set, res.NotIdentified)
	return c, nil
}

// sectionHeader is the calibration section's provenance: tool, date,
// backend, machine, data plane and design.
func sectionHeader(res *FitResult, prov Provenance) *models.Calibration {
	bin := prov.Binary
	if bin == "" {
		bin = "validation/cmd/meshnode"
	}
	return &models.Calibration{
		Tool: "ambientsim calibrate", ToolVersion: prov.ToolVersion, Date: prov.Date.UTC().Format(time.RFC3339), Backend: prov.Backend,
		Machine: models.CalibrationMachine{CPUModel: prov.Machine.CPUModel, Cores: prov.Machine.NProc, MemoryMiB: prov.Machine.MemoryMiB,
			Kernel: prov.Machine.Kernel, GoVersion: prov.Machine.GoVersion, Cgroup: prov.Machine.Cgroup, Notes: prov.Machine.Notes},
		DataPlane: models.CalibrationDataPlane{Revision: orUnknown(prov.Revision), Binary: bin},
		Design:    models.CalibrationDesign{Name: res.Design.Name, Steps: len(res.Design.Steps), StepDuration: res.Design.Duration.String()},
	}
}

// sectionBuilder gathers the calibration section's fits: which profile
// parameters they set, which tied parameters they placed, and the
// residuals per run.
type sectionBuilder struct {
	res    *FitResult
	p      *models.Profile
	set    map[string]bool
	ties   map[string][]string // per fitted parameter, the parameters tied to it
	placed map[string]bool
	// Residuals are grouped by the fits' row labels (a run, or a run and
	// process when a fit has one row per process), in order of first
	// appearance.
	obsNames []string
	runs     []string
	resid    map[string]map[string]float64
}

func newSectionBuilder(res *FitResult, p *models.Profile) *sectionBuilder {
	sb := &sectionBuilder{res: res, p: p, set: map[string]bool{}, ties: map[string][]string{}, placed: map[string]bool{},
		resid: map[string]map[string]float64{}}
	for _, tied := range sortedTies(res.Tied) {
		sb.ties[res.Tied[tied].Of] = append(sb.ties[res.Tied[tied].Of], tied)
	}
	for _, ob := range res.Observations {
		sb.obsNames = append(sb.obsNames, ob.Name)
	}
	return sb
}

// fit is one fit of the section: each estimate with the profile's value
// and unit (a nuisance parameter keeps the fit's), followed by the
// parameters tied to it.
func (sb *sectionBuilder) fit(name, method, unit string, f *Fit) (models.CalibrationFit, error) {
	cf := models.CalibrationFit{Name: name, Method: method, Observations: f.N, DOF: f.DOF, ResidualRMS: round(f.RMS), Unit: unit, R2: finite(f.R2)}
	for _, e := range f.Params {
		fp := models.FittedParam{Name: e.Name, Value: round(e.Value), Unit: "cores", AtBound: e.AtBound}
		if !e.AtBound {
			fp.SE = finite(e.SE)
		}
		if !strings.HasSuffix(e.Name, models.NuisanceSuffix) {
			q, err := quantity(sb.p, e.Name)
			if err != nil {
				return cf, err
			}
			fp.Value, fp.Unit = q.Value, q.Unit
			sb.set[e.Name] = true
		}
		cf.Params = append(cf.Params, fp)
		for _, tied := range sb.ties[e.Name] {
			q, err := quantity(sb.p, tied)
			if err != nil {
				return cf, err
			}
			r := sb.res.Tied[tied].Ratio
			tp := models.FittedParam{Name: tied, Value: q.Value, Unit: q.Unit, TiedTo: e.Name, Ratio: round(r)}
			if fp.SE != nil {
				tp.SE = finite(*fp.SE * r)
			}
			cf.Params = append(cf.Params, tp)
			sb.set[tied], sb.placed[tied] = true, true
		}
	}
	return cf, nil
}

// addResiduals files fit name's residuals under their rows' labels (the
// observations' names when the fit has no labels of its own).
func (sb *sectionBuilder) addResiduals(name string, f *Fit) {
	labels := f.Labels
	if len(labels) != len(f.Residuals) {
		labels = sb.obsNames
	}
	if len(labels) != len(f.Residuals) {
		return
	}
	for i, r := range f.Residuals {
		v := finite(r)
		if v == nil {
			continue
		}
		if sb.resid[labels[i]] == nil {
			sb.resid[labels[i]] = map[string]float64{}
			sb.runs = append(sb.runs, labels[i])
		}
		sb.resid[labels[i]][name] = *v
	}
}

// notCalibrated lists every profile parameter no fit set, with the reason.
func notCalibrated(set map[string]bool, notIdentified []string) []models.NotCalibrated {
	var out []models.NotCalibrated
	for _, pp := range models.ProfileParameters() {
		if !set[pp.Path] {
			reason := notCalibratedReason(pp.Path)
			if slices.Contains(notIdentified, pp.Path) {
				reason = "not identified: no run of this design moves it (its column in the fit was zero), so it keeps the base profile's value"
			}
			out = append(out, models.NotCalibrated{Parameter: pp.Path, Reason: reason})
		}
	}
	return out
}

// notCalibratedReason says why the design leaves a parameter at the base
// profile's value. It only explains; which parameters are left is computed
// from the fits.
func notCalibratedReason(path string) string {
	section, field, _ := strings.Cut(path, ".")
	switch {
	case path == "ztunnel.authz_cpu":
		return "always paid together with a stream open, so the runs cannot separate it from stream_open_cpu"
	case strings.HasSuffix(field, "handshake_cpu") && (section == "waypoint" || section == "sidecar"):
		return "Envoy connections are pooled in every run, so too few handshakes to measure"
	case strings.HasPrefix(field, "memory_") || field == "memory_request" || field == "cpu_request":
		return "the calibration measures CPU and latency, not memory or resource requests"
	case field == "worker_threads":
		return "a configuration setting, not a cost"
	case section == "hbone":
		return "a protocol or pooling constant of ztunnel's HBONE client, taken from its source"
	case section == "control_plane":
		return "the validation data plane has no control plane to measure"
	case section == "network":
		return "the runs share one host's loopback: no separate same-node or cross-zone path, no NIC limit"
	}
	return "not identifiable from the calibration design; kept from the base profile (see its source)"
}

func sortedKinds(m map[string]*Fit) []string {
	out := make([]string, 0, len(m))
	for k, f := range m {
		if f != nil {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// finite returns &round(v), or nil for NaN and ±Inf (left out of the
// section).
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	r := round(v)
	return &r
}

func seText(e Estimate, unit string) string {
	switch {
	case e.AtBound:
		return "at 0 (non-negativity)"
	case math.IsNaN(e.SE):
		return "SE n/a (no residual degrees of freedom)"
	}
	return fmt.Sprintf("SE ± %.3g %s", e.SE, unit)
}

// round keeps 5 significant digits (and no binary noise in the YAML).
func round(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 5, 64), 64)
	return r
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func sortedTies(m map[string]Tie) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
