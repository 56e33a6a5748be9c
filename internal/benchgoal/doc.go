// Package benchgoal reads `go test -bench` output and judges every figure
// that carries a goal, so the README's performance table is generated from
// one benchmark run instead of copied by hand.
//
// A benchmark states a goal for a figure it reports with b.ReportMetric by
// reporting a second metric whose unit names the figure's unit after a
// direction:
//
//	b.ReportMetric(cpu, "CPU-s/run")
//	b.ReportMetric(10, "goal-max-CPU-s/run")      // a ceiling: at most 10
//	b.ReportMetric(rate, "events/CPU-s")
//	b.ReportMetric(20e6, "goal-min-events/CPU-s") // a floor: at least 20 M
//
// Read collects, per benchmark (name and GOMAXPROCS) and unit, the figure's
// value from every result line (-count gives several) next to its goal;
// a Goal's Median is the figure the table shows, and Met compares it with
// the limit. Report.Markdown renders the table and Splice puts it between
// the markers
//
//	<!-- benchtable:begin -->
//	<!-- benchtable:end -->
//
// of a document. cmd/benchtable is the command around it.
//
// Input is parsed by golang.org/x/perf/benchfmt (the Go benchmark format);
// the figures are taken with the units the benchmark reported (benchfmt's
// tidied units, such as B/s for MB/s, are undone). A goal without its
// figure, or a goal whose limit differs between lines of one benchmark, is
// an error naming the file and line.
package benchgoal
