package plots

import (
	"fmt"
	"strconv"
	"strings"
)

// readiness is section 8: the ambient production checklist, each item pass,
// fail or cannot-tell with its evidence.
func (b *builder) readiness() []Block {
	checks := b.s.Readiness
	if len(checks) == 0 && len(b.s.Modes) == 0 && len(b.s.Paths.Pairs) == 0 && len(b.s.Topology.Services) == 0 {
		return nil // a sweep's report: nothing was checked, so nothing to say
	}
	if len(checks) == 0 {
		return append([]Block{text("The result carries no readiness checklist (it was produced before the checklist existed, or without a topology).")}, b.telemetryTable()...)
	}
	out := []Block{text(fmt.Sprintf("%d pass, %d fail, %d cannot tell from the topology alone.",
		countStatus(checks, "pass"), countStatus(checks, "fail"), countStatus(checks, "cannot-tell")))}
	t := &Table{Caption: "Ambient rollout checklist", Columns: cols("Check", "Status", "Evidence")}
	for _, c := range checks {
		t.Rows = append(t.Rows, Row{Tone: statusTone(c.Status), Cells: []string{c.Name, orDash(c.Status), orDash(strings.Join(c.Evidence, "\n"))}})
	}
	out = append(out, table(t))
	return append(out, b.telemetryTable()...)
}

// telemetryTable shows which Istio metrics each simulated mode produced:
// dashboards and alerts built on istio_requests_total see nothing of
// L4-only paths.
func (b *builder) telemetryTable() []Block {
	t := &Table{Caption: "Istio metrics each mode produces (reporters)", Columns: cols("Mode", "HTTP metrics (istio_requests_total)", "TCP metrics (istio_tcp_*)", "Notes")}
	for _, m := range b.s.Modes {
		tel := m.Telemetry
		if len(tel.HTTPMetrics)+len(tel.TCPMetrics)+len(tel.Notes) == 0 {
			continue
		}
		t.Rows = append(t.Rows, Row{Cells: []string{m.Mode, orDash(strings.Join(tel.HTTPMetrics, ", ")), orDash(strings.Join(tel.TCPMetrics, ", ")), orDash(strings.Join(tel.Notes, "\n"))}})
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return []Block{heading("Telemetry by mode"), table(t)}
}

// reproducibility is section 9: scenario hash, seed, tool version, profile,
// assumptions and the exact commands that regenerate results and report.
func (b *builder) reproducibility() []Block {
	s := b.s
	p := s.Profile
	kv := &Table{Caption: "Inputs that determine these results", Columns: cols("Item", "Value")}
	add := func(k, v string) { kv.Rows = append(kv.Rows, Row{Cells: []string{k, orDash(v)}}) }
	add("Scenario", s.Scenario)
	add("Inputs hash (sha256 of scenario, manifests, profile)", s.InputsHash)
	add("Seed", strconv.FormatUint(s.Seed, 10))
	add("Tool version", s.ToolVersion)
	add("Result schema version", strconv.Itoa(s.SchemaVersion))
	add("Profile", strings.TrimSpace(p.Name+" "+p.Version))
	if p.Source != "" || len(s.Modes) > 0 {
		add("Profile source", p.Source)
		add("Profile provenance", strings.TrimSpace(p.Provenance+" "+p.Date))
	}
	if c := calibrationText(p); c != "" {
		add("Profile calibration", c)
	}
	if sw := b.opts.Sweep; sw != nil && len(s.Modes) == 0 {
		// A sweep's report: the figures of each of its runs.
		add("Design points × replications", counti(len(sw.Points))+" × "+strconv.Itoa(sw.Replications))
		add("Seed rule", sw.SeedRule)
		add("Simulated time measured per run (s)", secondsOrUnknown(sw.RunDurationS))
		add("Warm-up discarded per run (s)", secondsOrUnknown(sw.WarmupS))
		add("Warm-up rule", sw.Warmup.Description)
	} else {
		add("Simulated time measured (s)", fixed(s.DurationS, 1))
		add("Warm-up discarded (s)", fixed(s.WarmupS, 1))
	}
	if b.opts.SLO.Set() {
		add("SLO", b.sloText())
	}
	out := []Block{table(kv)}

	out = append(out, heading("Assumptions"))
	if len(s.Assumptions) == 0 {
		out = append(out, text("The result lists no modelling assumptions."))
	} else {
		out = append(out, items(s.Assumptions...))
	}
	out = append(out, heading("Regenerate"))
	regen := s.Command
	if regen == "" {
		regen = "— (not recorded: the results were written by an older ambientsim)"
	}
	out = append(out, text("The results:"), code(regen))
	out = append(out, text("This report:"), code(orDash(b.opts.Command)))
	return out
}

// secondsOrUnknown prints simulated seconds, or says an older file did not
// record them.
func secondsOrUnknown(v float64) string {
	if v <= 0 {
		return "— (not recorded in this sweep.json)"
	}
	return fixed(v, 1)
}
