package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

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
		reg, err := set.Registry()
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		p := filepath.Join(dir, MetricsFile)
		if err := prometheus.WriteToTextfile(p, reg); err != nil {
			return nil, fmt.Errorf("writing %s: %w", p, err)
		}
		written = append(written, p)
	}
	if r.Scenario.OpenMetricsEnabled() {
		fams, err := set.Timestamped()
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		if !o.MetricsEnd.IsZero() {
			end := models.Epoch.Add(time.Duration(math.Round((r.Summary.WarmupS + r.Summary.DurationS) * 1e9)))
			shiftTimestamps(fams, o.MetricsEnd.Sub(end).Milliseconds())
		}
		var buf bytes.Buffer
		enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeOpenMetrics))
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				return nil, fmt.Errorf("encoding OpenMetrics: %w", err)
			}
		}
		if c, ok := enc.(expfmt.Closer); ok {
			if err := c.Close(); err != nil {
				return nil, err
			}
		}
		p := filepath.Join(dir, OpenMetricsFile)
		if err := writeAtomic(p, buf.Bytes()); err != nil {
			return nil, err
		}
		written = append(written, p)
	}
	return written, nil
}

// shiftTimestamps moves every sample's timestamp by deltaMs.
func shiftTimestamps(fams []*dto.MetricFamily, deltaMs int64) {
	for _, f := range fams {
		for _, m := range f.Metric {
			if m.TimestampMs != nil {
				ts := *m.TimestampMs + deltaMs
				m.TimestampMs = &ts
			}
		}
	}
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
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
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
