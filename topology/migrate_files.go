package topology

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
)

// MigrationFiles are the files of a migration: the generated manifests
// the plan applies, the objects it deletes or replaces as they were (for
// the rollback), and the cluster's manifests after the plan and after the
// rollback, so that `ambientsim paths` can check both.
type MigrationFiles struct {
	Manifests []byte // ManifestsFile; nil when the plan generates nothing
	Lock      []byte // LockFile; nil when there is no lock
	Rollback  []byte // RollbackFile; nil when nothing is deleted or replaced

	// After is the input manifests with every step applied: deleted
	// objects left out, labels changed, generated objects added (new ones
	// in files of their own, replacements in place), a restarted
	// namespace's exported pods left out (the restart replaces them;
	// the loader derives new ones from their workloads).
	After []ManifestFile
	// Restored is After with every rollback step applied.
	Restored []ManifestFile
}

// ManifestFile is one written manifest file.
type ManifestFile struct {
	Name string // a base name, unique within its set
	Data []byte
}

// Files reads the input manifests the migration was planned from (the
// same paths and options as Load) and renders the migration's files. It
// fails, naming the object, when a step's object is not in the input (a
// topology built from a compact spec has no manifests to rewrite).
func (m *Migration) Files(paths []string, opts LoadOptions) (*MigrationFiles, error) {
	if opts.DefaultNamespace == "" {
		opts.DefaultNamespace = "default"
	}
	in, err := readObjects(paths, opts.DefaultNamespace)
	if err != nil {
		return nil, err
	}
	out := &MigrationFiles{
		Manifests: manifestsYAML(m.ManifestsIn(ManifestsFile)),
		Lock:      manifestsYAML(m.ManifestsIn(LockFile)),
	}
	gen := map[string][]*objDoc{}
	for _, g := range m.Manifests {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(g.YAML), &n); err != nil || len(n.Content) != 1 {
			return nil, fmt.Errorf("migrate: generated %s does not parse: %v", g.ID(), err)
		}
		gen[g.File] = append(gen[g.File], &objDoc{file: "zz-" + g.File, key: objKey{g.Kind, scopeNS(g.Kind, g.Namespace), g.Name}, node: n.Content[0]})
	}
	after := in.clone()
	var removed []*objDoc // deleted or replaced input objects, in step order
	for _, st := range m.Steps {
		rm, err := after.apply(st.Edit, gen)
		if err != nil {
			return nil, fmt.Errorf("migrate: step %q: %w", st.Command, err)
		}
		removed = append(removed, rm...)
	}
	if len(removed) > 0 {
		var b bytes.Buffer
		for i, d := range removed {
			if i > 0 {
				b.WriteString("---\n")
			}
			fmt.Fprintf(&b, "# %s %s, as it was in %s\n", d.key.kind, d.key.id(), d.src)
			b.WriteString(encodeYAML(d.node))
		}
		out.Rollback = b.Bytes()
	}
	restored := after.clone()
	for _, st := range m.Rollback {
		if st.Edit.Op == EditRestore {
			restored.restore(removed)
			continue
		}
		if _, err := restored.apply(st.Edit, gen); err != nil {
			return nil, fmt.Errorf("migrate: rollback step %q: %w", st.Command, err)
		}
	}
	out.After = after.files()
	out.Restored = restored.files()
	return out, nil
}

func manifestsYAML(gs []GeneratedManifest) []byte {
	if len(gs) == 0 {
		return nil
	}
	m := Migration{Manifests: gs}
	return []byte(m.ManifestsYAML())
}

// objKey names an object; ns is "" for cluster-scoped kinds.
type objKey struct{ kind, ns, name string }

func (k objKey) id() string {
	if k.ns == "" {
		return k.name
	}
	return k.ns + "/" + k.name
}

// scopeNS is the namespace part of a key: none for the cluster-scoped
// kinds the loader knows (Namespace, Node, GatewayClass).
func scopeNS(kind, ns string) string {
	switch kind {
	case "Namespace", "Node", "GatewayClass":
		return ""
	}
	return ns
}

// objDoc is one object of a manifest file.
type objDoc struct {
	file    string // output file it belongs to
	src     string // file:line it was read from ("" for generated)
	key     objKey
	node    *yaml.Node
	owned   bool // has metadata.ownerReferences (a controller recreates it)
	deleted bool
}

// objectSet is the cluster's objects in file order.
type objectSet struct {
	docs []*objDoc
}

