package topology

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
	"gopkg.in/yaml.v3"
)

// LoadManifests reads Kubernetes, Istio and Gateway API objects from files
// or directories (recursively: *.yaml, *.yml, *.json), as multi-document
// YAML or `kubectl get -o yaml` Lists, and builds the topology. Unknown kinds
// are skipped and counted; unknown fields of modelled kinds become warnings
// naming file, line and field; invalid values of fields the model uses are
// errors (all of them are reported together).
func LoadManifests(paths []string, opts LoadOptions) (*Topology, *LoadReport, error) {
	b := newBuilder(opts)
	if err := b.loadPaths(paths); err != nil {
		return nil, nil, err
	}
	if err := b.err(); err != nil {
		return nil, b.rep, err
	}
	t, rep := b.finish()
	if err := b.err(); err != nil {
		return nil, rep, err
	}
	return t, rep, nil
}

// ParseManifests is LoadManifests for in-memory data (one file's content).
func ParseManifests(filename string, data []byte, opts LoadOptions) (*Topology, *LoadReport, error) {
	b := newBuilder(opts)
	b.rep.Files = append(b.rep.Files, filename)
	if err := b.loadData(filename, data); err != nil {
		return nil, b.rep, err
	}
	if err := b.err(); err != nil {
		return nil, b.rep, err
	}
	t, rep := b.finish()
	if err := b.err(); err != nil {
		return nil, rep, err
	}
	return t, rep, nil
}

// manifestFiles lists the files the paths name: files as given, directories
// walked for *.yaml, *.yml and *.json (hidden directories skipped), sorted.
func manifestFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading manifests: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading manifests: %w", err)
		}
		sort.Strings(found)
		if len(found) == 0 {
			return nil, fmt.Errorf("reading manifests: no *.yaml, *.yml or *.json files under %s", p)
		}
		files = append(files, found...)
	}
	return files, nil
}

func (b *builder) loadPaths(paths []string) error {
	files, err := manifestFiles(paths)
	if err != nil {
		return err
	}
	budget := yamlcheck.NewBudget(yamlcheck.MaxTotalBytes, yamlcheck.MaxFileBytes)
	for _, f := range files {
		data, err := budget.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading manifests: %w", err)
		}
		b.rep.Files = append(b.rep.Files, f)
		if err := b.loadData(f, data); err != nil {
			return err
		}
	}
	return nil
}

// loadData decodes every YAML document of one file.
func (b *builder) loadData(file string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return yamlErr(file, err)
		}
		if err := yamlcheck.CheckAliases(file, &doc); err != nil {
			return err
		}
		b.decodeDocument(file, &doc, "")
		if len(b.errs) > 50 {
			return b.err()
		}
	}
}

// dec decodes one object, collecting warnings and errors with lines.
type dec struct {
	b    *builder
	file string
}

func (d dec) loc(n *yaml.Node) string {
	if n != nil && n.Line > 0 {
		return fmt.Sprintf("%s:%d", d.file, n.Line)
	}
	return d.file
}

func (d dec) warnf(n *yaml.Node, path, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if path != "" {
		msg = path + ": " + msg
	}
	d.b.rep.Warnings = append(d.b.rep.Warnings, d.loc(n)+": "+msg)
}

func (d dec) errf(n *yaml.Node, path, format string, a ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.b.errs = append(d.b.errs, &FieldError{File: d.file, Line: line, Field: path, Msg: fmt.Sprintf(format, a...)})
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// fields calls fn for each key of mapping n that is in known, and warns
// about the others (suggesting the closest known name).
func (d dec) fields(n *yaml.Node, path string, known []string, fn func(key string, v *yaml.Node, p string)) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errf(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if v == nil {
			continue
		}
		if !contains(known, k.Value) {
			if k.Value == "<<" {
				continue
			}
			msg := fmt.Sprintf("unknown field %q", k.Value)
			if s := closest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.b.rep.Warnings = append(d.b.rep.Warnings, fmt.Sprintf("%s: %s: %s", d.loc(k), joinPath(path, k.Value), msg))
			continue
		}
		if fn != nil {
			fn(k.Value, v, joinPath(path, k.Value))
		}
	}
}

func (d dec) str(n *yaml.Node, path string) string {
	n = resolve(n)
	if isNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		d.errf(n, path, "expected a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

func (d dec) integer(n *yaml.Node, path string) int {
	n = resolve(n)
	if isNull(n) {
		return 0
	}
	if n.Kind != yaml.ScalarNode {
		d.errf(n, path, "expected an integer, got %s", kindName(n))
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		d.errf(n, path, "expected an integer, got %q", n.Value)
		return 0
	}
	return v
}

func (d dec) boolean(n *yaml.Node, path string) bool {
	s := d.str(n, path)
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false", "":
		return false
	}
	d.errf(n, path, "expected true or false, got %q", s)
	return false
}

// labelMap decodes metadata labels and checks every key and value against
// the Kubernetes label syntax (see names.go).
func (d dec) labelMap(n *yaml.Node, path string) map[string]string {
	out := d.strMap(n, path)
	if n = resolve(n); n == nil || n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		p := joinPath(path, k.Value)
		if why := checkLabelKey(k.Value); why != "" {
			d.errf(k, p, "invalid label key %q: %s (a label key is an optional DNS-1123 subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)", k.Value, why)
		}
		if v != nil && v.Kind == yaml.ScalarNode {
			if why := checkLabelValue(v.Value); why != "" {
				d.errf(v, p, "invalid label value %q: %s (a label value is empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)", v.Value, why)
			}
		}
	}
	return out
}

