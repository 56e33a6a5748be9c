package scenarios

// Failure injection and blast radius: the five built-in failure scenarios
// and their expected outcomes (docs/failures.md), exact-answer tests, error
// accounting in every mode and design, determinism, and the parser.

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

func execFailures(t *testing.T, sc *Scenario) *Run {
	t.Helper()
	run, err := Execute(sc, Options{})
	if err != nil {
		t.Fatalf("%s: %v", sc.Name, err)
	}
	checkReconciles(t, sc.Name, run)
	return run
}

func loadLib(t *testing.T, name string) *Scenario {
	t.Helper()
	sc, err := Load(name)
	if err != nil {
		t.Fatalf("loading %s: %v", name, err)
	}
	return sc
}

// checkReconciles asserts Offered = Succeeded + Failed + InFlight in every
// mode and every what-if design (InFlight is counted independently).
func checkReconciles(t *testing.T, name string, run *Run) {
	t.Helper()
	check := func(label string, r models.RequestCounts) {
		if r.Offered != r.Succeeded+r.Failed+r.InFlight || r.InFlight < 0 {
			t.Errorf("%s %s: offered %d != succeeded %d + failed %d + in flight %d", name, label, r.Offered, r.Succeeded, r.Failed, r.InFlight)
		}
		if r.Offered == 0 {
			t.Errorf("%s %s: no requests", name, label)
		}
	}
	for _, m := range run.Modes {
		check(m.Mode, m.Measured.Requests)
	}
	for i, d := range run.Designs {
		check(fmt.Sprintf("design %d (%s)", i, d.Mode), d.Measured.Requests)
	}
}

func failureIn(t *testing.T, run *Run, name, mode string) results.FailureResult {
	t.Helper()
	for _, f := range run.Summary.Failures {
		if f.Name == name && f.Mode == mode {
			return f
		}
	}
	t.Fatalf("no failure %s in mode %s", name, mode)
	return results.FailureResult{}
}

func workloads(f results.FailureResult) []string {
	var out []string
	for _, a := range f.Transitive {
		out = append(out, a.Workload)
	}
	return out
}

func whatIf(t *testing.T, run *Run, design string) results.WhatIfResult {
	t.Helper()
	for _, w := range run.Summary.WhatIf {
		if w.Design == design {
			return w
		}
	}
	t.Fatalf("no what-if design %q", design)
	return results.WhatIfResult{}
}

// expectedZtunnelBlast is the exact answer for a ztunnel crash on node:
// its ambient pods, and the workloads whose calls fail — every transitive
// caller of those pods' workloads (least), plus the pods' own workloads
// when they originate requests (external sources always do; a server on
// the node does only for requests it had in flight at the crash, as no
// new request reaches it) (most). Nobody outside most is ever affected.
func expectedZtunnelBlast(top *topology.Topology, node string) (pods, least, most []string) {
	direct := map[string]bool{}
	for _, p := range top.Pods {
		if p.Node == node && p.Mode == topology.Ambient && p.Workload != nil {
			pods = append(pods, p.ID())
			direct[p.Workload.ID()] = true
		}
	}
	lo, hi := map[string]bool{}, map[string]bool{}
	for _, w := range newCallGraph(top).upstream(sortedKeys(direct)) {
		lo[w], hi[w] = true, true
	}
	for w := range direct {
		for _, c := range top.Calls {
			if c.From.ID() == w {
				hi[w] = true
				if c.RateRPS > 0 {
					lo[w] = true
				}
			}
		}
	}
	slices.Sort(pods)
	return pods, sortedKeys(lo), sortedKeys(hi)
}

func checkBetween(t *testing.T, label string, got, least, most []string) {
	t.Helper()
	for _, w := range least {
		if !slices.Contains(got, w) {
			t.Errorf("%s: %s not affected; got %v, want at least %v", label, w, got, least)
		}
	}
	for _, w := range got {
		if !slices.Contains(most, w) {
			t.Errorf("%s: %s affected; got %v, want at most %v", label, w, got, most)
		}
	}
}

