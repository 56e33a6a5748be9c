// Package yamlcheck does for a yaml.Node what yaml.v3's
// Decoder.KnownFields does for a stream: it walks the node against the
// yaml-tagged Go type it will be decoded into and reports the first mapping
// key the type does not declare, with its line and dotted field path, so that
// every user-input parser (topology specs, manifests, scenarios, sweep
// sections) rejects misspelt fields the same way and can suggest the closest
// valid name.
//
// Each caller keeps its own error type and wording; this package only finds
// the problem and the suggestion:
//
//	err := yamlcheck.KnownFields(node, reflect.TypeOf(Spec{}), "", yamlcheck.Options{
//		Unknown: func(key *yaml.Node, path string, valid []string) error {
//			return fmt.Errorf("%d: %s: unknown field (did you mean %q?)",
//				key.Line, path, yamlcheck.Closest(key.Value, valid, 3))
//		},
//	})
package yamlcheck
