// Package doclinks checks the project's Markdown documentation: every
// relative link in README.md and docs/ (and any other .md file outside
// testdata) must name a file or directory that exists and, when it has a
// #fragment, a heading of that Markdown file.
//
// Many engineers edit the docs at once and sections move between pages; a
// moved heading silently breaks every link to it. The repository test runs
// Check on the tree, so `go test ./internal/doclinks` fails with the file,
// line and link of every broken one:
//
//	problems, err := doclinks.Check(repoRoot)
//	for _, p := range problems {
//		fmt.Println(p) // docs/run.md:12: profiles.md#cost: no heading "cost" in docs/profiles.md
//	}
//
// Anchors are computed as GitHub renders them (see Slug). Links inside
// fenced code blocks and inline code spans are not links and are ignored;
// absolute URLs (with a scheme) are not checked.
package doclinks
