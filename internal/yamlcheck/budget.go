package yamlcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// Input budgets (docs/limits.md). Every parser of user files reads through
// ReadFile or a Budget and parses through Document/Documents, so a hostile
// or mistaken input costs bounded memory and time and fails with an error
// that names the file (and line) and the limit.
const (
	// MaxFileBytes bounds one input file: a manifest export of a large
	// cluster fits, /dev/zero stops after reading this much.
	MaxFileBytes = 256 << 20
	// MaxConfigBytes bounds a hand-written file: scenario, study, compact
	// spec, profile, config.
	MaxConfigBytes = 16 << 20
	// MaxTotalBytes bounds everything one command reads (a directory of
	// manifests, the shards of a sweep).
	MaxTotalBytes = 1 << 30
	// MaxAliasNodes bounds the nodes YAML aliases may add to one document
	// when expanded. Plain documents are bounded by their size; aliases are
	// what lets a few kilobytes stand for billions of nodes ("billion
	// laughs"), which every walker that follows them would build.
	MaxAliasNodes = 100_000
)

// LimitError is an input over one of the budgets.
type LimitError struct {
	File  string
	Limit int64
	What  string // "file", "input"
}

func (e *LimitError) Error() string {
	if e.What == "input" {
		return fmt.Sprintf("%s: the files read exceed the %s total input limit (docs/limits.md); read fewer or smaller files", e.File, byteSize(e.Limit))
	}
	return fmt.Sprintf("%s: larger than the %s input limit for one file (docs/limits.md); split it or give a regular file", e.File, byteSize(e.Limit))
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFile reads the file at path, refusing to read more than limit bytes
// (limit <= 0 means MaxFileBytes). It reads devices and pipes too
// (/dev/stdin), never past the limit.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(path, f, limit)
}

// ReadAll reads r as ReadFile reads a file named name.
func ReadAll(name string, r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = MaxFileBytes
	}
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
			if st.Size() > limit {
				return nil, &LimitError{File: name, Limit: limit, What: "file"}
			}
			var buf bytes.Buffer
			buf.Grow(int(st.Size()) + bytes.MinRead)
			if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
				return nil, fmt.Errorf("reading %s: %w", name, err)
			}
			if int64(buf.Len()) > limit {
				return nil, &LimitError{File: name, Limit: limit, What: "file"}
			}
			return buf.Bytes(), nil
		}
	}
	// A stream of unknown length (a pipe, a device): read it in chunks, so
	// one that never ends costs the limit, not the doubling of a growing
	// buffer, before it is refused.
	const chunk = 1 << 20
	var chunks [][]byte
	var total int64
	for {
		c := make([]byte, min(chunk, limit+1-total))
		n, err := io.ReadFull(r, c)
		chunks = append(chunks, c[:n])
		total += int64(n)
		if total > limit {
			return nil, &LimitError{File: name, Limit: limit, What: "file"}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		if total == limit {
			// Exactly at the limit: one more byte decides.
			var one [1]byte
			if m, _ := io.ReadFull(r, one[:]); m > 0 {
				return nil, &LimitError{File: name, Limit: limit, What: "file"}
			}
			break
		}
	}
	return bytes.Join(chunks, nil), nil
}

// Budget is the total input allowance of one command: each ReadFile
// counts against it as well as against the per-file limit. The zero
// Budget is unusable; use NewBudget. A Budget is not safe for concurrent
// use.
type Budget struct {
	left    int64
	perFile int64
}

// NewBudget returns a budget of total bytes (<= 0: MaxTotalBytes), each
// file at most perFile bytes (<= 0: MaxFileBytes).
func NewBudget(total, perFile int64) *Budget {
	if total <= 0 {
		total = MaxTotalBytes
	}
	if perFile <= 0 {
		perFile = MaxFileBytes
	}
	return &Budget{left: total, perFile: perFile}
}

// ReadFile reads path within the per-file limit and what is left of the
// total.
func (b *Budget) ReadFile(path string) ([]byte, error) {
	limit := min(b.perFile, b.left)
	data, err := ReadFile(path, max(limit, 1))
	var le *LimitError
	if errors.As(err, &le) && limit < b.perFile {
		le.What, le.Limit = "input", b.left
	}
	if err != nil {
		return nil, err
	}
	b.left -= int64(len(data))
	return data, nil
}

// Document parses the first YAML document of data into a node and checks
// it against the alias budget (CheckAliases). An empty input gives a
// document node without content. Syntax errors are yaml.v3's ("yaml: line
// N: …"), for the caller to word with its file name.
func Document(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := CheckAliases(file, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// Documents calls fn with every YAML document of data, each checked
// against the alias budget, stopping at the first error fn or the parser
// returns.
func Documents(file string, data []byte, fn func(doc *yaml.Node) error) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := CheckAliases(file, &doc); err != nil {
			return err
		}
		if err := fn(&doc); err != nil {
			return err
		}
	}
}

// CheckAliases reports an alias that refers to a node containing it (a
// cycle, which would send every walker that follows aliases into endless
// recursion), or the alias whose expansion makes the aliases of n's
// document add more than MaxAliasNodes nodes, as a FieldError at the
// alias's line. It costs O(nodes of n), whatever the expansion.
func CheckAliases(file string, n *yaml.Node) error {
	a := aliasCounter{file: file, size: map[*yaml.Node]int{}, open: map[*yaml.Node]bool{}}
	return a.walk(n)
}

type aliasCounter struct {
	file  string
	added int                // nodes the aliases seen so far expand to
	size  map[*yaml.Node]int // expanded size of nodes reached through aliases
	open  map[*yaml.Node]bool
}

// walk visits the document as written (aliases not followed) and adds the
// expanded size of each alias's target.
func (a *aliasCounter) walk(n *yaml.Node) error {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		s, err := a.expanded(n.Alias, n)
		if err != nil {
			return err
		}
		a.added += s
		if a.added > MaxAliasNodes {
			return a.tooMany(n)
		}
		return nil
	}
	a.open[n] = true
	defer delete(a.open, n)
	for _, c := range n.Content {
		if err := a.walk(c); err != nil {
			return err
		}
	}
	return nil
}

// expanded is the node count of n with every alias in it expanded,
// saturating above MaxAliasNodes; from is the alias being followed.
func (a *aliasCounter) expanded(n, from *yaml.Node) (int, error) {
	if n == nil {
		return 0, nil
	}
	if a.open[n] {
		return 0, &FieldError{File: a.file, Line: from.Line, Msg: fmt.Sprintf("alias *%s is an alias cycle: it refers to a node that contains it", from.Value)}
	}
	if s, ok := a.size[n]; ok {
		return s, nil
	}
	s := 1
	if n.Kind == yaml.AliasNode {
		t, err := a.expanded(n.Alias, n)
		if err != nil {
			return 0, err
		}
		s = t
	} else {
		a.open[n] = true
		for _, c := range n.Content {
			t, err := a.expanded(c, from)
			if err != nil {
				delete(a.open, n)
				return 0, err
			}
			s += t
			if s > MaxAliasNodes {
				s = MaxAliasNodes + 1
				break
			}
		}
		delete(a.open, n)
	}
	a.size[n] = s
	return s, nil
}

func (a *aliasCounter) tooMany(n *yaml.Node) error {
	return &FieldError{File: a.file, Line: n.Line, Msg: fmt.Sprintf("YAML aliases expand this document by more than %d nodes (at alias *%s); write the repeated values out or nest fewer aliases (docs/limits.md)", MaxAliasNodes, n.Value)}
}
