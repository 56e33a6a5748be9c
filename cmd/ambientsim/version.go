package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// Version is the tool version recorded in every result; release builds set it
// with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

func init() { register(newVersionCmd) }

func newVersionCmd(_ *viper.Viper) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tool and model version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rev := "unknown"
			if info, ok := debug.ReadBuildInfo(); ok {
				for _, s := range info.Settings {
					if s.Key == "vcs.revision" {
						rev = s.Value
					}
				}
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "ambientsim %s (revision %s, %s)\n", Version, rev, runtime.Version())
			return err
		},
	}
}
