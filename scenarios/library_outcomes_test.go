package scenarios

// Expected outcomes of the built-in scenario library: each test runs a
// library scenario by name (from the embedded library, as `ambientsim run
// NAME` does) and checks the verdicts and numbers its docs/scenario-library.md section
// promises. Runs are deterministic (fixed seeds); tolerances on simulated
// shares are 4 binomial standard deviations of the run's own sample size,
// so they hold for any seed with probability > 0.9999 and only a change of
// behaviour fails them.

import (
	"bytes"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/topology"
)

// runLibrary runs a built-in scenario by name with its own settings.
func runLibrary(t *testing.T, name string) *Run {
	t.Helper()
	sc, err := Load(name)
	if err != nil {
		t.Fatalf("loading %s: %v", name, err)
	}
	if !sc.embedded {
		t.Fatalf("%s was not loaded from the embedded library", name)
	}
	run, err := Execute(sc, Options{})
	if err != nil {
		t.Fatalf("running %s: %v", name, err)
	}
	return run
}

// series is one sample of metrics.prom.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

// promSeries writes the run's outputs and parses metrics.prom.
func promSeries(t *testing.T, run *Run) []series {
	t.Helper()
	dir := t.TempDir()
	if _, err := run.Write(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("metrics.prom does not parse: %v", err)
	}
	var out []series
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			s := series{name: name, labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				s.value = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				s.value = float64(m.GetHistogram().GetSampleCount())
			case m.GetGauge() != nil:
				s.value = m.GetGauge().GetValue()
			}
			out = append(out, s)
		}
	}
	return out
}

// reporters returns the sorted reporter label values of metric name in mode.
func reporters(ss []series, name, mode string) []string {
	var out []string
	for _, s := range ss {
		if s.name == name && s.labels["mode"] == mode && !slices.Contains(out, s.labels["reporter"]) {
			out = append(out, s.labels["reporter"])
		}
	}
	slices.Sort(out)
	return out
}

func edgeOf(t *testing.T, m *results.ModeResult, src, dst string) results.EdgeResult {
	t.Helper()
	for _, e := range m.Edges {
		if e.Source == src && e.Destination == dst {
			return e
		}
	}
	t.Fatalf("mode %s has no edge %s -> %s", m.Mode, src, dst)
	return results.EdgeResult{}
}

func errorCount(m *results.ModeResult, cause string) int64 {
	for _, e := range m.Errors {
		if e.Cause == cause {
			return e.Count
		}
	}
	return 0
}

func hasFinding(fs []results.Finding, code, source, dest string) bool {
	for _, f := range fs {
		if f.Code == code && (source == "" || f.Source == source) && (dest == "" || f.Destination == dest) {
			return true
		}
	}
	return false
}

func compareRow(t *testing.T, s *results.Summary, metric string) []float64 {
	t.Helper()
	for _, r := range s.Comparison {
		if r.Metric == metric {
			return r.Values
		}
	}
	t.Fatalf("no comparison row %q", metric)
	return nil
}

// within4Sigma reports whether a share measured on n independent draws is
// consistent with probability p.
func within4Sigma(share, p float64, n int64) bool {
	return math.Abs(share-p) <= 4*math.Sqrt(p*(1-p)/float64(n))
}

