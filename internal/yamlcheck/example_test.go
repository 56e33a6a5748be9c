package yamlcheck_test

import (
	"fmt"
	"reflect"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"gopkg.in/yaml.v3"
)

type service struct {
	Name     string `yaml:"name"`
	Replicas int    `yaml:"replicas"`
}

func ExampleKnownFields() {
	var doc yaml.Node
	_ = yaml.Unmarshal([]byte("services:\n- name: web\n  replcas: 3\n"), &doc)
	type spec struct {
		Services []service `yaml:"services"`
	}
	err := yamlcheck.KnownFields(&doc, reflect.TypeOf(spec{}), "", yamlcheck.Options{
		Unknown: func(k *yaml.Node, path string, valid []string) error {
			return fmt.Errorf("spec.yaml:%d: %s: unknown field (did you mean %q?)",
				k.Line, path, yamlcheck.Closest(k.Value, valid, 3))
		},
	})
	fmt.Println(err)
	// Output: spec.yaml:3: services[0].replcas: unknown field (did you mean "replicas"?)
}
