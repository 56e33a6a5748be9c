package models

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/sim"
)

// calSection is a valid calibration section; the error cases edit one
// line of it. Its first line is line 1 of the section.
const calSection = `calibration:
  tool: ambientsim calibrate
  tool_version: 0.9.0
  date: "2026-11-25T12:30:00Z"
  backend: local
  machine:
    cpu_model: Test CPU
    cores: 2
    memory_mib: 7940
    kernel: 6.1.0
    go_version: go1.26.8
    cgroup: /test.slice cpu.max=max 100000
    notes: shared machine
  data_plane:
    revision: 0123abc
    binary: validation/cmd/meshnode
  design:
    name: quick
    steps: 12
    step_duration: 10s
  fits:
    - name: ztunnel_cpu
      method: non-negative least squares
      observations: 12
      dof: 8
      r2: 0.9981
      residual_rms: 0.0012
      unit: CPU-s
      params:
        - name: ztunnel.per_message_cpu
          value: 28
          se: 0.5
          unit: us
        - name: ztunnel.handshake_client_cpu
          value: 250
          unit: us
          tied_to: ztunnel.handshake_server_cpu
          ratio: 0.8333
        - name: ztunnel.idle_cores
          value: 0.004
          unit: cores
    - name: latency_p50
      observations: 10
      dof: 7
      r2: 0.95
      residual_rms: 0.02
      unit: ms
      params:
        - name: ztunnel.added_latency
          value: 90
          se: 3
          unit: us
  derived:
    - parameter: app.service_time_cv
      value: 0.4
      unit: ratio
      method: out-of-mesh stddev/mean
  residuals:
    - run: l4-200rps-1024B-ka
      values:
        ztunnel_cpu: 0.001
        latency_p50: -0.01
  not_calibrated:
    - parameter: ztunnel.authz_cpu
      reason: paid with every stream open
`

