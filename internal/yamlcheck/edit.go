package yamlcheck

import "gopkg.in/yaml.v3"

// SetMapValue sets key to v in the mapping node m, in place when the key is
// there (keeping its position, so a rewritten file diffs as one line) and
// appended otherwise. Generators of YAML that edit documents they read
// (the migration plan, the traffic import) use it.
func SetMapValue(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}
