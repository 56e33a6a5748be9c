package plots

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// summary is section 1: the question, the answer (cost per mode, SLO
// verdicts, top risks) and the cost profile with its provenance.
func (b *builder) summary() []Block {
	s := b.s
	var out []Block
	out = append(out, heading("Question"))
	switch {
	case s.Question != "":
		out = append(out, text(s.Question))
	case s.Description != "":
		out = append(out, text(s.Description))
	default:
		out = append(out, text("The scenario states no question."))
	}

	out = append(out, heading("Answer"), Block{Answer: b.answer()})
	if len(s.Modes) > 0 {
		out = append(out, heading("Figures per mode"), table(b.modeVerdictTable()))
	}

	risks := b.topRisks(5)
	checked := len(s.Modes) > 0 || len(s.Paths.Pairs)+len(s.Paths.Findings) > 0 || len(s.Readiness) > 0
	if checked {
		out = append(out, heading("Top risks"))
	}
	switch {
	case !checked:
	case len(risks.Rows) == 0:
		out = append(out, text("No policy findings, failed readiness checks or unprotected requests."))
	default:
		out = append(out, table(risks))
	}

	out = append(out, heading("Model profile"))
	p := s.Profile
	if p.Version == "" && p.Source == "" && p.Date == "" && p.Provenance == "" && p.Name != "" {
		// A sweep records only the profile's name: say so rather than
		// print a row of dashes that reads like a profile without a source.
		out = append(out, text("Cost profile "+p.Name+" (sweep.json records its name only; the summary.json of any `ambientsim run` with it lists its version, source, date and provenance)."))
		return out
	}
	out = append(out, table(&Table{
		Caption: "Cost profile the simulation used, and where its numbers come from",
		Columns: cols("Profile", "Version", "Source", "Date", "Provenance"),
		Rows:    []Row{{Cells: []string{orDash(p.Name), orDash(p.Version), orDash(p.Source), orDash(p.Date), orDash(p.Provenance)}}},
	}))
	if c := calibrationText(p); c != "" {
		out = append(out, text("Calibrated "+c+". The profile's calibration section lists every fit, standard error and the parameters left at the base profile's values."))
	}
	return out
}

// allLatency returns the "all" latency row of a mode, or the worst category
// when the mode has no "all" row.
func allLatency(m results.ModeResult) (results.LatencyRow, bool) {
	var worst results.LatencyRow
	found := false
	for _, r := range m.Latency {
		if r.Category == "all" {
			return r, true
		}
		if !found || r.P99Ms > worst.P99Ms {
			worst, found = r, true
		}
	}
	return worst, found
}

func errorRatio(m results.ModeResult) float64 {
	return ratio(m.Requests.Failed, m.Requests.Offered)
}

// failureRatio is failed / offered with policy denials left out: a request
// refused by a policy in force is that policy's intended outcome, not a
// failure of the mesh (see splitFailures).
func failureRatio(m results.ModeResult) float64 {
	return ratio(splitFailures(m).failed, m.Requests.Offered)
}

// verdict judges one mode against the SLO; tone is pass, fail or "".
func (b *builder) verdict(m results.ModeResult) (string, string) {
	slo := b.opts.SLO
	if !slo.Set() {
		return "no SLO set", ""
	}
	var misses []string
	if slo.P99Ms > 0 {
		if lat, ok := allLatency(m); !ok {
			misses = append(misses, "no latency data")
		} else if lat.P99Ms > slo.P99Ms {
			misses = append(misses, fmt.Sprintf("p99 %s ms > %s ms", ms(lat.P99Ms), ms(slo.P99Ms)))
		}
	}
	if slo.MaxErrorRatio > 0 {
		if er := failureRatio(m); er > slo.MaxErrorRatio {
			misses = append(misses, fmt.Sprintf("errors %s > %s", pct(er), pct(slo.MaxErrorRatio)))
		}
	}
	if len(misses) == 0 {
		return "meets SLO", "pass"
	}
	return "misses SLO: " + strings.Join(misses, ", "), "fail"
}

