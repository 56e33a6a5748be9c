package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/scenarios"
)

func init() { register(newScenariosCmd) }

func newScenariosCmd(_ *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "Work with the built-in scenario library",
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the built-in scenarios with one-line descriptions",
		Long:  "List prints the built-in scenarios; run one by name: ambientsim run NAME --out DIR.\nStudies (scenarios with a sweep: section) run with: ambientsim sweep NAME --out DIR.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, e := range scenarios.Library() {
				desc := e.Description
				if e.Study {
					desc += " (study: ambientsim sweep " + e.Name + ")"
				}
				fmt.Fprintf(w, "%s\t%s\n", e.Name, desc)
			}
			return w.Flush()
		},
	}
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Print a built-in scenario's YAML (a starting point for your own)",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return scenarioNames(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := scenarios.LibraryFile(args[0])
			if err != nil {
				msg := fmt.Sprintf("no built-in scenario %q", args[0])
				if c := yamlcheck.Closest(args[0], scenarioNames(), 4); c != "" {
					msg += fmt.Sprintf("; did you mean %q?", c)
				}
				return usageErrorf("%s (see: ambientsim scenarios list)", msg)
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.AddCommand(list, show)
	return cmd
}

// scenarioNames lists the built-in scenarios.
func scenarioNames() []string {
	var names []string
	for _, e := range scenarios.Library() {
		names = append(names, e.Name)
	}
	return names
}

// checkScenarioArg makes an argument that is neither a file nor one of
// the built-in names a usage error (exit 2), with the nearest name.
func checkScenarioArg(arg, what string, names []string) error {
	if _, err := os.Stat(arg); err == nil {
		return nil
	}
	base := strings.TrimSuffix(arg, ".yaml")
	if contains(names, base) {
		return nil
	}
	msg := fmt.Sprintf("%s %q: no such file and no built-in %s of that name", what, arg, what)
	if c := yamlcheck.Closest(base, names, 4); c != "" {
		msg += fmt.Sprintf("; did you mean %q?", c)
	} else {
		msg += fmt.Sprintf(" (built-in: %s)", strings.Join(names, ", "))
	}
	return usageErrorf("%s", msg)
}

// loadScenario loads a scenario file or built-in scenario by name.
func loadScenario(arg string) (*scenarios.Scenario, error) {
	if err := checkScenarioArg(arg, "scenario", scenarioNames()); err != nil {
		return nil, err
	}
	return scenarios.Load(arg)
}

// completeScenarios offers the built-in scenario names and YAML files.
func completeScenarios(names func() []string) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		// Names, plus the shell's own completion of YAML files.
		return names(), cobra.ShellCompDirectiveDefault
	}
}