// checkObjectName checks metadata.name against the naming rule of the
// object's kind (names.go); the API server would refuse the object.
func (d dec) checkObjectName(group, kind string, obj *yaml.Node, where string) {
	meta := resolve(valueOf(obj, "metadata"))
	if meta == nil || meta.Kind != yaml.MappingNode {
		return
	}
	v := resolve(valueOf(meta, "name"))
	if v == nil || v.Kind != yaml.ScalarNode || v.Value == "" {
		return // "missing name" is reported by the kind's decoder
	}
	rule := nameRuleFor(group, kind)
	if why := checkName(rule, v.Value); why != "" {
		d.errf(v, joinPath(where, "metadata.name"), "invalid %s name %q: it must be a %s and %s (%s)", kind, v.Value, rule, why, ruleText(rule))
	}
}

// appendKeys adds the keys of mapping n to list (once each).
func appendKeys(list []string, n *yaml.Node) []string {
	if n = resolve(n); n == nil || n.Kind != yaml.MappingNode {
		return list
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		list = appendUnique(list, n.Content[i].Value)
	}
	return list
}

// valueOf returns the value of key in mapping n, or nil.
func valueOf(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (d dec) strList(n *yaml.Node, path string) []string {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errf(n, path, "expected a list of strings, got %s", kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, it := range n.Content {
		out = append(out, d.str(it, fmt.Sprintf("%s[%d]", path, i)))
	}
	return out
}

func (d dec) strMap(n *yaml.Node, path string) map[string]string {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errf(n, path, "expected a mapping of strings, got %s", kindName(n))
		return nil
	}
	out := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = d.str(n.Content[i+1], joinPath(path, n.Content[i].Value))
	}
	return out
}

func (d dec) list(n *yaml.Node, path string, fn func(item *yaml.Node, p string)) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errf(n, path, "expected a list, got %s", kindName(n))
		return
	}
	for i, it := range n.Content {
		if it = resolve(it); it != nil {
			fn(it, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

func (d dec) enum(n *yaml.Node, path string, allowed ...string) string {
	v := d.str(n, path)
	if v == "" || contains(allowed, v) {
		return v
	}
	d.errf(n, path, "unknown value %q (want %s)", v, strings.Join(allowed, ", "))
	return ""
}

// objectMeta is the part of metadata the model uses.
type objectMeta struct {
	name, namespace string
	labels, ann     map[string]string
	ownerKind       string
	ownerName       string
	created         string // creationTimestamp
	node            *yaml.Node
}

var metaFields = []string{"name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation",
	"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "ownerReferences",
	"finalizers", "generateName", "selfLink", "clusterName"}

func (d dec) meta(n *yaml.Node, namespaced bool) objectMeta {
	m := objectMeta{node: n}
	d.fields(n, "metadata", metaFields, func(k string, v *yaml.Node, p string) {
		switch k {
		case "name":
			m.name = d.str(v, p)
		case "namespace":
			m.namespace = d.str(v, p)
			if why := dns1123Label(m.namespace); m.namespace != "" && why != "" {
				d.errf(v, p, "invalid namespace %q: a namespace name is a %s and %s (%s)", m.namespace, ruleDNS1123Label, why, ruleText(ruleDNS1123Label))
			}
		case "labels":
			m.labels = d.labelMap(v, p)
		case "annotations":
			m.ann = d.strMap(v, p)
		case "creationTimestamp":
			m.created = d.str(v, p)
		case "ownerReferences":
			d.list(v, p, func(it *yaml.Node, ip string) {
				var kind, name string
				controller := false
				d.fields(it, ip, []string{"apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"}, func(k string, v *yaml.Node, p string) {
					switch k {
					case "kind":
						kind = d.str(v, p)
					case "name":
						name = d.str(v, p)
					case "controller":
						controller = d.boolean(v, p)
					}
				})
				if m.ownerKind == "" || controller {
					m.ownerKind, m.ownerName = kind, name
				}
			})
		}
	})
	if m.labels == nil {
		m.labels = map[string]string{}
	}
	if namespaced && m.namespace == "" {
		m.namespace = d.b.opts.DefaultNamespace
	}
	return m
}

// decodeDocument dispatches one object (or a List of them) by kind.
func (b *builder) decodeDocument(file string, n *yaml.Node, where string) {
	b.decodeNested(file, n, where, 0)
}

// maxListDepth bounds Lists inside Lists (and alias cycles through them).
const maxListDepth = 4

func (b *builder) decodeNested(file string, n *yaml.Node, where string, depth int) {
	d := dec{b: b, file: file}
	if depth > maxListDepth {
		d.errf(n, where, "Lists nested more than %d deep (or an alias cycle)", maxListDepth)
		return
	}
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errf(n, where, "expected a Kubernetes object (a mapping with apiVersion and kind), got %s", kindName(n))
		return
	}
	var apiVersion, kind string
	var kindNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "apiVersion":
			apiVersion = d.str(n.Content[i+1], joinPath(where, "apiVersion"))
		case "kind":
			kindNode = n.Content[i+1]
			kind = d.str(kindNode, joinPath(where, "kind"))
		}
	}
	if kind == "" {
		if hasKey(n, "namespaces") || hasKey(n, "nodes") || hasKey(n, "calls") {
			d.errf(n, where, "object has no kind: this looks like a compact topology spec; pass it as the only PATH")
			return
		}
		d.errf(n, where, "object has no kind (want e.g. Service, Deployment, AuthorizationPolicy)")
		return
	}
	if kind == "List" || (strings.HasSuffix(kind, "List") && hasKey(n, "items")) {
		d.fields(n, where, []string{"apiVersion", "kind", "metadata", "items"}, func(k string, v *yaml.Node, p string) {
			if k == "items" {
				d.list(v, p, func(it *yaml.Node, ip string) { b.decodeNested(file, it, ip, depth+1) })
			}
		})
		return
	}
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group, version = "", apiVersion
	}
	decodeFn, versions := b.kindDecoder(group, kind)
	if group == "" && kind == "ConfigMap" && !isMeshConfigMap(n) {
		decodeFn = nil // only Istio's mesh config is modelled
	}
	if decodeFn == nil {
		b.rep.Skipped[apiVersion+" "+kind]++
		return
	}
	d.checkObjectName(group, kind, n, where)
	if !contains(versions, version) {
		d.warnf(n, joinPath(where, "apiVersion"), "unexpected version %q for %s (known: %s/%s); decoding anyway", apiVersion, kind, group, strings.Join(versions, ", "))
	}
	b.rep.Objects++
	b.rep.Kinds[kind]++
	top := map[string]*yaml.Node{}
	topFields := []string{"apiVersion", "kind", "metadata", "spec", "status"}
	if kind == "ServiceAccount" {
		topFields = append(topFields, "secrets", "imagePullSecrets", "automountServiceAccountToken")
	}
	d.fields(n, where, topFields, func(k string, v *yaml.Node, p string) {
		top[k] = v
	})
	decodeFn(d, objectDoc{where: where, node: n, meta: top["metadata"], spec: top["spec"], status: top["status"], line: n.Line})
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

