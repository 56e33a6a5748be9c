package yamlcheck

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// FieldError is a user-input error in a YAML file, worded the same by every
// parser of the module:
//
//	file:line: field.path: message (did you mean "x"?)
//
// Line 0 and an empty Field are left out.
type FieldError struct {
	File  string
	Line  int
	Field string // dotted path from the document root, e.g. topology.spec.nodes.count
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

// Suggest returns the candidate a misspelt s most plausibly meant: the
// nearest by case-insensitive edit distance, if within max(2, len(s)/3)
// edits; else "".
func Suggest(s string, candidates []string) string {
	return Closest(s, candidates, max(2, len(s)/3))
}

// DidYouMean returns ` (did you mean "x"?)` for the suggestion for s, or
// "" when there is none.
func DidYouMean(s string, candidates []string) string {
	if c := Suggest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// Unknown words a name that is not one of valid: `unknown what "got" (did
// you mean "x"?)`, or with the valid names listed when none is close.
func Unknown(what, got string, valid []string) string {
	msg := fmt.Sprintf("unknown %s %q", what, got)
	if s := DidYouMean(got, valid); s != "" {
		return msg + s
	}
	return msg + fmt.Sprintf(" (valid: %s)", strings.Join(valid, ", "))
}

// CheckKnown is KnownFields reporting a FieldError in file: an unknown key
// as Unknown("field", …) at the key's line, and (when fields under path
// must be mappings) a scalar or list where a struct is expected.
func CheckKnown(file string, n *yaml.Node, t reflect.Type, path string) error {
	return KnownFields(n, t, path, Options{
		Unknown: func(k *yaml.Node, field string, names []string) error {
			return &FieldError{File: file, Line: k.Line, Field: field, Msg: Unknown("field", k.Value, names)}
		},
		NotMapping: func(n *yaml.Node, field string) error {
			return &FieldError{File: file, Line: n.Line, Field: field, Msg: "want a mapping"}
		},
	})
}

// WithFile words a yaml.v3 decoding error like a FieldError: every
// "line N: msg" of a type error becomes "file:N: msg" (one per line), any
// other "yaml: line N: msg" becomes "file:N: msg", anything else
// "file: msg". FieldError and LimitError, which name their file, pass
// through.
func WithFile(filename string, err error) error {
	var fe *FieldError
	var le *LimitError
	if errors.As(err, &fe) || errors.As(err, &le) {
		return err
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, e := range te.Errors {
			msgs[i] = filename + ":" + strings.TrimPrefix(e, "line ")
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			return fmt.Errorf("%s:%s: %s", filename, num, tail)
		}
	}
	return fmt.Errorf("%s: %s", filename, msg)
}
