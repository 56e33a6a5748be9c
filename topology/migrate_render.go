package topology

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ManifestsYAML returns the generated manifests as one multi-document
// YAML stream (what `kubectl apply -f` takes), each preceded by a comment
// naming the object it serves and the file the plan applies it from.
func (m *Migration) ManifestsYAML() string {
	var b strings.Builder
	for i, g := range m.Manifests {
		if i > 0 {
			b.WriteString("---\n")
		}
		fmt.Fprintf(&b, "# %s (%s): for %s\n", g.ID(), g.File, g.For)
		b.WriteString(g.YAML)
	}
	return b.String()
}

func (m *Migration) summary() string {
	var parts []string
	for _, a := range MigrateActions {
		if n := m.Count(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	return strings.Join(parts, ", ")
}

func (m *Migration) title() string {
	from := Sidecar
	if m.To == Sidecar {
		from = Ambient
	}
	if len(m.Namespaces) == 0 {
		return fmt.Sprintf("MIGRATION to %s: no namespace in %s mode", m.To, from)
	}
	return fmt.Sprintf("MIGRATION %s -> %s of namespaces %s", from, m.To, strings.Join(m.Namespaces, ", "))
}

// WriteTable writes the plan as text: the items by action, the commands in
// order, and the generated manifests.
func (m *Migration) WriteTable(out io.Writer) error {
	w := bufio.NewWriter(out)
	fmt.Fprintf(w, "%s\n%s\n", m.title(), m.summary())
	last := ""
	for _, it := range m.Items {
		if it.Action != last {
			fmt.Fprintf(w, "\n%s (%d)\n", strings.ToUpper(it.Action), m.Count(it.Action))
			last = it.Action
		}
		fmt.Fprintf(w, "- %s\n    why: %s\n", it.Object, it.Why)
		if it.Do != "" {
			fmt.Fprintf(w, "    do:  %s\n", it.Do)
		}
		if len(it.Generated) > 0 {
			fmt.Fprintf(w, "    generated: %s\n", strings.Join(it.Generated, ", "))
		}
	}
	if len(m.Steps) > 0 {
		fmt.Fprintf(w, "\nCOMMANDS (in this order)\n")
		for i, c := range m.Commands() {
			fmt.Fprintf(w, "%3d. %s\n", i+1, c)
		}
	}
	if len(m.Rollback) > 0 {
		fmt.Fprintf(w, "\nROLLBACK (in this order, from any step above)\n")
		for i, c := range m.RollbackCommands() {
			fmt.Fprintf(w, "%3d. %s\n", i+1, c)
		}
	}
	if len(m.Manifests) > 0 {
		fmt.Fprintf(w, "\nGENERATED MANIFESTS (%d)\n", len(m.Manifests))
		w.WriteString(m.ManifestsYAML())
	}
	return w.Flush()
}

// WriteMarkdown writes the plan for a review document: a table of items
// (every cell escaped), the commands and the manifests in fenced blocks.
func (m *Migration) WriteMarkdown(out io.Writer) error {
	w := bufio.NewWriter(out)
	fmt.Fprintf(w, "## %s\n\n%s\n\n", mdCell(m.title()), mdCell(m.summary()))
	if len(m.Items) > 0 {
		w.WriteString("| Action | Object | Why | Do | Generated |\n|---|---|---|---|---|\n")
		for _, it := range m.Items {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", mdCell(it.Action), mdCell(it.Object), mdCell(it.Why), mdCell(it.Do), mdCell(strings.Join(it.Generated, ", ")))
		}
	}
	if len(m.Steps) > 0 {
		w.WriteString("\n### Commands (in this order)\n\n```sh\n")
		for _, c := range m.Commands() {
			w.WriteString(fenceSafe(c) + "\n")
		}
		w.WriteString("```\n")
	}
	if len(m.Rollback) > 0 {
		w.WriteString("\n### Rollback (in this order, from any step above)\n\n```sh\n")
		for _, c := range m.RollbackCommands() {
			w.WriteString(fenceSafe(c) + "\n")
		}
		w.WriteString("```\n")
	}
	if len(m.Manifests) > 0 {
		fmt.Fprintf(w, "\n### Generated manifests (%d)\n\n```yaml\n%s```\n", len(m.Manifests), fenceSafe(m.ManifestsYAML()))
	}
	return w.Flush()
}

// fenceSafe keeps text inside a fenced code block from closing it.
func fenceSafe(s string) string { return strings.ReplaceAll(s, "```", "` ` `") }
