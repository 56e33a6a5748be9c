package scenarios

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/ambientsim/ambientsim/models"
)

// Output file names.
const (
	SummaryFile     = "summary.json"
	MetricsFile     = "metrics.prom"
	OpenMetricsFile = "metrics.om"
)

// WriteOptions change what Run.WriteWith writes.
type WriteOptions struct {
	// MetricsEnd is the wall-clock instant the end of the simulated run
	// (warm-up + duration) maps to in metrics.om's timestamps, so a
	// backfilled Prometheus with recent retention keeps the samples. Zero
	// keeps the fixed models.Epoch + simulated time. summary.json and
	// metrics.prom carry no timestamps and do not depend on it
	// (docs/decisions/020-openmetrics-timestamps.md).
	MetricsEnd time.Time
}

// Write writes the run's outputs into dir (created if needed), each file
// atomically (temp file in dir, then rename): summary.json always,
// metrics.prom and metrics.om unless the scenario turns them off. It returns
// the paths written. metrics.om's timestamps start at models.Epoch.
func (r *Run) Write(dir string) ([]string, error) { return r.WriteWith(dir, WriteOptions{}) }

// WriteWith is Write with options.
func (r *Run) WriteWith(dir string, o WriteOptions) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating output directory: %w", err)
	}
	var written []string
	js, err := SummaryJSON(r)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, SummaryFile)
	if err := writeAtomic(p, js); err != nil {
		return nil, err
	}
	written = append(written, p)
	set := make(models.MetricsSet, 0, len(r.Modes))
	for _, m := range r.Modes {
		set = append(set, m.Metrics)
	}
	if r.Scenario.MetricsEnabled() {
		p := filepath.Join(dir, MetricsFile)
		if err := writeAtomicFunc(p, set.WriteText); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		written = append(written, p)
	}
	if r.Scenario.OpenMetricsEnabled() {
		var shiftMs int64
		if !o.MetricsEnd.IsZero() {
			end := models.Epoch.Add(time.Duration(math.Round((r.Summary.WarmupS + r.Summary.DurationS) * 1e9)))
			shiftMs = o.MetricsEnd.Sub(end).Milliseconds()
		}
		p := filepath.Join(dir, OpenMetricsFile)
		err := writeAtomicFunc(p, func(w io.Writer) error { return set.WriteOpenMetrics(w, shiftMs) })
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		written = append(written, p)
	}
	return written, nil
}

// SummaryJSON renders the summary as indented JSON with a final newline.
func SummaryJSON(r *Run) ([]byte, error) {
	js, err := json.MarshalIndent(r.Summary, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding summary: %w", err)
	}
	return append(js, '\n'), nil
}

func writeAtomic(path string, data []byte) error {
	return writeAtomicFunc(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomicFunc streams write's output into a temp file in path's
// directory and renames it to path, so a reader never sees a partial file.
func writeAtomicFunc(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
