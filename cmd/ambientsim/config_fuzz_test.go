package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// FuzzSettings feeds a config file (YAML/JSON, or TOML) and an
// environment value through what every command runs first: parse the
// file, check its keys, resolve each flag (flag > env > file > default)
// with the flag's own parser. Whatever they hold, the outcome is a usage
// error (exit 2) naming the file or the variable, or settings whose
// values the flags accepted; never a panic.
func FuzzSettings(f *testing.F) {
	f.Add([]byte("seed: 7\nduration: 10s\n"), false, "3")
	f.Add([]byte("seed = 7\nprofile = \"x.yaml\"\n"), true, "abc")
	f.Add([]byte(`{"seed": -3, "max-events": 0}`), false, "-3")
	f.Add([]byte("seed: &a [*a]\n"), false, "")
	f.Add([]byte("[run]\nseed = 1e400\n"), true, "18446744073709551616")
	f.Add([]byte("out: /tmp/x\nmetrics-end-time: yesterday\n"), false, "1.5")
	f.Fuzz(func(t *testing.T, data []byte, toml bool, env string) {
		var cf *configFile
		var err error
		if toml {
			cf, err = parseTOMLConfig("c.toml", data)
		} else {
			cf, err = parseYAMLConfig("c.yaml", data)
		}
		if err != nil {
			if exitCode(err) != 2 || !strings.Contains(err.Error(), "c.") {
				t.Fatalf("config error: exit %d, %v", exitCode(err), err)
			}
			return
		}
		root := newRootCmd()
		var run *cobra.Command
		for _, c := range root.Commands() {
			if c.Name() == "run" {
				run = c
			}
		}
		if err := checkConfigKeys(cf, flagNames(root)); err != nil {
			if exitCode(err) != 2 {
				t.Fatalf("unknown key: exit %d, %v", exitCode(err), err)
			}
			return
		}
		lookup := func(name string) (string, bool) {
			if name == "AMBIENTSIM_SEED" || name == "AMBIENTSIM_MAX_EVENTS" {
				return env, true
			}
			return "", false
		}
		if _, err := applySettings(run, cf, lookup); err != nil {
			if exitCode(err) != 2 || !strings.Contains(err.Error(), "want ") {
				t.Fatalf("bad value: exit %d, %v", exitCode(err), err)
			}
			return
		}
		_ = commandLine(run, []string{"s.yaml"}, []string{"seed", "duration", "profile"})
	})
}