// TestLibraryZtunnelNodeFailure: the crash hits exactly the pods on the
// node of shop/db and their transitive callers, is visible within 2 s,
// recovers within 2 s of the restart; billing never notices; sidecar mode
// has no ztunnel to lose.
func TestLibraryZtunnelNodeFailure(t *testing.T) {
	sc := loadLib(t, "ztunnel-node-failure")
	run := execFailures(t, sc)
	for _, mode := range sc.Modes {
		top, err := sc.BuildTopology(mode)
		if err != nil {
			t.Fatal(err)
		}
		f := failureIn(t, run, "db-node-ztunnel-crash", mode)
		node := top.EndpointsOf(serviceByID(top, "shop/db"))[0].Node
		pods, least, most := expectedZtunnelBlast(top, node)
		if !slices.Equal(f.Nodes, []string{node}) || !slices.Equal(f.Instances, []string{"ztunnel/" + node}) {
			t.Errorf("%s: nodes %v instances %v, want [%s]", mode, f.Nodes, f.Instances, node)
		}
		if !slices.Equal(f.Pods, pods) {
			t.Errorf("%s: pods %v, want %v", mode, f.Pods, pods)
		}
		checkBetween(t, mode, workloads(f), least, most)
		for _, w := range workloads(f) {
			if strings.HasPrefix(w, "billing/") {
				t.Errorf("%s: billing affected: %v", mode, w)
			}
		}
		if f.FailedRequests == 0 || f.DetectS <= 0 || f.DetectS > 2 || f.RecoverS < 5 || f.RecoverS > 7 {
			t.Errorf("%s: failed %d detect %v recover %v; want failures, detect in (0,2], recover in [5,7]", mode, f.FailedRequests, f.DetectS, f.RecoverS)
		}
		if len(f.Series) == 0 {
			t.Errorf("%s: no time series", mode)
		}
	}
	sc0 := whatIf(t, run, "scenario (ambient)")
	side := whatIf(t, run, "sidecar")
	if sc0.Failed == 0 || side.Failed != 0 || side.Affected != 0 {
		t.Errorf("what-if: ambient failed %d; sidecar failed %d affected %d (no ztunnel: want 0)", sc0.Failed, side.Failed, side.Affected)
	}
}

// TestZtunnelCrashEveryNode: for every node of a spread topology with
// per-request connections, the blast radius is exactly the node's pods'
// calling workloads and their transitive callers — nobody else.
func TestZtunnelCrashEveryNode(t *testing.T) {
	base := loadLib(t, "ztunnel-node-failure")
	top0, err := base.BuildTopology(ModeAmbient)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range top0.Nodes {
		sc := loadLib(t, "ztunnel-node-failure")
		sc.Modes = []string{ModeAmbient}
		sc.WhatIf = nil
		sc.Duration = Duration(12 * sim.Second)
		sc.Traffic.Defaults.Connections = "per-request"
		sc.Failures[0].At = Duration(4 * sim.Second)
		sc.Failures[0].Target = FailureTarget{Node: n.Name}
		run := execFailures(t, sc)
		f := failureIn(t, run, sc.Failures[0].Name, ModeAmbient)
		pods, least, most := expectedZtunnelBlast(top0, n.Name)
		if !slices.Equal(f.Pods, pods) {
			t.Errorf("%s: pods %v, want %v", n.Name, f.Pods, pods)
		}
		checkBetween(t, n.Name, workloads(f), least, most)
	}
}