// TestLibraryModesCompare: capability and telemetry per mode, read from
// metrics.prom, and the latency and cost ordering.
func TestLibraryModesCompare(t *testing.T) {
	run := runLibrary(t, "modes-compare")
	ss := promSeries(t, run)
	const req, tcp = "istio_requests_total", "istio_tcp_connections_opened_total"
	want := []struct {
		mode    string
		http    []string // reporters of istio_requests_total
		tcpReps []string // reporters of ztunnel/Envoy TCP metrics
	}{
		{ModeOutOfMesh, nil, nil},
		{ModeAmbient, nil, []string{"destination", "source"}}, // L4 only: no HTTP status codes
		{ModeAmbientWaypoint, []string{"waypoint"}, []string{"destination", "source"}},
		{ModeSidecar, []string{"destination", "source"}, nil},
	}
	for _, w := range want {
		if got := reporters(ss, req, w.mode); !slices.Equal(got, w.http) {
			t.Errorf("%s: istio_requests_total reporters %v, want %v", w.mode, got, w.http)
		}
		if got := reporters(ss, tcp, w.mode); !slices.Equal(got, w.tcpReps) {
			t.Errorf("%s: %s reporters %v, want %v", w.mode, tcp, got, w.tcpReps)
		}
	}
	// HTTP status codes exist only where an L7 proxy saw the request.
	for _, s := range ss {
		if s.name == req && s.labels["response_code"] != "200" {
			t.Errorf("unexpected response code in %v", s.labels)
		}
		if s.name == req && s.labels["mode"] == ModeAmbientWaypoint && s.labels["destination_service_namespace"] != "shop" {
			t.Errorf("waypoint metric for a service outside shop: %v", s.labels)
		}
	}
	// Latency and cost per mode (order: out-of-mesh, ambient, ambient+waypoint, sidecar).
	p50 := compareRow(t, run.Summary, "latency p50")
	cpu := compareRow(t, run.Summary, "mesh CPU")
	mem := compareRow(t, run.Summary, "mesh memory")
	if !(p50[0] < p50[1] && p50[1] < p50[3] && p50[3] < p50[2]) {
		t.Errorf("p50 ms %v: want out-of-mesh < ambient < sidecar < ambient+waypoint", p50)
	}
	if !(cpu[0] == 0 && cpu[1] < cpu[2] && cpu[2] < cpu[3]) {
		t.Errorf("mesh CPU %v: want 0 < ambient < ambient+waypoint < sidecar", cpu)
	}
	if !(mem[0] == 0 && mem[1] < mem[2] && mem[2] < mem[3]) {
		t.Errorf("mesh memory %v: want 0 < ambient < ambient+waypoint < sidecar", mem)
	}
	for i, f := range compareRow(t, run.Summary, "failed requests") {
		if f != 0 {
			t.Errorf("mode %s: %v failed requests", run.Summary.Modes[i].Mode, f)
		}
	}
}

// TestLibraryWaypointBypass: the debug pod bypasses the waypoint before the
// fix (static finding and successful, bypassed admin calls) and is stopped
// after it; the ambient caller gets 403 at the waypoint in both.
func TestLibraryWaypointBypass(t *testing.T) {
	const debug, api = "payments/debug", "payments/payment-api"
	for _, tc := range []struct {
		name  string
		fixed bool
	}{{"waypoint-bypass", false}, {"waypoint-bypass-fixed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			run := runLibrary(t, tc.name)
			sum := run.Summary
			if got := hasFinding(sum.Paths.Findings, "WAYPOINT_BYPASS", debug, api); got == tc.fixed {
				t.Errorf("WAYPOINT_BYPASS debug -> payment-api present = %v, want %v", got, !tc.fixed)
			}
			if got := hasFinding(sum.Paths.Findings, "PLAINTEXT_ACCEPTED", debug, api); got == tc.fixed {
				t.Errorf("PLAINTEXT_ACCEPTED present = %v, want %v", got, !tc.fixed)
			}
			m := &sum.Modes[0]
			// The debug pod's admin calls.
			d := edgeOf(t, m, debug, api)
			if d.Category != "out-of-mesh" || d.Calls < 50 {
				t.Fatalf("debug edge %+v", d)
			}
			if !tc.fixed && (d.Failed != 0 || d.Bypassed != d.Calls) {
				t.Errorf("before the fix: debug admin calls %d, failed %d, bypassed %d; want all succeeded and bypassed", d.Calls, d.Failed, d.Bypassed)
			}
			if tc.fixed && (d.Failed != d.Calls || d.Bypassed != 0 || errorCount(m, "network_policy_drop") != d.Calls) {
				t.Errorf("after the fix: debug admin calls %d, failed %d, bypassed %d, network_policy_drop %d; want all dropped",
					d.Calls, d.Failed, d.Bypassed, errorCount(m, "network_policy_drop"))
			}
			// The ambient caller without admin rights: 403 at the waypoint, both times.
			r := edgeOf(t, m, "payments/reporting", api)
			if r.Category != "ambient-waypoint" || r.Calls < 100 || r.Failed != r.Calls || r.Bypassed != 0 {
				t.Errorf("reporting edge %+v: want every call denied at the waypoint", r)
			}
			if got := errorCount(m, "l7_denied_403"); got != r.Calls {
				t.Errorf("l7_denied_403 = %d, want reporting's %d calls", got, r.Calls)
			}
			// The allowed callers still pass, through the waypoint.
			for _, src := range []string{"payments/checkout", "payments/admin-console"} {
				e := edgeOf(t, m, src, api)
				if e.Category != "ambient-waypoint" || e.Calls == 0 || e.Failed != 0 || e.Bypassed != 0 {
					t.Errorf("%s edge %+v: want all calls allowed via the waypoint", src, e)
				}
			}
		})
	}
	// The same verdict from the manifests on disk, as `ambientsim paths` reads them.
	for _, tc := range []struct {
		dirs []string
		want bool
	}{
		{[]string{"library/manifests/payments"}, true},
		{[]string{"library/manifests/payments", "library/manifests/payments-fix"}, false},
	} {
		top, _, err := topology.LoadManifests(tc.dirs, topology.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := hasFinding(FindingResults(top.Paths().Findings), "WAYPOINT_BYPASS", debug, api)
		if got != tc.want {
			t.Errorf("paths %v: WAYPOINT_BYPASS = %v, want %v", tc.dirs, got, tc.want)
		}
	}
}

