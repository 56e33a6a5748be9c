package topology

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Report is what `ambientsim paths` prints: the path matrix (in classes,
// rows on demand), the findings (grouped), policy placements, Gateway and
// route status, and the readiness checklist.
type Report struct {
	Matrix     *Matrix
	Groups     []FindingGroup
	Placements []Placement
	Status     []ObjectStatus
	Readiness  []ReadinessCheck
}

// ExpandLimit is the largest matrix `ambientsim paths` lists row by row by
// default; larger ones are shown as classes unless --expand is given.
const ExpandLimit = 1000

// Findings returns every finding of the groups, sorted as Paths sorts
// them.
func (r *Report) Findings(t *Topology) []Finding {
	fs := expandGroups(r.Groups)
	t.sortFindings(fs)
	return fs
}

// FindingCount is the number of findings the groups stand for.
func (r *Report) FindingCount() int {
	n := 0
	for i := range r.Groups {
		n += r.Groups[i].Count()
	}
	return n
}

// FindingFamily is a line of the class view's findings: findings of one
// code, severity and policy whose sources share a source class and whose
// destinations share a destination class (a PLAINTEXT_ACCEPTED for each of
// 5,000 alike services is one family).
type FindingFamily struct {
	Finding                                  // the first finding
	Count                             int    // findings in the family
	Sources                           int    // distinct sources
	Destinations                      int    // distinct destinations
	SourceClass                       string // S<n>, "" when the findings have no class
	DestClass                         string // D<n>, "" when the destination is not a matrix destination
	SampleSources, SampleDestinations []string
}

// Families aggregates finding groups for the class view.
func (r *Report) Families(t *Topology) []FindingFamily {
	type key struct{ code, sev, policy, sc, dc, src, dst string }
	byKey := map[key]int{}
	var out []FindingFamily
	srcSeen := []map[string]bool{}
	dstSeen := []map[string]bool{}
	for i := range r.Groups {
		g := &r.Groups[i]
		dc := ""
		if d := t.destClassOfID(r.Matrix, g.Destination); d != nil {
			dc = d.ID
		}
		sc := ""
		if g.Class != nil {
			sc = g.Class.ID
		} else if w := t.workloadByID(g.Source); w != nil && r.Matrix.srcClass[w] != nil {
			sc = r.Matrix.srcClass[w].ID
		}
		k := key{code: g.Code, sev: g.Severity, policy: g.Policy, sc: sc, dc: dc}
		if sc == "" {
			k.src = g.Source
		}
		if dc == "" {
			k.dst = g.Destination
		}
		idx, ok := byKey[k]
		if !ok {
			idx = len(out)
			byKey[k] = idx
			out = append(out, FindingFamily{Finding: g.Finding, SourceClass: sc, DestClass: dc})
			srcSeen = append(srcSeen, map[string]bool{})
			dstSeen = append(dstSeen, map[string]bool{})
		}
		fam := &out[idx]
		fam.Count += g.Count()
		addSample := func(seen map[string]bool, id string, n *int, sample *[]string) {
			if id == "" || seen[id] {
				return
			}
			seen[id] = true
			*n++
			if len(*sample) < 3 {
				*sample = append(*sample, id)
			}
		}
		if g.render != nil {
			for _, w := range g.members {
				addSample(srcSeen[idx], w.ID(), &fam.Sources, &fam.SampleSources)
			}
		} else {
			addSample(srcSeen[idx], g.Source, &fam.Sources, &fam.SampleSources)
		}
		addSample(dstSeen[idx], g.Destination, &fam.Destinations, &fam.SampleDestinations)
	}
	return out
}

// destClassOfID finds the destination class of "ns/name" (its first port).
func (t *Topology) destClassOfID(m *Matrix, id string) *DestClass {
	ns, name, ok := strings.Cut(id, "/")
	if !ok {
		return nil
	}
	s := t.Service(ns, name)
	if s == nil {
		for _, se := range t.ServiceEntries {
			if v := se.AsService(); v.ID() == id {
				s = v
				break
			}
		}
	}
	if s == nil {
		return nil
	}
	if us := m.unitsOf[s]; len(us) > 0 {
		return m.DestClasses[m.unitClass[us[0]]]
	}
	return nil
}

// count renders n with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// flushEvery is how many rows a streamed table aligns at once: the column
// widths of a long expansion are per block, so memory stays bounded.
const flushEvery = 1024

// writeRowsTable writes the PATHS section, row by row.
func writeRowsTable(w io.Writer, rows int64, each func(func(PathPair) bool)) {
	fmt.Fprintf(w, "PATHS (%d)\n", rows)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tDESTINATION\tPORT\tCATEGORY\tBYPASS\tHOPS")
	n := 0
	each(func(p PathPair) bool {
		bypass := "-"
		if p.Path.Bypass {
			bypass = "BYPASS"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s%s\n", p.Source.ID(), p.Destination.ID(), p.Port, p.Path.Category, bypass, p.Path.String(), deniedSuffix(p.Path))
		if n++; n%flushEvery == 0 {
			tw.Flush()
		}
		return true
	})
	tw.Flush()
}

func writePlacementsTable(w io.Writer, placements []Placement) {
	if len(placements) == 0 {
		return
	}
	fmt.Fprintf(w, "\nPOLICIES (%d)\n", len(placements))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tPOLICY\tENFORCED BY\tNOTE")
	for _, pl := range placements {
		by := strings.Join(pl.By, ", ")
		if by == "" {
			by = "nowhere"
		}
		note := pl.Note
		if note == "" {
			note = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", pl.Kind, pl.Policy, by, note)
	}
	tw.Flush()
}

func writeStatusTable(w io.Writer, status []ObjectStatus) {
	if len(status) == 0 {
		return
	}
	fmt.Fprintf(w, "\nSTATUS (%d)\n", len(status))
	for _, st := range status {
		io.WriteString(w, st.Line())
	}
}

func writeFindingText(w io.Writer, f *Finding, extra string) {
	fmt.Fprintf(w, "[%s] %s", f.Severity, f.Code)
	if f.Policy != "" {
		fmt.Fprintf(w, " policy=%s", f.Policy)
	}
	if f.Source != "" {
		fmt.Fprintf(w, " source=%s", f.Source)
	}
	if f.Destination != "" {
		fmt.Fprintf(w, " destination=%s", f.Destination)
	}
	fmt.Fprintf(w, "%s\n  %s\n", extra, f.Message)
	if f.Proof != "" {
		fmt.Fprintf(w, "  proof: %s\n", f.Proof)
	}
	fmt.Fprintf(w, "  fix:   %s\n", f.Fix)
}

func writeFindingsTable(w io.Writer, fs []Finding) {
	fmt.Fprintf(w, "\nFINDINGS (%d)\n", len(fs))
	for i := range fs {
		writeFindingText(w, &fs[i], "")
	}
}

func writeReadinessTable(w io.Writer, cs []ReadinessCheck) {
	if len(cs) == 0 {
		return
	}
	pass, fail, unsure := 0, 0, 0
	for _, c := range cs {
		switch c.Status {
		case StatusPass:
			pass++
		case StatusFail:
			fail++
		default:
			unsure++
		}
	}
	fmt.Fprintf(w, "\nREADINESS (%d checks: %d pass, %d fail, %d cannot tell)\n", len(cs), pass, fail, unsure)
	for i, c := range cs {
		fmt.Fprintf(w, "%2d. [%s] %s\n", i+1, c.Status, c.Name)
		for _, e := range c.Evidence {
			fmt.Fprintf(w, "      - %s\n", e)
		}
		if c.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", c.Fix)
		}
	}
}

// WriteTable writes the report as aligned text: every row and every finding
// when expand is set (rows streamed, memory bounded by the classes), else
// the class view for matrices above ExpandLimit rows and the rows below.
func (r *Report) WriteTable(out io.Writer, t *Topology, expand, classes bool) error {
	w := bufio.NewWriterSize(out, 1<<16)
	m := r.Matrix
	if !classes && (expand || m.Rows <= ExpandLimit) {
		writeRowsTable(w, m.Rows, m.EachPair)
		writePlacementsTable(w, r.Placements)
		writeStatusTable(w, r.Status)
		writeFindingsTable(w, r.Findings(t))
	} else {
		r.writeClassesTable(w, t)
		writePlacementsTable(w, r.Placements)
		writeStatusTable(w, r.Status)
		fams := r.Families(t)
		fmt.Fprintf(w, "\nFINDINGS (%s findings in %d families: alike sources and destinations together; --expand lists each)\n", count(int64(r.FindingCount())), len(fams))
		for i := range fams {
			writeFindingText(w, &fams[i].Finding, fams[i].countText())
		}
	}
	writeReadinessTable(w, r.Readiness)
	return w.Flush()
}

// countText says how many findings a family stands for, "" for one.
func (f *FindingFamily) countText() string {
	if f.Count <= 1 {
		return ""
	}
	var parts []string
	if f.Sources > 1 {
		s := fmt.Sprintf("%s sources", count(int64(f.Sources)))
		if f.SourceClass != "" {
			s += " of class " + f.SourceClass
		}
		parts = append(parts, s)
	}
	if f.Destinations > 1 {
		d := fmt.Sprintf("%s destinations", count(int64(f.Destinations)))
		if f.DestClass != "" {
			d += " of class " + f.DestClass
		}
		parts = append(parts, d)
	}
	return fmt.Sprintf("  (x%s: %s; shown: the first)", count(int64(f.Count)), strings.Join(parts, ", "))
}

// writeClassesTable writes the matrix summary, shapes, classes and cells.
func (r *Report) writeClassesTable(w io.Writer, t *Topology) {
	m := r.Matrix
	fmt.Fprintf(w, "PATH MATRIX: %s rows in %d source classes x %d destination classes, %d path shapes (--expand lists every row)\n",
		count(m.Rows), len(m.SourceClasses), len(m.DestClasses), len(m.Shapes))
	fmt.Fprintf(w, "\nPATH SHAPES (%d)\n", len(m.Shapes))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SHAPE\tROWS\tCATEGORY\tBYPASS\tHOPS")
	for _, sh := range m.Shapes {
		bypass := "-"
		if sh.Bypass {
			bypass = "BYPASS"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\n", sh.ID, count(sh.Rows), sh.Category, bypass, sh.HopsString(), sh.deniedText())
	}
	tw.Flush()
	fmt.Fprintf(w, "\nSOURCE CLASSES (%d)\n", len(m.SourceClasses))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tSOURCES\tMODE\tMEMBERS\tSET APART BY")
	for _, c := range m.SourceClasses {
		ids := make([]string, 0, 3)
		for _, w := range c.Members[:min(3, len(c.Members))] {
			ids = append(ids, w.ID())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, count(int64(len(c.Members))), c.modeText(), joinMore(ids, len(c.Members)), noneIfEmpty(joinCapped(c.Traits, 2)))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nDESTINATION CLASSES (%d)\n", len(m.DestClasses))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tPORTS\tMEMBERS\tLIKE THE FIRST")
	for _, d := range m.DestClasses {
		ids := make([]string, 0, 3)
		for _, u := range d.Units[:min(3, len(d.Units))] {
			ids = append(ids, u.String())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.ID, count(int64(len(d.Units))), joinMore(ids, len(d.Units)), strings.Join(d.Traits, "; "))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nCELLS (per source class: the shape of its rows to each destination class)\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tROWS\tSHAPE: DESTINATION CLASSES")
	for _, l := range m.cellsBySource() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", l.source.ID, count(l.rows), l.text)
	}
	tw.Flush()
}

// String renders a unit as ns/name:port.
func (u Unit) String() string { return u.Service.ID() + ":" + strconv.Itoa(u.Port) }

// ModeText describes the class's sources: their mode, "ingress gateway" or
// "outside the cluster".
func (c *SourceClass) ModeText() string { return c.modeText() }

func (c *SourceClass) modeText() string {
	switch {
	case c.External:
		return "outside the cluster"
	case c.Ingress:
		return "ingress gateway"
	}
	return string(c.Mode)
}

func (sh *PathShape) deniedText() string {
	if sh.Denied == "" {
		return ""
	}
	return " [DENIED by " + sh.DeniedByString() + ": " + sh.Denied + "]"
}

// joinMore lists ids and says how many more there are in total n.
func joinMore(ids []string, n int) string {
	s := strings.Join(ids, ", ")
	if n > len(ids) {
		s += fmt.Sprintf(" (+%s more)", count(int64(n-len(ids))))
	}
	return s
}

// cellLine is the cells of one source class that share one shape.
type cellLine struct {
	source *SourceClass
	shape  *PathShape
	rows   int64
	dests  []*DestClass
}

func (l cellLine) destText() string {
	ids := make([]string, 0, len(l.dests))
	for _, d := range l.dests {
		ids = append(ids, d.ID)
	}
	return joinCapped(ids, 12)
}

// cellLines groups the cells by source class and shape.
func (m *Matrix) cellLines() []cellLine {
	var out []cellLine
	idx := map[[2]int]int{}
	for _, c := range m.Cells {
		k := [2]int{c.Source.idx, c.Shape.idx}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, cellLine{source: c.Source, shape: c.Shape})
		}
		out[i].rows += c.Rows
		out[i].dests = append(out[i].dests, c.Dest)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].source.idx != out[j].source.idx {
			return out[i].source.idx < out[j].source.idx
		}
		return out[i].shape.idx < out[j].shape.idx
	})
	return out
}

