package yamlcheck

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSetMapValue(t *testing.T) {
	tests := []struct {
		name, in, key, val, want string
	}{
		{"replace in place", "a: 1\nb: 2\nc: 3\n", "b", "9", "a: 1\nb: 9\nc: 3\n"},
		{"append", "a: 1\n", "z", "x", "a: 1\nz: x\n"},
		{"empty mapping", "{}\n", "k", "v", "k: v\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.in), &doc); err != nil {
				t.Fatal(err)
			}
			m := doc.Content[0]
			m.Style = 0
			SetMapValue(m, tt.key, &yaml.Node{Kind: yaml.ScalarNode, Value: tt.val})
			out, err := yaml.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(out); strings.TrimSpace(got) != strings.TrimSpace(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