type objectDoc struct {
	where              string
	node               *yaml.Node
	meta, spec, status *yaml.Node
	line               int
}

func (o objectDoc) p(s string) string { return joinPath(o.where, s) }

func (b *builder) kindDecoder(group, kind string) (func(dec, objectDoc), []string) {
	switch group + "/" + kind {
	case "/Namespace":
		return decodeNamespace, []string{"v1"}
	case "/Node":
		return decodeNode, []string{"v1"}
	case "/Service":
		return decodeService, []string{"v1"}
	case "/Pod":
		return decodePod, []string{"v1"}
	case "/ServiceAccount":
		return func(d dec, o objectDoc) { d.meta(o.meta, true) }, []string{"v1"}
	case "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "apps/ReplicaSet":
		return decodeWorkload, []string{"v1"}
	case "gateway.networking.k8s.io/Gateway":
		return decodeGateway, []string{"v1", "v1beta1"}
	case "gateway.networking.k8s.io/GatewayClass":
		return decodeGatewayClass, []string{"v1", "v1beta1"}
	case "gateway.networking.k8s.io/HTTPRoute", "gateway.networking.k8s.io/GRPCRoute":
		return decodeRoute, []string{"v1", "v1beta1", "v1alpha2"}
	case "gateway.networking.k8s.io/TCPRoute", "gateway.networking.k8s.io/TLSRoute":
		return decodeRoute, []string{"v1alpha2", "v1alpha3", "v1"}
	case "networking.istio.io/ServiceEntry":
		return decodeServiceEntry, []string{"v1", "v1beta1", "v1alpha3"}
	case "gateway.networking.k8s.io/ReferenceGrant":
		return decodeReferenceGrant, []string{"v1", "v1beta1", "v1alpha2"}
	case "security.istio.io/AuthorizationPolicy":
		return decodeAuthorizationPolicy, []string{"v1", "v1beta1"}
	case "security.istio.io/RequestAuthentication":
		return decodeRequestAuthentication, []string{"v1", "v1beta1"}
	case "security.istio.io/PeerAuthentication":
		return decodePeerAuthentication, []string{"v1", "v1beta1"}
	case "networking.istio.io/Sidecar":
		return decodeSidecarScope, []string{"v1", "v1beta1", "v1alpha3"}
	case "/ConfigMap":
		return decodeMeshConfigMap, []string{"v1"}
	case "install.istio.io/IstioOperator":
		return decodeIstioOperator, []string{"v1alpha1"}
	case "networking.k8s.io/NetworkPolicy":
		return decodeNetworkPolicy, []string{"v1"}
	case "networking.istio.io/Gateway":
		return decodeIstioGateway, []string{"v1", "v1beta1", "v1alpha3"}
	case "networking.istio.io/VirtualService", "networking.istio.io/DestinationRule", "networking.istio.io/EnvoyFilter":
		return decodeSidecarResource, []string{"v1", "v1beta1", "v1alpha3"}
	}
	return nil, nil
}

func (d dec) src(o objectDoc) string { return fmt.Sprintf("%s:%d", d.file, o.line) }

