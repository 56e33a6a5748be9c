package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// runCLI drives the command tree the way main does and captures its output.
func runCLI(t *testing.T, args ...string) (stdout string, code int) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := execute(context.Background(), root)
	if err != nil {
		fmt.Fprintln(&out, "ambientsim:", err)
	}
	return out.String(), exitCode(err)
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"version", []string{"version"}, 0},
		{"unknown command", []string{"no-such-command"}, 2},
		{"unknown flag", []string{"version", "--no-such-flag"}, 2},
		{"extra argument", []string{"version", "extra"}, 2},
		{"missing config file", []string{"--config", "/nonexistent/ambientsim.yaml", "version"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := runCLI(t, tt.args...); got != tt.want {
				t.Errorf("exit code = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestVersionPrintsVersion(t *testing.T) {
	out, code := runCLI(t, "version")
	if code != 0 || !strings.Contains(out, "ambientsim "+Version) {
		t.Fatalf("version output %q (exit %d), want it to contain %q", out, code, "ambientsim "+Version)
	}
}

// probeCmd echoes a flag so the precedence flag > env > config > default can
// be checked without depending on any real command.
func probeCmd(v *viper.Viper) *cobra.Command {
	c := &cobra.Command{
		Use:  "probe",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Print(v.GetString("greeting"))
			return nil
		},
	}
	c.Flags().String("greeting", "default", "test flag")
	return c
}

func TestConfigPrecedence(t *testing.T) {
	saved := subcommands
	subcommands = append(append([]func(*viper.Viper) *cobra.Command{}, saved...), probeCmd)
	t.Cleanup(func() { subcommands = saved })

	cfg := filepath.Join(t.TempDir(), "cfg.yaml")
	if err := os.WriteFile(cfg, []byte("greeting: from-config\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"default", "", []string{"probe"}, "default"},
		{"config file", "", []string{"--config", cfg, "probe"}, "from-config"},
		{"env beats config", "from-env", []string{"--config", cfg, "probe"}, "from-env"},
		{"flag beats env", "from-env", []string{"--config", cfg, "probe", "--greeting", "from-flag"}, "from-flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("AMBIENTSIM_GREETING", tt.env)
			}
			out, code := runCLI(t, tt.args...)
			if code != 0 || out != tt.want {
				t.Errorf("got %q (exit %d), want %q", out, code, tt.want)
			}
		})
	}
}

func TestVersionFlagAndModelVersion(t *testing.T) {
	flag, code := runCLI(t, "--version")
	if code != 0 {
		t.Fatalf("--version exit %d: %s", code, flag)
	}
	cmd, _ := runCLI(t, "version")
	if flag != cmd {
		t.Errorf("--version prints %q, version prints %q", flag, cmd)
	}
	for _, want := range []string{"ambientsim " + Version, "model: default profile istio-1.24-published version ", "summary.json schema_version "} {
		if !strings.Contains(cmd, want) {
			t.Errorf("version output lacks %q:\n%s", want, cmd)
		}
	}
}

func TestCompletion(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "run", ""}, "modes-compare"},
		{[]string{"__complete", "sweep", ""}, "capacity"},
		{[]string{"__complete", "scenarios", "show", ""}, "pooling"},
		{[]string{"__complete", "paths", "x.yaml", "--format", ""}, "markdown"},
		{[]string{"__complete", "run", "x", "--profile", ""}, "istio-1.24-published"},
	}
	for _, tt := range tests {
		out, code := runCLI(t, tt.args...)
		if code != 0 || !strings.Contains(out, tt.want+"\n") {
			t.Errorf("%v: exit %d, output %q; want it to offer %q", tt.args, code, out, tt.want)
		}
	}
	// sweep completes files (the shell's default) besides the study names.
	if out, _ := runCLI(t, "__complete", "sweep", ""); !strings.Contains(out, ":0\n") {
		t.Errorf("sweep completion does not fall back to files: %q", out)
	}
}