// TestWaypointCrashStaysInNamespace: crashing the only replica of
// namespace a's waypoint never affects namespace b's workloads or calls.
func TestWaypointCrashStaysInNamespace(t *testing.T) {
	sc, err := Parse("wp.yaml", []byte(`
modes: [ambient+waypoint]
duration: 12s
warmup: 1s
topology:
  spec:
    nodes: {count: 3}
    namespaces:
      - name: loadgen
        workloads: [{name: client, replicas: 2}]
      - name: a
        services: [{name: front, replicas: 2}, {name: back, replicas: 2}]
      - name: b
        services: [{name: front, replicas: 2}, {name: back, replicas: 2}]
    calls:
      - {from: loadgen/client, to: a/front, rate: 150}
      - {from: loadgen/client, to: b/front, rate: 150}
      - {from: a/front, to: a/back}
      - {from: b/front, to: b/back}
traffic:
  defaults: {connections: per-request, timeout: 1s}
failures:
  - {name: a-waypoint, kind: waypoint-crash, at: 3s, duration: 4s, target: {waypoint: a/waypoint}}
`))
	if err != nil {
		t.Fatal(err)
	}
	run := execFailures(t, sc)
	f := failureIn(t, run, "a-waypoint", ModeAmbientWaypoint)
	if !slices.Equal(f.Instances, []string{"waypoint/a/waypoint/0"}) || !slices.Equal(f.Services, []string{"a/back", "a/front"}) {
		t.Errorf("instances %v services %v", f.Instances, f.Services)
	}
	// a/front receives its requests through the waypoint too, so it
	// makes no calls while the waypoint is down: only the client fails.
	if got := workloads(f); !slices.Equal(got, []string{"loadgen/client"}) {
		t.Errorf("transitive %v, want [loadgen/client]", got)
	}
	for _, p := range f.Series {
		if strings.HasPrefix(p.Service, "b/") {
			t.Errorf("series for %s: namespace b affected", p.Service)
		}
	}
	for _, e := range run.Modes[0].Measured.Edges {
		if strings.HasPrefix(e.Destination, "b/") && e.Failed != 0 {
			t.Errorf("edge %s -> %s: %d failed", e.Source, e.Destination, e.Failed)
		}
	}
}

// TestLibraryWaypointChokepoint: the surge on search saturates the shared
// namespace waypoint and checkout's callers fail too; with per-service
// waypoints only the surging caller is affected.
func TestLibraryWaypointChokepoint(t *testing.T) {
	run := execFailures(t, loadLib(t, "waypoint-chokepoint"))
	shared := whatIf(t, run, "scenario (ambient+waypoint)")
	dedicated := whatIf(t, run, "per-service waypoints")
	if !slices.Equal(shared.Workloads, []string{"loadgen/crawler", "loadgen/shoppers"}) {
		t.Errorf("shared waypoint: affected %v, want crawler and shoppers", shared.Workloads)
	}
	if !slices.Equal(dedicated.Workloads, []string{"loadgen/crawler"}) {
		t.Errorf("dedicated waypoints: affected %v, want only crawler", dedicated.Workloads)
	}
	// The HPA sees the saturated replica's CPU capped at its two workers
	// and scales out once (to 2 of 4), as the surge ends; keep-alive
	// connections stay on the saturated replica: no improvement.
	hpa := whatIf(t, run, "shared waypoint + HPA")
	reps := 0
	for _, c := range run.Designs[1].Measured.Components {
		if c.Kind == "waypoint" {
			reps++
			if c.CPUCores > 2 {
				t.Errorf("%s used %.3f cores; it has two workers", c.Instance, c.CPUCores)
			}
		}
	}
	if reps != 2 || hpa.Failed > shared.Failed || hpa.Failed < shared.Failed*9/10 {
		t.Errorf("HPA: %d waypoint replicas served, failed %d vs %d without; want 2 and about as many", reps, hpa.Failed, shared.Failed)
	}
	f := failureIn(t, run, "search-surge", ModeAmbientWaypoint)
	if !slices.Equal(f.Instances, []string{"waypoint/shop/waypoint/0"}) {
		t.Errorf("instances %v, want the shared waypoint", f.Instances)
	}
	for _, a := range f.Transitive {
		if a.Workload == "loadgen/shoppers" && (a.FailureFraction < 0.1 || !slices.Contains(a.Chain, "shop/checkout")) {
			t.Errorf("shoppers: %+v", a)
		}
	}
}

