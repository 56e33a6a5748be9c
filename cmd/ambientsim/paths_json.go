package main

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/ambientsim/ambientsim/scenarios"
	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/topology"
)

// writePathsJSON writes the `paths --format json` document, the
// results.PathReport shape. Listed rows are streamed one by one, so
// --expand on a 10^8-row matrix does not hold the rows in memory; the
// bytes are those json.Encoder with a two-space indent writes for the
// whole value.
func writePathsJSON(out io.Writer, t *topology.Topology, r *topology.Report, expand, classes bool) error {
	w := bufio.NewWriterSize(out, 1<<16)
	m := r.Matrix
	rest := results.PathReport{Readiness: scenarios.ReadinessResults(r.Readiness)}
	if len(r.Readiness) == 0 {
		rest.Readiness = nil
	}
	for _, st := range scenarios.PathReportResult(topology.PathReport{Status: r.Status}, nil).Status {
		rest.Status = append(rest.Status, st)
	}
	listRows := !classes && (expand || m.Rows <= topology.ExpandLimit)
	if listRows {
		rest.Findings = scenarios.FindingResults(r.Findings(t))
		io.WriteString(w, "{\n  \"pairs\": [")
		n := 0
		var err error
		m.EachPair(func(p topology.PathPair) bool {
			var b []byte
			if b, err = json.MarshalIndent(scenarios.PathPairResult(p), "    ", "  "); err != nil {
				return false
			}
			if n > 0 {
				io.WriteString(w, ",")
			}
			io.WriteString(w, "\n    ")
			w.Write(b)
			n++
			return true
		})
		if err != nil {
			return err
		}
		if n > 0 {
			io.WriteString(w, "\n  ")
		}
		io.WriteString(w, "],\n")
	} else {
		rest.View = "classes"
		rest.Classes = scenarios.PathClassesResult(m)
		rest.Findings = scenarios.FindingFamilyResults(r.Families(t))
		io.WriteString(w, "{\n  \"pairs\": null,\n")
	}
	// The other fields: marshal the report without pairs and splice its
	// body in after "pairs".
	b, err := json.MarshalIndent(rest, "", "  ")
	if err != nil {
		return err
	}
	// b is {\n  "pairs": null,\n  ...}; drop its first two lines.
	body := b
	for i := 0; i < 2; i++ {
		for j, c := range body {
			if c == '\n' {
				body = body[j+1:]
				break
			}
		}
	}
	w.Write(body)
	io.WriteString(w, "\n")
	return w.Flush()
}