// statusValue reads a scalar at a dotted path under an object's status,
// leniently: a status is written by controllers, not users, so unknown or
// odd fields are neither warnings nor errors.
func statusValue(status *yaml.Node, path string) string {
	n := resolve(status)
	for _, key := range strings.Split(path, ".") {
		n = resolve(valueOf(n, key))
		if n == nil {
			return ""
		}
	}
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// statusCondition returns the status of the condition of the given type
// under status.conditions, "" when absent.
func statusCondition(status *yaml.Node, typ string) string {
	list := resolve(valueOf(status, "conditions"))
	if list == nil || list.Kind != yaml.SequenceNode {
		return ""
	}
	for _, c := range list.Content {
		if statusValue(c, "type") == typ {
			return statusValue(c, "status")
		}
	}
	return ""
}

func statusInt(status *yaml.Node, key string) int {
	n, _ := strconv.Atoi(statusValue(status, key))
	return n
}

func decodeNamespace(d dec, o objectDoc) {
	m := d.meta(o.meta, false)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	d.fields(o.spec, o.p("spec"), []string{"finalizers"}, nil)
	d.b.addNamespace(&Namespace{Name: m.name, Labels: m.labels, Annotations: m.ann})
}

func decodeNode(d dec, o objectDoc) {
	m := d.meta(o.meta, false)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	zone := m.labels[lblZone]
	if zone == "" {
		zone = m.labels["failure-domain.beta.kubernetes.io/zone"]
	}
	n := &Node{Name: m.name, Zone: zone, Created: m.created}
	d.fields(o.spec, o.p("spec"), []string{"podCIDR", "podCIDRs", "providerID", "taints", "unschedulable", "configSource", "externalID"}, func(k string, v *yaml.Node, p string) {
		if k == "unschedulable" {
			n.Unschedulable = d.boolean(v, p)
		}
	})
	if o.status != nil {
		n.Ready = statusCondition(o.status, "Ready")
		n.KubeletVersion = statusValue(o.status, "nodeInfo.kubeletVersion")
	}
	d.b.addNode(n)
}

var serviceSpecFields = []string{"selector", "ports", "type", "clusterIP", "clusterIPs", "externalIPs", "externalName",
	"externalTrafficPolicy", "healthCheckNodePort", "internalTrafficPolicy", "ipFamilies", "ipFamilyPolicy",
	"loadBalancerClass", "loadBalancerIP", "loadBalancerSourceRanges", "allocateLoadBalancerNodePorts",
	"publishNotReadyAddresses", "sessionAffinity", "sessionAffinityConfig", "trafficDistribution"}

func decodeService(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	s := &Service{Namespace: m.namespace, Name: m.name, Labels: m.labels, Annotations: m.ann, Source: d.src(o)}
	d.fields(o.spec, o.p("spec"), serviceSpecFields, func(k string, v *yaml.Node, p string) {
		switch k {
		case "selector":
			s.Selector = d.strMap(v, p)
		case "type":
			s.Type = d.enum(v, p, "ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
		case "ports":
			d.list(v, p, func(it *yaml.Node, ip string) {
				var sp ServicePort
				d.fields(it, ip, []string{"name", "port", "targetPort", "protocol", "appProtocol", "nodePort"}, func(k string, v *yaml.Node, p string) {
					switch k {
					case "name":
						sp.Name = d.str(v, p)
					case "port":
						sp.Port = d.integer(v, p)
					case "targetPort":
						if n, err := strconv.Atoi(v.Value); err == nil && v.Kind == yaml.ScalarNode {
							sp.TargetPort = n
						} else {
							sp.TargetName = d.str(v, p)
						}
					case "protocol":
						sp.Protocol = d.enum(v, p, "TCP", "UDP", "SCTP")
					case "appProtocol":
						sp.AppProtocol = d.str(v, p)
					}
				})
				if sp.Port <= 0 || sp.Port > 65535 {
					d.errf(it, ip+".port", "port %d out of range 1-65535", sp.Port)
					return
				}
				defaultServicePort(&sp)
				s.Ports = append(s.Ports, sp)
			})
		}
	})
	d.b.addService(s)
}

// podSpecFields is the whole core/v1 PodSpec; the model reads a few.
var podSpecFields = []string{"activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "containers",
	"dnsConfig", "dnsPolicy", "enableServiceLinks", "ephemeralContainers", "hostAliases", "hostIPC", "hostNetwork",
	"hostPID", "hostUsers", "hostname", "hostnameOverride", "imagePullSecrets", "initContainers", "nodeName", "nodeSelector", "os",
	"overhead", "preemptionPolicy", "priority", "priorityClassName", "readinessGates", "resourceClaims", "resources",
	"restartPolicy", "runtimeClassName", "schedulerName", "schedulingGates", "securityContext", "serviceAccount",
	"serviceAccountName", "setHostnameAsFQDN", "shareProcessNamespace", "subdomain", "terminationGracePeriodSeconds",
	"tolerations", "topologySpreadConstraints", "volumes"}

type podSpec struct {
	serviceAccount string
	nodeName       string
	hostNetwork    bool
	hasSidecar     bool // an istio-proxy container (sidecar or native sidecar init container)
	ports          map[string]int
}

func (d dec) podSpec(n *yaml.Node, path string) podSpec {
	var ps podSpec
	containers := func(v *yaml.Node, p string) {
		d.list(v, p, func(it *yaml.Node, ip string) {
			if it.Kind != yaml.MappingNode {
				d.errf(it, ip, "expected a container (a mapping), got %s", kindName(it))
				return
			}
			for i := 0; i+1 < len(it.Content); i += 2 {
				switch it.Content[i].Value {
				case "name":
					if d.str(it.Content[i+1], ip+".name") == "istio-proxy" {
						ps.hasSidecar = true
					}
				case "ports":
					d.list(it.Content[i+1], ip+".ports", func(pt *yaml.Node, pp string) {
						var name string
						var num int
						if pt.Kind != yaml.MappingNode {
							return
						}
						for j := 0; j+1 < len(pt.Content); j += 2 {
							switch pt.Content[j].Value {
							case "name":
								name = d.str(pt.Content[j+1], pp+".name")
							case "containerPort":
								num = d.integer(pt.Content[j+1], pp+".containerPort")
							}
						}
						if name != "" && num > 0 {
							if ps.ports == nil {
								ps.ports = map[string]int{}
							}
							ps.ports[name] = num
						}
					})
				}
			}
		})
	}
	d.fields(n, path, podSpecFields, func(k string, v *yaml.Node, p string) {
		switch k {
		case "serviceAccountName":
			ps.serviceAccount = d.str(v, p)
		case "serviceAccount":
			if ps.serviceAccount == "" {
				ps.serviceAccount = d.str(v, p)
			}
		case "nodeName":
			ps.nodeName = d.str(v, p)
		case "hostNetwork":
			ps.hostNetwork = d.boolean(v, p)
		case "containers", "initContainers":
			containers(v, p)
		}
	})
	return ps
}

var workloadSpecFields = map[string][]string{
	KindDeployment:  {"replicas", "selector", "template", "strategy", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds", "paused"},
	KindStatefulSet: {"replicas", "selector", "template", "serviceName", "podManagementPolicy", "updateStrategy", "volumeClaimTemplates", "persistentVolumeClaimRetentionPolicy", "ordinals", "minReadySeconds", "revisionHistoryLimit"},
	KindDaemonSet:   {"selector", "template", "updateStrategy", "minReadySeconds", "revisionHistoryLimit"},
	KindReplicaSet:  {"replicas", "selector", "template", "minReadySeconds"},
}

func decodeWorkload(d dec, o objectDoc) {
	kind := ""
	for i := 0; i+1 < len(o.node.Content); i += 2 {
		if o.node.Content[i].Value == "kind" {
			kind = o.node.Content[i+1].Value
		}
	}
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	w := &Workload{Namespace: m.namespace, Name: m.name, Kind: kind, Replicas: 1, Source: d.src(o)}
	var ann map[string]string
	var ps podSpec
	d.fields(o.spec, o.p("spec"), workloadSpecFields[kind], func(k string, v *yaml.Node, p string) {
		switch k {
		case "replicas":
			w.Replicas = d.integer(v, p)
			if w.Replicas < 0 || w.Replicas > MaxPods {
				d.errf(v, p, "replicas must be between 0 and %d, got %d", MaxPods, w.Replicas)
				w.Replicas = 0
			}
		case "template":
			d.fields(v, p, []string{"metadata", "spec"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case "metadata":
					d.fields(v, p, metaFields, func(k string, v *yaml.Node, p string) {
						switch k {
						case "labels":
							w.Labels = d.labelMap(v, p)
						case "annotations":
							ann = d.strMap(v, p)
						}
					})
				case "spec":
					ps = d.podSpec(v, p)
				}
			})
		}
	})
	if w.Labels == nil {
		w.Labels = map[string]string{}
	}
	w.ServiceAccount = ps.serviceAccount
	w.ports = ps.ports
	if st := resolve(o.status); st != nil && st.Kind == yaml.MappingNode {
		ws := &WorkloadStatus{}
		if kind == KindDaemonSet {
			ws.Desired, ws.Current = statusInt(st, "desiredNumberScheduled"), statusInt(st, "currentNumberScheduled")
			ws.Ready, ws.Available, ws.Updated = statusInt(st, "numberReady"), statusInt(st, "numberAvailable"), statusInt(st, "updatedNumberScheduled")
		} else {
			ws.Desired, ws.Current = statusInt(st, "replicas"), statusInt(st, "replicas")
			ws.Ready, ws.Available, ws.Updated = statusInt(st, "readyReplicas"), statusInt(st, "availableReplicas"), statusInt(st, "updatedReplicas")
		}
		w.Status = ws
	}
	if kind == KindReplicaSet && m.ownerKind == KindDeployment {
		// A Deployment's ReplicaSet: remember the owner; its pods belong to the Deployment.
		d.b.rsOwner[m.namespace+"/"+m.name] = m.ownerName
		return
	}
	if kind == KindReplicaSet && w.Replicas == 0 {
		return // an old, scaled-down ReplicaSet
	}
	if !d.b.addWorkload(w) {
		return
	}
	if len(ann) > 0 {
		d.b.wlAnn[w] = ann
	}
	if ps.hostNetwork {
		d.b.wlNoMesh[w] = true
	}
}

func decodePod(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	ps := d.podSpec(o.spec, o.p("spec"))
	var ip, phase string
	if o.status != nil {
		st := resolve(o.status)
		if st != nil && st.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(st.Content); i += 2 {
				switch st.Content[i].Value {
				case "podIP":
					ip = d.str(st.Content[i+1], o.p("status.podIP"))
				case "phase":
					phase = d.str(st.Content[i+1], o.p("status.phase"))
				}
			}
		}
	}
	if phase == "Succeeded" || phase == "Failed" {
		d.b.rep.Skipped["v1 Pod (completed)"]++
		return
	}
	d.b.ensureNamespace(m.namespace)
	p := &Pod{Namespace: m.namespace, Name: m.name, Node: ps.nodeName, IP: ip, ServiceAccount: ps.serviceAccount, Labels: m.labels,
		Exported: true, Ready: statusCondition(o.status, "Ready"), Redirected: m.ann["ambient.istio.io/redirection"] == "enabled"}
	rp := &rawPod{pod: p, ownerKind: m.ownerKind, ownerName: m.ownerName, annotations: m.ann,
		hasSidecar:        ps.hasSidecar || m.ann["sidecar.istio.io/status"] != "",
		ambientRedirected: m.ann["ambient.istio.io/redirection"] == "enabled", hostNetwork: ps.hostNetwork, ports: ps.ports}
	if m.ownerKind == "" {
		// A bare Pod is its own workload.
		w := &Workload{Namespace: m.namespace, Name: m.name, Kind: KindPod, ServiceAccount: ps.serviceAccount,
			Replicas: 1, Labels: m.labels, Source: d.src(o), ports: ps.ports}
		if !d.b.addWorkload(w) {
			return
		}
		if len(m.ann) > 0 {
			d.b.wlAnn[w] = m.ann
		}
		if ps.hostNetwork {
			d.b.wlNoMesh[w] = true
		}
		rp.ownerKind, rp.ownerName = KindPod, m.name
	}
	d.b.realPods = append(d.b.realPods, rp)
}

func decodeGateway(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	g := &Gateway{Namespace: m.namespace, Name: m.name, Labels: m.labels, Annotations: m.ann, Source: d.src(o)}
	d.fields(o.spec, o.p("spec"), []string{"gatewayClassName", "listeners", "addresses", "infrastructure", "allowedListeners", "backendTLS", "tls", "defaultScope"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "gatewayClassName":
			g.Class = d.str(v, p)
		case "listeners":
			d.list(v, p, func(it *yaml.Node, ip string) { g.Listeners = append(g.Listeners, d.listener(it, ip)) })
		}
	})
	if g.Class == "" {
		d.errf(o.node, o.p("spec.gatewayClassName"), "missing gatewayClassName")
		return
	}
	if f, ok := g.Labels[lblWaypointFor]; ok {
		if !contains([]string{ForService, ForWorkload, ForAll, ForNone}, f) {
			d.errf(o.meta, o.p("metadata.labels."+lblWaypointFor), "unknown value %q (want service, workload, all, none)", f)
		}
	}
	d.b.addGateway(g)
}