// TestLibraryIstiodOutage: only new mTLS connections fail once
// certificates expire; steady keep-alive traffic does not; nothing fails
// after istiod is back (plus renewal); with certificates that outlive the
// outage nothing fails at all.
func TestLibraryIstiodOutage(t *testing.T) {
	sc := loadLib(t, "istiod-outage-cert-expiry")
	run := execFailures(t, sc)
	amb := failureIn(t, run, "istiod-down", ModeAmbient)
	if got := workloads(amb); !slices.Equal(got, []string{"loadgen/batch"}) {
		t.Errorf("ambient: affected %v, want only loadgen/batch", got)
	}
	for _, e := range run.Modes[0].Measured.Errors {
		if e.Cause != "tls_handshake_failed" {
			t.Errorf("ambient: error cause %s", e.Cause)
		}
	}
	// Certificates are 30 s, renewed at 15 s: the earliest expiry is
	// 15 s after the outage starts; istiod is back after 40 s.
	if amb.FailedRequests == 0 || amb.DetectS < 15 || amb.DetectS > 31 || amb.RecoverS < 0 || amb.RecoverS > 47 {
		t.Errorf("ambient: failed %d detect %v recover %v", amb.FailedRequests, amb.DetectS, amb.RecoverS)
	}
	if len(amb.Instances) == 0 || amb.Instances[0] != "istiod/istio-system" {
		t.Errorf("instances %v", amb.Instances)
	}
	side := failureIn(t, run, "istiod-down", ModeSidecar)
	if side.FailedRequests >= amb.FailedRequests {
		t.Errorf("sidecar (%d) should fail less than ambient (%d): Envoy keeps more idle upstream connections than a saturating HBONE pool dials", side.FailedRequests, amb.FailedRequests)
	}

	long := loadLib(t, "istiod-outage-cert-expiry")
	long.Mesh.CertTTL = Duration(100 * sim.Second) // TTL − refresh (50 s) > the 40 s outage
	lr := execFailures(t, long)
	for _, f := range lr.Summary.Failures {
		if f.FailedRequests != 0 || len(f.Transitive) != 0 {
			t.Errorf("%s with 100 s certificates: %d failed, affected %v", f.Mode, f.FailedRequests, workloads(f))
		}
	}
	for _, m := range lr.Modes {
		if m.Measured.Requests.Failed != 0 {
			t.Errorf("%s with 100 s certificates: %d failed", m.Mode, m.Measured.Requests.Failed)
		}
	}
}

// TestLibraryCNIBypass: no request fails, but requests cross unprotected
// and the policy on shop/db is bypassed; sidecar mode is not exposed; a
// compromised node yields exactly its pods' identities.
func TestLibraryCNIBypass(t *testing.T) {
	sc := loadLib(t, "cni-bypass")
	run := execFailures(t, sc)
	f := failureIn(t, run, "db-node-redirect-missing", ModeAmbient)
	if f.FailedRequests != 0 || f.DetectS != -1 || len(f.Transitive) != 0 {
		t.Errorf("availability: failed %d detect %v affected %v; want an invisible failure", f.FailedRequests, f.DetectS, workloads(f))
	}
	if f.Unprotected == 0 || f.PolicyBypassed == 0 || f.PolicyBypassed > f.Unprotected {
		t.Errorf("exposure: unprotected %d, policy bypassed %d", f.Unprotected, f.PolicyBypassed)
	}
	// The toolbox sends 5 rps for the 15 s of the bypass: about 75 calls
	// a policy would have denied.
	if f.PolicyBypassed < 40 || f.PolicyBypassed > 120 {
		t.Errorf("policy bypassed %d, want about 75", f.PolicyBypassed)
	}
	if w := whatIf(t, run, "sidecar"); w.Unprotected != 0 {
		t.Errorf("sidecar design: %d unprotected", w.Unprotected)
	}
	c := failureIn(t, run, "db-node-compromised", ModeAmbient)
	top, _ := sc.BuildTopology(ModeAmbient)
	node := top.EndpointsOf(serviceByID(top, "shop/db"))[0].Node
	want := map[string]bool{}
	for _, p := range top.Pods {
		if p.Node == node && p.Mode == topology.Ambient {
			want[p.Identity(top.TrustDomain)] = true
		}
	}
	if !slices.Equal(c.Identities, sortedKeys(want)) {
		t.Errorf("identities %v, want %v", c.Identities, sortedKeys(want))
	}
	if slices.Contains(c.Reachable, "shop/db") != slices.Contains(c.Identities, "spiffe://cluster.local/ns/shop/sa/catalog") {
		t.Errorf("reachable %v with identities %v: shop/db admits only catalog", c.Reachable, c.Identities)
	}
}

