// Package yamlcheck does for a yaml.Node what yaml.v3's
// Decoder.KnownFields does for a stream: it walks the node against the
// yaml-tagged Go type it will be decoded into and reports the first mapping
// key the type does not declare, with its line and dotted field path, so that
// every user-input parser (topology specs, manifests, scenarios, sweep
// sections) rejects misspelt fields the same way and can suggest the closest
// valid name.
//
// Every parser reports its errors as the one FieldError of this package,
// worded "file:line: field.path: message (did you mean "x"?)" (Unknown,
// DidYouMean and Suggest word and find the suggestion; CheckKnown is
// KnownFields reporting FieldErrors). KnownFields itself only finds the
// problem, for callers with their own field paths:
//
//	err := yamlcheck.KnownFields(node, reflect.TypeOf(Spec{}), "", yamlcheck.Options{
//		Unknown: func(key *yaml.Node, path string, valid []string) error {
//			return fmt.Errorf("%d: %s: unknown field (did you mean %q?)",
//				key.Line, path, yamlcheck.Closest(key.Value, valid, 3))
//		},
//	})
package yamlcheck
