// Package archtest holds no code: its test checks, with `go list`, that the
// module's imports follow the layering of the architecture (docs/architecture.md):
//
//	cmd/ambientsim ──► scenarios ──► models ──► sim   (sim imports nothing of ours)
//	                      │            │
//	                      │            └──► topology   (topology imports no sim)
//	                      ├──► scenarios/sweep         (the study engine: no scenarios)
//	                      └──► scenarios/results       (the output contract: a leaf)
//	cmd/ambientsim ──► plots                           (reads results only)
//	cmd/ambientsim ──► validation ──► models, topology, scenarios
//
// and that no package imports an ancestor directory's package that imports
// it back. Run it with `go test ./internal/archtest/`; a violation names
// the importing package, the import and the rule.
package archtest