func (s *objectSet) clone() *objectSet {
	c := &objectSet{}
	for _, d := range s.docs {
		cp := *d
		c.docs = append(c.docs, &cp)
	}
	return c
}

func (s *objectSet) find(k objKey) *objDoc {
	for _, d := range s.docs {
		if !d.deleted && d.key == k {
			return d
		}
	}
	return nil
}

// apply makes one edit; it returns the input objects it deleted or
// replaced (as they were).
func (s *objectSet) apply(e ObjectEdit, gen map[string][]*objDoc) ([]*objDoc, error) {
	switch e.Op {
	case EditApply:
		var removed []*objDoc
		for _, g := range gen[e.File] {
			if d := s.find(g.key); d != nil {
				old := *d
				removed = append(removed, &old)
				d.node, d.owned = g.node, false
				continue
			}
			cp := *g
			s.docs = append(s.docs, &cp)
		}
		return removed, nil
	case EditDelete:
		k := objKey{e.Kind, scopeNS(e.Kind, e.Namespace), e.Name}
		d := s.find(k)
		if d == nil {
			return nil, fmt.Errorf("%s %s is not in the input manifests", k.kind, k.id())
		}
		old := *d
		d.deleted = true
		if d.src == "" {
			return nil, nil // a generated object goes: nothing to restore
		}
		return []*objDoc{&old}, nil
	case EditLabel:
		// Every document of the object (a Namespace is often declared in
		// several files; the loader merges their labels).
		k := objKey{e.Kind, scopeNS(e.Kind, e.Namespace), e.Name}
		found := false
		for i, d := range s.docs {
			if d.deleted || d.key != k {
				continue
			}
			s.docs[i].node = relabel(d.node, e.Set, e.Remove)
			found = true
		}
		if !found {
			return nil, fmt.Errorf("%s %s is not in the input manifests (an object the loader assumed must be written out to be labelled)", k.kind, k.id())
		}
		return nil, nil
	case EditRestart:
		for _, d := range s.docs {
			if d.key.kind == "Pod" && d.key.ns == e.Namespace && d.owned {
				d.deleted = true
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("unknown edit %q", e.Op)
}

// restore puts the removed input objects back as they were.
func (s *objectSet) restore(removed []*objDoc) {
	for _, r := range removed {
		if d := s.find(r.key); d != nil {
			d.node = r.node
			continue
		}
		found := false
		for _, d := range s.docs {
			if d.deleted && d.key == r.key && d.src == r.src {
				d.deleted, d.node = false, r.node
				found = true
				break
			}
		}
		if !found {
			cp := *r
			s.docs = append(s.docs, &cp)
		}
	}
}

// files renders the set, one output file per input file (in input order)
// and one per generated file.
func (s *objectSet) files() []ManifestFile {
	var order []string
	byFile := map[string]*bytes.Buffer{}
	for _, d := range s.docs {
		if d.deleted {
			continue
		}
		b := byFile[d.file]
		if b == nil {
			b = &bytes.Buffer{}
			byFile[d.file] = b
			order = append(order, d.file)
		} else {
			b.WriteString("---\n")
		}
		b.WriteString(encodeYAML(d.node))
	}
	out := make([]ManifestFile, len(order))
	for i, f := range order {
		out[i] = ManifestFile{Name: f, Data: byFile[f].Bytes()}
	}
	return out
}

// relabel returns a copy of object n with metadata.labels changed.
func relabel(n *yaml.Node, set map[string]string, remove []string) *yaml.Node {
	budget := 1 << 20
	c := copyResolved(n, &budget)
	if c == nil {
		c = n
	}
	meta := valueOf(c, "metadata")
	if meta == nil {
		meta = &yaml.Node{Kind: yaml.MappingNode}
		c.Content = append(c.Content, ystr("metadata"), meta)
	}
	labels := valueOf(meta, "labels")
	if labels == nil || labels.Kind != yaml.MappingNode {
		labels = &yaml.Node{Kind: yaml.MappingNode}
		yamlcheck.SetMapValue(meta, "labels", labels)
	}
	var kept []*yaml.Node
	for i := 0; i+1 < len(labels.Content); i += 2 {
		k := labels.Content[i].Value
		if contains(remove, k) {
			continue
		}
		if _, ok := set[k]; ok {
			continue
		}
		kept = append(kept, labels.Content[i], labels.Content[i+1])
	}
	for _, k := range sortedKeys(set) {
		kept = append(kept, ystr(k), ystr(set[k]))
	}
	labels.Content = kept
	labels.Style = 0
	return c
}

// readObjects reads every object of the input manifests (List items one
// by one), keyed as the loader keys them.
func readObjects(paths []string, defaultNS string) (*objectSet, error) {
	files, err := manifestFiles(paths)
	if err != nil {
		return nil, err
	}
	set := &objectSet{}
	budget := yamlcheck.NewBudget(yamlcheck.MaxTotalBytes, yamlcheck.MaxFileBytes)
	names := map[string]bool{}
	for i, f := range files {
		data, err := budget.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading manifests: %w", err)
		}
		if IsSpec(data) {
			return nil, fmt.Errorf("%s: a compact topology spec has no Kubernetes objects to rewrite: give the manifests", f)
		}
		out := fmt.Sprintf("%02d-%s", i, filepath.Base(f))
		if ext := strings.ToLower(filepath.Ext(out)); ext == ".json" {
			out = strings.TrimSuffix(out, filepath.Ext(out)) + ".yaml"
		}
		for names[out] {
			out = "_" + out
		}
		names[out] = true
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, yamlErr(f, err)
			}
			if err := yamlcheck.CheckAliases(f, &doc); err != nil {
				return nil, err
			}
			if len(doc.Content) == 0 {
				continue
			}
			set.add(f, out, doc.Content[0], defaultNS, 0)
		}
	}
	return set, nil
}

