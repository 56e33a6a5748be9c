package calibrate

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/internal/golden"

	"github.com/ambientsim/ambientsim/models"
)

// syntheticFit is a FitResult made by hand (no simulator, no measurement):
// two CPU fits (one with a parameter at its bound and an undefined R²), a
// tied parameter and a latency fit.
func syntheticFit(t testing.TB) *FitResult {
	t.Helper()
	base, err := models.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	// The latency fit's values are read from the profile (after bounds).
	prof, err := withValues(base, map[string]float64{"app.service_time_mean": 312.25, "ztunnel.added_latency": 95.5})
	if err != nil {
		t.Fatal(err)
	}
	steps := []Step{
		{Path: PathPlain, Rate: 200, Payload: 1024},
		{Path: PathL4, Rate: 200, Payload: 1024},
		{Path: PathL4, Rate: 500, Payload: 4096},
		{Path: PathL4, Rate: 100, Payload: 1024, PerConn: true, Unpooled: true},
		{Path: PathWaypoint, Rate: 200, Payload: 1024},
	}
	d := Design{Name: "synthetic", Duration: 5 * time.Second, Steps: steps}
	var obs []Observation
	for _, s := range steps {
		obs = append(obs, Observation{Step: s, Name: s.Name()})
	}
	return &FitResult{
		Design: d, Observations: obs, Profile: prof, AppCV: 0.43219, LatencyIterations: 3,
		CPU: map[string]*Fit{
			"waypoint": {Params: []Estimate{
				{Name: "waypoint.per_request_cpu", Value: 301.234567, SE: 4.5678},
				{Name: "waypoint.per_byte_cpu", Value: 0, SE: 0, AtBound: true},
				{Name: "waypoint.idle_cores", Value: 0.0031234, SE: 0.00012},
			}, Residuals: []float64{0, 0, 0, 0, 0.0012}, R2: math.NaN(), RMS: 0.00054, N: 5, DOF: 3},
			"ztunnel": {Params: []Estimate{
				{Name: "ztunnel.per_message_cpu", Value: 80.123456, SE: 1.23456},
				{Name: "ztunnel.handshake_server_cpu", Value: 410, SE: math.NaN()},
				{Name: "ztunnel.idle_cores", Value: 0.004, SE: 0.0002},
			}, Residuals: []float64{0.001, -0.002, 0.0005, 0.0001, -0.0003}, R2: 0.99871, RMS: 0.0011, N: 5, DOF: 2},
		},
		Tied: map[string]Tie{"ztunnel.handshake_client_cpu": {Of: "ztunnel.handshake_server_cpu", Ratio: 250.0 / 300}},
		Latency: &Fit{Params: []Estimate{
			{Name: "app.service_time_mean", Value: 312.25, SE: 7.5},
			{Name: "ztunnel.added_latency", Value: 95.5, SE: 3.25},
		}, Residuals: []float64{0.01, -0.02, 0.015, 0.4, -0.005}, R2: 0.9712, RMS: 0.0151, N: 4, DOF: 2},
	}
}

var syntheticProv = Provenance{ToolVersion: "9.9.9", Revision: "0123456789abcdef", Backend: "local",
	Date: time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC), Binary: "validation/cmd/meshnode sha256:00112233aabbccdd",
	Machine: Machine{NProc: 2, CPUModel: "Test CPU @ 2.0GHz", MemoryMiB: 7940, Kernel: "6.1.0", GoVersion: "go1.26.8",
		Cgroup: "/test.slice cpu.max=max 100000 memory.max=max", Notes: "load average 0.10 0.20 0.30 when detected; GOMAXPROCS 2"}}

// TestCalibratedProfileGolden renders the synthetic fit and compares the
// whole file with testdata/calibrated.golden.yaml (go test -run Golden
// -update rewrites it; the base profile's values are part of it, so a
// change to the published profile or the schema needs an update too).
func TestCalibratedProfileGolden(t *testing.T) {
	data, p, err := ProfileYAML(syntheticFit(t), "synthetic-machine", syntheticProv)
	if err != nil {
		t.Fatal(err)
	}
	goldenPath := filepath.Join("testdata", "calibrated.golden.yaml")
	golden.Check(t, goldenPath, data)
	// The golden file loads and its section says what the fit said.
	q, err := models.ParseProfile(goldenPath, data) // equal to the golden file once Check passed
	if err != nil {
		t.Fatal(err)
	}
	if q.Calibration == nil || p.Calibration == nil {
		t.Fatal("no calibration section")
	}
}