// WriteMarkdown writes the report as Markdown (for review documents), in
// the same views as WriteTable. Every cell is escaped (mdCell).
func (r *Report) WriteMarkdown(out io.Writer, t *Topology, expand, classes bool) error {
	w := bufio.NewWriterSize(out, 1<<16)
	m := r.Matrix
	if !classes && (expand || m.Rows <= ExpandLimit) {
		writeRowsMarkdown(w, m.Rows, m.EachPair)
		writePlacementsMarkdown(w, r.Placements)
		writeStatusMarkdown(w, r.Status)
		writeFindingsMarkdown(w, r.Findings(t))
	} else {
		r.writeClassesMarkdown(w)
		writePlacementsMarkdown(w, r.Placements)
		writeStatusMarkdown(w, r.Status)
		fams := r.Families(t)
		fmt.Fprintf(w, "\n## Findings (%s in %d families; `--expand` lists each)\n\n", count(int64(r.FindingCount())), len(fams))
		if len(fams) > 0 {
			io.WriteString(w, "| Severity | Code | Count | Policy | Sources | Destinations | First message | Proof | Fix |\n|---|---|---:|---|---|---|---|---|---|\n")
			for _, f := range fams {
				srcs := joinMore(f.SampleSources, f.Sources)
				if f.SourceClass != "" {
					srcs += " (" + f.SourceClass + ")"
				}
				dsts := joinMore(f.SampleDestinations, f.Destinations)
				if f.DestClass != "" {
					dsts += " (" + f.DestClass + ")"
				}
				fmt.Fprintf(w, "| %s | `%s` | %d | %s | %s | %s | %s | %s | %s |\n", mdCell(f.Severity), f.Code, f.Count, mdCell(f.Policy),
					mdCell(srcs), mdCell(dsts), mdCell(f.Message), mdCell(f.Proof), mdCell(f.Fix))
			}
		}
	}
	writeReadinessMarkdown(w, r.Readiness)
	return w.Flush()
}

