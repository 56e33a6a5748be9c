package topology

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

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
	writeRowsTable(&b, int64(len(r.Pairs)), func(fn func(PathPair) bool) {
		for _, p := range r.Pairs {
			if !fn(p) {
				return
			}
		}
	})
	writePlacementsTable(&b, placements)
	writeStatusTable(&b, r.Status)
	writeFindingsTable(&b, r.Findings)
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
	writeRowsMarkdown(&b, int64(len(r.Pairs)), func(fn func(PathPair) bool) {
		for _, p := range r.Pairs {
			if !fn(p) {
				return
			}
		}
	})
	writePlacementsMarkdown(&b, placements)
	writeStatusMarkdown(&b, r.Status)
	writeFindingsMarkdown(&b, r.Findings)
	_, err := w.Write(b.Bytes())
	return err
}

func writeRowsMarkdown(b io.Writer, rows int64, each func(func(PathPair) bool)) {
	fmt.Fprintf(b, "## Request paths (%d)\n\n", rows)
	io.WriteString(b, "| Source | Destination | Port | Category | Bypass | Hops |\n|---|---|---:|---|---|---|\n")
	each(func(p PathPair) bool {
		bypass := ""
		if p.Path.Bypass {
			bypass = "**bypass**"
		}
		fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s |\n", mdCell(p.Source.ID()), mdCell(p.Destination.ID()), p.Port, mdCell(string(p.Path.Category)), bypass, mdCell(p.Path.String()+deniedSuffix(p.Path)))
		return true
	})
}

func writePlacementsMarkdown(b io.Writer, placements []Placement) {
	if len(placements) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## Policy enforcement points (%d)\n\n", len(placements))
	io.WriteString(b, "| Kind | Policy | Enforced by | Note |\n|---|---|---|---|\n")
	for _, pl := range placements {
		by := mdCell(strings.Join(pl.By, ", "))
		if by == "" {
			by = "**nowhere**"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", mdCell(pl.Kind), mdCell(pl.Policy), by, mdCell(pl.Note))
	}
}

func writeStatusMarkdown(b io.Writer, status []ObjectStatus) {
	if len(status) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## Gateway and route status (%d)\n\n", len(status))
	io.WriteString(b, "| Kind | Object | Parent | Conditions |\n|---|---|---|---|\n")
	for _, st := range status {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", mdCell(st.Kind), mdCell(st.Object), mdCell(st.Parent), mdCell(st.Summary()))
	}
}

func writeFindingsMarkdown(b io.Writer, fs []Finding) {
	fmt.Fprintf(b, "\n## Findings (%d)\n\n", len(fs))
	if len(fs) == 0 {
		return
	}
	io.WriteString(b, "| Severity | Code | Policy | Source | Destination | Message | Proof | Fix |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range fs {
		fmt.Fprintf(b, "| %s | `%s` | %s | %s | %s | %s | %s | %s |\n", mdCell(f.Severity), f.Code, mdCell(f.Policy), mdCell(f.Source), mdCell(f.Destination),
			mdCell(f.Message), mdCell(f.Proof), mdCell(f.Fix))
	}
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
