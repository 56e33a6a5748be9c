package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ambientsim/ambientsim/validation/harness"
)

const cleanupUsage = "remove what killed harness runs left behind (network namespaces, links, cgroups, processes, " +
	"temporary directories with credentials) and exit; runs whose owner process is alive are never touched"

// runCleanup is `validate --cleanup` and `calibrate --cleanup`.
func runCleanup(cmd *cobra.Command) error {
	if err := harness.CheckPrerequisites(); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	w := cmd.OutOrStdout()
	rep, err := harness.CleanupOrphans(cmd.Context(), harness.CleanupOptions{Unowned: true,
		Logf: func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }})
	if rep != nil {
		fmt.Fprintf(w, "cleanup: removed %d runs of dead owners %v and %d temporary directories\n",
			len(rep.Runs), rep.DeadOwners, len(rep.Dirs))
		if len(rep.LiveRuns) > 0 {
			fmt.Fprintf(w, "cleanup: left alone: runs %v (their owner is alive)\n", rep.LiveRuns)
		}
		if len(rep.Unowned) > 0 {
			fmt.Fprintf(w, "cleanup: left alone: runs %v (no owner recorded and not abandoned for an hour; "+
				"a harness older than owner files may still run them)\n", rep.Unowned)
		}
	}
	if err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	return nil
}
