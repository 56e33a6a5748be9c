package topology

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// goldenCases are the inputs whose path matrix and findings are pinned.
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
}

func loadCase(t testing.TB, paths []string, opts LoadOptions) (*Topology, *LoadReport) {
	t.Helper()
	top, rep, err := Load(paths, opts)
	if err != nil {
		t.Fatalf("Load(%v): %v", paths, err)
	}
	return top, rep
}

// reportText renders what a reviewer checks: the load report, the table.
func reportText(t *testing.T, top *Topology, rep *LoadReport) []byte {
	var b bytes.Buffer
	if rep != nil {
		fmt.Fprintf(&b, "LOAD objects=%d generated-pods=%d real-pods=%d synthetic-nodes=%v\n", rep.Objects, rep.GeneratedPods, rep.RealPods, rep.SyntheticNodes)
		for _, k := range sortedKeys(rep.Skipped) {
			fmt.Fprintf(&b, "skipped %s x%d\n", k, rep.Skipped[k])
		}
		for _, w := range rep.Warnings {
			fmt.Fprintf(&b, "warning %s\n", w)
		}
		b.WriteString("\n")
	}
	if err := top.Paths().WriteTable(&b, top.Placements()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test ./topology -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./topology -update and review the diff)\n--- got ---\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			top, rep := loadCase(t, tc.paths, tc.opts)
			checkGolden(t, filepath.Join("testdata", "golden", tc.name+".txt"), reportText(t, top, rep))
			var js bytes.Buffer
			if err := top.Paths().WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "golden", tc.name+".json"), js.Bytes())
			// The JSON decodes into the stable results type.
			var pr results.PathReport
			if err := json.Unmarshal(js.Bytes(), &pr); err != nil {
				t.Fatalf("JSON does not decode as results.PathReport: %v", err)
			}
		})
	}
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