// TestLibraryZonePartition: the waypoint (one replica, one zone) puts
// more requests across the cut than L4 ambient; everything recovers
// within the client timeout after the partition heals; a replica per
// zone alone barely helps, with PreferClose nothing crosses the cut.
func TestLibraryZonePartition(t *testing.T) {
	run := execFailures(t, loadLib(t, "zone-partition"))
	perZone := whatIf(t, run, "waypoint per zone")
	local := whatIf(t, run, "waypoint per zone + PreferClose")
	if local.Failed != 0 || local.Affected != 0 || perZone.Failed == 0 {
		t.Errorf("per-zone replicas: %d failed; with PreferClose: %d failed, %v affected; want >0 and 0", perZone.Failed, local.Failed, local.Workloads)
	}
	amb := failureIn(t, run, "zone-b-cut-off", ModeAmbient)
	wp := failureIn(t, run, "zone-b-cut-off", ModeAmbientWaypoint)
	if amb.FailedRequests == 0 || wp.FailedRequests <= amb.FailedRequests {
		t.Errorf("failed: ambient %d, ambient+waypoint %d; want waypoint worse", amb.FailedRequests, wp.FailedRequests)
	}
	for _, f := range []results.FailureResult{amb, wp} {
		if f.RecoverS < 10 || f.RecoverS > 13 || f.DetectS <= 0 || f.DetectS > 3 {
			t.Errorf("%s: detect %v recover %v", f.Mode, f.DetectS, f.RecoverS)
		}
		if !slices.Equal(f.Nodes, []string{"node-2", "node-4"}) {
			t.Errorf("%s: nodes %v, want zone-b's", f.Mode, f.Nodes)
		}
	}
}

// TestFailureDeterministic: same seed, byte-identical summary.json with
// failures and what-ifs.
func TestFailureDeterministic(t *testing.T) {
	for _, name := range []string{"testdata/failure.yaml", "cni-bypass"} {
		var prev []byte
		for i := 0; i < 2; i++ {
			js, err := SummaryJSON(execFailures(t, loadLib(t, name)))
			if err != nil {
				t.Fatal(err)
			}
			if prev != nil && !bytes.Equal(prev, js) {
				t.Errorf("%s: summary.json differs between identical runs", name)
			}
			prev = js
		}
	}
}

// TestFailureAfterEndChangesNothing: failures switched on but scheduled
// after the run ends leave every result identical to a run without them
// (the failure machinery costs nothing but a branch and draws no random
// numbers).
func TestFailureAfterEndChangesNothing(t *testing.T) {
	sc := loadLib(t, "ztunnel-node-failure")
	sc.WhatIf, sc.Failures = nil, nil
	top, err := sc.BuildTopology(ModeAmbient)
	if err != nil {
		t.Fatal(err)
	}
	prof, _ := models.LoadProfile(sc.Profile)
	cfg, err := sc.compile(top, prof, ModeAmbient, 1, sc.Duration.T(), sc.Warmup.T())
	if err != nil {
		t.Fatal(err)
	}
	cfg.SnapshotInterval = 0
	run := func(c models.Config) models.Measurement {
		m, err := models.NewMesh(c)
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r.Measured
	}
	a := run(cfg)
	cfg.Failures = []models.Failure{{Name: "late", Kind: models.FailZtunnelCrash, Nodes: []string{top.Nodes[0].Name}, At: 1000 * sim.Second, Duration: sim.Second}}
	b := run(cfg)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("a failure after the end changed the results")
	}
}

