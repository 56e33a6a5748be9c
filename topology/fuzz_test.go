package topology

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseManifests: any input either loads or fails with an error that
// names the file; it never panics, and a loaded topology answers queries.
func FuzzParseManifests(f *testing.F) {
	for _, dir := range []string{"testdata/payments", "testdata/coverage", "testdata/loader", "testdata/semantics",
		"testdata/upstream/istio", "testdata/upstream/overlays/egress", "testdata/upstream/overlays/scenarios"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {nodeName: n}}]\n"))
	f.Add([]byte("kind: Service\nspec: {ports: [{port: 0}]}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		top, _, err := ParseManifests("fuzz.yaml", data, LoadOptions{})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		top.Paths()
		top.Placements()
		for _, s := range top.Services {
			top.RouteTable(RouteParent{Kind: "Service", Namespace: s.Namespace, Name: s.Name}).Match(RouteRequest{Method: "GET", Path: "/a?b=c"})
		}
		for _, g := range top.Gateways {
			top.RouteTable(RouteParent{Kind: "Gateway", Namespace: g.Namespace, Name: g.Name}).Match(RouteRequest{Method: "GET", Path: "/"})
		}
		// The migration plans either way, renders, and rewrites the input
		// (an error is fine, a panic is not).
		var file string
		for _, to := range []Mode{Ambient, Sidecar} {
			m, err := top.Migrate(to)
			if err != nil {
				t.Fatal(err)
			}
			_ = m.WriteTable(io.Discard)
			_ = m.WriteMarkdown(io.Discard)
			if len(m.Steps) == 0 {
				continue
			}
			if file == "" {
				file = filepath.Join(t.TempDir(), "fuzz.yaml")
				if err := os.WriteFile(file, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, _ = m.Files([]string{file}, LoadOptions{})
		}
	})
}

// FuzzParseSpec: the compact spec parser never panics and its errors name
// the file.
func FuzzParseSpec(f *testing.F) {
	if data, err := os.ReadFile("testdata/spec/example.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(evalSpec))
	f.Add([]byte("namespaces: [{name: a-%d, count: 2, services: [{name: s-%d, count: 2}]}]\ncalls: [{from: a-%d/s-%d, to: a-%d/s-1}]\n"))
	f.Add([]byte("nodes: {list: [{name: x}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return // keep generated topologies small
		}
		top, err := ParseSpec("fuzz.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(top.Pods) > 20000 {
			return
		}
		top.Paths()
	})
}