// withSection returns the published profile with section appended, and
// the line the section's first line lands on.
func withSection(t testing.TB, section string) (string, int) {
	t.Helper()
	good, err := profileFS.ReadFile("profiles/" + DefaultProfile + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimRight(string(good), "\n") + "\n"
	return text + section, strings.Count(text, "\n") + 1
}

func TestCalibrationSectionParses(t *testing.T) {
	text, _ := withSection(t, calSection)
	p, err := ParseProfile("cal.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	c := p.Calibration
	if c == nil || c.Machine.Cores != 2 || len(c.Fits) != 2 || *c.Fits[0].R2 != 0.9981 ||
		c.Fits[0].Params[1].TiedTo != "ztunnel.handshake_server_cpu" || c.Residuals[0].Values["latency_p50"] != -0.01 {
		t.Fatalf("section %+v", c)
	}
	f := c.Facts()
	if f.WorstFit != "latency_p50" || f.WorstR2 != 0.95 || f.Revision != "0123abc" || f.Machine != "2 × Test CPU, Linux 6.1.0" {
		t.Errorf("facts %+v", f)
	}
	if s := f.String(); !strings.Contains(s, "worst fit R² 0.9500 (latency_p50)") || !strings.Contains(s, "2026-11-25T12:30:00Z") {
		t.Errorf("facts string %q", s)
	}
	pub, err := LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	if pub.Calibration != nil {
		t.Error("the published profile has a calibration section")
	}
}

func TestCalibrationSectionErrors(t *testing.T) {
	cases := []struct {
		name, from, to string
		line           int // line within calSection (1-based)
		want           []string
	}{
		{"negative observations", "observations: 12", "observations: -3", 24, []string{"calibration.fits[0].observations", "negative (-3)"}},
		{"r2 above 1", "r2: 0.9981", "r2: 1.2", 26, []string{"calibration.fits[0].r2", "1.2", "at most 1"}},
		{"dof above observations", "dof: 7", "dof: 11", 44, []string{"calibration.fits[1].dof", "between 0 and observations (10)"}},
		{"unknown parameter", "name: ztunnel.per_message_cpu", "name: ztunnel.per_mesage_cpu", 30, []string{"calibration.fits[0].params[0].name", "ztunnel.per_mesage_cpu", "dotted path", ".idle_cores"}},
		{"section is not a parameter", "name: ztunnel.added_latency", "name: ztunnel", 49, []string{"fits[1].params[0].name", `"ztunnel" is neither`}},
		{"wrong unit", "value: 28\n          se: 0.5\n          unit: us", "value: 28\n          se: 0.5\n          unit: ms", 33, []string{"fits[0].params[0].unit", `"ms"`, `want "us"`}},
		{"bad date", `date: "2026-11-25T12:30:00Z"`, `date: "25/11/2026"`, 4, []string{"calibration.date", "25/11/2026", "RFC 3339"}},
		{"missing date", "  date: \"2026-11-25T12:30:00Z\"\n", "", 1, []string{"calibration.date", "missing"}},
		{"negative se", "se: 0.5", "se: -0.5", 32, []string{"params[0].se", "-0.5"}},
		{"tie to nothing", "tied_to: ztunnel.handshake_server_cpu", "tied_to: ztunnel.handshake", 37, []string{"params[1].tied_to", "ztunnel.handshake"}},
		{"ratio without tie", "          tied_to: ztunnel.handshake_server_cpu\n", "", 37, []string{"params[1].ratio", "without tied_to"}},
		{"residual of no fit", "ztunnel_cpu: 0.001", "sidecar_cpu: 0.001", 61, []string{"residuals[0].values.sidecar_cpu", `no fit called "sidecar_cpu"`}},
		{"not calibrated unknown", "parameter: ztunnel.authz_cpu", "parameter: ztunnel.authz", 64, []string{"not_calibrated[0].parameter", "ztunnel.authz"}},
		{"derived wrong unit", "unit: ratio", "unit: percent", 56, []string{"derived[0].unit", "percent"}},
		{"negative cores", "cores: 2", "cores: -2", 8, []string{"machine.cores", "negative"}},
		{"bad step duration", "step_duration: 10s", "step_duration: ten", 20, []string{"design.step_duration", "ten"}},
		{"duplicate fit", "name: latency_p50", "name: ztunnel_cpu", 42, []string{"fits[1].name", "listed twice"}},
		{"unknown field", "cores: 2", "corse: 2", 0, []string{"corse"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sec := strings.Replace(calSection, tc.from, tc.to, 1)
			if sec == calSection {
				t.Fatal("test edit did not apply")
			}
			text, first := withSection(t, sec)
			_, err := ParseProfile("cal.yaml", []byte(text))
			if err == nil {
				t.Fatal("no error")
			}
			want := tc.want
			if tc.line > 0 {
				want = append(want, fmt.Sprintf("cal.yaml:%d: ", first+tc.line-1))
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestCalibrationRoundTrip: the section survives Marshal → Parse.
func TestCalibrationRoundTrip(t *testing.T) {
	text, _ := withSection(t, calSection)
	p, err := ParseProfile("cal.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseProfile("again.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Calibration, q.Calibration) {
		t.Errorf("section changed in the round trip:\n%+v\n%+v", p.Calibration, q.Calibration)
	}
	// Without a section none is written.
	pub, _ := LoadProfile("")
	out, err = yaml.Marshal(pub)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "calibration:") {
		t.Error("a profile without a section marshals one")
	}
}

// TestCalibrationDoesNotChangeResults: the section is metadata; the same
// costs with and without it simulate identically.
func TestCalibrationDoesNotChangeResults(t *testing.T) {
	text, _ := withSection(t, calSection)
	withCal, err := ParseProfile("cal.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	top := mustTopology(t, `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    mode: ambient
    waypoint: {scope: namespace}
    workloads: [{name: client}]
    services: [{name: server}]
calls:
  - {from: a/client, to: a/server, rate: 300}
`)
	run := func(p *Profile) (string, uint64) {
		cfg := Config{Topology: top, Profile: p, Mode: "ambient+waypoint", Seed: 11, Duration: 3 * sim.Second, Warmup: sim.Second,
			Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4, ReqSize: kib1, RespSize: kib1})}
		_, res := runMesh(t, cfg)
		b, err := json.Marshal(res.Mode)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), res.Events
	}
	a, ea := run(mustProfile(t))
	b, eb := run(withCal)
	if a != b || ea != eb {
		t.Errorf("results differ with a calibration section (events %d vs %d)", ea, eb)
	}
	if ea == 0 {
		t.Error("no events simulated")
	}
}

func TestProfileParameters(t *testing.T) {
	ps := ProfileParameters()
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Path] || p.Unit == "" {
			t.Errorf("parameter %+v: duplicate or no unit", p)
		}
		seen[p.Path] = true
	}
	if u, ok := ParameterUnit("ztunnel.per_message_cpu"); !ok || u != "us" {
		t.Errorf("ParameterUnit(ztunnel.per_message_cpu) = %q %v", u, ok)
	}
	if _, ok := ParameterUnit("ztunnel"); ok {
		t.Error("a section is not a parameter")
	}
	// Every listed parameter resolves in the loaded published profile
	// (optional ones hold their neutral value) with the listed unit.
	pub, _ := LoadProfile("")
	for _, p := range ps {
		v := reflect.ValueOf(pub).Elem()
		for _, key := range strings.Split(p.Path, ".") {
			t := v.Type()
			for i := 0; i < t.NumField(); i++ {
				if strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0] == key {
					v = v.Field(i)
					break
				}
			}
		}
		q, ok := v.Interface().(Quantity)
		if !ok || q.Unit != p.Unit {
			t.Errorf("%s: resolves to %v, want a Quantity in %s", p.Path, v.Type(), p.Unit)
		}
	}
	if f := (&Calibration{}).Facts(); !math.IsNaN(f.WorstR2) || f.WorstFit != "" {
		t.Errorf("facts of an empty section %+v", f)
	}
}

// FuzzParseProfileCalibration: no calibration section crashes the parser.
func FuzzParseProfileCalibration(f *testing.F) {
	f.Add(calSection)
	f.Add("calibration: {fits: [{params: [{name: x, ratio: -1}]}]}\n")
	f.Add("calibration:\n  residuals: [{run: a, values: {b: 1}}]\n")
	f.Fuzz(func(t *testing.T, section string) {
		text, _ := withSection(t, section)
		p, err := ParseProfile("f.yaml", []byte(text))
		if err == nil && p == nil {
			t.Fatal("nil profile without error")
		}
	})
}

// BenchmarkParseProfileCalibrated measures loading a calibrated profile
// (the published one plus a calibration section).
func BenchmarkParseProfileCalibrated(b *testing.B) {
	text, _ := withSection(b, calSection)
	data := []byte(text)
	for b.Loop() {
		if _, err := ParseProfile("cal.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data))/1024, "KiB/profile")
}
