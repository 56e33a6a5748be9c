package scenarios

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/sim"
)

// Study is a scenario file with a sweep section: the scenario as written
// (its own runs ignore the sweep section) and the decoded sweep.
type Study struct {
	File     string    // the path (or library/<name>.yaml)
	Raw      []byte    // the file as written, sweep section included
	Scenario *Scenario // the scenario as written
	Spec     *sweep.Spec
}

// StudyOptions apply to every run of a sweep.
type StudyOptions struct {
	// Duration overrides the scenario's measured simulated time (0: the
	// scenario's).
	Duration sim.Time
	// Command is recorded in each run's summary.
	Command string
	// ToolVersion is the binary's version, recorded in the plan (shards
	// of different versions do not merge) and in each run's summary.
	ToolVersion string
	// BatchInterval is the batch width of the latency series each run
	// reports for MSER-5 (sweep warm-up rule "mser5"); 0 means
	// DefaultBatchInterval.
	BatchInterval sim.Time
	// MaxEvents is the event budget of each simulation (Options.MaxEvents).
	MaxEvents uint64
}

// Studies lists the built-in scenarios that are sweep studies, by name.
func Studies() []string {
	var out []string
	for _, e := range Library() {
		if e.Study {
			out = append(out, e.Name)
		}
	}
	return out
}

// LoadStudy reads a study by path, or a built-in one by name (see
// Studies).
func LoadStudy(nameOrPath string) (*Study, error) {
	data, err := yamlcheck.ReadFile(nameOrPath, yamlcheck.MaxConfigBytes)
	if err != nil {
		if lib, lerr := libraryFile(nameOrPath); lerr == nil && !isLimit(err) {
			s, err := ParseStudy(libraryName(nameOrPath), lib)
			if s != nil {
				s.Scenario.embedded = true
			}
			return s, err
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("sweep scenario %q: no such file and no built-in study of that name (built-in: %s)", nameOrPath, strings.Join(Studies(), ", "))
		}
		return nil, fmt.Errorf("reading sweep scenario: %w", err)
	}
	return ParseStudy(nameOrPath, data)
}

// ParseStudy decodes a scenario document with its sweep section strictly
// (the scenario parser validates the section with sweep.DecodeSpec).
func ParseStudy(filename string, data []byte) (*Study, error) {
	sc, err := Parse(filename, data)
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
func (s *Study) Plan(o StudyOptions) (*sweep.Plan, error) {
	dur := s.Scenario.Duration.T()
	if o.Duration > 0 {
		dur = o.Duration
	}
	return s.Spec.Plan(sweep.PlanOptions{
		Scenario:     s.Scenario.Name,
		Description:  s.Scenario.Description,
		Question:     s.Scenario.Question,
		Profile:      s.Scenario.Profile,
		WarmupS:      s.Scenario.Warmup.T().Seconds(),
		ScenarioHash: s.Hash(),
		ToolVersion:  ToolVersionOf(o.ToolVersion),
		RunDurationS: dur.Seconds(),
		Seed:         s.Scenario.Seed,
		Modes:        s.Scenario.Modes,
	})
}
