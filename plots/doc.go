// Package plots turns a run's results into one self-contained HTML report.
//
// It reads results only (summary.json, and sweep.json when a sweep wrote
// one); it never runs a simulation. The command behind it is
//
//	ambientsim report RESULTS_DIR -o report.html [--slo-p99-ms 10 --slo-error-ratio 0.001]
//
// and the same thing from Go is:
//
//	s, sweep, err := plots.LoadDir(dir)   // sweep nil without sweep.json; errors name file, line, field
//	err = plots.WriteReport(s, "report.html", plots.Options{
//		Command: "ambientsim report " + dir + " -o report.html",
//		SLO:     plots.SLO{P99Ms: 10},
//		Sweep:   sweep,
//	})
//
// # Two steps: a data model, then HTML
//
// Build returns a Report: numbered sections made of blocks (headings,
// paragraphs, real HTML tables, charts). A Chart holds exactly what it plots
// (axes, series values, graph nodes and links, reference lines) plus a
// caption saying what to look for. Golden tests compare this model as JSON
// (testdata/golden, regenerated with -update), so a change in what a chart
// shows is a readable diff. Render then writes the page.
//
// The sections are: 1 executive summary (the question, then the answer
// in words with its numbers, derived from what the result contains:
// sweep answers, injected failures per mode, what-if designs, waypoint
// bypass, policy denials told apart from failures, findings, the modes
// compared, paths, observed latency; see answer.go; then cost and SLO
// verdict per mode, top risks, model profile), 2 topology (call graph coloured by
// dataplane mode, nodes and ztunnels, waypoints and their scope), 3 request
// paths and policy findings with proofs, 4 latency (percentile bars, CDFs
// per path category, side-by-side tables), 5 cost (CPU and memory per
// component kind and mode, totals, busiest components), 6 failures (rate,
// errors and p99 around each failure, blast-radius graph, what-if designs),
// 7 sweeps (from sweep.json, results.Sweep: the SLO metric vs the
// swept parameter with confidence bands and the SLO line, SLO search,
// sizing and cost tables),
// 8 rollout readiness, 9 assumptions and reproducibility. Failures and
// sweeps (and topology and paths, for a sweep's directory) appear only when
// their data exists, so numbers shift up when they don't.
//
// # Offline, deterministic, safe
//
// go-echarts builds each chart's ECharts option. Its page templates are not
// used: they load echarts.min.js from a CDN (a blank page offline), write the
// option JSON without HTML escaping (a workload named "</script>…" would
// break out of the script element) and strip every "__f__" from the page.
// Instead the report inlines Apache ECharts 5.6.0 from assets/ (go:embed,
// digest checked by a test) and encodes each option with encoding/json,
// which escapes <, > and &. Tables go through html/template. Chart ids are
// fixed, maps are never iterated into the output and nothing reads the
// clock, so the same results give byte-identical HTML.
//
// # Big topologies
//
// Per-item tables keep Options.TopN rows (busiest first) and say how many
// were left out; graphs keep the Options.MaxGraphNodes busiest services;
// nodes are totalled per zone beyond TopN. A 10,000-pod topology gives a
// report of about 1.1 MB, most of it the inlined chart library.
//
// Testing: golden files of the model (go test ./plots -run TestBuildGolden
// -update), and TestReportInBrowser, which opens reports in headless
// Chromium with the network cut off and fails on any JS error, console
// error, network request, chart without a canvas or missing section. It
// skips without chromium unless CI=true, where it fails.
// TestLibraryReportsAnswerFirst does the same for the report of every
// built-in scenario (testdata/library, written by regenerate.sh there) and
// asserts on the rendered page that the first section answers the
// scenario's question before any table or chart.
package plots
