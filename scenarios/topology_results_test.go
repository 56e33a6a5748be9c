package scenarios

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"

	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/topology"
)

// TestPathReportJSON pins the JSON shape of `ambientsim paths --format
// json` (results.PathReport) for the topology package's hand-written inputs.
func TestPathReportJSON(t *testing.T) {
	const in = "../topology/testdata"
	for _, tc := range []struct {
		name  string
		paths []string
		ns    string
	}{
		{"payments-before", []string{"payments/before.yaml"}, ""},
		{"payments-after", []string{"payments/before.yaml", "payments/fix.yaml"}, ""},
		{"coverage", []string{"coverage"}, ""},
		{"bookinfo", []string{"bookinfo"}, ""},
		{"spec-example", []string{"spec/example.yaml"}, ""},
		{"no-namespace", []string{"loader/no-namespace.yaml"}, "team-a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var paths []string
			for _, p := range tc.paths {
				paths = append(paths, filepath.Join(in, p))
			}
			top, _, err := topology.Load(paths, topology.LoadOptions{DefaultNamespace: tc.ns})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetIndent("", "  ")
			if err := enc.Encode(PathReportResult(top.Paths(), nil)); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "paths", tc.name+".json"), got.Bytes())
			var pr results.PathReport
			if err := json.Unmarshal(got.Bytes(), &pr); err != nil {
				t.Fatalf("JSON does not decode as results.PathReport: %v", err)
			}
		})
	}
}
