package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

func init() { register(newSchemaCmd) }

// schemas are the JSON Schemas the schema command prints, by name.
var schemas = map[string]func() ([]byte, error){
	"scenario": scenarios.JSONSchema,
	"summary":  results.SummarySchema,
	"sweep":    results.SweepSchema,
}

func newSchemaCmd(_ *viper.Viper) *cobra.Command {
	return &cobra.Command{
		Use:   "schema [scenario|summary|sweep]",
		Short: "Print the JSON Schema of scenario files, summary.json or sweep.json",
		Long: `Schema prints a JSON Schema generated from the Go types that read or write
the file:

  scenario  scenario files (draft-07; the default), for yaml-language-server
            and editors: first line "# yaml-language-server: $schema=./scenario.schema.json"
  summary   summary.json written by run (draft 2020-12)
  sweep     sweep.json written by sweep (draft 2020-12)

Field descriptions come from the types' documentation.`,
		Example: `  ambientsim schema > scenario.schema.json
  ambientsim schema summary > summary.schema.json`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []cobra.Completion{"scenario", "summary", "sweep"},
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "scenario"
			if len(args) == 1 {
				name = args[0]
			}
			gen, ok := schemas[name]
			if !ok {
				return usageErrorf("schema %q: want scenario, summary or sweep", name)
			}
			js, err := gen()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(js))
			return err
		},
	}
}
