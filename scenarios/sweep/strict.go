package sweep

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"gopkg.in/yaml.v3"
)

// FieldError is a user-input error that names the file, line and field of
// the sweep section, and usually suggests a fix.
type FieldError struct {
	File  string
	Line  int
	Field string // dotted path inside the sweep section, e.g. slo.threshold
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
		b.WriteString("sweep.")
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// checkKnownFields reports the first mapping key in n that the yaml-tagged
// type t does not declare, with the closest valid name. Types with their own
// UnmarshalYAML check themselves.
func checkKnownFields(n *yaml.Node, t reflect.Type, path string) error {
	return yamlcheck.KnownFields(n, t, path, yamlcheck.Options{
		Unknown: func(k *yaml.Node, field string, names []string) error {
			return &FieldError{Line: k.Line, Field: field, Msg: unknownMsg("field", k.Value, names)}
		},
	})
}

func unknownMsg(what, got string, valid []string) string {
	msg := fmt.Sprintf("unknown %s %q", what, got)
	if s := closest(got, valid); s != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg + fmt.Sprintf(" (valid: %s)", strings.Join(valid, ", "))
}

func joinPath(path, key string) string { return yamlcheck.JoinPath(path, key) }

// closest returns the candidate nearest to s within edit distance 3
// (case-insensitive), or "".
func closest(s string, candidates []string) string { return yamlcheck.Closest(s, candidates, 3) }
