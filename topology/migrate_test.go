package topology

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"
)

// migrateCases are the upstream corpus inputs of the migration goldens
// (testdata/migrate/<name>.*).
var migrateCases = []struct {
	name  string
	to    Mode
	files []string
}{
	{"bookinfo-sidecar", Ambient, []string{
		"testdata/upstream/istio/bookinfo.yaml",
		"testdata/upstream/istio/networking-bookinfo-gateway.yaml",
		"testdata/upstream/istio/destination-rule-all.yaml",
		"testdata/upstream/istio/virtual-service-reviews-test-v2.yaml",
		"testdata/upstream/istio/virtual-service-ratings-test-delay.yaml",
		"testdata/upstream/istio/curl.yaml",
		"testdata/upstream/overlays/sidecar",
		"testdata/upstream/overlays/sidecar-policies",
	}},
	// The reverse: the ambient getting-started Bookinfo (waypoint, L7
	// policy with targetRefs, HTTPRoute canary) planned back to sidecars.
	{"bookinfo-ambient-rollback", Sidecar, []string{
		"testdata/upstream/istio/bookinfo.yaml",
		"testdata/upstream/istio/bookinfo-versions.yaml",
		"testdata/upstream/istio/bookinfo-gateway.yaml",
		"testdata/upstream/istio/route-reviews-90-10.yaml",
		"testdata/upstream/istio/curl.yaml",
		"testdata/upstream/overlays/ambient",
		"testdata/upstream/overlays/ambient-l7",
	}},
}

