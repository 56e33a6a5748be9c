package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/scenarios/results"
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

Matrices above 1,000 rows are shown as equivalence classes: sources that every
proxy and policy treats alike, destination ports every source class reaches
alike, the distinct path shapes with their row counts, and findings grouped
by class. --expand lists every row (streamed) and every finding; --classes
shows classes for a small matrix too.

The READINESS section is the ambient production checklist (16 checks), each
pass, fail or cannot-tell with its evidence and fix. Node, DaemonSet and Pod
status in a 'kubectl get -A -o yaml' export decide the ztunnel and CNI
checks; --results DIR (the output of 'ambientsim run') decides the
before/after performance check.

Exit status is 0 even when there are findings, unless --fail-on names a code
that is found (exit 3). Codes:
  ` + strings.Join(topology.FindingCodes, "\n  "),
		Example: `  kubectl get ns,nodes,deploy,sts,ds,rs,pods,svc,gateway,httproute,authorizationpolicy,peerauthentication,networkpolicy -A -o yaml > cluster.yaml
  ambientsim paths cluster.yaml
  ambientsim paths ./manifests --namespace payments --format markdown
  ambientsim paths topology.yaml --format json --fail-on WAYPOINT_BYPASS,POLICY_UNENFORCED`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runPathsCmd(cmd, v, args) },
	}
	f := cmd.Flags()
	f.String("format", "table", "output format: table, json or markdown")
	f.StringP("namespace", "n", "default", "namespace for objects that do not name one")
	f.String("trust-domain", topology.DefaultTrustDomain, "mesh trust domain used in identities")
	f.String("fail-on", "", "comma-separated finding codes that make the command exit 3")
	f.Bool("expand", false, "list every row and every finding, even above 1,000 rows (rows are streamed)")
	f.Bool("classes", false, "show the matrix as equivalence classes even when it is small")
	f.String("results", "", "a run's output directory (or its summary.json) for the performance and waypoint-path checks of the readiness checklist")
	return cmd
}

// runPathsCmd loads the topology, builds the report (matrix, findings,
// placements, status, readiness) and writes it in --format; a finding
// named by --fail-on makes it exit 3.
func runPathsCmd(cmd *cobra.Command, v *viper.Viper, args []string) error {
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
	printLoadNotes(cmd.ErrOrStderr(), rep, len(t.Nodes))
	var in topology.ReadinessInputs
	if dir := v.GetString("results"); dir != "" {
		if in.Run, err = readRunEvidence(dir); err != nil {
			return err
		}
	}
	report := &topology.Report{Matrix: t.Matrix(), Groups: t.FindingGroups(), Placements: t.Placements(),
		Status: append(t.GatewayStatuses(), t.RouteStatuses()...)}
	report.Readiness = topology.ReadinessOf(t, report.Groups, in)
	expand, classes := v.GetBool("expand"), v.GetBool("classes")
	if expand && classes {
		return usageErrorf("--expand and --classes exclude each other")
	}
	out := cmd.OutOrStdout()
	switch format {
	case "json":
		err = writePathsJSON(out, t, report, expand, classes)
	case "markdown":
		err = report.WriteMarkdown(out, t, expand, classes)
	default:
		err = report.WriteTable(out, t, expand, classes)
	}
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	for _, g := range report.Groups {
		if failOn[g.Code] {
			return &exitError{exitFindings, fmt.Errorf("found %s (--fail-on)", g.Code)}
		}
	}
	return nil
}

// printLoadNotes prints the loader's warnings, the kinds it skipped and
// whether it synthesised the nodes (nodes of them).
func printLoadNotes(stderr io.Writer, rep *topology.LoadReport, nodes int) {
	if rep == nil {
		return
	}
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
		fmt.Fprintf(stderr, "note: no Node objects in the input; synthesised %d nodes (node-1..) and placed pods round-robin\n", nodes)
	}
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

// readRunEvidence reads a run's summary.json (a file, or the directory
// holding it) for the readiness checklist.
func readRunEvidence(path string) (*topology.RunEvidence, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "summary.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--results: %w", err)
	}
	var s results.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("--results: %s: %w", path, err)
	}
	if s.SchemaVersion > results.SchemaVersion {
		return nil, fmt.Errorf("--results: %s: schema_version %d is newer than this tool understands (%d)", path, s.SchemaVersion, results.SchemaVersion)
	}
	if len(s.Modes) == 0 {
		return nil, fmt.Errorf("--results: %s: no modes: not a summary.json of ambientsim run", path)
	}
	return scenarios.RunEvidenceResult(s, path), nil
}
