package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBadSettingsAreUsageErrors: a bad value from the environment or the
// config file is rejected like the same mistake on a flag (exit 2), and the
// message names where it came from.
func TestBadSettingsAreUsageErrors(t *testing.T) {
	out := t.TempDir()
	tests := []struct {
		name   string
		env    map[string]string
		config string // file name and content, "name\ncontent"
		args   []string
		want   []string
	}{
		{"seed from env", map[string]string{"AMBIENTSIM_SEED": "abc"}, "", []string{"run", "modes-compare", "--out", out},
			[]string{`AMBIENTSIM_SEED="abc"`, "non-negative integer"}},
		{"negative seed from env", map[string]string{"AMBIENTSIM_SEED": "-3"}, "", []string{"run", "modes-compare", "--out", out},
			[]string{`AMBIENTSIM_SEED="-3"`, "non-negative integer"}},
		{"slo from env", map[string]string{"AMBIENTSIM_SLO_P99_MS": "abc"}, "", []string{"report", out},
			[]string{`AMBIENTSIM_SLO_P99_MS="abc"`, "a number"}},
		{"workers from env", map[string]string{"AMBIENTSIM_WORKERS": "x"}, "", []string{"sweep", "capacity", "--out", out},
			[]string{`AMBIENTSIM_WORKERS="x"`, "an integer"}},
		{"negative seed in config", nil, "c.yaml\nout: /tmp/x\nseed: -3\n", []string{"run", "modes-compare"},
			[]string{"c.yaml:2: seed: \"-3\"", "non-negative integer"}},
		{"misspelled key", nil, "c.yaml\nout: /tmp/x\nsed: 3\n", []string{"run", "modes-compare"},
			[]string{"c.yaml:2", `unknown setting "sed"`, `did you mean "seed"?`}},
		{"unknown key far from any", nil, "c.yaml\nzzzzzzzzzz: 3\n", []string{"version"},
			[]string{"c.yaml:1", `unknown setting "zzzzzzzzzz"`}},
		{"yaml syntax", nil, "c.yaml\nout: /tmp/x\nseed: 3: 4\n", []string{"run", "modes-compare"},
			[]string{"c.yaml:2", "mapping values are not allowed"}},
		{"mapping value", nil, "c.yaml\nseed:\n  value: 3\n", []string{"run", "modes-compare"},
			[]string{"c.yaml:1", "not a mapping"}},
		{"json config", nil, "c.json\n{\"out\": \"/tmp/x\",\n \"duration\": 5}\n", []string{"run", "modes-compare"},
			[]string{"--duration", "5"}},
		{"toml bad seed", nil, "c.toml\nout = \"/tmp/x\"\nseed = \"abc\"\n", []string{"run", "modes-compare"},
			[]string{"c.toml:2: seed: \"abc\"", "non-negative integer"}},
		{"toml syntax", nil, "c.toml\nout = \"/tmp/x\"\nseed = = 3\n", []string{"run", "modes-compare"},
			[]string{"c.toml:2"}},
		{"semantic error names the env source", map[string]string{"AMBIENTSIM_WORKERS": "-1"}, "", []string{"sweep", "capacity", "--out", out},
			[]string{"--workers must be positive", `--workers came from AMBIENTSIM_WORKERS="-1"`}},
		{"unknown config type", nil, "c.ini\nseed=3\n", []string{"version"},
			[]string{"unknown file type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := tt.args
			if tt.config != "" {
				name, content, _ := strings.Cut(tt.config, "\n")
				args = append([]string{"--config", writeConfig(t, name, content)}, args...)
			}
			got, code := runCLI(t, args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; output:\n%s", code, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestSettingsReachTheRecordedCommand: summary.json's command reproduces
// the run, with the effective seed and every setting from the environment
// or the config file.
func TestSettingsReachTheRecordedCommand(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		config string
		args   []string
		want   string
	}{
		{"scenario seed", nil, "", []string{"--duration", "1s"},
			"ambientsim run modes-compare --out <dir> --duration 1s --seed 1"},
		{"seed from env", map[string]string{"AMBIENTSIM_SEED": "5"}, "", []string{"--duration", "1s"},
			"ambientsim run modes-compare --out <dir> --duration 1s --seed 5"},
		{"duration and seed from config, env beats config", map[string]string{"AMBIENTSIM_SEED": "6"}, "seed: 9\nduration: 1s\n", nil,
			"ambientsim run modes-compare --out <dir> --duration 1s --seed 6"},
		{"flag beats env", map[string]string{"AMBIENTSIM_SEED": "6"}, "", []string{"--seed", "2", "--duration", "1s"},
			"ambientsim run modes-compare --out <dir> --duration 1s --seed 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out := t.TempDir()
			args := append([]string{"run", "modes-compare", "--out", out}, tt.args...)
			if tt.config != "" {
				args = append([]string{"--config", writeConfig(t, "c.yaml", tt.config)}, args...)
			}
			if got, code := runCLI(t, args...); code != 0 {
				t.Fatalf("exit %d: %s", code, got)
			}
			var sum struct {
				Command string `json:"command"`
				Seed    uint64 `json:"seed"`
			}
			if err := json.Unmarshal(readFile(t, filepath.Join(out, "summary.json")), &sum); err != nil {
				t.Fatal(err)
			}
			if sum.Command != tt.want {
				t.Errorf("command %q, want %q", sum.Command, tt.want)
			}
		})
	}
}

func TestUnknownEnvWarnings(t *testing.T) {
	got := unknownEnvWarnings([]string{"AMBIENTSIM_SEEED=3", "AMBIENTSIM_HARNESS_RUN=x", "AMBIENTSIM_SEED=1", "HOME=/"}, []string{"seed", "out"})
	if len(got) != 1 || !strings.Contains(got[0], "did you mean AMBIENTSIM_SEED?") {
		t.Errorf("warnings %q, want one for AMBIENTSIM_SEEED", got)
	}
}

func TestFlagMentioned(t *testing.T) {
	for _, tt := range []struct {
		msg, name string
		want      bool
	}{
		{"--shard 3/3: bad", "shard", true},
		{"--shard-count must be positive", "shard", false},
		{"--shard-count must be positive", "shard-count", true},
		{"x --seed", "seed", true},
		{"no flags", "seed", false},
	} {
		if got := flagMentioned(tt.msg, tt.name); got != tt.want {
			t.Errorf("flagMentioned(%q, %q) = %v", tt.msg, tt.name, got)
		}
	}
}

// FuzzConfigFile: any config file content gives settings or an error,
// never a panic, in each of the formats.
func FuzzConfigFile(f *testing.F) {
	f.Add([]byte("seed: 3\nduration: 10s\n"), false)
	f.Add([]byte("seed = 3\nfile = [\"a\", \"b\"]\n"), true)
	f.Add([]byte("a: &x [1, 2]\nb: *x\n"), false)
	f.Add([]byte("{\"seed\": 3}"), false)
	f.Fuzz(func(t *testing.T, data []byte, isTOML bool) {
		parse := parseYAMLConfig
		if isTOML {
			parse = parseTOMLConfig
		}
		cf, err := parse("fuzz.cfg", data)
		if err == nil {
			_ = checkConfigKeys(cf, []string{"seed", "duration", "out"})
		}
	})
}
