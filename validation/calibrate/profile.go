package calibrate

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
)

// Machine describes where a calibration ran.
type Machine struct {
	NProc     int    `json:"nproc"`
	CPUModel  string `json:"cpu_model"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
}

// String is a one-line description, e.g. "2 × AMD EPYC, Linux 6.18.44".
func (m Machine) String() string {
	return fmt.Sprintf("%d × %s, Linux %s", m.NProc, m.CPUModel, m.Kernel)
}

// DetectMachine reads the CPU count, /proc/cpuinfo's model name and the
// kernel release.
func DetectMachine() Machine {
	m := Machine{NProc: runtime.NumCPU(), CPUModel: "unknown CPU", Kernel: "unknown", GoVersion: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
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
// to "calibrated on <machine>", and a comment header with the machine,
// date, data-plane version, design and fit quality (the schema has no
// fields for those, and ParseProfile rejects unknown ones). The result
// parses with models.ParseProfile.
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
	for kind, f := range res.CPU {
		for _, e := range f.Params {
			if strings.HasSuffix(e.Name, ".idle_cores") {
				continue
			}
			q, err := quantity(p, e.Name)
			if err != nil {
				return nil, nil, err
			}
			q.Value = round(e.Value)
			q.Source, q.Date = src, date
			q.Derivation = fmt.Sprintf("least squares of %s CPU seconds over %d runs (design matrix from the simulator), %s; fit R² %.4f, residual RMS %.4g CPU-s",
				kind, f.N, seText(e, q.Unit), f.R2, f.RMS)
		}
	}
	for tied, t := range res.Tied {
		q, err := quantity(p, tied)
		if err != nil {
			return nil, nil, err
		}
		of, _ := quantity(p, t.Of)
		q.Value = round(of.Value * t.Ratio)
		q.Source, q.Date = src, date
		q.Derivation = fmt.Sprintf("%.4g × %s (the base profile's ratio): the runs cannot tell the two sides of a handshake apart", t.Ratio, t.Of)
	}
	for _, e := range res.Latency.Params {
		q, err := quantity(p, e.Name)
		if err != nil {
			return nil, nil, err
		}
		q.Value = round(q.Value) // the fitted value, after the lower bound of the app time
		q.Source, q.Date = src, date
		q.Derivation = fmt.Sprintf("Gauss-Newton fit of the simulated median latency to the measured medians of %d runs (%d iterations), %s; residual RMS %.4g ms",
			res.Latency.N, res.LatencyIterations, seText(e, q.Unit), res.Latency.RMS)
	}
	q := &p.App.ServiceTimeCV
	q.Value = round(res.AppCV)
	q.Source, q.Date = src, date
	q.Derivation = "median stddev/mean of the out-of-mesh runs' latency (the echo app plus the kernel and the load generator)"

	body, err := yaml.Marshal(p)
	if err != nil {
		return nil, nil, fmt.Errorf("calibrate: render profile: %w", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Calibrated cost profile %q, written by `ambientsim calibrate`.\n#\n", name)
	fmt.Fprintf(&b, "# machine:     %s (nproc %d, CPU %q, kernel %s, %s)\n", prov.Machine, prov.Machine.NProc, prov.Machine.CPUModel, prov.Machine.Kernel, prov.Machine.GoVersion)
	fmt.Fprintf(&b, "# date:        %s\n", prov.Date.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "# data plane:  validation/cmd/meshnode, ambientsim %s, revision %s\n", prov.ToolVersion, orUnknown(prov.Revision))
	fmt.Fprintf(&b, "# backend:     %s; design %q: %d runs of %v\n#\n", prov.Backend, res.Design.Name, len(res.Observations), res.Design.Duration)
	b.WriteString("# Fit quality (SE = standard error from sigma^2 (X'X)^-1; 'at 0' = held by the non-negativity constraint):\n")
	for _, kind := range []string{"ztunnel", "waypoint", "sidecar"} {
		f := res.CPU[kind]
		if f == nil {
			continue
		}
		fmt.Fprintf(&b, "#   %-8s CPU: R² %.4f, residual RMS %.4g CPU-s, %d runs, %d dof\n", kind, f.R2, f.RMS, f.N, f.DOF)
		for _, e := range f.Params {
			fmt.Fprintf(&b, "#     %-28s %10.4g  %s\n", e.Name, e.Value, seText(e, unitOf(p, e.Name)))
			for _, tied := range sortedTies(res.Tied) {
				if t := res.Tied[tied]; t.Of == e.Name {
					fmt.Fprintf(&b, "#     %-28s %10.4g  = %.4g × %s (tied)\n", tied, round(e.Value*t.Ratio), t.Ratio, t.Of)
				}
			}
		}
	}
	fmt.Fprintf(&b, "#   latency (median): R² %.4f, residual RMS %.4g ms, %d runs (the unpooled runs are left out)\n", res.Latency.R2, res.Latency.RMS, res.Latency.N)
	for _, e := range res.Latency.Params {
		fmt.Fprintf(&b, "#     %-28s %10.4g  %s\n", e.Name, e.Value, seText(e, unitOf(p, e.Name)))
	}
	b.WriteString("#\n# Residuals per run (measured - fitted): ztunnel/waypoint/sidecar CPU-ms, median latency ms\n")
	for i, ob := range res.Observations {
		fmt.Fprintf(&b, "#   %-28s", ob.Name)
		for _, kind := range []string{"ztunnel", "waypoint", "sidecar"} {
			if f := res.CPU[kind]; f != nil {
				fmt.Fprintf(&b, " %8.2f", f.Residuals[i]*1e3)
			}
		}
		fmt.Fprintf(&b, " | %7.3f (measured %.3f)\n", res.Latency.Residuals[i], ob.P50Ms)
	}
	b.WriteString("#\n# Not calibrated (kept from the base profile, see their source): authorisation CPU\n")
	b.WriteString("# (always paid with a stream open, so not separable from it), Envoy handshake CPU (sidecar\n")
	b.WriteString("# and waypoint connections are pooled), memory, worker threads, HBONE constants, same-node\n")
	b.WriteString("# and cross-zone latency, NIC bandwidth, control plane.\n")
	b.WriteString("# The idle_cores terms above are fitted so they do not bias the per-request costs;\n")
	b.WriteString("# the schema has no field for them, so simulated CPU leaves them out.\n\n")
	b.Write(body)
	parsed, err := models.ParseProfile(name+".yaml", b.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("calibrate: the calibrated profile does not load: %w", err)
	}
	return b.Bytes(), parsed, nil
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
