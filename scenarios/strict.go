package scenarios

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
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

// checkKnown reports the first mapping key in n that the yaml-tagged type t
// does not declare, as a FieldError with the closest valid name.
func checkKnown(file string, n *yaml.Node, t reflect.Type, path string) error {
	return yamlcheck.KnownFields(n, t, path, yamlcheck.Options{
		Unknown: func(k *yaml.Node, field string, names []string) error {
			msg := fmt.Sprintf("unknown field %q", k.Value)
			if c := closest(k.Value, names); c != "" {
				msg += fmt.Sprintf("; did you mean %q?", c)
			} else {
				msg += "; valid fields: " + strings.Join(names, ", ")
			}
			return &FieldError{File: file, Line: k.Line, Field: field, Msg: msg}
		},
		NotMapping: func(n *yaml.Node, field string) error {
			return &FieldError{File: file, Line: n.Line, Field: field, Msg: "want a mapping"}
		},
	})
}

func yamlFields(t reflect.Type) map[string]reflect.Type { return yamlcheck.Fields(t) }

func joinPath(path, key string) string { return yamlcheck.JoinPath(path, key) }

// closest returns the candidate nearest to s by edit distance, if it is
// close enough to be a plausible typo (at most max(2, len(s)/3) edits).
func closest(s string, candidates []string) string {
	return yamlcheck.Closest(s, candidates, max(2, len(s)/3))
}
