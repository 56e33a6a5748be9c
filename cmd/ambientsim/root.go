package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// usageError marks errors caused by how the command was invoked (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// subcommands holds constructors registered by each command's file in init,
// so that commands live in their own files and the root stays small.
var subcommands []func(v *viper.Viper) *cobra.Command

func register(newCmd func(v *viper.Viper) *cobra.Command) {
	subcommands = append(subcommands, newCmd)
}

// newRootCmd builds the command tree. Configuration precedence is
// flag > AMBIENTSIM_* environment variable > --config file > default.
func newRootCmd() *cobra.Command {
	// Settings are resolved into the flags by applySettings (config.go),
	// which checks environment and file values; viper only reads flags.
	v := viper.New()

	var configPath string
	root := &cobra.Command{
		Use:           "ambientsim",
		Short:         "Discrete-event simulator of Istio ambient and sidecar mesh topologies",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			var cf *configFile
			if configPath != "" {
				var err error
				if cf, err = loadConfig(configPath); err != nil {
					return err
				}
				if err := checkConfigKeys(cf, flagNames(cmd.Root())); err != nil {
					return err
				}
			}
			for _, w := range unknownEnvWarnings(os.Environ(), flagNames(cmd.Root())) {
				fmt.Fprintln(cmd.ErrOrStderr(), "ambientsim: warning:", w)
			}
			settings, err := applySettings(cmd, cf, os.LookupEnv)
			if err != nil {
				return err
			}
			cmd.SetContext(withSettings(cmd.Context(), settings))
			// Every value now sits in its flag (marked changed when it
			// came from the environment or the file): bind them so the
			// commands' viper lookups read exactly those values.
			var bindErr error
			cmd.Flags().VisitAll(func(f *pflag.Flag) {
				if err := v.BindPFlag(f.Name, f); err != nil && bindErr == nil {
					bindErr = err
				}
			})
			return bindErr
		},
	}
	root.PersistentFlags().StringVar(&configPath, "config", "", "config file (YAML/JSON/TOML) with default flag values")
	// --version prints what the version command prints.
	root.Version = Version
	root.SetVersionTemplate("{{versionText}}")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })

	cmds := make([]*cobra.Command, 0, len(subcommands))
	for _, newCmd := range subcommands {
		cmds = append(cmds, newCmd(v))
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	for _, c := range cmds {
		c.Args = wrapArgs(c.Args)
		root.AddCommand(c)
	}
	registerCompletions(root)
	return root
}

// wrapArgs turns positional-argument validation failures into usage errors.
func wrapArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	if check == nil {
		return nil
	}
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &usageError{err}
		}
		return nil
	}
}
