package plots

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// FuzzReport feeds arbitrary summary.json content through the loader's
// decoder, Build and the page renderer: whatever a results file holds, the
// report builds or fails with an error naming the file, never a panic.
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
		if err := decodeJSON("summary.json", data, &s); err != nil {
			if !strings.HasPrefix(err.Error(), "summary.json") {
				t.Fatalf("decode error does not name the file: %v", err)
			}
			return
		}
		r, err := Build(&s, Options{TopN: 3, MaxGraphNodes: 5, SLO: SLO{P99Ms: 1}})
		if err != nil {
			return
		}
		// The page logic without the 1 MB library, which makes each run slow.
		var buf bytes.Buffer
		if err := renderPage(&buf, r, "/* echarts */"); err != nil {
			t.Fatalf("Build succeeded but Render failed: %v", err)
		}
	})
}
