package topology

import (
	"sort"
	"strings"
	"testing"
)

// goldenCases are the inputs whose path matrix and findings are pinned in
// testdata/cases/golden.txt.
var goldenCases = []struct {
	name  string
	paths []string
	opts  LoadOptions
}{
	{name: "payments-before", paths: []string{"testdata/payments/before.yaml"}},
	{name: "payments-after", paths: []string{"testdata/payments/before.yaml", "testdata/payments/fix.yaml"}},
	{name: "coverage", paths: []string{"testdata/coverage"}},
	{name: "bookinfo", paths: []string{"testdata/bookinfo"}},
	{name: "spec-example", paths: []string{"testdata/spec/example.yaml"}},
	{name: "no-namespace", paths: []string{"testdata/loader/no-namespace.yaml"}, opts: LoadOptions{DefaultNamespace: "team-a"}},
	{name: "semantics", paths: []string{"testdata/semantics"}},
	{name: "egress-gateway", paths: []string{"testdata/upstream/istio/curl.yaml", "testdata/upstream/overlays/ambient", "testdata/upstream/overlays/egress-gateway"}},
}

func loadCase(t testing.TB, paths []string, opts LoadOptions) (*Topology, *LoadReport) {
	t.Helper()
	top, rep, err := Load(paths, opts)
	if err != nil {
		t.Fatalf("Load(%v): %v", paths, err)
	}
	return top, rep
}

// TestGoldenCoverage guards the golden set itself: between them the cases
// must show every path category and every finding code.
func TestGoldenCoverage(t *testing.T) {
	cats := map[string]bool{}
	codes := map[string]bool{}
	for _, tc := range goldenCases {
		top, _ := loadCase(t, tc.paths, tc.opts)
		r := top.Paths()
		for _, p := range r.Pairs {
			cats[string(p.Path.Category)] = true
		}
		for _, f := range r.Findings {
			codes[f.Code] = true
		}
	}
	for _, c := range []Category{CatOutOfMesh, CatAmbientL4, CatAmbientWaypoint, CatSidecar, CatMixed} {
		if !cats[string(c)] {
			t.Errorf("no golden case shows path category %s", c)
		}
	}
	for _, c := range FindingCodes {
		if !codes[c] {
			t.Errorf("no golden case raises finding %s", c)
		}
	}
}

// TestPaymentsFix is the review story: the fix removes the bypass and the
// plaintext findings, and the debug pod can no longer reach payment-api.
func TestPaymentsFix(t *testing.T) {
	codesOf := func(r PathReport) []string {
		var out []string
		for _, f := range r.Findings {
			out = append(out, f.Code+" "+f.Source+">"+f.Destination)
		}
		sort.Strings(out)
		return out
	}
	before, _ := loadCase(t, []string{"testdata/payments/before.yaml"}, LoadOptions{})
	after, _ := loadCase(t, []string{"testdata/payments/before.yaml", "testdata/payments/fix.yaml"}, LoadOptions{})
	b := strings.Join(codesOf(before.Paths()), "\n")
	if !strings.Contains(b, "WAYPOINT_BYPASS payments/debug>payments/payment-api") {
		t.Errorf("before the fix: want a WAYPOINT_BYPASS from debug to payment-api, got\n%s", b)
	}
	a := codesOf(after.Paths())
	if len(a) != 1 || !strings.HasPrefix(a[0], "NOT_ENROLLED payments/debug") {
		t.Errorf("after the fix: want only NOT_ENROLLED for debug, got %v", a)
	}
	debug := after.PodsOf(after.Workload("payments", "debug"))[0]
	api := after.Service("payments", "payment-api")
	ep := after.EndpointsOf(api)[0]
	if d := after.Evaluate(debug, ep, nil, api.TargetPort(80), Request{Method: "GET", Path: "/admin/users"}); d.Allow {
		t.Errorf("after the fix the debug pod still reaches payment-api: %+v", d)
	}
	checkout := after.PodsOf(after.Workload("payments", "checkout"))[0]
	p := after.PathFrom(checkout, api, 80)
	if d := after.Evaluate(checkout, p.Endpoint, p.Waypoint, api.TargetPort(80), Request{Method: "POST", Path: "/payments/42"}); !d.Allow {
		t.Errorf("after the fix checkout's payment is denied: %+v", d)
	}
	if d := after.Evaluate(checkout, p.Endpoint, p.Waypoint, api.TargetPort(80), Request{Method: "GET", Path: "/admin/users"}); d.Allow || d.By != "waypoint/payments/waypoint" {
		t.Errorf("checkout calling /admin: want denied by the waypoint, got %+v", d)
	}
}