func (d dec) listener(n *yaml.Node, path string) Listener {
	l := Listener{AllowedFrom: "Same"}
	d.fields(n, path, []string{"name", "hostname", "port", "protocol", "tls", "allowedRoutes"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "name":
			l.Name = d.str(v, p)
		case "hostname":
			l.Hostname = d.str(v, p)
		case "port":
			l.Port = d.integer(v, p)
		case "protocol":
			l.Protocol = d.str(v, p)
		case "allowedRoutes":
			d.fields(v, p, []string{"namespaces", "kinds"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case "namespaces":
					d.fields(v, p, []string{"from", "selector"}, func(k string, v *yaml.Node, p string) {
						if k == "from" {
							if f := d.enum(v, p, "Same", "All", "Selector", "None"); f != "" {
								l.AllowedFrom = f
							}
						} else {
							l.Selector = d.labelSelector(v, p)
						}
					})
				case "kinds":
					d.list(v, p, func(it *yaml.Node, ip string) {
						d.fields(it, ip, []string{"group", "kind"}, func(k string, v *yaml.Node, p string) {
							if k == "kind" {
								l.Kinds = append(l.Kinds, d.str(v, p))
							}
						})
					})
				}
			})
		}
	})
	if l.Port <= 0 || l.Port > 65535 {
		d.errf(n, path+".port", "port %d out of range 1-65535", l.Port)
	}
	return l
}

