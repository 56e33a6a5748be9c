package plots

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// FuzzSweepReport feeds arbitrary sweep.json content through the loader's
// decoder and the report's sweep section (a directory with sweep.json
// alone): it builds or fails with an error naming the file, never a panic.
func FuzzSweepReport(f *testing.F) {
	b, err := os.ReadFile("testdata/fixture/sweep.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"format":"` + results.SweepFormat + `","points":[{"index":0,"modes":[{"mode":"a","p99_ms":{"mean":-1,"half_width":1e308}}]}]}`))
	f.Add([]byte(`{"format":"` + results.SweepFormat + `","cost":{"rows":[{"pods":-5}]},"searches":[{"note":"<script>"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var sw results.Sweep
		if err := decodeJSON("sweep.json", data, &sw); err != nil {
			if !strings.HasPrefix(err.Error(), "sweep.json") {
				t.Fatalf("decode error does not name the file: %v", err)
			}
			return
		}
		s := &results.Summary{SchemaVersion: results.SchemaVersion, Scenario: sw.Scenario}
		r, err := Build(s, Options{TopN: 3, MaxGraphNodes: 5, Sweep: &sw})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := renderPage(&buf, r, "/* echarts */"); err != nil {
			t.Fatalf("Build succeeded but Render failed: %v", err)
		}
	})
}
