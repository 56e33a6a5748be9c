package scenarios

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed library/*.yaml
var libraryFS embed.FS

// LibraryEntry is a built-in scenario.
type LibraryEntry struct {
	Name        string
	Description string
}

// Library lists the built-in scenarios, sorted by name.
func Library() []LibraryEntry {
	entries, _ := fs.ReadDir(libraryFS, "library")
	var out []LibraryEntry
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".yaml")
		le := LibraryEntry{Name: name}
		if data, err := libraryFS.ReadFile("library/" + e.Name()); err == nil {
			if s, err := Parse("library/"+e.Name(), data); err == nil {
				le.Description = s.Description
			}
		}
		out = append(out, le)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// libraryFile returns a built-in scenario's bytes by name ("modes-compare"
// or "modes-compare.yaml" or "scenarios/library/modes-compare.yaml").
func libraryFile(name string) ([]byte, error) {
	base := strings.TrimSuffix(path.Base(strings.ReplaceAll(name, `\`, "/")), ".yaml")
	return libraryFS.ReadFile("library/" + base + ".yaml")
}

// LibraryFile returns a built-in scenario's YAML by name.
func LibraryFile(name string) ([]byte, error) { return libraryFile(name) }
