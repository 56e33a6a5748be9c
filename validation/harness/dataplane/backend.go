package dataplane

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// ModulePath is the Go module meshnode is built from.
const ModulePath = "github.com/ambientsim/ambientsim"

// FindModule walks up from dir to the directory whose go.mod declares
// ModulePath.
func FindModule(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if f, err := os.Open(filepath.Join(d, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok && strings.TrimSpace(rest) == ModulePath {
					f.Close()
					return d, nil
				}
			}
			f.Close()
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no checkout of %s above %s: run from the ambientsim source tree, or give a built meshnode (go build ./validation/cmd/meshnode)", ModulePath, dir)
		}
		d = parent
	}
}

// LocalOptions configure LocalBackend.
type LocalOptions struct {
	// Binary is a built meshnode; "" builds one from ModuleDir (or the
	// checkout around the working directory) into Dir.
	Binary    string
	ModuleDir string
	// Dir holds the built binary, mesh.yaml and the PKI (required).
	Dir  string
	Logf func(format string, args ...any)
	// NodeProxyArgs are extra node-proxy flags (see Options.NodeProxyArgs).
	NodeProxyArgs []string
}

// LocalBackend checks the local backend's prerequisites (root, ip, tc),
// builds meshnode if needed and returns a local backend running the real
// data plane.
func LocalBackend(ctx context.Context, o LocalOptions) (*harness.Local, string, error) {
	if err := harness.CheckPrerequisites(); err != nil {
		return nil, "", err
	}
	if o.Dir == "" {
		return nil, "", errors.New("dataplane: LocalOptions.Dir is required")
	}
	bin := o.Binary
	if bin == "" {
		mod := o.ModuleDir
		if mod == "" {
			wd, err := os.Getwd()
			if err != nil {
				return nil, "", err
			}
			if mod, err = FindModule(wd); err != nil {
				return nil, "", err
			}
		}
		var err error
		if bin, err = Build(ctx, mod, o.Dir); err != nil {
			return nil, "", err
		}
	} else if _, err := os.Stat(bin); err != nil {
		return nil, "", fmt.Errorf("dataplane: meshnode binary: %w", err)
	}
	b, err := harness.NewLocal(harness.LocalOptions{Commander: NewCommander(Options{Binary: bin, Dir: o.Dir, NodeProxyArgs: o.NodeProxyArgs}), Logf: o.Logf})
	if err != nil {
		return nil, "", err
	}
	return b, bin, nil
}
