package trafficimport

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/scenarios"
)

// edgeYAML is one edge of the traffic section as the scenario schema
// spells it.
type edgeYAML struct {
	From         string   `yaml:"from"`
	To           string   `yaml:"to"`
	Rate         float64  `yaml:"rate"`
	FanOut       *float64 `yaml:"fanout,omitempty"`
	Protocol     string   `yaml:"protocol"`
	Connections  string   `yaml:"connections,omitempty"`
	RequestSize  any      `yaml:"request_size,omitempty"`
	ResponseSize any      `yaml:"response_size,omitempty"`
	Method       string   `yaml:"method,omitempty"`
	Path         string   `yaml:"path,omitempty"`
}

// trafficEdges is the traffic section's edges. Every edge has an explicit
// rate (0 for fan-out edges), which also adds the call to a topology that
// lacks it (manifests carry no call graph).
func (r *Result) trafficEdges() []edgeYAML {
	out := make([]edgeYAML, 0, len(r.Edges))
	for _, e := range r.Edges {
		out = append(out, edgeYAML{From: e.Observed.From, To: e.Observed.To, Rate: e.Rate, FanOut: e.FanOut,
			Protocol: e.Observed.Protocol, Connections: e.Connections, RequestSize: e.RequestSize.yaml(),
			ResponseSize: e.ResponseSize.yaml(), Method: e.Method, Path: e.Path})
	}
	return out
}

// observed is the scenario's observed section.
func (r *Result) observed() scenarios.Observed {
	o := scenarios.Observed{Source: r.Source, End: r.Options.End.UTC().Format(time.RFC3339Nano),
		Range: scenarios.Duration(r.Options.Range), Selector: r.Options.Selector}
	for _, e := range r.Edges {
		o.Edges = append(o.Edges, e.Observed)
	}
	return o
}

func (r *Result) header() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Traffic imported by `ambientsim import traffic` from %s\n", r.Source)
	fmt.Fprintf(&b, "# over %s ending %s", r.Options.Range, r.Options.End.UTC().Format(time.RFC3339))
	if r.Options.Selector != "" {
		fmt.Fprintf(&b, " (selector %s)", r.Options.Selector)
	}
	b.WriteString(".\n# rate: mean requests/s (connections/s for tcp) of a client that serves no requests;\n")
	b.WriteString("# fanout: calls per request served, for a workload that serves requests.\n")
	b.WriteString("# observed: what Prometheus showed per edge (one reporter each); `ambientsim run`\n# compares its predictions with it.\n")
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "# note: %s\n", w)
	}
	return b.String()
}

// Fragment renders the traffic and observed sections alone, to paste into
// a scenario.
func (r *Result) Fragment() ([]byte, error) {
	doc := struct {
		Traffic struct {
			Edges []edgeYAML `yaml:"edges"`
		} `yaml:"traffic"`
		Observed scenarios.Observed `yaml:"observed"`
	}{}
	doc.Traffic.Edges = r.trafficEdges()
	doc.Observed = r.observed()
	var buf bytes.Buffer
	buf.WriteString(r.header())
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// Scenario renders a whole scenario: base (a scenario file or built-in
// name) with its traffic edges replaced by the imported ones (its
// traffic.defaults, which hold what metrics cannot show — pools, load
// balancing, timeouts — stay), every call of its topology that carried no
// traffic set to rate 0, and the observed section added. outPath is where
// the result will live: relative manifest paths are rewritten for it. The
// result is parsed as a scenario before it is returned.
func (r *Result) Scenario(base, outPath string) ([]byte, error) {
	sc, err := scenarios.Load(base)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(sc.Raw(), &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("base scenario %s: not a YAML mapping", base)
	}
	root := doc.Content[0]
	edges := r.trafficEdges()
	have := map[string]bool{}
	for _, e := range edges {
		have[e.From+"->"+e.To] = true
	}
	// Calls of the topology that carried no traffic in the range.
	idle := map[string]edgeYAML{}
	for _, mode := range sc.Modes {
		top, err := sc.BuildTopology(mode)
		if err != nil {
			return nil, fmt.Errorf("base scenario %s: %w", base, err)
		}
		for _, c := range top.Calls {
			if c.From == nil || c.To == nil {
				continue
			}
			k := c.From.ID() + "->" + c.To.ID()
			if !have[k] {
				zero := 0.0
				idle[k] = edgeYAML{From: c.From.ID(), To: c.To.ID(), Rate: 0, FanOut: &zero}
			}
		}
	}
	keys := make([]string, 0, len(idle))
	for k := range idle {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		edges = append(edges, idle[k])
	}
	var traffic yaml.Node
	t := struct {
		Defaults *yaml.Node `yaml:"defaults,omitempty"`
		Edges    []edgeYAML `yaml:"edges"`
	}{Edges: edges}
	if old := mapValue(root, "traffic"); old != nil {
		t.Defaults = mapValue(old, "defaults")
	}
	if err := traffic.Encode(t); err != nil {
		return nil, err
	}
	traffic.HeadComment = strings.TrimSuffix(r.header(), "\n")
	yamlcheck.SetMapValue(root, "traffic", &traffic)
	var obs yaml.Node
	if err := obs.Encode(r.observed()); err != nil {
		return nil, err
	}
	yamlcheck.SetMapValue(root, "observed", &obs)
	if err := rebaseManifests(root, sc, base, outPath); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	name := outPath
	if name == "" {
		name = "imported.yaml"
	}
	if _, err := scenarios.Parse(name, buf.Bytes()); err != nil {
		return nil, fmt.Errorf("the imported scenario does not parse (a bug): %w", err)
	}
	return buf.Bytes(), nil
}

// rebaseManifests makes relative manifest paths of a file-based base
// scenario relative to the output file.
func rebaseManifests(root *yaml.Node, sc *scenarios.Scenario, base, outPath string) error {
	top := mapValue(root, "topology")
	if top == nil {
		return nil
	}
	man := mapValue(top, "manifests")
	if man == nil || man.Kind != yaml.SequenceNode {
		return nil
	}
	if _, err := os.Stat(base); err != nil {
		return fmt.Errorf("base scenario %s is built in and reads its manifests from the library; export the cluster (kubectl get ... -o yaml) and give a scenario file that names it", base)
	}
	outDir := "."
	if outPath != "" {
		outDir = filepath.Dir(outPath)
	}
	for _, n := range man.Content {
		if filepath.IsAbs(n.Value) {
			continue
		}
		abs, err := filepath.Abs(filepath.Join(filepath.Dir(sc.File()), n.Value))
		if err != nil {
			return err
		}
		absOut, err := filepath.Abs(outDir)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(absOut, abs)
		if err != nil {
			rel = abs
		}
		n.Value = filepath.ToSlash(rel)
	}
	return nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