// canaryShare returns the share of requests reviews-v2's pods served and
// the total.
func canaryShare(t *testing.T, m *results.ModeResult) (float64, int64) {
	t.Helper()
	var v1, v2 int64
	for _, c := range m.Components {
		switch {
		case strings.HasPrefix(c.Instance, "app/shop/reviews-v1-"):
			v1 += c.RequestsSeen
		case strings.HasPrefix(c.Instance, "app/shop/reviews-v2-"):
			v2 += c.RequestsSeen
		}
	}
	if v1+v2 < 1000 {
		t.Fatalf("only %d requests reached reviews", v1+v2)
	}
	return float64(v2) / float64(v1+v2), v1 + v2
}

// TestLibraryCanary: the VirtualService is ignored in ambient without a
// waypoint (split by endpoint count, 1 pod in 4); the HTTPRoute served by a
// waypoint splits 90/10 and the waypoint's telemetry shows the same split.
func TestLibraryCanary(t *testing.T) {
	t.Run("virtualservice", func(t *testing.T) {
		run := runLibrary(t, "canary-virtualservice")
		for _, f := range []struct{ code, policy string }{
			{"SIDECAR_ONLY_RESOURCE", "VirtualService/shop/reviews"},
			{"SIDECAR_ONLY_RESOURCE", "DestinationRule/shop/reviews"},
		} {
			found := false
			for _, x := range run.Summary.Paths.Findings {
				found = found || (x.Code == f.code && x.Policy == f.policy)
			}
			if !found {
				t.Errorf("no %s for %s in %+v", f.code, f.policy, run.Summary.Paths.Findings)
			}
		}
		m := &run.Summary.Modes[0]
		share, n := canaryShare(t, m)
		if !within4Sigma(share, 0.25, n) || within4Sigma(share, 0.10, n) {
			t.Errorf("share to v2 = %.4f of %d requests: want 0.25 (1 endpoint of 4), not 0.10", share, n)
		}
		if e := edgeOf(t, m, "shop/frontend", "shop/reviews"); e.Category != "ambient-l4" || e.Failed != 0 {
			t.Errorf("frontend -> reviews %+v", e)
		}
		for _, s := range promSeries(t, run) {
			if s.name == "istio_requests_total" {
				t.Fatalf("L4-only canary has HTTP metrics: %v", s.labels)
			}
		}
	})
	t.Run("httproute", func(t *testing.T) {
		run := runLibrary(t, "canary-httproute")
		for _, code := range []string{"SIDECAR_ONLY_RESOURCE", "ROUTE_WITHOUT_WAYPOINT"} {
			if hasFinding(run.Summary.Paths.Findings, code, "", "") {
				t.Errorf("unexpected %s", code)
			}
		}
		m := &run.Summary.Modes[0]
		share, n := canaryShare(t, m)
		if !within4Sigma(share, 0.10, n) {
			t.Errorf("share to v2 = %.4f of %d requests, want 0.10 ± %.4f", share, n, 4*math.Sqrt(0.09/float64(n)))
		}
		if e := edgeOf(t, m, "shop/frontend", "shop/reviews"); e.Category != "ambient-waypoint" || e.Failed != 0 {
			t.Errorf("frontend -> reviews %+v", e)
		}
		// Telemetry: the waypoint reports per backend service, same split.
		var v1, v2 float64
		for _, s := range promSeries(t, run) {
			if s.name != "istio_requests_total" {
				continue
			}
			if s.labels["reporter"] != "waypoint" || s.labels["response_code"] != "200" {
				t.Errorf("unexpected series %v", s.labels)
			}
			switch s.labels["destination_service"] {
			case "reviews-v1.shop.svc.cluster.local":
				v1 += s.value
			case "reviews-v2.shop.svc.cluster.local":
				v2 += s.value
			default:
				t.Errorf("unexpected destination_service %q", s.labels["destination_service"])
			}
		}
		if v1+v2 < 1000 {
			t.Fatalf("waypoint reported %v requests", v1+v2)
		}
		tel := v2 / (v1 + v2)
		if !within4Sigma(tel, 0.10, int64(v1+v2)) || math.Abs(tel-share) > 0.005 {
			t.Errorf("telemetry share to v2 = %.4f, pods saw %.4f; want both 0.10", tel, share)
		}
	})
}