func loadFiles(t *testing.T, files []string) *Topology {
	t.Helper()
	top, _, err := Load(files, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// TestMigrateGolden: the plan (text and Markdown), the generated manifests
// and the rollback file of each corpus case.
func TestMigrateGolden(t *testing.T) {
	for _, c := range migrateCases {
		t.Run(c.name, func(t *testing.T) {
			m, err := loadFiles(t, c.files).Migrate(c.to)
			if err != nil {
				t.Fatal(err)
			}
			var txt, md bytes.Buffer
			if err := m.WriteTable(&txt); err != nil {
				t.Fatal(err)
			}
			if err := m.WriteMarkdown(&md); err != nil {
				t.Fatal(err)
			}
			base := filepath.Join("testdata", "migrate", c.name)
			golden.Check(t, base+".plan.txt", txt.Bytes())
			golden.Check(t, base+".plan.md", md.Bytes())
			f, err := m.Files(c.files, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, base+".rollback.yaml", f.Rollback)
		})
	}
}

// writeSet writes manifest files into a new directory.
func writeSet(t *testing.T, files []ManifestFile) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestMigrateFilesRejectSpec(t *testing.T) {
	m := &Migration{}
	_, err := m.Files([]string{"testdata/spec/example.yaml"}, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "compact topology spec") {
		t.Fatalf("got %v, want a compact-spec error", err)
	}
}

// migrationRequests are the requests the round trip compares on every
// row: a plain GET, a POST, and a GET carrying the corpus's JWT.
var migrationRequests = []Request{
	{Method: "GET", Path: "/"},
	{Method: "POST", Path: "/"},
	{Method: "GET", Path: "/", RequestPrincipal: "testing@secure.istio.io/testing@secure.istio.io"},
}

// rowKey names a matrix row across topologies.
func rowKey(p PathPair) string {
	return p.Source.ID() + " -> " + p.Destination.ID() + ":" + strconv.Itoa(p.Port)
}

// verdicts evaluates every request on row p of top: "allow" or the
// deciding proxy's layer and policy.
func verdicts(top *Topology, p PathPair) []string {
	var src *Pod
	if p.Source != ExternalClient {
		w := top.Workload(p.Source.Namespace, p.Source.Name)
		if w == nil || len(top.PodsOf(w)) == 0 {
			return []string{"no source"}
		}
		src = top.PodsOf(w)[0]
	}
	var out []string
	for _, req := range migrationRequests {
		req.Service = p.Destination
		d := top.Evaluate(src, p.Path.Endpoint, p.Path.Waypoint, p.Destination.TargetPort(p.Port), req)
		if d.Allow {
			out = append(out, "allow")
		} else {
			out = append(out, "deny")
		}
	}
	return out
}

// routePods is where a request to Service s:port goes: pod -> weight
// share in per mille (subset Services and DestinationRule subsets alike).
func routePods(top *Topology, s *Service, port int, headers map[string]string) map[string]int {
	rt := top.RouteTable(RouteParent{Kind: "Service", Namespace: s.Namespace, Name: s.Name, Port: port})
	d := rt.Match(RouteRequest{Method: "GET", Path: "/", Headers: headers})
	out := map[string]int{}
	if d.Status != 0 {
		out["status "+strconv.Itoa(d.Status)] = 1000
		return out
	}
	for _, b := range d.Backends {
		if len(b.Pods) == 0 || d.TotalWeight == 0 {
			out["no pod"] += 1000 * b.Weight / max(d.TotalWeight, 1)
			continue
		}
		for _, p := range b.Pods {
			out[p.Namespace+"/"+p.Name] += 1000 * b.Weight / d.TotalWeight / len(b.Pods)
		}
	}
	return out
}

// TestMigrateRoundTrip feeds the plan's result back to the path analysis:
// the cluster after every step (inputs rewritten, generated manifests
// applied) must give every row of the sidecar cluster the same verdict
// for each request, send each routed request to the same pods, put every
// Service the plan binds behind its waypoint on every in-mesh path, and
// raise no finding of an L7 policy at the wrong layer or a bypass. The
// rollback applied to that result must give back the original matrix.
func TestMigrateRoundTrip(t *testing.T) {
	c := migrateCases[0]
	before := loadFiles(t, c.files)
	m, err := before.Migrate(Ambient)
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Files(c.files, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after := loadFiles(t, []string{writeSet(t, f.After)})
	restored := loadFiles(t, []string{writeSet(t, f.Restored)})

	for _, ns := range after.Namespaces {
		if ns.Name == "default" && ns.Mode != Ambient {
			t.Errorf("namespace default is %s after the plan, want ambient", ns.Mode)
		}
	}
	for _, g := range after.FindingGroups() {
		switch g.Code {
		case CodeL7RulesAtZtunnel, CodePolicyUnenforced, CodeJWTWithoutWaypoint, CodeWaypointIdentityDenied,
			CodeRouteWithoutWaypoint, CodeWaypointBypass, CodeServiceAliasBypass, CodeEgressGatewayBypass, CodeWaypointNotApplied:
			t.Errorf("after the plan: %s %s", g.Code, g.Message)
		}
	}
	bound := map[string]bool{}
	for _, st := range m.Steps {
		if st.Edit.Op == EditLabel && st.Edit.Kind == "Service" && st.Edit.Set[lblUseWaypoint] != "" {
			bound[st.Edit.Namespace+"/"+st.Edit.Name] = true
		}
	}
	if len(bound) == 0 {
		t.Fatal("the plan binds no Service to a waypoint")
	}

	afterRows := map[string]PathPair{}
	for _, p := range after.Matrix().Pairs() {
		afterRows[rowKey(p)] = p
		if bound[p.Destination.ID()] && p.Source != ExternalClient && p.Path.Waypoint == nil {
			t.Errorf("%s: skips the waypoint of %s (%s)", rowKey(p), p.Destination.ID(), p.Path.Reason)
		}
	}
	rows := 0
	for _, p := range before.Matrix().Pairs() {
		a, ok := afterRows[rowKey(p)]
		if !ok {
			t.Errorf("%s: row missing after the plan", rowKey(p))
			continue
		}
		rows++
		bv, av := verdicts(before, p), verdicts(after, a)
		if strings.Join(bv, ",") != strings.Join(av, ",") {
			t.Errorf("%s: verdicts %v before, %v after the plan (requests %v)", rowKey(p), bv, av, migrationRequests)
		}
	}
	if rows < 20 {
		t.Fatalf("compared %d rows, want the whole Bookinfo matrix", rows)
	}

	for _, s := range before.Services {
		for _, sp := range s.Ports {
			for _, h := range []map[string]string{nil, {"end-user": "jason"}} {
				b := routePods(before, s, sp.Port, h)
				as := after.Service(s.Namespace, s.Name)
				if as == nil {
					t.Errorf("Service %s gone after the plan", s.ID())
					continue
				}
				a := routePods(after, as, sp.Port, h)
				if !sameCounts(b, a) {
					t.Errorf("Service %s:%d headers %v: routed to %v before, %v after the plan", s.ID(), sp.Port, h, b, a)
				}
			}
		}
	}

	// The rollback gives back the sidecar cluster: same matrix text.
	var want, got bytes.Buffer
	if err := before.Paths().WriteTable(&want, nil); err != nil {
		t.Fatal(err)
	}
	if err := restored.Paths().WriteTable(&got, nil); err != nil {
		t.Fatal(err)
	}
	if want.String() != got.String() {
		t.Errorf("after the rollback the path report differs from the original:\n%s", golden.FirstDiff(want.String(), got.String()))
	}
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestMigrateRoundTripCatchesAMissingLock: the round trip's bypass check
// is live: without the lock file the per-version Services the plan adds
// are aliases that skip the waypoint's policies.
func TestMigrateRoundTripCatchesAMissingLock(t *testing.T) {
	c := migrateCases[0]
	m, err := loadFiles(t, c.files).Migrate(Ambient)
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Files(c.files, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var keep []ManifestFile
	for _, x := range f.After {
		if x.Name != "zz-"+LockFile {
			keep = append(keep, x)
		}
	}
	if len(keep) == len(f.After) {
		t.Fatalf("no zz-%s among the files after the plan", LockFile)
	}
	found := false
	for _, g := range loadFiles(t, []string{writeSet(t, keep)}).FindingGroups() {
		found = found || g.Code == CodeServiceAliasBypass
	}
	if !found {
		t.Error("without the lock no SERVICE_ALIAS_BYPASS: the round trip's bypass check could not fail")
	}
}

func TestOrderInversion(t *testing.T) {
	hdr := func(v string) []ValueMatch { return []ValueMatch{{Name: "end-user", Value: v}} }
	for _, c := range []struct {
		name  string
		rules []RouteRule
		want  bool
	}{
		{"header rule before the catch-all", []RouteRule{{Matches: []RouteMatch{{Headers: hdr("jason")}}}, {}}, false},
		{"catch-all before a header rule", []RouteRule{{}, {Matches: []RouteMatch{{Headers: hdr("jason")}}}}, true},
		{"short prefix before a longer one", []RouteRule{{Matches: []RouteMatch{{PathType: "PathPrefix", Path: "/api"}}}, {Matches: []RouteMatch{{PathType: "PathPrefix", Path: "/api/v2"}}}}, true},
		{"disjoint prefixes", []RouteRule{{Matches: []RouteMatch{{PathType: "PathPrefix", Path: "/a"}}}, {Matches: []RouteMatch{{PathType: "Exact", Path: "/b"}}}}, false},
		{"different header values never overlap", []RouteRule{{Matches: []RouteMatch{{Headers: hdr("a")}}}, {Matches: []RouteMatch{{Headers: hdr("b"), Method: "GET"}}}}, false},
		{"exact before prefix", []RouteRule{{Matches: []RouteMatch{{PathType: "Exact", Path: "/login"}}}, {Matches: []RouteMatch{{PathType: "PathPrefix", Path: "/"}}}}, false},
	} {
		if got := orderInversion(c.rules) != ""; got != c.want {
			t.Errorf("%s: inversion %v, want %v", c.name, got, c.want)
		}
	}
}

// TestMigrateRoundTripToSidecar: the plan back to sidecars, fed to the
// path analysis, keeps every verdict except on rows to a destination the
// ambient cluster let callers reach without its waypoint (the plan's
// "bypass closed" items): there the sidecar enforces the policy, so a
// verdict may only become stricter. No targetRefs policy is left
// unenforced and the rollback of the plan restores the ambient matrix.
func TestMigrateRoundTripToSidecar(t *testing.T) {
	c := migrateCases[1]
	before := loadFiles(t, c.files)
	m, err := before.Migrate(Sidecar)
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Files(c.files, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after := loadFiles(t, []string{writeSet(t, f.After)})
	restored := loadFiles(t, []string{writeSet(t, f.Restored)})

	bypassed := map[string]bool{}
	for _, g := range before.FindingGroups() {
		if g.Code == CodeWaypointBypass || g.Code == CodeServiceAliasBypass {
			bypassed[g.Destination] = true
		}
	}
	closed := 0
	for _, it := range m.Items {
		if strings.HasSuffix(it.Object, "(bypass closed)") {
			closed++
		}
	}
	if len(bypassed) == 0 || closed == 0 {
		t.Fatalf("the ambient corpus has bypassed destinations %v and the plan %d bypass-closed items: want both", bypassed, closed)
	}
	for _, g := range after.FindingGroups() {
		switch g.Code {
		case CodePolicyUnenforced, CodeWaypointNotApplied, CodeJWTWithoutWaypoint:
			t.Errorf("after the plan: %s %s", g.Code, g.Message)
		}
	}
	afterRows := map[string]PathPair{}
	for _, p := range after.Matrix().Pairs() {
		afterRows[rowKey(p)] = p
		if p.Source != ExternalClient && p.Path.Category != CatSidecar && p.Source.Mode == Sidecar {
			t.Errorf("%s: category %s after the plan", rowKey(p), p.Path.Category)
		}
	}
	for _, p := range before.Matrix().Pairs() {
		a, ok := afterRows[rowKey(p)]
		if !ok {
			t.Errorf("%s: row missing after the plan", rowKey(p))
			continue
		}
		bv, av := verdicts(before, p), verdicts(after, a)
		for i := range bv {
			switch {
			case bv[i] == av[i]:
			case bypassed[p.Destination.ID()] && bv[i] == "allow" && av[i] == "deny":
			default:
				t.Errorf("%s: %v before, %v after the plan", rowKey(p), bv, av)
			}
		}
	}
	var want, got bytes.Buffer
	if err := before.Paths().WriteTable(&want, nil); err != nil {
		t.Fatal(err)
	}
	if err := restored.Paths().WriteTable(&got, nil); err != nil {
		t.Fatal(err)
	}
	if want.String() != got.String() {
		t.Errorf("after the rollback the path report differs from the original:\n%s", golden.FirstDiff(want.String(), got.String()))
	}
}

// TestMigrateVirtualServiceRetryHosts: an HTTPRoute has no field for a
// VirtualService's retryIgnorePreviousHosts: false, so the plan says a
// person must decide (its retries would avoid tried hosts); the default
// converts without a word.
func TestMigrateVirtualServiceRetryHosts(t *testing.T) {
	for _, tc := range []struct {
		retries string
		manual  bool
	}{
		{"{attempts: 3, retryOn: 5xx, retryIgnorePreviousHosts: false}", true},
		{"{attempts: 3, retryOn: 5xx, retryIgnorePreviousHosts: true}", false},
		{"{attempts: 3, retryOn: 5xx}", false},
	} {
		t.Run(tc.retries, func(t *testing.T) {
			doc := `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: [api]
  http:
    - route: [{destination: {host: api}}]
      retries: ` + tc.retries + "\n"
			top, _, err := ParseManifests("vs.yaml", []byte(doc), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := top.Migrate(Ambient)
			if err != nil {
				t.Fatal(err)
			}
			var do string
			for _, it := range m.Items {
				if it.Object == "VirtualService shop/api" {
					do = it.Do
				}
			}
			if do == "" {
				t.Fatalf("the plan has no item for VirtualService shop/api: %+v", m.Items)
			}
			if got := strings.Contains(do, "retryIgnorePreviousHosts: false has no HTTPRoute field"); got != tc.manual {
				t.Errorf("plan for the VirtualService: %q; want the retryIgnorePreviousHosts note: %v", do, tc.manual)
			}
		})
	}
}
