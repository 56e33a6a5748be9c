package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

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
		Long:  "List prints the built-in scenarios; run one by name: ambientsim run NAME --out DIR.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, e := range scenarios.Library() {
				fmt.Fprintf(w, "%s\t%s\n", e.Name, e.Description)
			}
			return w.Flush()
		},
	}
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Print a built-in scenario's YAML (a starting point for your own)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := scenarios.LibraryFile(args[0])
			if err != nil {
				return usageErrorf("no built-in scenario %q (see: ambientsim scenarios list)", args[0])
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.AddCommand(list, show)
	return cmd
}