// TestLibraryWaypointScope: who shares the critical service's waypoint
// (blast radius), what share of requests touches them, and what each
// design costs.
func TestLibraryWaypointScope(t *testing.T) {
	run := runLibrary(t, "waypoint-scope")
	sum := run.Summary
	m := &sum.Modes[0]
	want := []struct {
		ns       string
		shares   []string // services sharing payments' waypoint
		top      string   // the member of shares nearest the entry
		caller   string   // its caller
		fraction float64  // share of requests touching the waypoint
		replicas int      // replicas of payments' waypoint
		total    int      // waypoint replicas in the namespace
	}{
		{"scope-namespace", []string{"cart", "catalog", "frontend", "payments", "recommendations", "shipping"}, "frontend", "loadgen/client", 1.0, 1, 1},
		{"scope-service", []string{"payments"}, "payments", "cart", 0.2, 1, 6},
		{"scope-account", []string{"cart", "payments", "shipping"}, "cart", "frontend", 0.4, 1, 3},
		{"scope-dedicated", []string{"payments"}, "payments", "cart", 0.2, 2, 3},
	}
	mem := map[string]float64{}
	cpu := map[string]float64{} // CPU seconds per request the waypoints saw
	seen := map[string]int64{}
	for _, c := range m.Components {
		if c.Kind == "waypoint" {
			ns := strings.Split(c.Instance, "/")[1]
			mem[ns] += c.MemoryMiB
			cpu[ns] += c.CPUCores * sum.DurationS
			seen[ns] += c.RequestsSeen
		}
	}
	for ns := range cpu {
		cpu[ns] /= float64(seen[ns])
	}
	for _, w := range want {
		var wp *results.WaypointInfo
		total := 0
		for i := range sum.Topology.Waypoints {
			x := &sum.Topology.Waypoints[i]
			if !strings.HasPrefix(x.Name, w.ns+"/") {
				continue
			}
			total += x.Replicas
			if slices.Contains(x.Serves, w.ns+"/payments") {
				wp = x
			}
		}
		if wp == nil {
			t.Fatalf("%s: no waypoint serves payments", w.ns)
		}
		var shares []string
		for _, s := range wp.Serves {
			shares = append(shares, strings.TrimPrefix(s, w.ns+"/"))
		}
		if !slices.Equal(shares, w.shares) || wp.Replicas != w.replicas || total != w.total {
			t.Errorf("%s: payments' waypoint %s serves %v with %d replicas (namespace total %d); want %v, %d, %d",
				w.ns, wp.Name, shares, wp.Replicas, total, w.shares, w.replicas, w.total)
		}
		caller := w.caller
		if !strings.Contains(caller, "/") {
			caller = w.ns + "/" + caller
		}
		entry := edgeOf(t, m, "loadgen/client", w.ns+"/frontend")
		into := edgeOf(t, m, caller, w.ns+"/"+w.top)
		frac := float64(into.Calls) / float64(entry.Calls)
		ok := frac == 1
		if w.fraction < 1 {
			ok = within4Sigma(frac, w.fraction, entry.Calls)
		}
		if !ok {
			t.Errorf("%s: %.3f of requests touch payments' waypoint, want %.2f", w.ns, frac, w.fraction)
		}
		instances := 0
		for _, c := range m.Components {
			if c.Kind == "waypoint" && strings.HasPrefix(c.Instance, "waypoint/"+w.ns+"/") {
				instances++
			}
		}
		if instances != w.total {
			t.Errorf("%s: %d waypoint instances simulated, want %d", w.ns, instances, w.total)
		}
	}
	// Cost: memory follows the replica count; CPU follows the requests
	// (the same per request in every design, within 15%).
	if !(mem["scope-namespace"] < mem["scope-account"] && mem["scope-account"] < mem["scope-service"]) ||
		math.Abs(mem["scope-service"]/mem["scope-namespace"]-6) > 0.5 {
		t.Errorf("waypoint memory MiB by design %v", mem)
	}
	for ns, c := range cpu {
		if math.Abs(c/cpu["scope-namespace"]-1) > 0.15 {
			t.Errorf("waypoint CPU per request of %s = %.0f µs, namespace design %.0f µs: want within 15%%", ns, c*1e6, cpu["scope-namespace"]*1e6)
		}
	}
	// Simulated: replica 0 of payments' waypoint crashes for 5 s in each
	// design, each failure run alone. The requests failed follow the share
	// touching the waypoint (100 rps for 5 s ≈ 500 requests: 100 % / 20 % /
	// 40 %); the dedicated waypoint's second replica absorbs the crash.
	failed := map[string]int64{}
	for _, f := range sum.Failures {
		ns := strings.TrimSuffix(strings.TrimPrefix(f.Target, "service="), "/payments")
		failed[ns] = f.FailedRequests
		for _, w := range want {
			if w.ns != ns {
				continue
			}
			var svcs []string
			for _, s := range f.Services {
				svcs = append(svcs, strings.TrimPrefix(s, ns+"/"))
			}
			if !slices.Equal(svcs, w.shares) {
				t.Errorf("%s: failure affects services %v, want %v", f.Name, svcs, w.shares)
			}
		}
	}
	if n := failed["scope-namespace"]; n < 400 || n > 700 {
		t.Errorf("namespace waypoint crash failed %d requests, want ≈ 500", n)
	}
	for ns, want := range map[string]float64{"scope-service": 0.2, "scope-account": 0.4} {
		if r := float64(failed[ns]) / float64(failed["scope-namespace"]); math.Abs(r-want) > 0.08 {
			t.Errorf("%s: failed %d = %.2f of the namespace design's %d, want %.1f", ns, failed[ns], r, failed["scope-namespace"], want)
		}
	}
	if failed["scope-dedicated"] != 0 {
		t.Errorf("dedicated 2-replica waypoint: %d failed requests, want 0", failed["scope-dedicated"])
	}
}