func decodeGatewayClass(d dec, o objectDoc) {
	m := d.meta(o.meta, false)
	d.fields(o.spec, o.p("spec"), []string{"controllerName", "parametersRef", "description"}, nil)
	if m.name == waypointClass {
		if f := m.labels[lblWaypointFor]; f != "" {
			d.b.classWaypointFor = f
		}
	}
}

func (d dec) matchLabelsSelector(n *yaml.Node, path string) map[string]string {
	var out map[string]string
	d.fields(n, path, []string{"matchLabels"}, func(k string, v *yaml.Node, p string) {
		out = d.strMap(v, p)
	})
	if out == nil {
		out = map[string]string{}
	}
	return out
}

func (d dec) labelSelector(n *yaml.Node, path string) *LabelSelector {
	sel := &LabelSelector{}
	d.fields(n, path, []string{"matchLabels", "matchExpressions"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "matchLabels":
			sel.MatchLabels = d.strMap(v, p)
		case "matchExpressions":
			d.list(v, p, func(it *yaml.Node, ip string) {
				var r LabelRequirement
				d.fields(it, ip, []string{"key", "operator", "values"}, func(k string, v *yaml.Node, p string) {
					switch k {
					case "key":
						r.Key = d.str(v, p)
					case "operator":
						r.Operator = d.enum(v, p, "In", "NotIn", "Exists", "DoesNotExist")
					case "values":
						r.Values = d.strList(v, p)
					}
				})
				sel.MatchExpressions = append(sel.MatchExpressions, r)
			})
		}
	})
	return sel
}

func decodeAuthorizationPolicy(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	ap := &AuthorizationPolicy{Namespace: m.namespace, Name: m.name, Action: ActionAllow, Source: d.src(o)}
	var selNode *yaml.Node
	targetRef := func(v *yaml.Node, p string) {
		ref := TargetRef{}
		d.fields(v, p, []string{"group", "kind", "name", "namespace"}, func(k string, v *yaml.Node, p string) {
			switch k {
			case "group":
				ref.Group = d.str(v, p)
			case "kind":
				ref.Kind = d.enum(v, p, "Service", "Gateway", "GatewayClass", "ServiceEntry")
			case "name":
				ref.Name = d.str(v, p)
			case "namespace":
				ref.Namespace = d.str(v, p)
			}
		})
		if ref.Name == "" || ref.Kind == "" {
			d.errf(v, p, "targetRef needs kind and name")
			return
		}
		ap.TargetRefs = append(ap.TargetRefs, ref)
	}
	d.fields(o.spec, o.p("spec"), []string{"selector", "targetRef", "targetRefs", "action", "provider", "rules"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "selector":
			selNode = v
			ap.Selector = d.matchLabelsSelector(v, p)
		case "targetRef":
			targetRef(v, p)
		case "targetRefs":
			d.list(v, p, targetRef)
		case "action":
			if a := d.enum(v, p, ActionAllow, ActionDeny, ActionCustom, ActionAudit); a != "" {
				ap.Action = a
			}
		case "provider":
			d.fields(v, p, []string{"name"}, func(k string, v *yaml.Node, p string) { ap.Provider = d.str(v, p) })
		case "rules":
			ap.HasRules = true
			d.list(v, p, func(it *yaml.Node, ip string) { ap.Rules = append(ap.Rules, d.rule(it, ip)) })
		}
	})
	if selNode != nil && len(ap.TargetRefs) > 0 {
		d.errf(selNode, o.p("spec.selector"), "selector and targetRefs are mutually exclusive; use one")
	}
	if ap.Action == ActionCustom && ap.Provider == "" {
		d.warnf(o.spec, o.p("spec.provider"), "CUSTOM action without a provider")
	}
	d.b.t.AuthorizationPolicies = append(d.b.t.AuthorizationPolicies, ap)
	d.b.ensureNamespace(m.namespace)
}