func writeReadinessMarkdown(w io.Writer, cs []ReadinessCheck) {
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Rollout readiness (%d checks)\n\n", len(cs))
	io.WriteString(w, "| # | Check | Status | Evidence | Fix |\n|---:|---|---|---|---|\n")
	for i, c := range cs {
		ev := make([]string, len(c.Evidence))
		for j, e := range c.Evidence {
			ev[j] = mdCell(e)
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s |\n", i+1, mdCell(c.Name), mdCell(c.Status), strings.Join(ev, "; "), mdCell(c.Fix))
	}
}

func (r *Report) writeClassesMarkdown(w io.Writer) {
	m := r.Matrix
	fmt.Fprintf(w, "## Request paths: %s rows in classes\n\n%d source classes x %d destination classes, %d path shapes (`--expand` lists every row).\n",
		count(m.Rows), len(m.SourceClasses), len(m.DestClasses), len(m.Shapes))
	fmt.Fprintf(w, "\n### Path shapes (%d)\n\n| Shape | Rows | Category | Bypass | Hops |\n|---|---:|---|---|---|\n", len(m.Shapes))
	for _, sh := range m.Shapes {
		bypass := ""
		if sh.Bypass {
			bypass = "**bypass**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", sh.ID, count(sh.Rows), mdCell(string(sh.Category)), bypass, mdCell(sh.HopsString()+sh.deniedText()))
	}
	fmt.Fprintf(w, "\n### Source classes (%d)\n\n| Class | Sources | Mode | Members | Set apart by |\n|---|---:|---|---|---|\n", len(m.SourceClasses))
	for _, c := range m.SourceClasses {
		ids := make([]string, 0, 3)
		for _, wl := range c.Members[:min(3, len(c.Members))] {
			ids = append(ids, wl.ID())
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", c.ID, count(int64(len(c.Members))), mdCell(c.modeText()), mdCell(joinMore(ids, len(c.Members))), mdCell(joinCapped(c.Traits, 2)))
	}
	fmt.Fprintf(w, "\n### Destination classes (%d)\n\n| Class | Ports | Members | Like the first |\n|---|---:|---|---|\n", len(m.DestClasses))
	for _, d := range m.DestClasses {
		ids := make([]string, 0, 3)
		for _, u := range d.Units[:min(3, len(d.Units))] {
			ids = append(ids, u.String())
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", d.ID, count(int64(len(d.Units))), mdCell(joinMore(ids, len(d.Units))), mdCell(strings.Join(d.Traits, "; ")))
	}
	fmt.Fprintf(w, "\n### Cells\n\n| Source class | Rows | Shape: destination classes |\n|---|---:|---|\n")
	for _, l := range m.cellsBySource() {
		fmt.Fprintf(w, "| %s | %s | %s |\n", l.source.ID, count(l.rows), mdCell(l.text))
	}
}

// sourceCells is one source class's cells: "P1: D1, D44; P2: D2".
type sourceCells struct {
	source *SourceClass
	rows   int64
	text   string
}

func (m *Matrix) cellsBySource() []sourceCells {
	var out []sourceCells
	lines := m.cellLines()
	for i := 0; i < len(lines); {
		j := i
		sc := sourceCells{source: lines[i].source}
		var parts []string
		for ; j < len(lines) && lines[j].source == lines[i].source; j++ {
			sc.rows += lines[j].rows
			parts = append(parts, lines[j].shape.ID+": "+lines[j].destText())
		}
		sc.text = strings.Join(parts, "; ")
		out = append(out, sc)
		i = j
	}
	return out
}
