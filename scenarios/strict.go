package scenarios

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// FieldError is a scenario-file error naming the file, line and field.
type FieldError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	s += ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Msg
}

var (
	yamlNodeT    = reflect.TypeOf(yaml.Node{})
	unmarshalerT = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// checkKnown walks n against the yaml-tagged type t and reports the first
// key t does not declare, with the closest valid name.
func checkKnown(file string, n *yaml.Node, t reflect.Type, path string) error {
	if n == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return checkKnown(file, n.Content[0], t, path)
	case yaml.AliasNode:
		return checkKnown(file, n.Alias, t, path)
	}
	if t == yamlNodeT || reflect.PointerTo(t).Implements(unmarshalerT) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return &FieldError{File: file, Line: n.Line, Field: path, Msg: "want a mapping"}
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for name := range fields {
					names = append(names, name)
				}
				sort.Strings(names)
				msg := fmt.Sprintf("unknown field %q", k.Value)
				if c := closest(k.Value, names); c != "" {
					msg += fmt.Sprintf("; did you mean %q?", c)
				} else {
					msg += "; valid fields: " + strings.Join(names, ", ")
				}
				return &FieldError{File: file, Line: k.Line, Field: joinPath(path, k.Value), Msg: msg}
			}
			if err := checkKnown(file, n.Content[i+1], ft, joinPath(path, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil // yaml.v3's decode reports the type error with a line
		}
		for i, c := range n.Content {
			if err := checkKnown(file, c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkKnown(file, n.Content[i+1], t.Elem(), joinPath(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	}
	return nil
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := strings.Split(f.Tag.Get("yaml"), ",")
		name := tag[0]
		if name == "-" {
			continue
		}
		if len(tag) > 1 && tag[1] == "inline" {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// closest returns the candidate nearest to s by edit distance, if it is
// close enough to be a plausible typo.
func closest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := levenshtein(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(s)/3) {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