// TestLibraryCostAtScale: the cost table of the 100- and 1,000-pod variants
// and the break-even points; the 10,000-pod variant is only parsed and built
// (it takes seconds; run it by hand).
func TestLibraryCostAtScale(t *testing.T) {
	for _, name := range []string{"cost-at-scale-100", "cost-at-scale-1000"} {
		t.Run(name, func(t *testing.T) {
			run := runLibrary(t, name)
			s := run.Summary
			modes := []string{ModeAmbient, ModeAsManifests, ModeAmbientWaypoint, ModeSidecar}
			for i, m := range s.Modes {
				if m.Mode != modes[i] {
					t.Fatalf("modes %v", s.Modes)
				}
				if m.Requests.Failed != 0 {
					t.Errorf("%s: %d failed", m.Mode, m.Requests.Failed)
				}
			}
			cpu := compareRow(t, s, "mesh CPU")
			mem := compareRow(t, s, "mesh memory")
			const A, Mix, W, S = 0, 1, 2, 3
			if !(cpu[A] < cpu[Mix] && cpu[Mix] < cpu[W] && cpu[W] < cpu[S]) {
				t.Errorf("mesh CPU %v: want ambient < 70/30 mix < all waypoints < sidecar", cpu)
			}
			if mem[S] < 5*mem[Mix] {
				t.Errorf("mesh memory %v: want sidecar > 5x the 70/30 mix", mem)
			}
			// Cost is linear in the waypoint share.
			for _, row := range [][]float64{cpu, mem} {
				if lin := 0.7*row[A] + 0.3*row[W]; math.Abs(row[Mix]/lin-1) > 0.03 {
					t.Errorf("70/30 mix %.4f vs 0.7 ambient + 0.3 ambient+waypoint = %.4f", row[Mix], lin)
				}
			}
			// CPU break-even share of waypoint traffic: beyond 100%, i.e.
			// ambient costs less CPU even with every namespace behind a waypoint.
			if f := (cpu[S] - cpu[A]) / (cpu[W] - cpu[A]); f <= 1 {
				t.Errorf("CPU break-even waypoint share %.2f, want > 1", f)
			}
			// Memory break-even: waypoint replicas per application pod at
			// which ambient memory reaches the sidecars'.
			pods := 0
			for _, n := range s.Topology.Nodes {
				pods += n.Pods
			}
			nWP := s.Modes[W].Totals.ByKind["waypoint"].Instances
			perWP := (mem[W] - mem[A]) / float64(nWP)
			r := (mem[S] - mem[A]) / perWP / float64(pods)
			// A waypoint replica (≈ 57 MiB + its services) costs about what one
			// sidecar does (≈ 56 MiB + the whole mesh's config), and istiod
			// serves a sidecar per pod, so ambient stays cheaper until about
			// one waypoint replica per pod.
			if r < 0.95 || r > 1.3 {
				t.Errorf("memory break-even %.2f waypoint replicas per pod (%d pods, %d waypoints), want 0.95-1.3", r, pods, nWP)
			}
			t.Logf("%s: CPU cores %v, memory GiB %v, CPU break-even share %.2f, memory break-even %.2f waypoint replicas/pod",
				name, cpu, mem, (cpu[S]-cpu[A])/(cpu[W]-cpu[A]), r)
		})
	}
	sc, err := Load("cost-at-scale-10000")
	if err != nil {
		t.Fatal(err)
	}
	top, err := sc.BuildTopology(ModeAsManifests)
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Pods) < 10000 || len(top.Waypoints) != 300 || len(top.Nodes) != 500 {
		t.Errorf("cost-at-scale-10000: %d pods, %d waypoints, %d nodes", len(top.Pods), len(top.Waypoints), len(top.Nodes))
	}
}

