package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

// File names a sweep writes.
const (
	ResultFile = results.SweepFile
	CSVFile    = "sweep.csv"
)

// ShardFile is the file name of shard i of n, e.g. shard-003-of-008.json.
func ShardFile(i, n int) string { return fmt.Sprintf("shard-%03d-of-%03d.json", i, n) }

// MarshalResult encodes a results.Sweep as sweep.json bytes (indented, with a
// final newline).
func MarshalResult(r *results.Sweep) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding sweep result: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteResult writes sweep.json and sweep.csv into dir, each atomically.
func WriteResult(dir string, r *results.Sweep) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating output directory: %w", err)
	}
	b, err := MarshalResult(r)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, ResultFile), b); err != nil {
		return err
	}
	c, err := MarshalCSV(r)
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, CSVFile), c)
}

// WriteShard writes a shard result into dir as ShardFile, atomically, so a
// retried Kubernetes pod never leaves a half-written file behind.
func WriteShard(dir string, s *ShardResult) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating output directory: %w", err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encoding shard result: %w", err)
	}
	path := filepath.Join(dir, ShardFile(s.Shard, s.Shards))
	return path, WriteFileAtomic(path, append(b, '\n'))
}

// ReadShards reads every shard-*.json file in the given directories, in
// shard order.
func ReadShards(dirs ...string) ([]*ShardResult, error) {
	var out []*ShardResult
	budget := yamlcheck.NewBudget(yamlcheck.MaxTotalBytes, yamlcheck.MaxFileBytes)
	for _, d := range dirs {
		files, err := filepath.Glob(filepath.Join(d, "shard-*-of-*.json"))
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", d, err)
		}
		for _, f := range files {
			b, err := budget.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("reading shard result: %w", err)
			}
			var s ShardResult
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&s); err != nil {
				return nil, fmt.Errorf("%s: not a sweep shard result: %w", f, err)
			}
			out = append(out, &s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no shard-*-of-*.json files in %v", dirs)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Shard < out[j].Shard })
	return out, nil
}

// WriteFileAtomic writes data to a temporary file in path's directory and
// renames it over path, so readers see the old file or the new one, never
// a torn one.
func WriteFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := firstErr(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// MarshalCSV renders one row per point and mode: the parameters, then the
// mean and interval half-width of every figure, for spreadsheets.
func MarshalCSV(r *results.Sweep) ([]byte, error) {
	var params []string
	for _, p := range r.Parameters {
		if p.Name != "mode" {
			params = append(params, p.Name)
		}
	}
	kindSet := map[string]bool{}
	for _, pt := range r.Points {
		for _, m := range pt.Modes {
			for _, k := range m.Components {
				kindSet[k.Kind] = true
			}
		}
	}
	var kinds []string
	for k := range kindSet {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)

	header := append([]string{"point"}, params...)
	header = append(header, "mode")
	figs := []string{"p50_ms", "p90_ms", "p99_ms", "p999_ms", "mean_ms", "throughput_rps", "error_rate", "mesh_cpu_cores", "mesh_memory_gib"}
	for _, f := range figs {
		header = append(header, f+"_mean", f+"_ci")
	}
	header = append(header, "saturated_runs")
	for _, k := range kinds {
		header = append(header, k+"_instances", k+"_cpu_cores_mean", k+"_cpu_cores_ci", k+"_memory_gib_mean", k+"_memory_gib_ci")
	}
	if r.SLO != nil {
		header = append(header, "slo_value_mean", "slo_value_ci", "slo_verdict")
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		return nil, err
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, pt := range r.Points {
		for _, m := range pt.Modes {
			row := []string{strconv.Itoa(pt.Index)}
			for _, p := range params {
				row = append(row, pt.Point.Get(p))
			}
			row = append(row, m.Mode)
			for _, e := range []Estimate{m.P50Ms, m.P90Ms, m.P99Ms, m.P999Ms, m.MeanMs, m.ThroughputRPS, m.ErrorRate, m.MeshCPUCores, m.MeshMemoryGiB} {
				row = append(row, num(e.Mean), num(e.HalfWidth))
			}
			row = append(row, strconv.Itoa(m.Saturated))
			for _, k := range kinds {
				ks := results.SweepKindStats{}
				for _, c := range m.Components {
					if c.Kind == k {
						ks = c
					}
				}
				row = append(row, num(ks.Instances.Mean), num(ks.CPUCores.Mean), num(ks.CPUCores.HalfWidth), num(ks.MemoryGiB.Mean), num(ks.MemoryGiB.HalfWidth))
			}
			if r.SLO != nil && m.SLO != nil {
				row = append(row, num(m.SLO.Value.Mean), num(m.SLO.Value.HalfWidth), m.SLO.Verdict)
			}
			if err := w.Write(row); err != nil {
				return nil, err
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("encoding sweep.csv: %w", err)
	}
	return buf.Bytes(), nil
}
