package topology

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"

	"github.com/cockroachdb/datadriven"
)

// The data-driven specs under testdata/*.txt (and testdata/upstream/*.txt)
// are the behaviour of this package written as readable cases: a topology
// (inline YAML, or files under testdata/), then what the analyses say about
// it. Regenerate the expected outputs with `go test ./topology -update`
// (datadriven's own -rewrite works too) and review the diff.
//
// Commands:
//
//	load [file=F ...] [namespace=NS]   inline input or files (relative to testdata/); prints the load report
//	report                             the whole `ambientsim paths` table (paths, placements, findings)
//	paths [from=PREFIX] [to=PREFIX]    path-matrix rows, one a line
//	findings [code=CODE ...]           findings: code, policy, source -> destination, message, proof, fix
//	placements                         where each policy is enforced
//	readiness [check=SUBSTR ...] [results=FILE]
//	                                   the rollout checklist (only the checks whose name contains SUBSTR;
//	                                   FILE: a RunEvidence as JSON, what --results gives)
//	evaluate from=NS/WL to=NS/SVC [port=N] [method=M] [path=P] [header=K:V ...]
//	status                             route and Gateway status conditions, as Istio would set them
//	route parent=KIND/NS/NAME [port=N] [method=M] [path=P] [header=K:V ...] [query=K=V ...] [protocol=P]
//	                                   the route rule a request matches at that parent
func TestDataDriven(t *testing.T) {
	if golden.Update() {
		if err := flag.Set("rewrite", "true"); err != nil {
			t.Fatal(err)
		}
	}
	datadriven.Walk(t, "testdata/cases", func(t *testing.T, path string) {
		runDataDriven(t, path)
	})
}

func runDataDriven(t *testing.T, path string) {
	var top *Topology
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "load" && top == nil {
			d.Fatalf(t, "%s: no topology loaded yet (start with load)", d.Cmd)
		}
		switch d.Cmd {
		case "load":
			var rep *LoadReport
			top, rep = ddLoad(t, d)
			return loadText(rep)
		case "report":
			var b bytes.Buffer
			if err := top.Paths().WriteTable(&b, top.Placements()); err != nil {
				d.Fatalf(t, "%v", err)
			}
			return b.String()
		case "paths":
			return ddPaths(top, d)
		case "findings":
			return ddFindings(top, d)
		case "placements":
			var b strings.Builder
			for _, p := range top.Placements() {
				by := strings.Join(p.By, ", ")
				if by == "" {
					by = "nowhere"
				}
				fmt.Fprintf(&b, "%s %s: %s", p.Kind, p.Policy, by)
				if p.Note != "" {
					fmt.Fprintf(&b, " (%s)", p.Note)
				}
				b.WriteString("\n")
			}
			return b.String()
		case "readiness":
			return ddReadiness(t, top, d)
		case "evaluate":
			return ddEvaluate(t, top, d)
		}
		if out, ok := ddExtra(t, top, d); ok {
			return out
		}
		d.Fatalf(t, "unknown command %q", d.Cmd)
		return ""
	})
}

// ddExtraCommands are commands defined next to the code they exercise.
var ddExtraCommands = map[string]func(t *testing.T, top *Topology, d *datadriven.TestData) string{}

func ddExtra(t *testing.T, top *Topology, d *datadriven.TestData) (string, bool) {
	f, ok := ddExtraCommands[d.Cmd]
	if !ok {
		return "", false
	}
	return f(t, top, d), true
}

// ddArgs returns every value of the named argument.
func ddArgs(d *datadriven.TestData, key string) []string {
	var out []string
	for _, a := range d.CmdArgs {
		if a.Key == key {
			out = append(out, a.Vals...)
		}
	}
	return out
}

