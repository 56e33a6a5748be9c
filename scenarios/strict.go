package scenarios

import (
	"reflect"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"gopkg.in/yaml.v3"
)

// FieldError is a scenario-file error naming the file, line and field
// (the module's one strict-decoding error, see internal/yamlcheck).
type FieldError = yamlcheck.FieldError

// checkKnown reports the first mapping key in n that the yaml-tagged type t
// does not declare, as a FieldError with the closest valid name.
func checkKnown(file string, n *yaml.Node, t reflect.Type, path string) error {
	return yamlcheck.CheckKnown(file, n, t, path)
}

func yamlFields(t reflect.Type) map[string]reflect.Type { return yamlcheck.Fields(t) }

func joinPath(path, key string) string { return yamlcheck.JoinPath(path, key) }
