package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/internal/outdir"
	"github.com/ambientsim/ambientsim/topology"
)

func init() { register(newMigrateCmd) }

// migrateOutputs are the files and directories `migrate --out` writes.
var migrateOutputs = []string{"plan.txt", "plan.md", topology.ManifestsFile, topology.LockFile, topology.RollbackFile, "after", "restored"}

func newMigrateCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate PATH...",
		Short: "Plan moving sidecar-mode namespaces to ambient (or back), with the manifests and the rollback",
		Long: `migrate loads a cluster's manifests (as paths does) and plans moving every
sidecar-mode namespace (istio-injection=enabled or istio.io/rev) to ambient,
or with --to sidecar every ambient namespace back. The plan lists what
happens to each object (moves 1:1, needs a waypoint, rewrite, manual,
breaks, drop) and why, the commands in the order to run them, the rollback
commands, and the generated manifests: waypoint Gateways (istio-waypoint,
istio.io/waypoint-for), targetRefs AuthorizationPolicies and
RequestAuthentications for HTTP rules and JWT, HTTPRoutes converted from
VirtualServices (per-version Services for their DestinationRule subsets;
what HTTPRoute cannot carry is reported), NetworkPolicies admitting HBONE
(15008), and a waypoint-only lock applied last.

Without --out the plan is printed. With --out DIR (written all or nothing)
the directory holds plan.txt and plan.md, migration.yaml and
migration-lock.yaml (the manifests the commands apply), rollback.yaml (the
objects the plan deletes or replaces, as they were), after/ (the input
manifests with every step applied) and restored/ (after/ with the rollback
applied). Check the plan with 'ambientsim paths DIR/after'.`,
		Example: `  ambientsim migrate ./manifests
  ambientsim migrate cluster.yaml --out migration/
  ambientsim paths migration/after --fail-on WAYPOINT_BYPASS,L7_RULES_AT_ZTUNNEL
  ambientsim migrate ./ambient-manifests --to sidecar --format markdown`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := v.GetString("format")
			switch format {
			case "table", "markdown":
			default:
				return usageErrorf("--format: unknown value %q (want table, markdown)", format)
			}
			var to topology.Mode
			switch v.GetString("to") {
			case "ambient":
				to = topology.Ambient
			case "sidecar":
				to = topology.Sidecar
			default:
				return usageErrorf("--to: unknown value %q (want ambient, sidecar)", v.GetString("to"))
			}
			out := v.GetString("out")
			if out != "" {
				// The manifests are read again to rewrite them: a pipe
				// cannot be.
				for _, a := range args {
					st, err := os.Stat(a)
					if err == nil && !st.IsDir() && !st.Mode().IsRegular() {
						return usageErrorf("--out: %s is not a regular file or directory: the manifests are read twice", a)
					}
				}
			}
			opts := topology.LoadOptions{DefaultNamespace: v.GetString("namespace"), TrustDomain: v.GetString("trust-domain")}
			var dir *outdir.Dir
			if out != "" {
				var err error
				if dir, err = outdir.Begin(out, outdir.Options{Known: migrateOutputs}); err != nil {
					return err
				}
				defer dir.Abort()
			}
			t, rep, err := topology.Load(args, opts)
			if err != nil {
				return fmt.Errorf("loading topology: %w", err)
			}
			stderr := cmd.ErrOrStderr()
			if rep != nil {
				for _, w := range rep.Warnings {
					fmt.Fprintln(stderr, "warning:", w)
				}
			}
			m, err := t.Migrate(to)
			if err != nil {
				return err
			}
			var txt, md bytes.Buffer
			if err := m.WriteTable(&txt); err != nil {
				return err
			}
			if err := m.WriteMarkdown(&md); err != nil {
				return err
			}
			if dir == nil {
				plan := txt.Bytes()
				if format == "markdown" {
					plan = md.Bytes()
				}
				_, err := cmd.OutOrStdout().Write(plan)
				return err
			}
			files, err := m.Files(args, opts)
			if err != nil {
				return err
			}
			write := func(name string, data []byte) error {
				if data == nil {
					return nil
				}
				p := filepath.Join(dir.Path(), name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return err
				}
				return os.WriteFile(p, data, 0o644)
			}
			writes := []struct {
				name string
				data []byte
			}{
				{"plan.txt", txt.Bytes()}, {"plan.md", md.Bytes()},
				{topology.ManifestsFile, files.Manifests}, {topology.LockFile, files.Lock}, {topology.RollbackFile, files.Rollback},
			}
			for _, f := range files.After {
				writes = append(writes, struct {
					name string
					data []byte
				}{filepath.Join("after", f.Name), f.Data})
			}
			for _, f := range files.Restored {
				writes = append(writes, struct {
					name string
					data []byte
				}{filepath.Join("restored", f.Name), f.Data})
			}
			for _, w := range writes {
				if err := write(w.name, w.data); err != nil {
					return fmt.Errorf("--out %s: %w", out, err)
				}
			}
			if err := dir.Commit(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d items, %d commands, %d rollback commands, %d generated manifests\nwrote %s (plan.txt, plan.md, manifests, after/, restored/); check it with: ambientsim paths %s\n",
				len(m.Items), len(m.Steps), len(m.Rollback), len(m.Manifests), out, filepath.Join(out, "after"))
			return nil
		},
	}
	f := cmd.Flags()
	f.String("to", "ambient", "target mode: ambient (migrate sidecar namespaces) or sidecar (plan the way back)")
	f.String("format", "table", "plan format on stdout: table or markdown")
	f.String("out", "", "write the plan, manifests, rollback and the after/restored manifest sets to this directory (all or nothing)")
	f.StringP("namespace", "n", "default", "namespace for objects that do not name one")
	f.String("trust-domain", topology.DefaultTrustDomain, "mesh trust domain used in identities")
	return cmd
}
