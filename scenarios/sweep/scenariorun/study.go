package scenariorun

import (
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
	Scenario *scenarios.Scenario // the scenario as written (its own runs ignore the sweep section)
	Spec     *sweep.Spec
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

// Parse decodes a scenario document with its sweep section strictly (the
// scenario parser validates the section with sweep.DecodeSpec).
func Parse(filename string, data []byte) (*Study, error) {
	sc, err := scenarios.Parse(filename, data)
	if err != nil {
		return nil, err
	}
	spec := sc.SweepSpec()
	if spec == nil {
		return nil, fmt.Errorf("%s: no sweep: section; add one, e.g.\n  sweep:\n    replications: 5\n    parameters:\n      load: {from: 0.5, to: 2, step: 0.5}", filename)
	}
	return &Study{File: filename, Raw: data, Scenario: sc, Spec: spec}, nil
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
		ToolVersion:  scenarios.ToolVersionOf(o.ToolVersion),
		RunDurationS: dur.Seconds(),
		Seed:         s.Scenario.Seed,
		Modes:        s.Scenario.Modes,
	})
}
