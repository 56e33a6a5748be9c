package calibrate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/harness/dataplane"
)

// Options configure Run.
type Options struct {
	// Backend is "local" (the only one the real data plane runs on so far).
	Backend string
	Size    Size
	// Name is the profile's name (default "calibrated").
	Name string
	// Base is the profile whose uncalibrated parameters are kept.
	Base string
	// Binary is a built meshnode; "" builds it from ModuleDir (or the
	// checkout around the working directory).
	Binary, ModuleDir string
	ToolVersion       string
	// Scratch holds the built binary, the PKI and the simulator mirrors;
	// "" uses a temporary directory removed at the end.
	Scratch string
	Logf    func(format string, args ...any)
	// Progress is called after each measured step.
	Progress func(i, n int, o Observation)
	// Design overrides Size (tests use a smaller one).
	Design *Design
	// SleepGrid overrides the sleep time constants the fit tries
	// (FitOptions.SleepGrid; tests use fewer).
	SleepGrid []float64
}

// Report is a finished calibration.
type Report struct {
	Fit         *FitResult      `json:"fit"`
	Provenance  Provenance      `json:"provenance"`
	NotEmulated []string        `json:"not_emulated"`
	ElapsedS    float64         `json:"elapsed_s"`
	YAML        []byte          `json:"-"`
	Profile     *models.Profile `json:"-"`
}

// BackendOptions select and configure a backend running the real data
// plane.
type BackendOptions struct {
	// Name is "local" ("" = local) or "kind" (a kind cluster: meshnode is
	// built into its image, Binary does not apply; Dir holds the generated
	// files and the directory shared with the pods).
	Name string
	// Binary is a built meshnode; "" builds it from ModuleDir (or the
	// checkout around the working directory) into Dir.
	Binary, ModuleDir string
	// Dir holds the binary, mesh.yaml and the PKI (required).
	Dir  string
	Logf func(format string, args ...any)
	// NodeProxyArgs are extra node-proxy flags.
	NodeProxyArgs []string
}

// NewBackend returns the harness backend with the real data plane, and
// the meshnode binary it runs (built if Binary was "").
func NewBackend(ctx context.Context, o BackendOptions) (harness.Backend, string, error) {
	switch o.Name {
	case "", "local":
		b, bin, err := dataplane.LocalBackend(ctx, dataplane.LocalOptions{Binary: o.Binary, ModuleDir: o.ModuleDir, Dir: o.Dir,
			Logf: o.Logf, NodeProxyArgs: o.NodeProxyArgs})
		return b, bin, err
	case "kind":
		b, err := dataplane.KindBackend(dataplane.KindOptions{ModuleDir: o.ModuleDir, Dir: o.Dir, NodeProxyArgs: o.NodeProxyArgs})
		return b, "", err
	}
	return nil, "", fmt.Errorf("backend %q: want local or kind", o.Name)
}

// Run measures the design on the real data plane and fits the profile.
func Run(ctx context.Context, o Options) (*Report, error) {
	start := time.Now()
	d := Design{}
	if o.Design != nil {
		d = *o.Design
	} else {
		var err error
		if d, err = NewDesign(o.Size); err != nil {
			return nil, err
		}
	}
	if d.HostCores == 0 {
		// Every node of the plan runs on this machine (local backend; kind
		// on this machine's Docker): its cores are the host's.
		d.HostCores = runtime.NumCPU()
	}
	scratch := o.Scratch
	if scratch == "" {
		// Owned: the data plane's credentials live here; a killed run's
		// copy is removed by the next harness start.
		dir, remove, err := harness.MakeOwnedTempDir("calibrate")
		if err != nil {
			return nil, fmt.Errorf("calibrate: %w", err)
		}
		defer remove() //nolint:errcheck // best effort on the way out
		scratch = dir
	}
	bin := o.Binary
	factory := func(unpooled bool) (harness.Backend, error) {
		bo := BackendOptions{Name: o.Backend, Binary: bin, ModuleDir: o.ModuleDir, Dir: filepath.Join(scratch, "dataplane"), Logf: o.Logf}
		if unpooled {
			bo.Dir = filepath.Join(scratch, "dataplane-unpooled")
			bo.NodeProxyArgs = []string{"--pool-max-streams", "1"}
		}
		b, built, err := NewBackend(ctx, bo)
		if err != nil {
			return nil, fmt.Errorf("calibrate: %w", err)
		}
		bin = built
		return b, nil
	}
	obs, notEmulated, err := Measure(ctx, factory, d, func(i int, ob Observation) {
		if o.Progress != nil {
			o.Progress(i, len(d.Steps), ob)
		}
	})
	if err != nil {
		if strings.HasPrefix(err.Error(), "calibrate:") {
			return nil, err
		}
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	res, err := FitProfile(obs, d, FitOptions{Base: o.Base, Scratch: filepath.Join(scratch, "sim"), SleepGrid: o.SleepGrid})
	if err != nil {
		return nil, err
	}
	mod := o.ModuleDir
	if mod == "" {
		if wd, err := os.Getwd(); err == nil {
			mod, _ = dataplane.FindModule(wd)
		}
	}
	backend := o.Backend
	if backend == "" {
		backend = "local"
	}
	prov := Provenance{ToolVersion: o.ToolVersion, Revision: Revision(mod), Backend: backend, Date: time.Now(), Machine: DetectMachine(), Binary: BinaryID(bin)}
	name := o.Name
	if name == "" {
		name = "calibrated"
	}
	data, prof, err := ProfileYAML(res, name, prov)
	if err != nil {
		return nil, err
	}
	return &Report{Fit: res, Provenance: prov, NotEmulated: notEmulated, ElapsedS: time.Since(start).Seconds(), YAML: data, Profile: prof}, nil
}

// JSONPath is where WriteFiles puts the calibration record next to a
// profile: NAME.yaml → NAME.calibration.json.
func JSONPath(profilePath string) string {
	return strings.TrimSuffix(strings.TrimSuffix(profilePath, ".yaml"), ".yml") + ".calibration.json"
}

// WriteFiles writes the profile to path and the full record (observations,
// fits, residuals, machine, NotEmulated) to JSONPath(path), atomically.
func (r *Report) WriteFiles(path string) ([]string, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("calibrate: %w", err)
		}
	}
	if err := writeAtomic(path, r.YAML); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	jp := JSONPath(path)
	if err := writeAtomic(jp, append(js, '\n')); err != nil {
		return nil, err
	}
	return []string{path, jp}, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("calibrate: write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("calibrate: write %s: %w", path, werr)
	}
	return nil
}
