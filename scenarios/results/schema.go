package results

import (
	"embed"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
)

// JSON Schema $ids of the result files.
const (
	SummarySchemaID = "https://ambientsim.dev/schema/summary.json"
	SweepSchemaID   = "https://ambientsim.dev/schema/sweep.json"
)

// The package's own source: its doc comments become the schemas'
// descriptions, so the schema says what the Go types say.
//
//go:embed summary.go sweep.go observed.go
var sources embed.FS

// SummarySchema returns the JSON Schema (draft 2020-12) of summary.json,
// generated from Summary.
func SummarySchema() ([]byte, error) { return schemaOf(&Summary{}, SummarySchemaID) }

// SweepSchema returns the JSON Schema (draft 2020-12) of sweep.json,
// generated from Sweep.
func SweepSchema() ([]byte, error) { return schemaOf(&Sweep{}, SweepSchemaID) }

func schemaOf(v any, id string) ([]byte, error) {
	comments, err := loadComments()
	if err != nil {
		return nil, err
	}
	r := &jsonschema.Reflector{
		ExpandedStruct: true,
		LookupComment: func(t reflect.Type, field string) string {
			if t.PkgPath() != reflect.TypeOf(Summary{}).PkgPath() {
				return ""
			}
			return comments[t.Name()+"."+field]
		},
	}
	s := r.Reflect(v)
	s.ID = jsonschema.ID(id)
	allowNull(s)
	for _, d := range s.Definitions {
		allowNull(d)
	}
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("results: schema %s: %w", id, err)
	}
	return js, nil
}

// allowNull lets list and map properties be null: encoding/json writes a
// nil slice or map as null.
func allowNull(s *jsonschema.Schema) {
	if s == nil || s.Properties == nil {
		return
	}
	for p := s.Properties.Oldest(); p != nil; p = p.Next() {
		prop := p.Value
		if prop.Type != "array" && !(prop.Type == "object" && prop.AdditionalProperties != nil && prop.Properties == nil) {
			continue
		}
		inner := *prop
		inner.Description = ""
		p.Value = &jsonschema.Schema{Description: prop.Description, AnyOf: []*jsonschema.Schema{&inner, {Type: "null"}}}
	}
}

var (
	commentsOnce sync.Once
	commentsMap  map[string]string
	commentsErr  error
)

// loadComments maps "Type." and "Type.Field" to their doc comments, read
// from the embedded source.
func loadComments() (map[string]string, error) {
	commentsOnce.Do(func() {
		commentsMap = map[string]string{}
		fset := token.NewFileSet()
		entries, err := sources.ReadDir(".")
		if err != nil {
			commentsErr = err
			return
		}
		for _, e := range entries {
			src, err := sources.ReadFile(e.Name())
			if err != nil {
				commentsErr = err
				return
			}
			f, err := parser.ParseFile(fset, e.Name(), src, parser.ParseComments)
			if err != nil {
				commentsErr = err
				return
			}
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.TYPE {
					continue
				}
				for _, sp := range g.Specs {
					ts := sp.(*ast.TypeSpec)
					doc := ts.Doc
					if doc == nil && len(g.Specs) == 1 {
						doc = g.Doc
					}
					commentsMap[ts.Name.Name+"."] = text(doc, nil)
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					for _, fl := range st.Fields.List {
						for _, n := range fl.Names {
							commentsMap[ts.Name.Name+"."+n.Name] = text(fl.Doc, fl.Comment)
						}
					}
				}
			}
		}
	})
	return commentsMap, commentsErr
}

func text(doc, line *ast.CommentGroup) string {
	var parts []string
	for _, g := range []*ast.CommentGroup{doc, line} {
		if t := strings.TrimSpace(g.Text()); t != "" {
			parts = append(parts, strings.Join(strings.Fields(t), " "))
		}
	}
	return strings.Join(parts, " ")
}
