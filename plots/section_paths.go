package plots

import (
	"sort"
	"strconv"
	"strings"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// paths is section 3: the request-path matrix from `topology` and the policy
// findings with their proofs.
func (b *builder) paths() []Block {
	p := b.s.Paths
	if len(p.Pairs)+len(p.Findings) == 0 && len(b.s.Topology.Services) == 0 {
		return nil
	}
	out := pathCategoryBlocks(p.Pairs)
	out = append(out, heading("Request-path matrix"))
	out = append(out, b.pathMatrix(p.Pairs)...)
	out = append(out, b.placements()...)
	out = append(out, heading("Policy findings"))
	return append(out, b.findingsBlock(p.Findings))
}

// pathCategoryBlocks count the pairs per path category, those bypassing a
// waypoint apart, in a table and (when there are any) a stacked bar chart.
func pathCategoryBlocks(pairs []results.PathPair) []Block {
	cats, perCat, bypass := pathCategories(pairs)
	ct := &Table{Caption: "Source→destination pairs per path category", Columns: numeric(cols("Category", "Pairs", "Bypassing a waypoint"), 1, 2)}
	direct := make([]float64, len(cats))
	skipped := make([]float64, len(cats))
	for i, c := range cats {
		tone := ""
		if bypass[c] > 0 {
			tone = "warn"
		}
		ct.Rows = append(ct.Rows, Row{Tone: tone, Cells: []string{c, counti(perCat[c]), counti(bypass[c])}})
		direct[i] = float64(perCat[c] - bypass[c])
		skipped[i] = float64(bypass[c])
	}
	out := []Block{table(ct)}
	if len(cats) == 0 {
		return out
	}
	return append(out, chart(&Chart{
		ID: chartID("paths", "categories"), Kind: ChartBar, HeightPx: 300,
		Title:   "Path categories",
		Caption: "How many source→destination pairs take each kind of path. A red segment is a pair whose destination has a waypoint that this path skips: its L7 policy is not enforced.",
		X:       Axis{Type: "category", Categories: cats},
		Y:       Axis{Name: "pairs", Type: "value", Integer: true},
		Series: []Series{
			{Name: "through the intended proxies", Color: "#1f77b4", Stack: "pairs", Values: direct},
			{Name: "bypasses a waypoint", Color: "#d62728", Stack: "pairs", Values: skipped},
		},
	}))
}

// pathMatrix is the request path of each pair, cut to 4×TopN rows.
// Bypassing pairs come first: they are what a reviewer must see even when
// the matrix is cut.
func (b *builder) pathMatrix(pairs []results.PathPair) []Block {
	if len(pairs) == 0 {
		return []Block{text("The result has no path matrix.")}
	}
	pairs = append([]results.PathPair(nil), pairs...)
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].Bypass && !pairs[j].Bypass })
	mt := &Table{Caption: "Request path of each source→destination pair (bypassing pairs first)",
		Columns: numeric(cols("Source", "Destination", "Port", "Category", "Bypass", "Hops"), 2)}
	limit := 4 * b.opts.TopN
	for i, pp := range pairs {
		if i == limit {
			mt.Omitted = len(pairs) - i
			break
		}
		tone, by := "", "no"
		if pp.Bypass {
			tone, by = "fail", "yes"
		}
		hops := strings.Join(pp.Hops, " → ")
		if hops == "" {
			hops = "direct (no proxy)"
		}
		mt.Rows = append(mt.Rows, Row{Tone: tone, Cells: []string{pp.Source, pp.Destination, strconv.Itoa(pp.Port), pp.Category, by, hops}})
	}
	out := []Block{table(mt)}
	if mt.Omitted > 0 {
		out = append(out, note("The matrix has "+counti(len(pairs))+" pairs; the table shows "+counti(limit)+", bypassing pairs first. ambientsim paths --format json prints all of them."))
	}
	return out
}

// findingsBlock lists the policy findings, most severe first, each with
// its proof and fix (the first 4×TopN).
func (b *builder) findingsBlock(findings []results.Finding) Block {
	if len(findings) == 0 {
		return text("No policy findings: every policy is enforced where it is placed.")
	}
	fs := append([]results.Finding(nil), findings...)
	sort.SliceStable(fs, func(i, j int) bool { return severityRank(fs[i].Severity) < severityRank(fs[j].Severity) })
	ft := &Table{Caption: "Policy findings, most severe first, each with the concrete path that proves it and the fix",
		Columns: cols("Severity", "Code", "Where", "Finding, proof and fix")}
	for i, f := range fs {
		if i == 4*b.opts.TopN {
			ft.Omitted = len(fs) - i
			break
		}
		var where []string
		if f.Policy != "" {
			where = append(where, f.Policy)
		}
		if f.Source != "" || f.Destination != "" {
			where = append(where, orDash(f.Source)+" → "+orDash(f.Destination))
		}
		// One wide cell for the prose: three narrow columns of it were
		// hard to read and pushed the table past the page.
		text := f.Message + "\nProof: " + orDash(f.Proof) + "\nFix: " + orDash(f.Fix)
		ft.Rows = append(ft.Rows, Row{Tone: severityTone(f.Severity), Cells: []string{orDash(f.Severity), f.Code, orDash(strings.Join(where, "\n")), text}})
	}
	return table(ft)
}

// placements is the policy placement table: which component enforces each
// policy (ztunnel, a waypoint, a sidecar, the CNI).
func (b *builder) placements() []Block {
	ps := b.s.Paths.Placements
	out := []Block{heading("Policy placement")}
	if len(ps) == 0 {
		return append(out, text("The topology has no AuthorizationPolicy, PeerAuthentication or NetworkPolicy to place."))
	}
	t := &Table{Caption: "Where each policy is enforced", Columns: cols("Kind", "Policy", "Enforced by", "Note")}
	for i, p := range ps {
		if i == 4*b.opts.TopN {
			t.Omitted = len(ps) - i
			break
		}
		by := strings.Join(p.By, ", ")
		tone := ""
		if len(p.By) == 0 {
			by, tone = "nothing (not enforced)", "fail"
		}
		t.Rows = append(t.Rows, Row{Tone: tone, Cells: []string{p.Kind, p.Policy, by, orDash(p.Note)}})
	}
	return append(out, table(t))
}

// pathCategories counts pairs and bypassing pairs per category, categories in
// a fixed reading order (known ones first, then others by name).
func pathCategories(pairs []results.PathPair) ([]string, map[string]int, map[string]int) {
	per := map[string]int{}
	by := map[string]int{}
	for _, p := range pairs {
		per[p.Category]++
		if p.Bypass {
			by[p.Category]++
		}
	}
	cats := make([]string, 0, len(per))
	for c := range per {
		cats = append(cats, c)
	}
	sortCategories(cats)
	return cats, per, by
}

var categoryOrder = map[string]int{"all": 0, "out-of-mesh": 1, "ambient-l4": 2, "ambient-waypoint": 3, "sidecar": 4, "mixed": 5}

// sortCategories orders path categories as the rest of the tool does.
func sortCategories(c []string) {
	sort.SliceStable(c, func(i, j int) bool {
		oi, iok := categoryOrder[c[i]]
		oj, jok := categoryOrder[c[j]]
		switch {
		case iok && jok:
			return oi < oj
		case iok != jok:
			return iok
		}
		return c[i] < c[j]
	})
}