var sourceFields = []string{"principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces",
	"notNamespaces", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks", "serviceAccounts", "notServiceAccounts"}

var operationFields = []string{"hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"}

func (d dec) rule(n *yaml.Node, path string) Rule {
	var r Rule
	d.fields(n, path, []string{"from", "to", "when"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "from":
			d.list(v, p, func(it *yaml.Node, ip string) {
				d.fields(it, ip, []string{"source"}, func(_ string, v *yaml.Node, p string) {
					var s PeerSource
					d.fields(v, p, sourceFields, func(k string, v *yaml.Node, p string) {
						l := d.strList(v, p)
						switch k {
						case "principals":
							s.Principals = l
						case "notPrincipals":
							s.NotPrincipals = l
						case "requestPrincipals":
							s.RequestPrincipals = l
						case "notRequestPrincipals":
							s.NotRequestPrincipals = l
						case "namespaces":
							s.Namespaces = l
						case "notNamespaces":
							s.NotNamespaces = l
						case "ipBlocks":
							s.IPBlocks = l
						case "notIpBlocks":
							s.NotIPBlocks = l
						case "remoteIpBlocks":
							s.RemoteIPBlocks = l
						case "notRemoteIpBlocks":
							s.NotRemoteIPBlocks = l
						case "serviceAccounts":
							s.ServiceAccounts = l
						case "notServiceAccounts":
							s.NotServiceAccounts = l
						}
					})
					r.From = append(r.From, s)
				})
			})
		case "to":
			d.list(v, p, func(it *yaml.Node, ip string) {
				d.fields(it, ip, []string{"operation"}, func(_ string, v *yaml.Node, p string) {
					var op Operation
					d.fields(v, p, operationFields, func(k string, v *yaml.Node, p string) {
						l := d.strList(v, p)
						switch k {
						case "hosts":
							op.Hosts = l
						case "notHosts":
							op.NotHosts = l
						case "ports":
							op.Ports = l
							d.checkPorts(v, p, l)
						case "notPorts":
							op.NotPorts = l
							d.checkPorts(v, p, l)
						case "methods":
							op.Methods = l
						case "notMethods":
							op.NotMethods = l
						case "paths":
							op.Paths = l
						case "notPaths":
							op.NotPaths = l
						}
					})
					r.To = append(r.To, op)
				})
			})
		case "when":
			d.list(v, p, func(it *yaml.Node, ip string) {
				var c Condition
				d.fields(it, ip, []string{"key", "values", "notValues"}, func(k string, v *yaml.Node, p string) {
					switch k {
					case "key":
						c.Key = d.str(v, p)
					case "values":
						c.Values = d.strList(v, p)
					case "notValues":
						c.NotValues = d.strList(v, p)
					}
				})
				if c.Key == "" {
					d.errf(it, ip+".key", "missing key")
					return
				}
				r.When = append(r.When, c)
			})
		}
	})
	return r
}

func (d dec) checkPorts(n *yaml.Node, path string, ports []string) {
	for i, p := range ports {
		if v, err := strconv.Atoi(p); err != nil || v <= 0 || v > 65535 {
			d.errf(n, fmt.Sprintf("%s[%d]", path, i), "invalid port %q (want a number 1-65535)", p)
		}
	}
}

var mtlsModes = []string{MTLSUnset, MTLSDisable, MTLSPermissive, MTLSStrict}

func decodePeerAuthentication(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	pa := &PeerAuthentication{Namespace: m.namespace, Name: m.name, Mode: MTLSUnset, Source: d.src(o)}
	d.fields(o.spec, o.p("spec"), []string{"selector", "mtls", "portLevelMtls"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "selector":
			pa.Selector = d.matchLabelsSelector(v, p)
		case "mtls":
			d.fields(v, p, []string{"mode"}, func(_ string, v *yaml.Node, p string) {
				if mode := d.enum(v, p, mtlsModes...); mode != "" {
					pa.Mode = mode
				}
			})
		case "portLevelMtls":
			pa.PortModes = map[int]string{}
			if v.Kind != yaml.MappingNode {
				d.errf(v, p, "expected a mapping of port to {mode}, got %s", kindName(v))
				return
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				port, err := strconv.Atoi(v.Content[i].Value)
				pp := joinPath(p, v.Content[i].Value)
				if err != nil {
					d.errf(v.Content[i], pp, "invalid port %q", v.Content[i].Value)
					continue
				}
				d.fields(v.Content[i+1], pp, []string{"mode"}, func(_ string, v *yaml.Node, p string) {
					if mode := d.enum(v, p, mtlsModes...); mode != "" {
						pa.PortModes[port] = mode
					}
				})
			}
		}
	})
	d.b.t.PeerAuthentications = append(d.b.t.PeerAuthentications, pa)
	d.b.ensureNamespace(m.namespace)
}

