package scenarios

import (
	"reflect"
	"strings"

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

// specErr puts "topology.spec." in front of the field paths of errors
// about a scenario's inline spec (in file), which topology reports
// relative to the spec.
func specErr(file string, err error) error {
	var visit func(error)
	visit = func(e error) {
		if fe, ok := e.(*FieldError); ok {
			if fe.File == file && fe.Field != "" && !strings.HasPrefix(fe.Field, "topology.") {
				fe.Field = "topology.spec." + fe.Field
			}
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				visit(x)
			}
		case interface{ Unwrap() error }:
			visit(u.Unwrap())
		}
	}
	if err != nil {
		visit(err)
	}
	return err
}