// TestLibraryBookinfoImport runs the imported Bookinfo export by name from
// an unrelated working directory: the manifests come from the embedded
// library.
func TestLibraryBookinfoImport(t *testing.T) {
	t.Chdir(t.TempDir())
	run := runLibrary(t, "bookinfo-import")
	s := run.Summary
	if len(s.Paths.Findings) != 0 {
		t.Errorf("findings %+v", s.Paths.Findings)
	}
	var nodes []string
	for _, n := range s.Topology.Nodes {
		nodes = append(nodes, n.Name)
	}
	if !slices.Equal(nodes, []string{"kind-worker", "kind-worker2", "kind-worker3"}) {
		t.Errorf("nodes %v: want the exported kind nodes", nodes)
	}
	m := &s.Modes[0]
	if m.Requests.Failed != 0 || m.Requests.Succeeded < 900 {
		t.Errorf("requests %+v", m.Requests)
	}
	cats := map[string]string{
		"loadgen/fortio->bookinfo/productpage":      "ambient-l4",
		"bookinfo/productpage-v1->bookinfo/details": "ambient-l4",
		"bookinfo/productpage-v1->bookinfo/reviews": "ambient-waypoint",
		"bookinfo/reviews-v2->bookinfo/ratings":     "ambient-l4",
		"bookinfo/reviews-v3->bookinfo/ratings":     "ambient-l4",
	}
	if len(m.Edges) != len(cats) {
		t.Errorf("%d edges, want %d", len(m.Edges), len(cats))
	}
	for _, e := range m.Edges {
		if want := cats[e.Source+"->"+e.Destination]; e.Category != want || e.Failed != 0 {
			t.Errorf("edge %s -> %s: category %s failed %d, want %s and none", e.Source, e.Destination, e.Category, e.Failed, want)
		}
	}
	// The waypoint balances reviews per request over v1, v2, v3; only v2
	// and v3 call ratings.
	rev := edgeOf(t, m, "bookinfo/productpage-v1", "bookinfo/reviews").Calls
	rat := edgeOf(t, m, "bookinfo/reviews-v2", "bookinfo/ratings").Calls + edgeOf(t, m, "bookinfo/reviews-v3", "bookinfo/ratings").Calls
	if math.Abs(float64(rat)/float64(rev)-2.0/3) > 0.02 {
		t.Errorf("ratings calls %d of %d reviews calls, want 2/3", rat, rev)
	}
	// Only the waypoint-served service has HTTP metrics.
	for _, x := range promSeries(t, run) {
		if x.name == "istio_requests_total" && (x.labels["reporter"] != "waypoint" || x.labels["destination_service_name"] != "reviews") {
			t.Errorf("HTTP metric outside the waypoint: %v", x.labels)
		}
	}
}

