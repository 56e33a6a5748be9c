package plots

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

// File names inside a results directory.
const (
	SummaryFile = "summary.json"
	SweepFile   = results.SweepFile
)

// LoadResults reads RESULTS_DIR/summary.json (dir may also name the file
// itself). Errors name the file and, for malformed JSON, the line and column
// and the field.
func LoadResults(dir string) (*results.Summary, error) {
	path := dir
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		path = filepath.Join(dir, SummaryFile)
	} else if err != nil {
		return nil, fmt.Errorf("results directory %s: %w", dir, err)
	}
	data, err := yamlcheck.ReadFile(path, yamlcheck.MaxFileBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no %s here: run `ambientsim run SCENARIO --out %s` first: %w", path, SummaryFile, dir, err)
		}
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var s results.Summary
	if err := decodeJSON(path, data, &s); err != nil {
		return nil, err
	}
	if s.SchemaVersion == 0 {
		return nil, fmt.Errorf("%s: field schema_version is missing or 0: this is not an ambientsim summary.json", path)
	}
	if s.SchemaVersion > results.SchemaVersion {
		return nil, fmt.Errorf("%s: schema_version %d is newer than this tool understands (%d): upgrade ambientsim",
			path, s.SchemaVersion, results.SchemaVersion)
	}
	return &s, nil
}

// LoadSweep reads RESULTS_DIR/sweep.json. It returns nil and no error when
// the directory has no sweep, so the report simply has no sweep section.
func LoadSweep(dir string) (*results.Sweep, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir) // dir named summary.json itself
	}
	path := filepath.Join(dir, SweepFile)
	data, err := yamlcheck.ReadFile(path, yamlcheck.MaxFileBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var sw results.Sweep
	if err := decodeJSON(path, data, &sw); err != nil {
		return nil, err
	}
	if sw.Format != results.SweepFormat {
		return nil, fmt.Errorf("%s: format %q, want %q: not a sweep result of this ambientsim version", path, sw.Format, results.SweepFormat)
	}
	return &sw, nil
}

// decodeJSON unmarshals data and turns decoder errors into messages that
// name the file, line, column and field.
func decodeJSON(path string, data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		// Offset is just past the offending byte.
		line, col := lineCol(data, syn.Offset-1)
		return fmt.Errorf("%s:%d:%d: malformed JSON: %v", path, line, col, syn)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		line, col := lineCol(data, typ.Offset)
		return fmt.Errorf("%s:%d:%d: field %q: JSON %s cannot be a Go %s: was the file written by another tool or edited by hand?",
			path, line, col, typ.Field, typ.Value, typ.Type)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// lineCol converts a byte offset to a 1-based line and column.
func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// LoadDir reads a results directory: summary.json and, when present,
// sweep.json. A directory that a sweep wrote holds sweep.json alone; its
// report then has the sweep, and a summary made from the sweep's scenario,
// hash and seed. It is an error when neither file is there.
func LoadDir(dir string) (*results.Summary, *results.Sweep, error) {
	sw, swErr := LoadSweep(dir)
	if swErr != nil {
		return nil, nil, swErr
	}
	s, err := LoadResults(dir)
	if err == nil {
		return s, sw, nil
	}
	if sw == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	return SweepSummary(sw), sw, nil
}

// SweepSummary is the summary a sweep's report is built on when its
// directory holds sweep.json alone: the scenario's name, description and
// question, the inputs hash, base seed, tool version, profile, run length
// and command, as sweep.json records them (older files leave some out).
func SweepSummary(sw *results.Sweep) *results.Summary {
	desc := sw.Description
	if desc == "" {
		desc = "Parameter sweep of scenario " + sw.Scenario + " (no summary.json in this directory)."
	}
	return &results.Summary{
		SchemaVersion: results.SchemaVersion,
		Scenario:      sw.Scenario,
		Description:   desc,
		Question:      sw.Question,
		InputsHash:    sw.ScenarioHash,
		Seed:          sw.BaseSeed,
		ToolVersion:   sw.ToolVersion,
		Command:       sw.Command,
		Profile:       results.Profile{Name: sw.Profile},
		DurationS:     sw.RunDurationS,
		WarmupS:       sw.WarmupS,
	}
}
