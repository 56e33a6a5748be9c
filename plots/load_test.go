package plots

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadResults(t *testing.T) {
	write := func(t *testing.T, content string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, SummaryFile), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name    string
		dir     func(t *testing.T) string
		wantErr []string // substrings the error must contain; nil = success
	}{
		{"fixture dir", func(*testing.T) string { return "testdata/fixture" }, nil},
		{"summary file itself", func(*testing.T) string { return "testdata/fixture/summary.json" }, nil},
		{"missing dir", func(*testing.T) string { return "testdata/no-such-dir" }, []string{"testdata/no-such-dir"}},
		{"dir without summary", func(t *testing.T) string { return t.TempDir() }, []string{SummaryFile, "ambientsim run"}},
		{"malformed", func(t *testing.T) string { return write(t, "{\n  \"schema_version\": 1,\n  \"seed\": ,\n}") }, []string{SummaryFile + ":3:11", "malformed JSON"}},
		{"wrong type", func(t *testing.T) string { return write(t, "{\n\"schema_version\": 1,\n\"seed\": \"forty-two\"\n}") }, []string{SummaryFile + ":3:", `field "seed"`}},
		{"no schema", func(t *testing.T) string { return write(t, `{"scenario": "x"}`) }, []string{"schema_version is missing"}},
		{"newer schema", func(t *testing.T) string { return write(t, `{"schema_version": 99}`) }, []string{"schema_version 99", "upgrade"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadResults(tt.dir(t))
			if tt.wantErr == nil {
				if err != nil || s == nil {
					t.Fatalf("LoadResults: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("LoadResults succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadSweep(t *testing.T) {
	sw, err := LoadSweep("testdata/fixture")
	if err != nil || sw == nil || len(sw.Points) == 0 {
		t.Fatalf("fixture sweep: %v %v", sw, err)
	}
	if sw, err := LoadSweep("testdata/minimal"); sw != nil || err != nil {
		t.Errorf("no sweep.json: got %v, %v; want nil, nil", sw, err)
	}
	if sw, err := LoadSweep("testdata/fixture/summary.json"); sw == nil || err != nil {
		t.Errorf("sweep beside a named summary.json: got %v, %v", sw, err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SweepFile), []byte(`{"points": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSweep(dir); err == nil || !strings.Contains(err.Error(), SweepFile) {
		t.Errorf("malformed sweep.json: err = %v, want one naming the file", err)
	}
	if err := os.WriteFile(filepath.Join(dir, SweepFile), []byte(`{"format": "other/1", "points": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSweep(dir); err == nil || !strings.Contains(err.Error(), "format") {
		t.Errorf("foreign sweep.json: err = %v, want a format error", err)
	}
}

func TestLoadDir(t *testing.T) {
	s, sw, err := LoadDir("testdata/fixture")
	if err != nil || s == nil || sw == nil {
		t.Fatalf("fixture: %v %v %v", s, sw, err)
	}
	if s, sw, err := LoadDir("testdata/minimal"); err != nil || s == nil || sw != nil {
		t.Errorf("summary only: %v %v %v", s, sw, err)
	}
	// A sweep's output directory holds sweep.json alone.
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/fixture/sweep.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SweepFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, sw, err = LoadDir(dir)
	if err != nil || sw == nil || s.Scenario != sw.Scenario || s.Seed != sw.BaseSeed {
		t.Fatalf("sweep only: summary %+v, sweep %v, err %v", s, sw != nil, err)
	}
	if _, _, err := LoadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), SummaryFile) {
		t.Errorf("empty dir: err = %v, want one naming %s", err, SummaryFile)
	}
}

// TestSweepOnlyProfileNamed: a sweep records only its profile's name, so the
// report of a sweep alone names it and says where the rest is, instead of a
// row of dashes that would read like a profile without a source.
func TestSweepOnlyProfileNamed(t *testing.T) {
	seen := 0
	for _, c := range libraryCases(t) {
		if c.sweep == nil || c.s.Profile.Source != "" {
			continue // a run's summary.json carries the whole profile
		}
		seen++
		r, err := Build(c.s, Options{Sweep: c.sweep})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := Render(&b, r); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		if !strings.Contains(page, "Cost profile "+c.s.Profile.Name+" (sweep.json records its name only") {
			t.Errorf("%s: report does not name the sweep's profile %q and say what the sweep records", c.name, c.s.Profile.Name)
		}
		if strings.Contains(page, "where its numbers come from") {
			t.Errorf("%s: report still renders the profile table of dashes for a sweep", c.name)
		}
	}
	if seen == 0 {
		t.Fatal("no sweep-only fixture in the library: the test checks nothing")
	}
}