func (b *builder) sloText() string {
	var parts []string
	var fromScen, fromFlag int
	add := func(part string, fromScenario bool) {
		parts = append(parts, part)
		if fromScenario {
			fromScen++
		} else {
			fromFlag++
		}
	}
	if b.opts.SLO.P99Ms > 0 {
		add("p99 ≤ "+ms(b.opts.SLO.P99Ms)+" ms", b.p99FromScenario)
	}
	if b.opts.SLO.MaxErrorRatio > 0 {
		add("errors ≤ "+pct(b.opts.SLO.MaxErrorRatio), b.errFromScenario)
	}
	switch {
	case fromScen > 0 && fromFlag == 0:
		return strings.Join(parts, ", ") + ", the scenario's slo"
	case fromScen > 0 && len(parts) == 2:
		// Mixed: say where each part came from.
		if b.p99FromScenario {
			return parts[0] + " from the scenario, " + parts[1] + " from the report flags"
		}
		return parts[0] + " from the report flags, " + parts[1] + " from the scenario"
	}
	return strings.Join(parts, ", ")
}

func joinOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func countStatus(checks []results.ReadinessCheck, status string) int {
	n := 0
	for _, c := range checks {
		if c.Status == status {
			n++
		}
	}
	return n
}

func (b *builder) modeVerdictTable() *Table {
	t := &Table{
		Caption: "Cost and SLO verdict per mode (same traffic in every mode; cost is the data plane, the control plane is in section Cost; requests refused by policy are not failures)",
		Columns: numeric(cols("Mode", "Data plane CPU (cores)", "Data plane memory (GiB)", "Throughput (rps)", "p99 all (ms)", "Refused by policy", "Failed", "Verdict"), 1, 2, 3, 4, 5, 6),
	}
	for _, m := range b.s.Modes {
		p99 := "—"
		if lat, ok := allLatency(m); ok {
			p99 = ms(lat.P99Ms)
		}
		v, tone := b.verdict(m)
		c, g := dataPlane(m)
		t.Rows = append(t.Rows, Row{Tone: tone, Cells: []string{
			m.Mode, cores(c), gib(g), fixed(m.Requests.ThroughputRPS, 1), p99, refusedText(m), failedText(m), v,
		}})
	}
	return t
}

// risk is one line of the top-risks table with its rank for ordering.
type risk struct {
	rank                       int
	severity, what, where, fix string
}

// topRisks ranks policy findings, failed readiness checks and failures that
// let requests through unprotected, and keeps the n most severe.
func (b *builder) topRisks(n int) *Table {
	s := b.s
	var rs []risk
	for _, f := range s.Paths.Findings {
		if f.Severity == "info" {
			continue
		}
		var parts []string
		if f.Policy != "" {
			parts = append(parts, f.Policy)
		}
		switch {
		case f.Source != "" && f.Destination != "":
			parts = append(parts, f.Source+" → "+f.Destination)
		case f.Source != "":
			parts = append(parts, f.Source)
		case f.Destination != "":
			parts = append(parts, "→ "+f.Destination)
		}
		where := strings.Join(parts, "\n")
		rs = append(rs, risk{severityRank(f.Severity), orDash(f.Severity), f.Code + ": " + f.Message, orDash(where), f.Fix})
	}
	for _, c := range s.Readiness {
		if c.Status == "fail" {
			ev := ""
			if len(c.Evidence) > 0 {
				ev = c.Evidence[0]
			}
			rs = append(rs, risk{1, "medium", "readiness check fails: " + c.Name, orDash(ev), "see section Rollout readiness"})
		}
	}
	for _, f := range s.Failures {
		if f.Unprotected > 0 {
			rs = append(rs, risk{0, "high", fmt.Sprintf("%s requests crossed without mTLS or bypassed an enforcing proxy during failure %s", count(f.Unprotected), f.Name), orDash(f.Target), "see section Failures"})
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].rank < rs[j].rank })
	t := &Table{
		Caption: "Most severe risks first (policy findings, failed readiness checks, unprotected traffic during failures)",
		Columns: cols("Severity", "Risk", "Where", "Fix"),
	}
	for i, r := range rs {
		if i == n {
			t.Omitted = len(rs) - n
			break
		}
		t.Rows = append(t.Rows, Row{Tone: severityTone(r.severity), Cells: []string{r.severity, r.what, r.where, orDash(r.fix)}})
	}
	return t
}

// refusedText is the requests a mode's policies refused, with their share.
func refusedText(m results.ModeResult) string {
	sp := splitFailures(m)
	switch {
	case sp.mixed:
		return "mixed with failures"
	case sp.denied == 0:
		return "0"
	}
	return count(sp.denied) + " (" + pct(ratio(sp.denied, m.Requests.Offered)) + ")"
}

// failedText is a mode's failed requests (policy denials left out), with
// their share of the offered requests.
func failedText(m results.ModeResult) string {
	sp := splitFailures(m)
	if sp.failed == 0 {
		return "0"
	}
	return count(sp.failed) + " (" + pct(ratio(sp.failed, m.Requests.Offered)) + ")"
}