func TestSectionFromFit(t *testing.T) {
	res := syntheticFit(t)
	_, p, err := ProfileYAML(res, "m", syntheticProv)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Calibration
	if c.Date != "2026-11-25T12:30:00Z" || c.Machine.Cores != 2 || c.Machine.CPUModel != "Test CPU @ 2.0GHz" ||
		c.DataPlane.Revision != "0123456789abcdef" || c.Design.Steps != 5 || c.Design.StepDuration != "5s" {
		t.Errorf("section header %+v", c)
	}
	var names []string
	for _, f := range c.Fits {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "waypoint_cpu,ztunnel_cpu,latency_p50" {
		t.Errorf("fits %s, want the CPU fits sorted by name, then latency", got)
	}
	wp, zt, lat := c.Fits[0], c.Fits[1], c.Fits[2]
	if wp.R2 != nil {
		t.Errorf("waypoint R² %v, want absent (NaN)", *wp.R2)
	}
	if zt.R2 == nil || *zt.R2 != 0.99871 || zt.Observations != 5 || zt.DOF != 2 || zt.Unit != "CPU-s" {
		t.Errorf("ztunnel fit %+v", zt)
	}
	byName := map[string]models.FittedParam{}
	for _, f := range c.Fits {
		for _, fp := range f.Params {
			byName[fp.Name] = fp
		}
	}
	if fp := byName["ztunnel.per_message_cpu"]; fp.Value != 80.123 || fp.SE == nil || *fp.SE != 1.2346 || fp.Unit != "us" {
		t.Errorf("per_message_cpu %+v", fp)
	}
	if fp := byName["ztunnel.handshake_server_cpu"]; fp.SE != nil {
		t.Errorf("handshake_server_cpu SE %v, want absent (NaN)", *fp.SE)
	}
	if fp := byName["waypoint.per_byte_cpu"]; !fp.AtBound || fp.SE != nil || fp.Value != 0 {
		t.Errorf("per_byte_cpu %+v, want at bound, no SE", fp)
	}
	if fp := byName["ztunnel.idle_cores"]; fp.Unit != "cores" || fp.Value != 0.004 {
		t.Errorf("idle_cores %+v", fp)
	}
	tied := byName["ztunnel.handshake_client_cpu"]
	if tied.TiedTo != "ztunnel.handshake_server_cpu" || tied.Ratio != 0.83333 || math.Abs(tied.Value-410*250.0/300) > 0.01 {
		t.Errorf("tied %+v", tied)
	}
	if tied.Value != p.Ztunnel.HandshakeClientCPU.Value {
		t.Errorf("tied value %v in the section, %v in the profile", tied.Value, p.Ztunnel.HandshakeClientCPU.Value)
	}
	if fp := byName["app.service_time_mean"]; fp.Value != 312.25 || lat.Unit != "ms" || lat.Observations != 4 {
		t.Errorf("latency %+v / %+v", fp, lat)
	}
	if len(c.Derived) != 1 || c.Derived[0].Parameter != "app.service_time_cv" || c.Derived[0].Value != 0.43219 {
		t.Errorf("derived %+v", c.Derived)
	}
	if len(c.Residuals) != 5 || c.Residuals[3].Run != res.Observations[3].Name || c.Residuals[3].Values["latency_p50"] != 0.4 ||
		len(c.Residuals[3].Values) != 3 {
		t.Errorf("residuals %+v", c.Residuals)
	}
	// Every schema parameter is either set by the calibration or listed as
	// not calibrated, never both.
	set := map[string]bool{"app.service_time_cv": true}
	for n := range byName {
		set[n] = true
	}
	nc := map[string]bool{}
	for _, n := range c.NotCalibrated {
		if set[n.Parameter] || n.Reason == "" {
			t.Errorf("not_calibrated %+v: calibrated, or no reason", n)
		}
		nc[n.Parameter] = true
	}
	for _, pp := range models.ProfileParameters() {
		if !set[pp.Path] && !nc[pp.Path] {
			t.Errorf("%s neither calibrated nor listed as not calibrated", pp.Path)
		}
	}
	if !nc["ztunnel.authz_cpu"] || !nc["ztunnel.per_byte_cpu"] {
		t.Error("authz_cpu and per_byte_cpu (not in this fit) should be listed as not calibrated")
	}
}

func TestSectionTieWithoutFit(t *testing.T) {
	res := syntheticFit(t)
	res.Tied["sidecar.handshake_cpu"] = Tie{Of: "sidecar.per_request_cpu", Ratio: 2}
	if _, _, err := ProfileYAML(res, "m", syntheticProv); err == nil || !strings.Contains(err.Error(), "sidecar.handshake_cpu") {
		t.Errorf("err %v, want one naming the orphan tie", err)
	}
}

func TestCgroupLimits(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "cgroup")
	mount := filepath.Join(dir, "fs")
	if err := os.MkdirAll(filepath.Join(mount, "a.slice"), 0o755); err != nil {
		t.Fatal(err)
	}
	for f, v := range map[string]string{self: "0::/a.slice\n", filepath.Join(mount, "a.slice", "cpu.max"): "200000 100000\n",
		filepath.Join(mount, "a.slice", "memory.max"): "max\n"} {
		if err := os.WriteFile(f, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := cgroupLimits(self, mount); got != "/a.slice cpu.max=200000 100000 memory.max=max" {
		t.Errorf("cgroupLimits = %q", got)
	}
	if got := cgroupLimits(filepath.Join(dir, "none"), mount); got != "" {
		t.Errorf("no cgroup file: %q", got)
	}
	m := DetectMachine()
	if m.NProc < 1 || m.GoVersion == "" || m.Notes == "" {
		t.Errorf("DetectMachine %+v", m)
	}
}

func TestBinaryID(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := BinaryID(f); got != "validation/cmd/meshnode sha256:2d711642b726b044" {
		t.Errorf("BinaryID = %q", got)
	}
	if got := BinaryID(f + ".missing"); got != "validation/cmd/meshnode" {
		t.Errorf("missing binary: %q", got)
	}
}
