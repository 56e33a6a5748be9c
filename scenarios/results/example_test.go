package results_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// A consumer (a report, a sweep, a CI gate) decodes summary.json into a
// Summary and reads the "all" latency row of each mode. Modes appear in
// scenario order and the "all" row comes first, so no sorting is needed.
func ExampleSummary() {
	const summaryJSON = `{
  "schema_version": 1,
  "scenario": "checkout",
  "seed": 7,
  "slo": {"p99_ms": 25},
  "modes": [
    {"mode": "out-of-mesh", "requests": {},
     "latency": [{"category": "all", "count": 1000, "p50_ms": 2.1, "p99_ms": 9.8}]},
    {"mode": "ambient", "requests": {},
     "latency": [{"category": "all", "count": 1000, "p50_ms": 2.4, "p99_ms": 11.2},
                 {"category": "ambient-l4", "count": 1000, "p50_ms": 2.4, "p99_ms": 11.2}]},
    {"mode": "sidecar", "requests": {},
     "latency": [{"category": "all", "count": 1000, "p50_ms": 3.0, "p99_ms": 27.5}]}
  ]
}`
	var s results.Summary
	dec := json.NewDecoder(strings.NewReader(summaryJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		fmt.Println("decode:", err)
		return
	}
	if s.SchemaVersion != results.SchemaVersion {
		fmt.Println("unsupported schema", s.SchemaVersion)
		return
	}
	fmt.Printf("%s (seed %d)\n", s.Scenario, s.Seed)
	for _, m := range s.Modes {
		all := m.Latency[0]
		verdict := "ok"
		if s.SLO != nil && s.SLO.P99Ms > 0 && all.P99Ms > s.SLO.P99Ms {
			verdict = "over SLO"
		}
		fmt.Printf("%-12s p99 %5.1f ms  %s\n", m.Mode, all.P99Ms, verdict)
	}
	// Output:
	// checkout (seed 7)
	// out-of-mesh  p99   9.8 ms  ok
	// ambient      p99  11.2 ms  ok
	// sidecar      p99  27.5 ms  over SLO
}