// TestFailuresRandomized: random topologies, modes, failures and client
// settings; every request is accounted for, in every mode and design.
// AMBIENTSIM_RANDOM_ITER=500 runs a longer search (default 6).
func TestFailuresRandomized(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	iters := 6
	if s := os.Getenv("AMBIENTSIM_RANDOM_ITER"); s != "" {
		fmt.Sscan(s, &iters)
	}
	kinds := []string{"ztunnel-crash", "ztunnel-upgrade", "node-loss", "waypoint-crash", "waypoint-rollout", "sidecar-crash",
		"istiod-outage", "cni-bypass", "network", "traffic-surge"}
	for it := 0; it < iters; it++ {
		nodes := 2 + r.IntN(3)
		var b strings.Builder
		fmt.Fprintf(&b, "modes: [ambient, ambient+waypoint, sidecar]\nduration: 8s\nwarmup: 1s\nseed: %d\nmesh: {cert_ttl: 6s, retry_budget: %.1f}\n", it+1, r.Float64()*0.5)
		fmt.Fprintf(&b, "topology:\n  spec:\n    nodes: {count: %d, zones: [za, zb]}\n    namespaces:\n      - name: lg\n        workloads: [{name: c, replicas: %d}]\n      - name: s\n        services:\n", nodes, 1+r.IntN(2))
		nsvc := 2 + r.IntN(3)
		for i := 0; i < nsvc; i++ {
			fmt.Fprintf(&b, "          - {name: v%d, replicas: %d}\n", i, 1+r.IntN(3))
		}
		fmt.Fprintf(&b, "    calls:\n      - {from: lg/c, to: s/v0, rate: %d}\n", 50+r.IntN(150))
		for i := 1; i < nsvc; i++ {
			fmt.Fprintf(&b, "      - {from: s/v%d, to: s/v%d}\n", r.IntN(i), i)
		}
		conn := []string{"keep-alive", "per-request"}[r.IntN(2)]
		fmt.Fprintf(&b, "traffic:\n  defaults: {connections: %s, timeout: %dms, retries: %d}\n", conn, 200+r.IntN(2000), r.IntN(3))
		b.WriteString("failures:\n")
		for k := 0; k < 1+r.IntN(2); k++ {
			kind := kinds[r.IntN(len(kinds))]
			fmt.Fprintf(&b, "  - {kind: %s, at: %dms, duration: %dms", kind, 500+r.IntN(4000), 500+r.IntN(4000))
			switch kind {
			case "ztunnel-crash", "node-loss", "cni-bypass":
				fmt.Fprintf(&b, ", target: {node: node-%d}, replace_after: 2s", 1+r.IntN(nodes))
			case "ztunnel-upgrade":
				b.WriteString(", drain: 1s")
			case "waypoint-crash", "waypoint-rollout":
				fmt.Fprintf(&b, ", target: {service: s/v%d}, drain: 1s", r.IntN(nsvc))
			case "sidecar-crash":
				fmt.Fprintf(&b, ", target: {service: s/v%d}", r.IntN(nsvc))
			case "network":
				fmt.Fprintf(&b, ", target: {zone: za}, latency: %dms, loss: 0.05, partition: %v", r.IntN(50), r.IntN(2) == 0)
			case "traffic-surge":
				b.WriteString(", to: s/v0, factor: 3")
			}
			b.WriteString("}\n")
		}
		b.WriteString("what_if:\n  - {name: per-service, mode: ambient+waypoint, waypoint_scope: per-service, waypoint_replicas: 2}\n")
		sc, err := Parse(fmt.Sprintf("random-%d.yaml", it), []byte(b.String()))
		if err != nil {
			t.Fatalf("%v\n%s", err, b.String())
		}
		run := execFailures(t, sc)
		if t.Failed() {
			t.Logf("scenario:\n%s", b.String())
			return
		}
		for _, f := range run.Summary.Failures {
			for _, a := range f.Transitive {
				if a.FailureFraction <= 0 || a.FailureFraction > 1 {
					t.Errorf("%s: failure fraction %v", a.Workload, a.FailureFraction)
				}
			}
		}
	}
}

