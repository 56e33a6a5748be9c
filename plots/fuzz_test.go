package plots

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// FuzzReport feeds arbitrary summary.json content through Build and Render:
// whatever a results file holds, the report builds or fails with an error,
// never a panic, and the output stays valid for the browser.
func FuzzReport(f *testing.F) {
	for _, p := range []string{"testdata/fixture/summary.json", "testdata/xss/summary.json", "testdata/minimal/summary.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schema_version":1,"modes":[{"mode":"a","latency":[{"category":"all","cdf":[{"ms":-1,"fraction":2}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s results.Summary
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		r, err := Build(&s, Options{TopN: 3, MaxGraphNodes: 5, SLO: SLO{P99Ms: 1}})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Render(&buf, r); err != nil {
			t.Fatalf("Build succeeded but Render failed: %v", err)
		}
	})
}