// TestLibraryRunsByName: every built-in scenario loads by name from any
// working directory (manifests included) and builds its topology.
func TestLibraryRunsByName(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, e := range Library() {
		sc, err := Load(e.Name)
		if err != nil {
			t.Errorf("%s: %v", e.Name, err)
			continue
		}
		if e.Description == "" || strings.Contains(e.Description, "\n") {
			t.Errorf("%s: description %q, want one line", e.Name, e.Description)
		}
		if len(sc.Topology.Manifests) == 0 {
			continue // generative: built by TestLibrary
		}
		if _, err := sc.BuildTopology(sc.Modes[0]); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
		if _, err := inputsHash(sc, &models.Profile{}); err != nil {
			t.Errorf("%s: hashing inputs: %v", e.Name, err)
		}
	}
}

// TestLibraryNodeVsSidecar: a ztunnel crash is a node-level failure domain
// (every service with a pod on the node), a sidecar crash a per-pod one.
func TestLibraryNodeVsSidecar(t *testing.T) {
	run := runLibrary(t, "node-vs-sidecar-blast-radius")
	all := []string{"shop/cart", "shop/catalog", "shop/inventory", "shop/payments", "shop/search", "shop/web"}
	got := map[string]results.FailureResult{}
	for _, f := range run.Summary.Failures {
		got[f.Name+"@"+f.Mode] = f
	}
	if len(got) != 4 {
		t.Fatalf("failure results %v, want 2 failures x 2 modes", slices.Sorted(maps.Keys(got)))
	}
	zt := got["node-1-ztunnel-crash@ambient"]
	if !slices.Equal(zt.Services, all) || len(zt.Pods) != 7 || zt.FailedRequests < 400 {
		t.Errorf("ztunnel crash in ambient: services %v, %d pods, %d failed; want all 6 services, 7 pods, >= 400 (client-0's own 1/3 of 1500)",
			zt.Services, len(zt.Pods), zt.FailedRequests)
	}
	sc := got["web-0-sidecar-crash@sidecar"]
	if !slices.Equal(sc.Services, []string{"shop/web"}) || !slices.Equal(sc.Pods, []string{"shop/web-0"}) || sc.FailedRequests > 20 {
		t.Errorf("sidecar crash in sidecar mode: services %v, pods %v, %d failed; want shop/web, shop/web-0, <= 20 (retried elsewhere)",
			sc.Services, sc.Pods, sc.FailedRequests)
	}
	for _, k := range []string{"node-1-ztunnel-crash@sidecar", "web-0-sidecar-crash@ambient"} {
		if f := got[k]; f.FailedRequests != 0 || len(f.Services) != 0 {
			t.Errorf("%s: not applicable, yet %d failed, services %v", k, f.FailedRequests, f.Services)
		}
	}
}

// TestLibraryNodeSaturation: at fortio's 100 qps nothing is busy; the
// capacity search finds the knee where productpage's 2-vCPU node
// saturates, and sidecars, which spend more of its cores, reach it first.
func TestLibraryNodeSaturation(t *testing.T) {
	run := runLibrary(t, "node-saturation")
	for _, m := range run.Summary.Modes {
		if r := m.Edges[0].RateRPS; math.Abs(r-100) > 2 {
			t.Errorf("%s: fortio -c 32 -qps 100 sent %.1f/s", m.Mode, r)
		}
		for _, u := range m.Machines {
			if u.Type != "m5.large" || u.Cores != 2 || u.Utilisation > 0.2 {
				t.Errorf("%s: machine %+v: want an m5.large well below saturation at 100 qps", m.Mode, u)
			}
		}
	}
	c := run.Summary.Capacity
	if len(c) != 2 || c[0].Mode != ModeAmbient || c[1].Mode != ModeSidecar {
		t.Fatalf("capacity %+v", c)
	}
	// productpage's node: 1 ms of app CPU per request on one physical core
	// with two hyperthreads (1.25 cores of work when both are busy) caps
	// it near 1,000/s; the proxies' CPU comes off that.
	if !(c[0].MaxQPS > 600 && c[0].MaxQPS < 1100 && c[1].MaxQPS > 300 && c[1].MaxQPS < c[0].MaxQPS) {
		t.Errorf("max qps within p99 25 ms: ambient %.0f, sidecar %.0f; want ambient in (600, 1100) and sidecar lower", c[0].MaxQPS, c[1].MaxQPS)
	}
}