func ddArg(d *datadriven.TestData, key string) string {
	if v := ddArgs(d, key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func ddLoad(t *testing.T, d *datadriven.TestData) (*Topology, *LoadReport) {
	opts := LoadOptions{DefaultNamespace: ddArg(d, "namespace")}
	var files []string
	for _, f := range ddArgs(d, "file") {
		files = append(files, filepath.Join("testdata", f))
	}
	if strings.TrimSpace(d.Input) != "" {
		if len(files) > 0 {
			d.Fatalf(t, "load: give files or inline input, not both")
		}
		data := []byte(d.Input)
		if IsSpec(data) {
			top, err := ParseSpec(d.Pos+".yaml", data)
			if err != nil {
				d.Fatalf(t, "load: %v", err)
			}
			return top, nil
		}
		top, rep, err := ParseManifests("inline.yaml", data, opts)
		if err != nil {
			d.Fatalf(t, "load: %v", err)
		}
		return top, rep
	}
	top, rep, err := Load(files, opts)
	if err != nil {
		d.Fatalf(t, "load: %v", err)
	}
	return top, rep
}

// loadText renders the load report a reviewer checks first.
func loadText(rep *LoadReport) string {
	if rep == nil {
		return "ok\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "LOAD objects=%d generated-pods=%d real-pods=%d synthetic-nodes=%v\n", rep.Objects, rep.GeneratedPods, rep.RealPods, rep.SyntheticNodes)
	for _, k := range sortedKeys(rep.Skipped) {
		fmt.Fprintf(&b, "skipped %s x%d\n", k, rep.Skipped[k])
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(&b, "warning %s\n", w)
	}
	return b.String()
}

func ddPaths(top *Topology, d *datadriven.TestData) string {
	from, to := ddArg(d, "from"), ddArg(d, "to")
	var b strings.Builder
	for _, p := range top.Paths().Pairs {
		if !strings.HasPrefix(p.Source.ID(), from) || !strings.HasPrefix(p.Destination.ID(), to) {
			continue
		}
		bypass := ""
		if p.Path.Bypass {
			bypass = " BYPASS"
		}
		fmt.Fprintf(&b, "%s -> %s:%d %s%s: %s%s\n", p.Source.ID(), p.Destination.ID(), p.Port, p.Path.Category, bypass, p.Path.String(), deniedSuffix(p.Path))
	}
	return b.String()
}

func ddFindings(top *Topology, d *datadriven.TestData) string {
	codes := ddArgs(d, "code")
	var b strings.Builder
	for _, f := range top.Paths().Findings {
		if len(codes) > 0 && !contains(codes, f.Code) {
			continue
		}
		fmt.Fprintf(&b, "%s [%s]", f.Code, f.Severity)
		if f.Policy != "" {
			fmt.Fprintf(&b, " %s", f.Policy)
		}
		if f.Source != "" || f.Destination != "" {
			fmt.Fprintf(&b, " %s -> %s", noneIfEmpty(f.Source), noneIfEmpty(f.Destination))
		}
		fmt.Fprintf(&b, "\n  %s\n", f.Message)
		if f.Proof != "" {
			fmt.Fprintf(&b, "  proof: %s\n", f.Proof)
		}
		fmt.Fprintf(&b, "  fix: %s\n", f.Fix)
	}
	return b.String()
}

// ddHeaders parses header=K:V arguments.
func ddHeaders(d *datadriven.TestData, key, sep string) map[string]string {
	var out map[string]string
	for _, h := range ddArgs(d, key) {
		k, v, _ := strings.Cut(h, sep)
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}

func ddEvaluate(t *testing.T, top *Topology, d *datadriven.TestData) string {
	src, dst := ddArg(d, "from"), ddArg(d, "to")
	wns, wname, _ := strings.Cut(src, "/")
	w := top.Workload(wns, wname)
	if w == nil || len(top.PodsOf(w)) == 0 {
		d.Fatalf(t, "evaluate: no workload with pods %q", src)
	}
	sns, sname, _ := strings.Cut(dst, "/")
	s := top.Service(sns, sname)
	if s == nil {
		d.Fatalf(t, "evaluate: no service %q", dst)
	}
	port := firstPort(s)
	if p := ddArg(d, "port"); p != "" {
		port, _ = strconv.Atoi(p)
	}
	pod := top.PodsOf(w)[0]
	p := top.PathFrom(pod, s, port)
	req := Request{Method: ddArg(d, "method"), Path: ddArg(d, "path"), Headers: ddHeaders(d, "header", ":"), Service: s}
	dec := top.Evaluate(pod, p.Endpoint, p.Waypoint, s.TargetPort(port), req)
	verdict := "deny"
	if dec.Allow {
		verdict = "allow"
	}
	return fmt.Sprintf("path: %s\n%s by %s at %s (policy %s): %s\n", p.String(), verdict, noneIfEmpty(dec.By), noneIfEmpty(dec.Layer), noneIfEmpty(dec.Policy), dec.Reason)
}

// sortedLines sorts output lines (for commands whose order is not part of
// the behaviour).
func sortedLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func init() { ddExtraCommands["egress"] = ddEgress }

// ddEgress: egress from=NS/WL to=NS/SERVICEENTRY
func ddEgress(t *testing.T, top *Topology, d *datadriven.TestData) string {
	wns, wname, _ := strings.Cut(ddArg(d, "from"), "/")
	w := top.Workload(wns, wname)
	if w == nil || len(top.PodsOf(w)) == 0 {
		d.Fatalf(t, "egress: no workload with pods %q", ddArg(d, "from"))
	}
	sns, sname, _ := strings.Cut(ddArg(d, "to"), "/")
	se := top.ServiceEntry(sns, sname)
	if se == nil {
		d.Fatalf(t, "egress: no ServiceEntry %q", ddArg(d, "to"))
	}
	pod := top.PodsOf(w)[0]
	p := top.EgressPath(pod, se)
	dec := top.EvaluateEgress(pod, se, Request{Method: ddArg(d, "method"), Path: ddArg(d, "path")})
	verdict := "deny"
	if dec.Allow {
		verdict = "allow"
	}
	return fmt.Sprintf("path: %s\n%s by %s (policy %s): %s\n", p.String(), verdict, noneIfEmpty(dec.By), noneIfEmpty(dec.Policy), dec.Reason)
}

// ddReadiness: readiness [check=SUBSTR ...] [results=FILE]
func ddReadiness(t *testing.T, top *Topology, d *datadriven.TestData) string {
	var in ReadinessInputs
	if f := ddArg(d, "results"); f != "" {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			d.Fatalf(t, "readiness: %v", err)
		}
		in.Run = &RunEvidence{}
		if err := json.Unmarshal(data, in.Run); err != nil {
			d.Fatalf(t, "readiness: %s: %v", f, err)
		}
		in.Run.Source = f
	}
	only := ddArgs(d, "check")
	var b strings.Builder
	for i, c := range ReadinessOf(top, top.FindingGroups(), in) {
		if len(only) > 0 && !containsAnySubstring(c.Name, only) {
			continue
		}
		fmt.Fprintf(&b, "%d. %s: %s\n", i+1, c.Name, c.Status)
		for _, e := range c.Evidence {
			fmt.Fprintf(&b, "  - %s\n", e)
		}
		if c.Fix != "" {
			fmt.Fprintf(&b, "  fix: %s\n", c.Fix)
		}
	}
	return b.String()
}

func containsAnySubstring(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
