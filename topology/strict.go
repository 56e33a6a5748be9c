package topology

import (
	"reflect"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"gopkg.in/yaml.v3"
)

// FieldError is a user-input error that names the file, line and field
// (dotted path, e.g. namespaces[0].services[2].replicas): the module's one
// strict-decoding error, see internal/yamlcheck.
type FieldError = yamlcheck.FieldError

// checkKnownFields reports the first mapping key in n that the yaml-tagged
// type t does not declare, as a FieldError with the closest valid name.
func checkKnownFields(file string, n *yaml.Node, t reflect.Type, path string) error {
	return yamlcheck.KnownFields(n, t, path, yamlcheck.Options{
		Unknown: func(k *yaml.Node, field string, names []string) error {
			return &FieldError{File: file, Line: k.Line, Field: field, Msg: yamlcheck.Unknown("field", k.Value, names)}
		},
	})
}

func joinPath(path, key string) string { return yamlcheck.JoinPath(path, key) }

// closest returns the valid name a misspelt s most plausibly meant, or "".
func closest(s string, candidates []string) string { return yamlcheck.Suggest(s, candidates) }
