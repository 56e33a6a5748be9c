package meshconfig_test

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"

	"github.com/ambientsim/ambientsim/topology"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/meshconfig"
)

// TestGolden pins the translation of testdata/cluster.yaml: reviewers read
// testdata/cluster.mesh.yaml (regenerate with go test -update).
func TestGolden(t *testing.T) {
	top, err := topology.LoadSpec(filepath.Join("testdata", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, rep, err := meshconfig.Build(top, meshconfig.Options{Base: netip.MustParsePrefix("127.20.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := mesh.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	header := "# Generated from cluster.yaml by meshconfig.Build (go test -update). Warnings:\n"
	for _, w := range rep.Warnings {
		header += "#   " + w + "\n"
	}
	if len(rep.Warnings) == 0 {
		header += "#   (none)\n"
	}
	got = append([]byte(header), got...)
	path := filepath.Join("testdata", "cluster.mesh.yaml")
	golden.Check(t, path, got)
}
