package scenarios

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
)

// The library's scenarios and the manifests they reference (relative to
// the scenario, under library/manifests/), so a built-in scenario runs by
// name from any working directory.
//
//go:embed library/*.yaml library/manifests
var libraryFS embed.FS

// LibraryEntry is a built-in scenario.
type LibraryEntry struct {
	Name        string
	Description string
	Study       bool // it has a sweep: section (run it with ambientsim sweep NAME)
}

// Library lists the built-in scenarios, sorted by name.
func Library() []LibraryEntry { return slices.Clone(library()) }

// library parses the embedded scenarios once per process: every command
// line lists them (completion, "did you mean", the sweep command's help),
// and parsing all of them costs tens of milliseconds.
var library = sync.OnceValue(func() []LibraryEntry {
	entries, _ := fs.ReadDir(libraryFS, "library")
	var out []LibraryEntry
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue // library/manifests: referenced by scenarios, not scenarios
		}
		name := strings.TrimSuffix(e.Name(), ".yaml")
		le := LibraryEntry{Name: name}
		if data, err := libraryFS.ReadFile("library/" + e.Name()); err == nil {
			if s, err := Parse("library/"+e.Name(), data); err == nil {
				le.Description = s.Description
				le.Study = s.SweepSpec() != nil
			}
		}
		out = append(out, le)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
})

// libraryFile returns a built-in scenario's bytes by name ("modes-compare"
// or "modes-compare.yaml" or "scenarios/library/modes-compare.yaml").
func libraryFile(name string) ([]byte, error) {
	base := strings.TrimSuffix(path.Base(strings.ReplaceAll(name, `\`, "/")), ".yaml")
	return libraryFS.ReadFile("library/" + base + ".yaml")
}

// libraryName is the file name a built-in scenario is parsed under
// ("library/modes-compare.yaml").
func libraryName(name string) string {
	return "library/" + strings.TrimSuffix(path.Base(strings.ReplaceAll(name, `\`, "/")), ".yaml") + ".yaml"
}

// LibraryFile returns a built-in scenario's YAML by name.
func LibraryFile(name string) ([]byte, error) { return libraryFile(name) }

// libraryManifests reads the manifests a built-in scenario references
// (files or directories relative to library/) from the embedded library:
// the YAML and JSON files in path order, joined into one multi-document
// stream. It returns the stream and the files it read.
func libraryManifests(refs []string) ([]byte, []string, error) {
	var buf bytes.Buffer
	var files []string
	for _, ref := range refs {
		p := path.Clean(path.Join("library", strings.ReplaceAll(ref, `\`, "/")))
		if !strings.HasPrefix(p, "library/") || !fs.ValidPath(p) {
			return nil, nil, fmt.Errorf("built-in scenario manifests %q: not inside the library", ref)
		}
		err := fs.WalkDir(libraryFS, p, func(f string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(path.Ext(f)) {
			case ".yaml", ".yml", ".json":
			default:
				return nil
			}
			if d.IsDir() {
				return nil
			}
			data, err := libraryFS.ReadFile(f)
			if err != nil {
				return err
			}
			files = append(files, f)
			buf.WriteString("---\n")
			buf.Write(data)
			buf.WriteString("\n")
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("built-in scenario manifests %q: %w", ref, err)
		}
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("built-in scenario manifests %v: no *.yaml, *.yml or *.json files", refs)
	}
	return buf.Bytes(), files, nil
}