func TestFailureParseErrors(t *testing.T) {
	head := "topology:\n  spec:\n    nodes: {count: 2}\n    namespaces: [{name: a, services: [{name: s}]}]\n"
	cases := []struct{ yaml, want string }{
		{"failures:\n  - {kind: ztunel-crash, target: {node: node-1}}\n", `did you mean "ztunnel-crash"`},
		{"failures:\n  - {kind: ztunnel-crash, tagret: {node: node-1}}\n", `did you mean "target"`},
		{"failures:\n  - {kind: ztunnel-crash}\n", "needs nodes"},
		{"failures:\n  - {kind: istiod-outage}\n", "needs a duration"},
		{"failures:\n  - {kind: network, target: {zone: z}}\n", "latency, loss or partition"},
		{"failures:\n  - {kind: waypoint-crash}\n", "target: {waypoint"},
		{"failures:\n  - {kind: traffic-surge, to: a/s}\n", "factor"},
		{"failures:\n  - {kind: istiod-outage, duration: 1s, at: 2m}\n", "after the measured window"},
		{"failures:\n  - {name: x, kind: istiod-outage, duration: 1s}\n  - {name: x, kind: istiod-outage, duration: 1s}\n", "used twice"},
		{"what_if:\n  - {name: d}\n", "add a failures"},
		{"failures:\n  - {kind: istiod-outage, duration: 1s}\nwhat_if:\n  - {name: d, mode: sidecr}\n", `did you mean "sidecar"`},
		{"failures:\n  - {kind: istiod-outage, duration: 1s}\nwhat_if:\n  - {name: d, waypoint_scope: global}\n", "namespace or per-service"},
		{"slo: {latency: 0s}\n", "slo.latency"},
	}
	for _, c := range cases {
		_, err := Parse("f.yaml", []byte(head+c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "f.yaml:") {
			t.Errorf("%q: error %v, want file:line and %q", c.yaml, err, c.want)
		}
	}
	// A target naming a missing node is caught when the design is built.
	sc, err := Parse("f.yaml", []byte(head+"modes: [ambient]\nduration: 2s\nfailures:\n  - {kind: ztunnel-crash, target: {node: node-9}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Execute(sc, Options{}); err == nil || !strings.Contains(err.Error(), `no node "node-9"`) {
		t.Errorf("missing node: %v", err)
	}
}

// TestGoldenFailureSummary pins summary.json of a scenario with every
// failure section. Regenerate with:
// go test ./scenarios/ -run TestGoldenFailureSummary -update
func TestGoldenFailureSummary(t *testing.T) {
	sc, err := Load("testdata/failure.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(sc, Options{Command: "ambientsim run testdata/failure.yaml --out OUT"})
	if err != nil {
		t.Fatal(err)
	}
	checkReconciles(t, sc.Name, run)
	js, err := SummaryJSON(run)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "failure.summary.json"), js)
}

// BenchmarkFailureScenario runs the busiest failure scenario
// (waypoint-chokepoint: its mode and three what-if designs, each with
// and without the surge) and reports the calls of the runs with the
// surge per wall second.
func BenchmarkFailureScenario(b *testing.B) {
	sc, err := Load("waypoint-chokepoint")
	if err != nil {
		b.Fatal(err)
	}
	var calls int64
	for i := 0; i < b.N; i++ {
		run, err := Execute(sc, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range run.Modes {
			calls += m.Calls
		}
		for _, d := range run.Designs {
			calls += d.Calls
		}
	}
	b.ReportMetric(float64(calls)/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "wall-s/run")
}

// TestRestartDuringIstiodOutage: a ztunnel that restarts while istiod is
// down has no certificates, so its node keeps failing new connections
// (tls_handshake_failed) after the restart, until istiod is back.
func TestRestartDuringIstiodOutage(t *testing.T) {
	spec := `
modes: [ambient]
duration: 20s
warmup: 1s
topology:
  spec:
    nodes: {count: 2}
    namespaces:
      - name: lg
        workloads: [{name: c, replicas: 2}]
      - name: s
        services: [{name: a, replicas: 2}]
    calls:
      - {from: lg/c, to: s/a, rate: 100}
traffic:
  defaults: {connections: per-request}
failures:
  - {name: zt, kind: ztunnel-crash, at: 4s, duration: 2s, target: {node: node-2}}
`
	for _, withIstiod := range []bool{false, true} {
		y := spec
		if withIstiod {
			y += "  - {name: istiod, kind: istiod-outage, at: 2s, duration: 10s}\n"
		}
		sc, err := Parse("restart.yaml", []byte(y))
		if err != nil {
			t.Fatal(err)
		}
		run := execFailures(t, sc)
		f := failureIn(t, run, "zt", ModeAmbient)
		if withIstiod {
			// Run alone, the crash recovers at its restart; with the
			// outage (the mode's run with both), failures go on to 12 s.
			var tls int64
			for _, e := range run.Modes[0].Measured.Errors {
				if e.Cause == "tls_handshake_failed" {
					tls = e.Count
				}
			}
			if tls == 0 {
				t.Errorf("restart during the outage: no tls_handshake_failed; errors %v", run.Modes[0].Measured.Errors)
			}
			last := -1
			for _, e := range run.Modes[0].Series.Edges {
				for b, x := range e.Buckets {
					if x.Failed > 0 && b > last {
						last = b
					}
				}
			}
			if last < 10 || last > 12 {
				t.Errorf("last failing second %d, want 10-12 (istiod back at 12 s)", last)
			}
		} else if f.RecoverS < 2 || f.RecoverS > 3 {
			t.Errorf("crash alone: recover %v, want 2-3 s", f.RecoverS)
		}
	}
}
