package topology

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"gopkg.in/yaml.v3"
)

// IsSpec reports whether data looks like a compact spec rather than
// manifests: its first document is a mapping without apiVersion/kind.
func IsSpec(data []byte) bool {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return false
	}
	n := resolve(&doc)
	if n == nil || n.Kind != yaml.MappingNode {
		return false
	}
	return !hasKey(n, "kind") && !hasKey(n, "apiVersion")
}

// Load reads PATH... as the CLI does: a single file that IsSpec is a
// compact spec; anything else is manifests (files or directories).
func Load(paths []string, opts LoadOptions) (*Topology, *LoadReport, error) {
	if len(paths) == 1 {
		if st, err := os.Stat(paths[0]); err == nil && !st.IsDir() {
			data, err := yamlcheck.ReadFile(paths[0], yamlcheck.MaxFileBytes)
			if err != nil {
				return nil, nil, yamlErr(paths[0], err)
			}
			if IsSpec(data) {
				doc, err := yamlcheck.Document(paths[0], data)
				if err != nil {
					return nil, nil, yamlErr(paths[0], err)
				}
				s, err := DecodeSpec(paths[0], doc)
				if err != nil {
					return nil, nil, err
				}
				if s.TrustDomain == "" {
					s.TrustDomain = opts.TrustDomain
				}
				return s.BuildWithReport()
			}
			// Parse what was read: a pipe (/dev/stdin) cannot be read twice.
			return ParseManifests(paths[0], data, opts)
		}
	}
	return LoadManifests(paths, opts)
}

// WriteTable writes the matrix, the policy placements and the findings as
// aligned text.
func (r PathReport) WriteTable(w io.Writer, placements []Placement) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "PATHS (%d)\n", len(r.Pairs))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tDESTINATION\tPORT\tCATEGORY\tBYPASS\tHOPS")
	for _, p := range r.Pairs {
		bypass := "-"
		if p.Path.Bypass {
			bypass = "BYPASS"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s%s\n", p.Source.ID(), p.Destination.ID(), p.Port, p.Path.Category, bypass, p.Path.String(), deniedSuffix(p.Path))
	}
	tw.Flush()
	if len(placements) > 0 {
		fmt.Fprintf(&b, "\nPOLICIES (%d)\n", len(placements))
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
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
	if len(r.Status) > 0 {
		fmt.Fprintf(&b, "\nSTATUS (%d)\n", len(r.Status))
		for _, st := range r.Status {
			b.WriteString(st.Line())
		}
	}
	fmt.Fprintf(&b, "\nFINDINGS (%d)\n", len(r.Findings))
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "[%s] %s", f.Severity, f.Code)
		if f.Policy != "" {
			fmt.Fprintf(&b, " policy=%s", f.Policy)
		}
		if f.Source != "" {
			fmt.Fprintf(&b, " source=%s", f.Source)
		}
		if f.Destination != "" {
			fmt.Fprintf(&b, " destination=%s", f.Destination)
		}
		fmt.Fprintf(&b, "\n  %s\n", f.Message)
		if f.Proof != "" {
			fmt.Fprintf(&b, "  proof: %s\n", f.Proof)
		}
		fmt.Fprintf(&b, "  fix:   %s\n", f.Fix)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// mdCell makes s safe as one Markdown table cell: the pipe that would end
// the cell and the backslash that would escape it are escaped, line breaks
// become spaces, and <, > and & become HTML entities, so names and messages
// taken from the input can never inject raw HTML into a rendered review.
func mdCell(s string) string { return mdCellReplacer.Replace(s) }

var mdCellReplacer = strings.NewReplacer(`\`, `\\`, "|", `\|`, "\r\n", " ", "\n", " ", "\r", " ",
	"<", "&lt;", ">", "&gt;", "&", "&amp;")

// WriteMarkdown writes the report as Markdown tables (for review documents).
func (r PathReport) WriteMarkdown(w io.Writer, placements []Placement) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "## Request paths (%d)\n\n", len(r.Pairs))
	b.WriteString("| Source | Destination | Port | Category | Bypass | Hops |\n|---|---|---:|---|---|---|\n")
	for _, p := range r.Pairs {
		bypass := ""
		if p.Path.Bypass {
			bypass = "**bypass**"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s |\n", mdCell(p.Source.ID()), mdCell(p.Destination.ID()), p.Port, mdCell(string(p.Path.Category)), bypass, mdCell(p.Path.String()+deniedSuffix(p.Path)))
	}
	if len(placements) > 0 {
		fmt.Fprintf(&b, "\n## Policy enforcement points (%d)\n\n", len(placements))
		b.WriteString("| Kind | Policy | Enforced by | Note |\n|---|---|---|---|\n")
		for _, pl := range placements {
			by := mdCell(strings.Join(pl.By, ", "))
			if by == "" {
				by = "**nowhere**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCell(pl.Kind), mdCell(pl.Policy), by, mdCell(pl.Note))
		}
	}
	if len(r.Status) > 0 {
		fmt.Fprintf(&b, "\n## Gateway and route status (%d)\n\n", len(r.Status))
		b.WriteString("| Kind | Object | Parent | Conditions |\n|---|---|---|---|\n")
		for _, st := range r.Status {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCell(st.Kind), mdCell(st.Object), mdCell(st.Parent), mdCell(st.Summary()))
		}
	}
	fmt.Fprintf(&b, "\n## Findings (%d)\n\n", len(r.Findings))
	if len(r.Findings) > 0 {
		b.WriteString("| Severity | Code | Policy | Source | Destination | Message | Proof | Fix |\n|---|---|---|---|---|---|---|---|\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s | %s | %s |\n", mdCell(f.Severity), f.Code, mdCell(f.Policy), mdCell(f.Source), mdCell(f.Destination),
				mdCell(f.Message), mdCell(f.Proof), mdCell(f.Fix))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// deniedSuffix marks a row whose plain request is refused.
func deniedSuffix(p Path) string {
	if p.Denied == "" {
		return ""
	}
	return " [DENIED by " + noneIfEmpty(p.DeniedBy) + ": " + p.Denied + "]"
}

// Summary renders the conditions on one line ("Accepted=True (Accepted);
// ResolvedRefs=False (BackendNotFound: backend(x) not found)"), or the note.
func (st ObjectStatus) Summary() string {
	if len(st.Conditions) == 0 {
		return "no status: " + st.Note
	}
	parts := make([]string, 0, len(st.Conditions))
	for _, c := range st.Conditions {
		v := "False"
		if c.Status {
			v = "True"
		}
		p := c.Type + "=" + v + " (" + c.Reason
		if !c.Status || c.Reason != c.Type && c.Reason != "Accepted" && c.Reason != "Programmed" && c.Reason != "ResolvedRefs" {
			p += ": " + c.Message
		}
		parts = append(parts, p+")")
	}
	return strings.Join(parts, "; ")
}

// Line renders the status as one table line.
func (st ObjectStatus) Line() string {
	parent := ""
	if st.Parent != "" {
		parent = " -> " + st.Parent
	}
	return fmt.Sprintf("%s %s%s: %s\n", st.Kind, st.Object, parent, st.Summary())
}