func (s *objectSet) add(src, out string, n *yaml.Node, defaultNS string, depth int) {
	n = resolve(n)
	if isNull(n) || n.Kind != yaml.MappingNode || depth > maxListDepth {
		return
	}
	kind := scalarAt(n, "kind")
	if items := valueOf(n, "items"); items != nil && strings.HasSuffix(kind, "List") {
		if items = resolve(items); items != nil && items.Kind == yaml.SequenceNode {
			for _, it := range items.Content {
				s.add(src, out, it, defaultNS, depth+1)
			}
		}
		return
	}
	meta := valueOf(n, "metadata")
	ns := scalarAt(meta, "namespace")
	if ns == "" {
		ns = defaultNS
	}
	s.docs = append(s.docs, &objDoc{file: out, src: fmt.Sprintf("%s:%d", src, n.Line),
		key:   objKey{kind, scopeNS(kind, ns), scalarAt(meta, "name")},
		node:  n,
		owned: valueOf(meta, "ownerReferences") != nil})
}

// scalarAt is the scalar value of key in mapping n, or "".
func scalarAt(n *yaml.Node, key string) string {
	v := resolve(valueOf(n, key))
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

// hasObject reports whether the topology holds the object (from its
// input, not generated by the loader).
func (t *Topology) hasObject(kind, ns, name string) bool {
	switch kind {
	case "Namespace":
		return t.Namespace(name) != nil
	case "Service":
		return t.Service(ns, name) != nil
	case "AuthorizationPolicy":
		for _, ap := range t.AuthorizationPolicies {
			if ap.Namespace == ns && ap.Name == name {
				return true
			}
		}
	case "RequestAuthentication":
		for _, ra := range t.RequestAuthentications {
			if ra.Namespace == ns && ra.Name == name {
				return true
			}
		}
	case "NetworkPolicy":
		for _, np := range t.NetworkPolicies {
			if np.Namespace == ns && np.Name == name {
				return true
			}
		}
	case "Gateway":
		for _, g := range t.Gateways {
			if g.Namespace == ns && g.Name == name {
				return true
			}
		}
	case "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", KindVirtualService:
		for _, r := range t.Routes {
			if r.Kind == kind && r.Namespace == ns && r.Name == name {
				return true
			}
		}
	case "DestinationRule", "EnvoyFilter":
		for _, r := range t.SidecarResources {
			if r.Kind == kind && r.Namespace == ns && r.Name == name {
				return true
			}
		}
	}
	return false
}

// objectLabels returns the labels of a Namespace, Service or ServiceEntry.
func (t *Topology) objectLabels(kind, ns, name string) map[string]string {
	switch kind {
	case "Namespace":
		if n := t.Namespace(name); n != nil {
			return n.Labels
		}
	case "Service":
		if s := t.Service(ns, name); s != nil {
			return s.Labels
		}
	case "ServiceEntry":
		for _, se := range t.ServiceEntries {
			if se.Namespace == ns && se.Name == name {
				return se.Labels
			}
		}
	}
	return nil
}
