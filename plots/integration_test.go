package plots

import (
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// section returns the report section with the given id.
func section(t *testing.T, r *Report, id string) Section {
	t.Helper()
	for _, s := range r.Sections {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no section %q", id)
	return Section{}
}

func buildCase(t *testing.T, name string, mutate func(*results.Summary, *Options)) *Report {
	t.Helper()
	s, opts := loadCase(t, caseNamed(t, name))
	if mutate != nil {
		mutate(s, &opts)
	}
	r, err := Build(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSLOFromSummary: the scenario's SLO (summary.json "slo") judges the
// modes unless a report flag overrides that field.
func TestSLOFromSummary(t *testing.T) {
	tests := []struct {
		name     string
		scenario *results.SLO
		flags    SLO
		want     string // in the answer's SLO line
		verdicts []string
	}{
		{"scenario only", &results.SLO{P99Ms: 8, MaxErrorRatio: 0.0001}, SLO{},
			"SLO (p99 ≤ 8.00 ms, errors ≤ 0.010%, the scenario's slo)", []string{"meets SLO", "meets SLO", "misses SLO", "misses SLO"}},
		{"flag overrides", &results.SLO{P99Ms: 8}, SLO{P99Ms: 20},
			"SLO (p99 ≤ 20.0 ms)", []string{"meets SLO", "meets SLO", "meets SLO", "meets SLO"}},
		{"mixed", &results.SLO{P99Ms: 8}, SLO{MaxErrorRatio: 0.5},
			"SLO (p99 ≤ 8.00 ms from the scenario, errors ≤ 50.0% from the report flags)", []string{"meets SLO", "meets SLO", "meets SLO", "misses SLO"}},
		{"latency-only scenario SLO gives no verdict", &results.SLO{LatencyMs: 500}, SLO{},
			"No SLO was given", []string{"no SLO set", "no SLO set", "no SLO set", "no SLO set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := buildCase(t, "fixture-no-slo", func(s *results.Summary, o *Options) { s.SLO = tt.scenario; o.SLO = tt.flags })
			sum := section(t, r, "summary")
			var answer string
			var verdicts []string
			for _, b := range sum.Blocks {
				if b.Answer != nil {
					answer = answerText(b.Answer)
				}
				if b.Table != nil && strings.HasPrefix(b.Table.Caption, "Cost and SLO verdict") {
					for _, row := range b.Table.Rows {
						v := row.Cells[len(row.Cells)-1]
						if i := strings.Index(v, ":"); i > 0 {
							v = v[:i]
						}
						verdicts = append(verdicts, v)
					}
				}
			}
			if !strings.Contains(answer, tt.want) {
				t.Errorf("answer %q\nwant it to contain %q", answer, tt.want)
			}
			if strings.Join(verdicts, "|") != strings.Join(tt.verdicts, "|") {
				t.Errorf("verdicts %q, want %q", verdicts, tt.verdicts)
			}
		})
	}
}

// TestFailuresNameTheMode: one entry per failure per mode, so headings,
// chart titles and tables name the mode, and the new fields are shown.
func TestFailuresNameTheMode(t *testing.T) {
	r := buildCase(t, "fixture", nil)
	sec := section(t, r, "failures")
	var headings, titles []string
	var overview, detail *Table
	for _, b := range sec.Blocks {
		if b.Heading != "" {
			headings = append(headings, b.Heading)
		}
		if b.Chart != nil {
			titles = append(titles, b.Chart.Title)
		}
		if b.Table != nil && strings.HasPrefix(b.Table.Caption, "Every failure in every mode") {
			overview = b.Table
		}
		if b.Table != nil && b.Table.Caption == "What failed and how far it reached in ambient+waypoint" {
			detail = b.Table
		}
	}
	for _, want := range []string{
		"Failure 1: waypoint-replica-crash in ambient (waypoint-crash of shop/waypoint)",
		"Failure 2: waypoint-replica-crash in ambient+waypoint (waypoint-crash of shop/waypoint)",
	} {
		if !strings.Contains(strings.Join(headings, "\n"), want) {
			t.Errorf("no heading %q in %q", want, headings)
		}
	}
	if !strings.Contains(strings.Join(titles, "\n"), "Error rate around waypoint-replica-crash in ambient+waypoint") {
		t.Errorf("chart titles do not name the mode: %q", titles)
	}
	if overview == nil || len(overview.Rows) != 2 || overview.Rows[0].Cells[1] != "ambient" || overview.Rows[1].Cells[3] != "1,480" {
		t.Fatalf("overview table %+v", overview)
	}
	if got := overview.Rows[0].Cells[6] + " / " + overview.Rows[0].Cells[7]; got != "never visible / never unhealthy" {
		t.Errorf("ambient detect/recover %q", got)
	}
	if detail == nil || detail.Rows[0].Cells[4] != "1,480" || detail.Rows[0].Cells[2] != "1.0 s" || detail.Rows[0].Tone != "fail" {
		t.Errorf("detail table %+v", detail)
	}
	var chain bool
	for _, b := range sec.Blocks {
		if b.Table != nil && len(b.Table.Columns) == 3 && strings.HasPrefix(b.Table.Columns[2].Name, "Affected chain") {
			chain = strings.Contains(strings.Join(b.Table.Rows[0].Cells, "|"), "shop/frontend → shop/cart → waypoint/shop/waypoint/0")
		}
	}
	if !chain {
		t.Error("no affected-chain table with the call chain")
	}
	var note bool
	for _, b := range sec.Blocks {
		note = note || b.Note == "no waypoint in this mode: the failure hits nothing"
	}
	if !note {
		t.Error("the failure's note is not shown")
	}
}

// TestIstiodIsControlPlane: istiod is drawn as its own, labelled bar and
// kept out of the data-plane figures.
func TestIstiodIsControlPlane(t *testing.T) {
	r := buildCase(t, "modes-compare", nil)
	cost := section(t, r, "cost")
	var found bool
	for _, b := range cost.Blocks {
		if b.Chart == nil {
			continue
		}
		for _, s := range b.Chart.Series {
			if s.Name == "istiod" {
				t.Errorf("chart %s draws istiod as a data-plane kind", b.Chart.ID)
			}
			if s.Name == controlPlaneLabel {
				found = true
				if s.Stack != "control plane" {
					t.Errorf("chart %s: istiod stacked on %q", b.Chart.ID, s.Stack)
				}
			}
		}
		for _, c := range b.Chart.X.Categories {
			if c == "istiod" {
				t.Errorf("chart %s has an istiod category", b.Chart.ID)
			}
		}
	}
	if !found {
		t.Error("no control-plane series in the cost charts")
	}
	s, _ := loadCase(t, caseNamed(t, "modes-compare"))
	for _, m := range s.Modes {
		cp := m.Totals.ByKind["istiod"]
		c, g := dataPlane(m)
		if m.Mode != "out-of-mesh" && (cp.MemoryGiB <= 0 || g >= m.Totals.MemoryGiB) {
			t.Errorf("mode %s: data plane memory %g of total %g (istiod %g)", m.Mode, g, m.Totals.MemoryGiB, cp.MemoryGiB)
		}
		if c > m.Totals.CPUCores {
			t.Errorf("mode %s: data plane CPU above the total", m.Mode)
		}
	}
}

// TestPlacementTable: section 3 lists where each policy is enforced, an
// unenforced policy flagged.
func TestPlacementTable(t *testing.T) {
	r := buildCase(t, "fixture", nil)
	var pt *Table
	for _, b := range section(t, r, "paths").Blocks {
		if b.Table != nil && b.Table.Caption == "Where each policy is enforced" {
			pt = b.Table
		}
	}
	if pt == nil || len(pt.Rows) != 3 {
		t.Fatalf("placement table %+v", pt)
	}
	if got := strings.Join(pt.Rows[0].Cells, "|"); got != "AuthorizationPolicy|shop/cart-l7|waypoint/shop/waypoint|—" {
		t.Errorf("row 0 %q", got)
	}
	if pt.Rows[2].Tone != "fail" || pt.Rows[2].Cells[2] != "nothing (not enforced)" || pt.Rows[2].Cells[3] != "selects no pods" {
		t.Errorf("unenforced row %+v", pt.Rows[2])
	}
	var html strings.Builder
	if err := Render(&html, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "<td>shop/cart-l7</td>") {
		t.Error("the placement table is not rendered as an HTML table")
	}
}

// answerText is an answer's lead, points and details, one per line.
func answerText(a *Answer) string {
	lines := append([]string{a.Lead}, a.Points...)
	for _, it := range a.Items {
		lines = append(lines, it.Text)
		lines = append(lines, it.Details...)
	}
	return strings.Join(lines, "\n")
}
