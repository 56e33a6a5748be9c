package yamlcheck

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Options says how KnownFields reports what it finds.
type Options struct {
	// Unknown returns the error for a mapping key that the struct at path
	// does not declare; path includes the key, valid is sorted.
	Unknown func(key *yaml.Node, path string, valid []string) error
	// NotMapping, if set, returns the error for a non-mapping node where a
	// struct is expected; when nil such nodes are left to Decode, which
	// reports the type mismatch with its line.
	NotMapping func(n *yaml.Node, path string) error
}

var (
	nodeType        = reflect.TypeOf(yaml.Node{})
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// KnownFields walks n against the yaml-tagged type t and returns the error
// Options builds for the first problem, or nil. Fields of type yaml.Node and
// types with their own UnmarshalYAML are not descended into: they check
// themselves. Inline structs contribute their fields to the parent.
func KnownFields(n *yaml.Node, t reflect.Type, path string, o Options) error {
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
		return KnownFields(n.Content[0], t, path, o)
	case yaml.AliasNode:
		return KnownFields(n.Alias, t, path, o)
	}
	if t == nodeType || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if o.NotMapping != nil {
				return o.NotMapping(n, path)
			}
			return nil
		}
		fields := Fields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for name := range fields {
					names = append(names, name)
				}
				sort.Strings(names)
				return o.Unknown(k, JoinPath(path, k.Value), names)
			}
			if err := KnownFields(v, ft, JoinPath(path, k.Value), o); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, item := range n.Content {
			if err := KnownFields(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), o); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := KnownFields(n.Content[i+1], t.Elem(), JoinPath(path, n.Content[i].Value), o); err != nil {
				return err
			}
		}
	}
	return nil
}

// Fields maps each yaml key of struct t to its field type, following inline
// structs; a field without a yaml name uses its lower-cased Go name, as
// yaml.v3 does.
func Fields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range Fields(f.Type) {
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

// JoinPath appends key to a dotted field path.
func JoinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Closest returns the candidate nearest to s by case-insensitive edit
// distance, if that distance is at most maxDist; else "". Ties go to the
// earlier candidate.
func Closest(s string, candidates []string, maxDist int) string {
	best, bestD := "", maxDist+1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if d := EditDistance(ls, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// maxEditLen bounds the work on hostile input: longer strings are only
// compared for equality.
const maxEditLen = 64

// EditDistance is the Levenshtein distance between a and b in runes.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > maxEditLen || len(rb) > maxEditLen {
		if a == b {
			return 0
		}
		return maxEditLen
	}
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
