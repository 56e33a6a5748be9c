package sweep

import (
	"reflect"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"gopkg.in/yaml.v3"
)

// FieldError is a user-input error that names the file, line and field of
// the sweep section (the module's one strict-decoding error, see
// internal/yamlcheck). Inside the package Field is relative to the sweep
// section; withFile makes it the document's path (sweep.…).
type FieldError = yamlcheck.FieldError

// checkKnownFields reports the first mapping key in n that the yaml-tagged
// type t does not declare, with the closest valid name. Types with their own
// UnmarshalYAML check themselves.
func checkKnownFields(n *yaml.Node, t reflect.Type, path string) error {
	return yamlcheck.KnownFields(n, t, path, yamlcheck.Options{
		Unknown: func(k *yaml.Node, field string, names []string) error {
			return &FieldError{Line: k.Line, Field: field, Msg: yamlcheck.Unknown("field", k.Value, names)}
		},
	})
}

func joinPath(path, key string) string { return yamlcheck.JoinPath(path, key) }
