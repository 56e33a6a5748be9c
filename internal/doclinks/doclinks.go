package doclinks

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// Problem is one broken link.
type Problem struct {
	File   string // slash-separated path relative to the checked root
	Line   int    // 1-based
	Target string // the link as written
	Reason string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Target, p.Reason)
}

// doc is one Markdown file: its links and its heading anchors.
type doc struct {
	links   []link
	anchors map[string]bool
}

type link struct {
	line   int
	target string
}

var (
	// inlineLink matches [text](target) and ![alt](target); the target ends at
	// the first space (a title may follow) or the closing parenthesis.
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	// refDef matches a reference definition: [label]: target
	refDef     = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$`)
	atxHeading = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$`)
	codeSpan   = regexp.MustCompile("`+[^`]*`+")
	scheme     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// Check walks root for Markdown files (skipping testdata and hidden
// directories) and returns every relative link that does not resolve,
// sorted by file and line.
func Check(root string) ([]Problem, error) {
	docs := map[string]*doc{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".md") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		docs[filepath.ToSlash(rel)] = parse(data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("doclinks: %w", err)
	}
	var problems []Problem
	for file, d := range docs {
		for _, l := range d.links {
			if reason := resolve(root, file, l.target, docs); reason != "" {
				problems = append(problems, Problem{File: file, Line: l.line, Target: l.target, Reason: reason})
			}
		}
	}
	sort.Slice(problems, func(i, j int) bool {
		if problems[i].File != problems[j].File {
			return problems[i].File < problems[j].File
		}
		return problems[i].Line < problems[j].Line
	})
	return problems, nil
}

// resolve says why target, linked from file, does not resolve ("" if it does).
func resolve(root, file, target string, docs map[string]*doc) string {
	if scheme.MatchString(target) || strings.HasPrefix(target, "//") {
		return "" // absolute URL: not ours to check
	}
	pathPart, frag, _ := strings.Cut(target, "#")
	dest := file
	if pathPart != "" {
		if strings.HasPrefix(pathPart, "/") {
			return "absolute path; use a path relative to this file"
		}
		dest = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(file), pathPart)))
		if dest == ".." || strings.HasPrefix(dest, "../") {
			return "points outside the repository"
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(dest))); err != nil {
			return fmt.Sprintf("no such file or directory %s", dest)
		}
	}
	if frag == "" {
		return ""
	}
	d, ok := docs[dest]
	if !ok {
		return fmt.Sprintf("fragment #%s on %s, which is not a checked Markdown file", frag, dest)
	}
	if !d.anchors[frag] {
		return fmt.Sprintf("no heading %q in %s", frag, dest)
	}
	return ""
}

// parse collects the links and heading anchors of one Markdown file,
// ignoring fenced code blocks and inline code spans.
func parse(data []byte) *doc {
	d := &doc{anchors: map[string]bool{}}
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	fence := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" ") == "" {
				fence = ""
			}
			continue
		}
		if f := fenceOpen(trimmed); f != "" && len(line)-len(trimmed) < 4 {
			fence = f
			continue
		}
		if m := atxHeading.FindStringSubmatch(line); m != nil {
			slug := Slug(m[2])
			if k := seen[slug]; k > 0 {
				d.anchors[fmt.Sprintf("%s-%d", slug, k)] = true
			} else {
				d.anchors[slug] = true
			}
			seen[slug]++
		}
		text := codeSpan.ReplaceAllString(line, "")
		if m := refDef.FindStringSubmatch(text); m != nil {
			d.links = append(d.links, link{n, m[1]})
			continue
		}
		for _, m := range inlineLink.FindAllStringSubmatch(text, -1) {
			d.links = append(d.links, link{n, m[1]})
		}
	}
	return d
}

// fenceOpen returns the fence marker (``` or ~~~, possibly longer) that
// opens a code block on this line, or "".
func fenceOpen(s string) string {
	for _, c := range []string{"`", "~"} {
		if strings.HasPrefix(s, c+c+c) {
			n := len(s) - len(strings.TrimLeft(s, c))
			return strings.Repeat(c, n)
		}
	}
	return ""
}

var mdLink = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)

// Slug is the anchor GitHub gives a heading: the text without Markdown
// link syntax, lower-cased, with every character that is not a letter,
// digit, space, hyphen or underscore removed and each space turned into a
// hyphen. "Results: summary.json `failures`" becomes
// "results-summaryjson-failures".
func Slug(heading string) string {
	heading = mdLink.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
