package topology

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"gopkg.in/yaml.v3"
)

// FieldError is a user-input error that names the file, line and field.
type FieldError struct {
	File  string
	Line  int
	Field string // dotted path, e.g. namespaces[0].services[2].replicas
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// checkKnownFields reports the first mapping key in n that the yaml-tagged
// type t does not declare, as a FieldError with the closest valid name.
func checkKnownFields(file string, n *yaml.Node, t reflect.Type, path string) error {
	return yamlcheck.KnownFields(n, t, path, yamlcheck.Options{
		Unknown: func(k *yaml.Node, field string, names []string) error {
			msg := fmt.Sprintf("unknown field %q", k.Value)
			if s := closest(k.Value, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += fmt.Sprintf(" (valid: %s)", strings.Join(names, ", "))
			}
			return &FieldError{File: file, Line: k.Line, Field: field, Msg: msg}
		},
	})
}

func joinPath(path, key string) string { return yamlcheck.JoinPath(path, key) }

// closest returns the candidate within edit distance 3 of s
// (case-insensitive), or "".
func closest(s string, candidates []string) string { return yamlcheck.Closest(s, candidates, 3) }
