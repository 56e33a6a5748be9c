package plots

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

func render(t testing.TB, s *results.Summary, opts Options) []byte {
	t.Helper()
	r, err := Build(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRenderDeterministic: the same results give byte-identical HTML, also
// after a fresh load from disk (no random chart ids, no map order, no clock).
func TestRenderDeterministic(t *testing.T) {
	for _, c := range goldenCases() {
		s1, o1 := loadCase(t, c)
		s2, o2 := loadCase(t, c)
		a, b := render(t, s1, o1), render(t, s2, o2)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renders differ: %s", c.name, golden.FirstDiff(string(a), string(b)))
		}
	}
}

// TestRenderSelfContained: the page loads nothing from anywhere: no script
// or stylesheet URLs, no fonts, no images, and ECharts is inlined whole.
func TestRenderSelfContained(t *testing.T) {
	s, opts := loadCase(t, caseNamed(t, "fixture"))
	html := string(render(t, s, opts))
	// Strip the inlined library: its own source mentions URLs (SVG
	// namespaces, docs links) that are not fetched.
	if !strings.Contains(html, echartsJS) {
		t.Fatal("ECharts is not inlined byte-for-byte")
	}
	page := strings.Replace(html, echartsJS, "", 1)
	page = strings.Replace(page, template.HTMLEscapeString(echartsNotice), "", 1) // its attribution text names a URL
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script[^>]+src=`),
		regexp.MustCompile(`(?i)<link\b`),
		regexp.MustCompile(`(?i)<img\b`),
		regexp.MustCompile(`(?i)@import|@font-face|url\(`),
		regexp.MustCompile(`(?i)https?://`),
	} {
		if loc := bad.FindStringIndex(page); loc != nil {
			t.Errorf("page references external content (%s): %q", bad, page[max(0, loc[0]-40):min(len(page), loc[1]+40)])
		}
	}
	if n := strings.Count(page, "<script"); n != 2 {
		t.Errorf("%d script elements, want 2 (ECharts, chart setup)", n)
	}
}

// TestRenderEscapesNames renders testdata/xss, whose services, workloads and
// scenario are named like markup; every one must come out as text.
func TestRenderEscapesNames(t *testing.T) {
	s, opts := loadCase(t, caseNamed(t, "xss"))
	html := string(render(t, s, opts))
	for _, bad := range []string{
		"<script>window.__xss",
		`<img src=x`,
		"</script><script>",
		"<b>bold?</b>",
		"</style><style>",
	} {
		if strings.Contains(html, bad) {
			t.Errorf("raw markup from a name reached the page: %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;img src=x onerror=&#34;window.__xss=2&#34;&gt;",     // table cell text
		`\u003cimg src=x onerror=\"window.__xss=2\"\u003e`,       // chart data
		`shop/\u003c/script\u003e\u003cscript\u003ewindow.__xss`, // chart data
		"__f__", // go-echarts' own renderer would have deleted it
	} {
		if !strings.Contains(html, want) {
			t.Errorf("escaped name %q not found in the page", want)
		}
	}
}

// bigSummary synthesises a 10,000-pod result: services×podsPerService pods
// on nodes, each service calling two others, all components listed.
func bigSummary(services, podsPerService, nodes int) *results.Summary {
	s := &results.Summary{SchemaVersion: 1, Scenario: "big", Seed: 1}
	for n := 0; n < nodes; n++ {
		s.Topology.Nodes = append(s.Topology.Nodes, results.NodeInfo{Name: fmt.Sprintf("node-%04d", n), Zone: fmt.Sprintf("zone-%d", n%3), Pods: services * podsPerService / nodes})
	}
	modes := []string{"ambient", "sidecar"}
	for i := 0; i < services; i++ {
		name := fmt.Sprintf("ns-%02d/svc-%04d", i%40, i)
		mode := []string{"ambient", "ambient-waypoint", "sidecar", "out-of-mesh"}[i%4]
		s.Topology.Services = append(s.Topology.Services, results.ServiceInfo{Name: name, Mode: mode, Pods: podsPerService})
		for _, d := range []int{(i + 1) % services, (i * 7) % services} {
			dst := fmt.Sprintf("ns-%02d/svc-%04d", d%40, d)
			s.Topology.Calls = append(s.Topology.Calls, results.CallEdge{Source: name, Destination: dst, RateRPS: float64(1 + i%17)})
			s.Paths.Pairs = append(s.Paths.Pairs, results.PathPair{Source: name, Destination: dst, Port: 8080, Category: "ambient-l4", Bypass: i%97 == 0, Hops: []string{"ztunnel/node-0001", "ztunnel/node-0002"}})
		}
	}
	for w := 0; w < 40; w++ {
		s.Topology.Waypoints = append(s.Topology.Waypoints, results.WaypointInfo{Name: fmt.Sprintf("ns-%02d/waypoint", w), Scope: "namespace", For: "service", Replicas: 2,
			Serves: []string{fmt.Sprintf("ns-%02d/svc-%04d", w, w+1)}})
	}
	for _, m := range modes {
		mr := results.ModeResult{Mode: m, Totals: results.ClusterCost{ByKind: map[string]results.KindCost{}}}
		mr.Latency = []results.LatencyRow{{Category: "all", P99Ms: 5, CDF: []results.CDFPoint{{Ms: 1, Fraction: 0.5}, {Ms: 5, Fraction: 0.99}}}}
		if m == "sidecar" {
			for p := 0; p < services*podsPerService; p++ {
				mr.Components = append(mr.Components, results.ComponentUsage{Kind: "sidecar", Instance: fmt.Sprintf("sidecar/ns/pod-%05d", p), CPUCores: 0.01 + float64(p%13)/1000, MemoryMiB: 60})
			}
		} else {
			for n := 0; n < nodes; n++ {
				mr.Components = append(mr.Components, results.ComponentUsage{Kind: "ztunnel", Instance: fmt.Sprintf("ztunnel/node-%04d", n), Node: fmt.Sprintf("node-%04d", n), CPUCores: 0.2, MemoryMiB: 50})
			}
		}
		for _, c := range mr.Components {
			kc := mr.Totals.ByKind[c.Kind]
			kc.Instances++
			kc.CPUCores += c.CPUCores
			kc.MemoryGiB += c.MemoryMiB / 1024
			mr.Totals.ByKind[c.Kind] = kc
			mr.Totals.CPUCores += c.CPUCores
			mr.Totals.MemoryGiB += c.MemoryMiB / 1024
		}
		s.Modes = append(s.Modes, mr)
	}
	return s
}

// TestReportSize keeps reports small enough to mail and open: the real
// modes-compare result under 3 MB, a 10,000-pod topology under 4 MB, with
// the aggregation said out loud.
func TestReportSize(t *testing.T) {
	s, opts := loadCase(t, caseNamed(t, "modes-compare"))
	if n := len(render(t, s, opts)); n > 3<<20 {
		t.Errorf("modes-compare report is %d bytes, want < 3 MiB", n)
	}
	big := bigSummary(2000, 5, 200)
	html := render(t, big, Options{Command: "ambientsim report big"})
	if n := len(html); n > 4<<20 {
		t.Errorf("10,000-pod report is %d bytes, want < 4 MiB", n)
	}
	for _, want := range []string{"busiest of 2,000 services", "nodes, so they are totalled per zone", "more rows not shown"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("10,000-pod report does not say %q", want)
		}
	}
	t.Logf("modes-compare: %d bytes; 10,000 pods: %d bytes", len(render(t, s, opts)), len(html))
}

func TestWriteReportAtomic(t *testing.T) {
	s, opts := loadCase(t, caseNamed(t, "minimal"))
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(s, path, opts); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(got, []byte("<!DOCTYPE html>")) {
		t.Fatalf("report not replaced: %v %.40q", err, got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := WriteReport(s, filepath.Join(dir, "missing", "report.html"), opts); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("writing into a missing directory: err = %v, want one naming the path", err)
	}
}