func decodeNetworkPolicy(d dec, o objectDoc) {
	m := d.meta(o.meta, true)
	if m.name == "" {
		d.errf(o.node, o.p("metadata.name"), "missing name")
		return
	}
	np := &NetworkPolicy{Namespace: m.namespace, Name: m.name, Source: d.src(o)}
	hasEgress := false
	rules := func(v *yaml.Node, p, peersKey string) []NetworkPolicyRule {
		var out []NetworkPolicyRule
		d.list(v, p, func(it *yaml.Node, ip string) {
			var r NetworkPolicyRule
			d.fields(it, ip, []string{peersKey, "ports"}, func(k string, v *yaml.Node, p string) {
				switch k {
				case peersKey:
					d.list(v, p, func(pt *yaml.Node, pp string) {
						var peer NetworkPolicyPeer
						d.fields(pt, pp, []string{"podSelector", "namespaceSelector", "ipBlock"}, func(k string, v *yaml.Node, p string) {
							switch k {
							case "podSelector":
								peer.PodSelector = d.labelSelector(v, p)
							case "namespaceSelector":
								peer.NamespaceSelector = d.labelSelector(v, p)
							case "ipBlock":
								peer.IPBlock = &IPBlock{}
								d.fields(v, p, []string{"cidr", "except"}, func(k string, v *yaml.Node, p string) {
									switch k {
									case "cidr":
										peer.IPBlock.CIDR = d.str(v, p)
									case "except":
										peer.IPBlock.Except = d.strList(v, p)
									}
								})
							}
						})
						r.Peers = append(r.Peers, peer)
					})
				case "ports":
					d.list(v, p, func(pt *yaml.Node, pp string) {
						port := NetworkPolicyPort{Protocol: "TCP"}
						d.fields(pt, pp, []string{"protocol", "port", "endPort"}, func(k string, v *yaml.Node, p string) {
							switch k {
							case "protocol":
								port.Protocol = d.enum(v, p, "TCP", "UDP", "SCTP")
							case "port":
								if n, err := strconv.Atoi(v.Value); err == nil && v.Kind == yaml.ScalarNode {
									port.Port = n
								} else {
									port.Name = d.str(v, p)
								}
							case "endPort":
								port.EndPort = d.integer(v, p)
							}
						})
						r.Ports = append(r.Ports, port)
					})
				}
			})
			out = append(out, r)
		})
		return out
	}
	var typesSet bool
	d.fields(o.spec, o.p("spec"), []string{"podSelector", "policyTypes", "ingress", "egress"}, func(k string, v *yaml.Node, p string) {
		switch k {
		case "podSelector":
			np.PodSelector = *d.labelSelector(v, p)
		case "policyTypes":
			typesSet = true
			d.list(v, p, func(it *yaml.Node, ip string) {
				if t := d.enum(it, ip, "Ingress", "Egress"); t != "" {
					np.PolicyTypes = append(np.PolicyTypes, t)
				}
			})
		case "ingress":
			np.Ingress = rules(v, p, "from")
		case "egress":
			hasEgress = true
			np.Egress = rules(v, p, "to")
		}
	})
	if !typesSet {
		// API default: Ingress always; Egress when egress rules exist.
		np.PolicyTypes = []string{"Ingress"}
		if hasEgress {
			np.PolicyTypes = append(np.PolicyTypes, "Egress")
		}
	}
	d.b.t.NetworkPolicies = append(d.b.t.NetworkPolicies, np)
	d.b.ensureNamespace(m.namespace)
}

func decodeSidecarResource(d dec, o objectDoc) {
	kind := ""
	for i := 0; i+1 < len(o.node.Content); i += 2 {
		if o.node.Content[i].Value == "kind" {
			kind = o.node.Content[i+1].Value
		}
	}
	m := d.meta(o.meta, true)
	r := &SidecarResource{Kind: kind, Namespace: m.namespace, Name: m.name, Source: d.src(o)}
	var known []string
	switch kind {
	case "VirtualService":
		known = []string{"hosts", "gateways", "http", "tcp", "tls", "exportTo"}
	case "DestinationRule":
		known = []string{"host", "trafficPolicy", "subsets", "exportTo", "workloadSelector"}
	case "EnvoyFilter":
		known = []string{"workloadSelector", "configPatches", "priority", "targetRefs"}
	}
	d.fields(o.spec, o.p("spec"), known, func(k string, v *yaml.Node, p string) {
		switch k {
		case "hosts":
			r.Hosts = d.strList(v, p)
		case "host":
			r.Hosts = []string{d.str(v, p)}
		case "gateways":
			r.Gateways = d.strList(v, p)
		case "exportTo":
			r.ExportTo = d.strList(v, p)
		case "subsets":
			d.list(v, p, func(it *yaml.Node, ip string) {
				var name string
				var labels map[string]string
				d.fields(it, ip, []string{"name", "labels", "trafficPolicy"}, func(k string, v *yaml.Node, p string) {
					switch k {
					case "name":
						name = d.str(v, p)
						r.Subsets = append(r.Subsets, name)
					case "labels":
						labels = d.strMap(v, p)
					case "trafficPolicy":
						r.TrafficPolicy = appendKeys(r.TrafficPolicy, v)
					}
				})
				if name != "" {
					if r.SubsetLabels == nil {
						r.SubsetLabels = map[string]map[string]string{}
					}
					r.SubsetLabels[name] = labels
				}
			})
		case "trafficPolicy":
			r.TrafficPolicy = appendKeys(r.TrafficPolicy, v)
		case "targetRefs":
			r.HasTargetRefs = true
		case "workloadSelector":
			r.HasSelector = true
			d.fields(v, p, []string{"labels", "matchLabels"}, func(_ string, v *yaml.Node, p string) {
				r.Selector = d.strMap(v, p)
			})
		}
	})
	d.b.t.SidecarResources = append(d.b.t.SidecarResources, r)
	d.b.ensureNamespace(m.namespace)
	if kind == "VirtualService" {
		// A second, quiet pass for the routes (unknown fields were warned above).
		quiet := dec{b: &builder{rep: &LoadReport{}, opts: d.b.opts}, file: d.file}
		vr := quiet.decodeVirtualServiceRoutes(o.spec, o.p("spec"), m, r.Hosts, r.Gateways)
		vr.Source = d.src(o)
		d.b.errs = append(d.b.errs, quiet.b.errs...)
		d.b.t.Routes = append(d.b.t.Routes, vr)
	}
}
