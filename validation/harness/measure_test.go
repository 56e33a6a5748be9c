package harness

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFortioFile(t *testing.T) {
	res, err := ReadFortioFile(filepath.Join("testdata", "fortio-http.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := res.DurationHistogram
	if h.Count != 1500 || len(h.Data) != 3 || res.NumThreads != 4 || res.ActualDuration != 3006613457 {
		t.Errorf("parsed %+v", res)
	}
	if p99, ok := h.Percentile(99); !ok || p99 != 0.006071 {
		t.Errorf("p99 = %v, %v", p99, ok)
	}
	if _, ok := h.Percentile(75); ok {
		t.Error("p75 reported although absent")
	}
	if got := res.Errors(); got != 3 {
		t.Errorf("Errors() = %d, want 3", got)
	}
	if res.ErrorsDurationHistogram == nil || res.ErrorsDurationHistogram.Count != 3 {
		t.Errorf("errors histogram = %+v", res.ErrorsDurationHistogram)
	}
}

func TestParseFortioErrors(t *testing.T) {
	for _, in := range []string{"", "{", `{"DurationHistogram": {"Count": -1}}`, `{"ActualQPS": "fast"}`} {
		if _, err := ParseFortio(strings.NewReader(in)); err == nil {
			t.Errorf("ParseFortio(%q) succeeded", in)
		}
	}
}

func FuzzParseFortio(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "fortio-http.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"RetCodes": {"OK": 3}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseFortio(bytes.NewReader(data))
		if err != nil {
			return
		}
		_ = res.Errors()
		_, _ = res.DurationHistogram.Percentile(99)
	})
}

func TestParseMetricsAndSum(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fams, err := ParseMetrics(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := Scrape{Process: "nodeproxy/node-a", Families: fams}
	tests := []struct {
		name   string
		match  map[string]string
		want   float64
		wantOK bool
	}{
		{"istio_tcp_connections_opened_total", nil, 240, true},
		{"istio_tcp_connections_opened_total", map[string]string{"reporter": "destination"}, 120, true},
		{"istio_tcp_connections_opened_total", map[string]string{"reporter": "destination", "response_flags": "DENY"}, 2, true},
		{"istio_tcp_connections_opened_total", map[string]string{"reporter": "waypoint"}, 0, false},
		{"istio_request_duration_milliseconds", nil, 10, true},
		{"istio_requests_total", nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := sc.Sum(tt.name, tt.match)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Sum(%s, %v) = %v, %v; want %v, %v", tt.name, tt.match, got, ok, tt.want, tt.wantOK)
		}
	}
	if _, err := ParseMetrics(strings.NewReader("metric{ 1\n")); err == nil {
		t.Error("malformed exposition accepted")
	}
}

func TestDetectCgroups(t *testing.T) {
	write := func(t *testing.T, path, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("v1", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "cpuacct", "cgroup.procs"), "")
		write(t, filepath.Join(root, "memory", "cgroup.procs"), "")
		self := filepath.Join(root, "self")
		write(t, self, "4:memory:/sandbox/abc\n2:cpu,cpuacct:/\n0::/\n")
		cg, err := detectCgroups(root, self, "abc123")
		if err != nil {
			t.Fatal(err)
		}
		if cg.mode != CgroupV1 || cg.cpuDir != filepath.Join(root, "cpuacct", "ambientsim-abc123") ||
			cg.memDir != filepath.Join(root, "memory", "sandbox", "abc", "ambientsim-abc123") {
			t.Errorf("got %+v", cg)
		}
	})
	t.Run("v2", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "cgroup.controllers"), "cpu memory")
		self := filepath.Join(root, "self")
		write(t, self, "0::/user.slice/session-1.scope\n")
		cg, err := detectCgroups(root, self, "abc123")
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(root, "user.slice", "session-1.scope", "ambientsim-abc123")
		if cg.mode != CgroupV2 || cg.cpuDir != want || cg.memDir != want {
			t.Errorf("got %+v, want dirs %s", cg, want)
		}
	})
	t.Run("none", func(t *testing.T) {
		root := t.TempDir()
		self := filepath.Join(root, "self")
		write(t, self, "")
		cg, err := detectCgroups(root, self, "abc123")
		if err != nil || cg.mode != CgroupNone {
			t.Errorf("got %+v, %v; want proc mode", cg, err)
		}
	})
}

func TestCgroupCounters(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"cpuacct.usage":             "2500000000\n",
		"memory.max_usage_in_bytes": "1048576\n",
		"cpu.stat":                  "usage_usec 1500000\nuser_usec 1000000\n",
		"memory.peak":               "2097152\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v1 := &procCgroup{mode: CgroupV1, cpuDir: dir, memDir: dir}
	if cpu, err := v1.cpuSeconds(); err != nil || cpu != 2.5 {
		t.Errorf("v1 cpu = %v, %v", cpu, err)
	}
	if mem, ok, err := v1.peakMemoryBytes(); err != nil || !ok || mem != 1<<20 {
		t.Errorf("v1 mem = %v, %v, %v", mem, ok, err)
	}
	v2 := &procCgroup{mode: CgroupV2, cpuDir: dir, memDir: dir}
	if cpu, err := v2.cpuSeconds(); err != nil || cpu != 1.5 {
		t.Errorf("v2 cpu = %v, %v", cpu, err)
	}
	if mem, ok, err := v2.peakMemoryBytes(); err != nil || !ok || mem != 2<<20 {
		t.Errorf("v2 mem = %v, %v, %v", mem, ok, err)
	}
	if _, ok, _ := (&procCgroup{mode: CgroupV2, cpuDir: dir}).peakMemoryBytes(); ok {
		t.Error("v2 without memory controller reported a peak")
	}
}

func TestProcCounters(t *testing.T) {
	cpu, err := procCPUSeconds(os.Getpid())
	if err != nil || cpu < 0 {
		t.Errorf("procCPUSeconds(self) = %v, %v", cpu, err)
	}
	peak, err := procPeakRSSBytes(os.Getpid())
	if err != nil || peak <= 0 {
		t.Errorf("procPeakRSSBytes(self) = %v, %v", peak, err)
	}
}

func TestFindWorkDirs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"ambientsim-abc123-1234", "ambientsim-abd999-55", "ambientsim-report-shots", "ambientsim-sweep-758417400", "other"} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got := findWorkDirs(dir, "abc")
	if len(got) != 1 || filepath.Base(got[0]) != "ambientsim-abc123-1234" {
		t.Errorf("findWorkDirs(abc) = %v", got)
	}
	if got := findWorkDirs(dir, ""); len(got) != 2 {
		t.Errorf("findWorkDirs(\"\") = %v, want the two run directories only", got)
	}
}

func TestFlatten(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fams, err := ParseMetrics(f)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range Flatten(fams) {
		fmt.Fprintf(&b, "%s %s %g\n", s.Name, labelKey(s.Labels), s.Value)
	}
	goldenFile(t, "metrics-flat.txt", []byte(b.String()))
}
