package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/scenarios"
)

func init() { register(newSchemaCmd) }

func newSchemaCmd(_ *viper.Viper) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of scenario files (for yaml-language-server and editors)",
		Long: `Schema prints the JSON Schema (draft-07) of scenario files, generated from
the Go types the parser uses. Save it and point your editor at it, e.g. with a
first line in the scenario file:

  # yaml-language-server: $schema=./scenario.schema.json`,
		Example: "  ambientsim schema > scenario.schema.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			js, err := scenarios.JSONSchema()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(js))
			return err
		},
	}
}
