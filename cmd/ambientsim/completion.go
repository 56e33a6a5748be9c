package main

import (
	"github.com/spf13/cobra"

	"github.com/ambientsim/ambientsim/models"
)

// Shell completion (cobra's `ambientsim completion bash|zsh|fish|powershell`):
// scenario and study names for the positional arguments (each command sets
// its ValidArgsFunction), and the values of the flags below.

// flagValues lists the fixed values of enumerated flags, by flag name.
var flagValues = map[string][]string{
	"format":  {"table", "json", "markdown"},
	"backend": {"local", "kind"},
	"to":      {"ambient", "sidecar"},
}

// commandFlagValues overrides flagValues for one command's flag.
var commandFlagValues = map[string]map[string][]string{
	"migrate": {"format": {"table", "markdown"}},
}

// registerCompletions adds value completion to the flags of every command
// in the tree: enumerations, built-in profiles (or a file), directories for
// --out where it names a directory.
func registerCompletions(c *cobra.Command) {
	f := c.LocalNonPersistentFlags()
	for name, values := range flagValues {
		if f.Lookup(name) != nil {
			if v, ok := commandFlagValues[c.Name()][name]; ok {
				values = v
			}
			_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
	}
	if f.Lookup("profile") != nil {
		_ = c.RegisterFlagCompletionFunc("profile", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			var names []string
			for _, p := range models.Profiles() {
				names = append(names, p.Name)
			}
			return names, cobra.ShellCompDirectiveDefault // or a YAML file
		})
	}
	if fl := f.Lookup("out"); fl != nil && c.Name() != "plan" {
		_ = c.RegisterFlagCompletionFunc("out", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		})
	}
	for _, s := range c.Commands() {
		registerCompletions(s)
	}
}
