package scenariorun

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
)

//go:embed library/*.yaml
var libraryFS embed.FS

// Library lists the built-in sweep studies by name.
func Library() []string {
	entries, _ := fs.ReadDir(libraryFS, "library")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Study is a scenario file with a sweep section.
type Study struct {
	File     string              // the path (or library/<name>.yaml)
	Raw      []byte              // the file as written, sweep section included
	Scenario *scenarios.Scenario // the scenario without its sweep section
	Spec     *sweep.Spec

	doc []byte // the scenario bytes with the sweep section blanked out
}

// Load reads a study by path, or a built-in one by name (see Library).
func Load(nameOrPath string) (*Study, error) {
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		name := strings.TrimSuffix(path.Base(nameOrPath), ".yaml")
		if lib, lerr := libraryFS.ReadFile("library/" + name + ".yaml"); lerr == nil {
			return Parse("library/"+name+".yaml", lib)
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("sweep scenario %q: no such file and no built-in study of that name (built-in: %s)", nameOrPath, strings.Join(Library(), ", "))
		}
		return nil, fmt.Errorf("reading sweep scenario: %w", err)
	}
	return Parse(nameOrPath, data)
}

// Parse splits a scenario document into the scenario proper and its sweep
// section and decodes both strictly.
func Parse(filename string, data []byte) (*Study, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %s", filename, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: a scenario must be a YAML mapping", filename)
	}
	root := doc.Content[0]
	idx := -1
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "sweep" {
			idx = i
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("%s: no sweep: section; add one, e.g.\n  sweep:\n    replications: 5\n    parameters:\n      load: {from: 0.5, to: 2, step: 0.5}", filename)
	}
	if root.Style&yaml.FlowStyle != 0 {
		return nil, fmt.Errorf("%s: write the scenario in block style (one top-level key per line) to sweep it", filename)
	}
	spec, err := sweep.DecodeSpec(filename, root.Content[idx+1])
	if err != nil {
		return nil, err
	}
	// The scenario parser knows nothing of sweeps: hand it the document
	// with the section's lines blanked, so its line numbers stay right.
	first := root.Content[idx].Line
	last := -1 // through the end of the file
	if idx+2 < len(root.Content) {
		last = root.Content[idx+2].Line - 1 // comments above the next key go too; harmless
	}
	stripped := blankLines(data, first, last)
	sc, err := scenarios.Parse(filename, stripped)
	if err != nil {
		return nil, err
	}
	return &Study{File: filename, Raw: data, Scenario: sc, Spec: spec, doc: stripped}, nil
}

// blankLines empties lines first..last (1-based; last < 0: to the end),
// keeping the line breaks.
func blankLines(data []byte, first, last int) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	var out bytes.Buffer
	for i, l := range lines {
		n := i + 1
		if n >= first && (last < 0 || n <= last) {
			if bytes.HasSuffix(l, []byte("\n")) {
				out.WriteByte('\n')
			}
			continue
		}
		out.Write(l)
	}
	return out.Bytes()
}

// Hash is the sha256 of the study file as written.
func (s *Study) Hash() string {
	h := sha256.Sum256(s.Raw)
	return hex.EncodeToString(h[:])
}

// Plan resolves the sweep against the scenario: its name, seed, modes and
// run duration (o.Duration when set), and the tool version, all of which
// the plan hash covers so that mismatched shards refuse to merge.
func (s *Study) Plan(o Options) (*sweep.Plan, error) {
	dur := s.Scenario.Duration.T()
	if o.Duration > 0 {
		dur = o.Duration
	}
	return s.Spec.Plan(sweep.PlanOptions{
		Scenario:     s.Scenario.Name,
		ScenarioHash: s.Hash(),
		ToolVersion:  scenarios.ToolVersion,
		RunDurationS: dur.Seconds(),
		Seed:         s.Scenario.Seed,
		Modes:        s.Scenario.Modes,
	})
}
