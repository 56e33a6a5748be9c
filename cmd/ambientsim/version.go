package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

// Version is the tool version recorded in every result; release builds set it
// with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

func init() {
	register(newVersionCmd)
	// The root command's --version flag renders {{versionText}}.
	cobra.AddTemplateFunc("versionText", func() string {
		var b strings.Builder
		_ = writeVersion(&b)
		return b.String()
	})
}

func newVersionCmd(_ *viper.Viper) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tool and model version",
		Long: `Version prints the tool's version (with its VCS revision and Go version)
and the model's: the default cost profile and its version, every built-in
profile, and the version of the summary.json schema. "ambientsim --version"
prints the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeVersion(cmd.OutOrStdout())
		},
	}
}

// writeVersion prints the tool version and the model version: the cost
// profiles the simulation's numbers come from and the result schema.
func writeVersion(w io.Writer) error {
	rev := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	var profiles []string
	def := models.DefaultProfile
	for _, info := range models.Profiles() {
		if p, err := models.LoadProfile(info.Name); err == nil {
			profiles = append(profiles, p.Name+" version "+p.Version)
		}
	}
	if p, err := models.LoadProfile(""); err == nil {
		def = p.Name + " version " + p.Version
	}
	_, err := fmt.Fprintf(w, "ambientsim %s (revision %s, %s)\nmodel: default profile %s; built-in profiles: %s; summary.json schema_version %d\n",
		Version, rev, runtime.Version(), def, strings.Join(profiles, ", "), results.SchemaVersion)
	return err
}
