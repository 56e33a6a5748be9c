package plots_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ambientsim/ambientsim/plots"
)

// Build returns the report's data model: what each section, table and chart
// will show. Golden tests and other tools read it without parsing HTML.
func ExampleBuild() {
	s, err := plots.LoadResults("testdata/fixture")
	if err != nil {
		log.Fatal(err)
	}
	r, err := plots.Build(s, plots.Options{SLO: plots.SLO{P99Ms: 8}})
	if err != nil {
		log.Fatal(err)
	}
	for _, sec := range r.Sections {
		charts := 0
		for _, b := range sec.Blocks {
			if b.Chart != nil {
				charts++
			}
		}
		fmt.Printf("%d. %s (%d charts)\n", sec.Number, sec.Title, charts)
	}
	// Output:
	// 1. Executive summary (0 charts)
	// 2. Topology (1 charts)
	// 3. Request paths and policy findings (1 charts)
	// 4. Latency (8 charts)
	// 5. Cost (3 charts)
	// 6. Failures (5 charts)
	// 7. Rollout readiness (0 charts)
	// 8. Assumptions and reproducibility (0 charts)
}

// WriteReport is what `ambientsim report RESULTS_DIR -o report.html` does:
// load, build, render, and write the file atomically.
func ExampleWriteReport() {
	dir := "testdata/fixture"
	s, err := plots.LoadResults(dir)
	if err != nil {
		log.Fatal(err)
	}
	sweep, err := plots.LoadSweep(dir) // nil when the run had no sweep
	if err != nil {
		log.Fatal(err)
	}
	out := filepath.Join(os.TempDir(), "ambientsim-example-report.html")
	err = plots.WriteReport(s, out, plots.Options{
		Command: "ambientsim report " + dir + " -o " + out,
		Sweep:   sweep,
	})
	if err != nil {
		log.Fatal(err)
	}
	st, _ := os.Stat(out)
	fmt.Println("self-contained report written:", st.Size() > 1_000_000)
	// Output:
	// self-contained report written: true
}
