package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/topology"
)

func init() { register(newPathsCmd) }

// exitFindings is the exit code when a --fail-on finding is present.
const exitFindings = 3

func newPathsCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "paths PATH...",
		Short: "Show each request's path through the mesh and audit where policies are enforced",
		Long: `paths loads a topology — Kubernetes/Istio/Gateway API manifests (files or
directories, multi-document YAML or 'kubectl get -o yaml' Lists) or a single
compact spec file (detected by content) — and prints the request-path matrix
(source workload x destination service port: category, waypoint bypass, the
proxies on the path), where each policy is enforced, and the findings.

Exit status is 0 even when there are findings, unless --fail-on names a code
that is found (exit 3). Codes:
  ` + strings.Join(topology.FindingCodes, "\n  "),
		Example: `  kubectl get ns,nodes,deploy,sts,ds,rs,pods,svc,gateway,httproute,authorizationpolicy,peerauthentication,networkpolicy -A -o yaml > cluster.yaml
  ambientsim paths cluster.yaml
  ambientsim paths ./manifests --namespace payments --format markdown
  ambientsim paths topology.yaml --format json --fail-on WAYPOINT_BYPASS,POLICY_UNENFORCED`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := v.GetString("format")
			switch format {
			case "table", "json", "markdown":
			default:
				return usageErrorf("--format: unknown value %q (want table, json, markdown)", format)
			}
			failOn, err := parseFailOn(v.GetString("fail-on"))
			if err != nil {
				return err
			}
			t, rep, err := topology.Load(args, topology.LoadOptions{
				DefaultNamespace: v.GetString("namespace"),
				TrustDomain:      v.GetString("trust-domain"),
			})
			if err != nil {
				return fmt.Errorf("loading topology: %w", err)
			}
			stderr := cmd.ErrOrStderr()
			if rep != nil {
				for _, w := range rep.Warnings {
					fmt.Fprintln(stderr, "warning:", w)
				}
				if len(rep.Skipped) > 0 {
					kinds := make([]string, 0, len(rep.Skipped))
					for k, n := range rep.Skipped {
						kinds = append(kinds, fmt.Sprintf("%s x%d", k, n))
					}
					sort.Strings(kinds)
					fmt.Fprintf(stderr, "note: skipped kinds not modelled: %s\n", strings.Join(kinds, ", "))
				}
				if rep.SyntheticNodes {
					fmt.Fprintf(stderr, "note: no Node objects in the input; synthesised %d nodes (node-1..) and placed pods round-robin\n", len(t.Nodes))
				}
			}
			report := t.Paths()
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				// The documented shape is results.PathReport without placements.
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				err = enc.Encode(scenarios.PathReportResult(report, nil))
			case "markdown":
				err = report.WriteMarkdown(out, t.Placements())
			default:
				err = report.WriteTable(out, t.Placements())
			}
			if err != nil {
				return fmt.Errorf("writing report: %w", err)
			}
			for _, f := range report.Findings {
				if failOn[f.Code] {
					return &exitError{exitFindings, fmt.Errorf("found %s (--fail-on)", f.Code)}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.String("format", "table", "output format: table, json or markdown")
	f.StringP("namespace", "n", "default", "namespace for objects that do not name one")
	f.String("trust-domain", topology.DefaultTrustDomain, "mesh trust domain used in identities")
	f.String("fail-on", "", "comma-separated finding codes that make the command exit 3")
	return cmd
}

func parseFailOn(s string) (map[string]bool, error) {
	out := map[string]bool{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, c := range strings.Split(s, ",") {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		known := false
		for _, k := range topology.FindingCodes {
			if k == c {
				known = true
			}
		}
		if !known {
			return nil, usageErrorf("--fail-on: unknown finding code %q (want %s)", c, strings.Join(topology.FindingCodes, ", "))
		}
		out[c] = true
	}
	return out, nil
}
