package topology

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// readinessOf builds a compact spec and evaluates the checklist with the
// topology's own audit findings, as `ambientsim run` does.
func readinessOf(t *testing.T, spec string) []ReadinessCheck {
	t.Helper()
	tp, err := ParseSpec("readiness.yaml", []byte(spec))
	if err != nil {
		t.Fatalf("spec: %v", err)
	}
	return Readiness(tp, tp.Paths().Findings)
}

const specBase = `
nodes: {count: 2}
namespaces:
  - name: app
    mode: ambient
%s
    services:
      - name: a
      - name: b
%s
calls:
  - {from: app/a, to: app/b}
%s
`

// spec fills specBase: extra namespace fields, extra namespaces, extra
// calls and policies.
func spec(nsExtra, moreNamespaces, rest string) string {
	return fmt.Sprintf(specBase, nsExtra, moreNamespaces, rest)
}

const (
	waypointNS = `    waypoint: {name: waypoint}`
	strictApp  = `  - apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: {name: strict, namespace: app}
    spec: {mtls: {mode: STRICT}}`
	allowWaypointOnly = `  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: from-waypoint, namespace: app}
    spec:
      rules: [{from: [{source: {principals: ["cluster.local/ns/app/sa/waypoint"]}}]}]`
	allowClientOnly = `  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: b-from-a, namespace: app}
    spec:
      selector: {matchLabels: {app: b}}
      rules: [{from: [{source: {principals: ["cluster.local/ns/app/sa/a"]}}]}]`
	l7OnB = `  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: b-get-only, namespace: app}
    spec:
      targetRefs: [{kind: Service, group: "", name: b}]
      rules: [{to: [{operation: {methods: ["GET"]}}]}]`
	l7SelectorOnB = `  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: b-get-only, namespace: app}
    spec:
      selector: {matchLabels: {app: b}}
      rules: [{to: [{operation: {methods: ["GET"]}}]}]`
	routeOnB = `  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: b-canary, namespace: app}
    spec:
      parentRefs: [{group: "", kind: Service, name: b, port: 8080}]
      rules: [{backendRefs: [{name: b, port: 8080}]}]`
	legacyNS = `  - name: legacy
    services:
      - name: x`
	sidecarNS = `  - name: side
    mode: sidecar
    services:
      - name: c`
)

func policies(p ...string) string { return "policies:\n" + strings.Join(p, "\n") }

func TestReadiness(t *testing.T) {
	order := ReadinessChecks
	tests := []struct {
		name string
		spec string
		// want is the status of each check in checklist order (p = pass,
		// f = fail, ? = cannot-tell).
		want string
		// evidence: check name → a substring its evidence must contain.
		evidence map[string]string
	}{
		{
			name:     "ambient L4 only, nothing to enforce",
			spec:     spec("", "", ""),
			want:     "pp?ppppppp?ppp?p",
			evidence: map[string]string{CheckEnrollment: "namespace app: ambient (istio.io/dataplane-mode=ambient)", CheckBypass: "no Service is served by a waypoint", CheckTelemetry: "L4-only services"},
		},
		{
			name:     "waypoint locked down: STRICT and ALLOW only the waypoint",
			spec:     spec(waypointNS, "", policies(strictApp, allowWaypointOnly, l7OnB)),
			want:     "pp?fpppppp?ppf?p",
			evidence: map[string]string{CheckBypass: "app/b admits only traffic through waypoint app/waypoint", CheckL7Waypoint: "app/b-get-only is enforced at Service app/b via waypoint/app/waypoint"},
		},
		{
			name:     "waypoint without destination policy: open under istiod defaults",
			spec:     spec(waypointNS, "", policies(l7OnB)),
			want:     "pp?fpppppp?fpf?p",
			evidence: map[string]string{CheckBypass: "PILOT_AUTO_ALLOW_WAYPOINT_POLICY"},
		},
		{
			name:     "destination admits the client identity, not the waypoint",
			spec:     spec(waypointNS, "", policies(strictApp, allowClientOnly)),
			want:     "pp?fppfppp?fpp?p",
			evidence: map[string]string{CheckTargetModel: CodeWaypointIdentityDenied, CheckBypass: "app/b is reachable without waypoint app/waypoint: its policies admit app/a calling the pods by IP (matched ALLOW policy)"},
		},
		{
			name: "sidecar client skips the waypoint and is admitted",
			spec: spec(waypointNS, sidecarNS, "  - {from: side/c, to: app/b}\n"+policies(strictApp, l7OnB, `  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: b-from-waypoint-and-c, namespace: app}
    spec:
      selector: {matchLabels: {app: b}}
      rules: [{from: [{source: {principals: ["cluster.local/ns/app/sa/waypoint", "cluster.local/ns/side/sa/c"]}}]}]`)),
			want:     "pp?fpfpppp?fpf?p",
			evidence: map[string]string{CheckBypass: "side/c, whose path skips the waypoint", CheckL7Waypoint: CodeWaypointBypass},
		},
		{
			name:     "HTTP rules on a selector policy at ztunnel",
			spec:     spec("", "", policies(l7SelectorOnB)),
			want:     "pp?pfpfppp?ppp?f",
			evidence: map[string]string{CheckPlacement: CodeL7RulesAtZtunnel},
		},
		{
			name:     "HTTPRoute on a Service without a waypoint",
			spec:     spec("", "", policies(routeOnB)),
			want:     "pp?ppppfpp?ppp?f",
			evidence: map[string]string{CheckRoutes: CodeRouteWithoutWaypoint},
		},
		{
			name:     "HTTPRoute applied by the waypoint",
			spec:     spec(waypointNS, "", policies(strictApp, allowWaypointOnly, routeOnB)),
			want:     "pp?fpppppp?ppf?p",
			evidence: map[string]string{CheckRoutes: "HTTPRoute/app/b-canary on Service app/b: Accepted, refs resolved, applied by waypoint app/waypoint"},
		},
		{
			name:     "out-of-mesh caller that STRICT mTLS will refuse",
			spec:     spec("", legacyNS, "  - {from: legacy/x, to: app/b}\n"+policies(strictApp)),
			want:     "pf?ppppppp?ppp?p",
			evidence: map[string]string{CheckOutOfMesh: "legacy/x calls app/b, which denies it (STRICT mTLS rejects plaintext", CheckEnrollment: "namespace legacy: out-of-mesh (no enrolment label)"},
		},
		{
			name:     "out-of-mesh caller accepted in plaintext, partial request metrics",
			spec:     spec(waypointNS, legacyNS, "  - {from: legacy/x, to: app/b}\n"+policies(l7OnB)),
			want:     "pf?fpfppff?fpf?p",
			evidence: map[string]string{CheckOutOfMesh: CodePlaintextAccepted, CheckTelemetry: "app/b: istio_requests_total covers calls from app/a but not from legacy/x"},
		},
		{
			name: "a workload opts out of its ambient namespace",
			spec: `nodes: {count: 1}
namespaces:
  - name: app
    mode: ambient
    services:
      - name: a
      - name: b
        mode: out-of-mesh
calls:
  - {from: app/a, to: app/b}`,
			want:     "ff?ppppppf?ppp?p",
			evidence: map[string]string{CheckEnrollment: "app/b is out-of-mesh inside ambient namespace app"},
		},
		{
			name:     "empty topology",
			spec:     `nodes: {count: 1}`,
			want:     "?ppppppp?ppppp?p",
			evidence: map[string]string{CheckEnrollment: "no application workloads", CheckTelemetry: "no request paths"},
		},
	}
	status := map[byte]string{'p': StatusPass, 'f': StatusFail, '?': StatusCannotTell}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readinessOf(t, tt.spec)
			if testing.Verbose() {
				for _, c := range got {
					t.Logf("%s: %s\n  %s\n  fix: %s", c.Name, c.Status, strings.Join(c.Evidence, "\n  "), c.Fix)
				}
			}
			if len(got) != len(order) {
				t.Fatalf("%d checks, want %d", len(got), len(order))
			}
			for i, c := range got {
				if c.Name != order[i] {
					t.Errorf("check %d is %q, want %q", i, c.Name, order[i])
				}
				if want := status[tt.want[i]]; c.Status != want {
					t.Errorf("%s: %s, want %s; evidence:\n  %s", c.Name, c.Status, want, strings.Join(c.Evidence, "\n  "))
				}
				if len(c.Evidence) == 0 {
					t.Errorf("%s: no evidence", c.Name)
				}
				if sub, ok := tt.evidence[c.Name]; ok && !strings.Contains(strings.Join(c.Evidence, "\n"), sub) {
					t.Errorf("%s: evidence lacks %q:\n  %s", c.Name, sub, strings.Join(c.Evidence, "\n  "))
				}
			}
		})
	}
}

// TestReadinessDeterministic: same topology, same checklist, byte for byte.
func TestReadinessDeterministic(t *testing.T) {
	s := spec(waypointNS, legacyNS+"\n"+sidecarNS, "  - {from: legacy/x, to: app/b}\n  - {from: side/c, to: app/b}\n"+policies(l7OnB, routeOnB))
	a := readinessOf(t, s)
	for i := 0; i < 3; i++ {
		b := readinessOf(t, s)
		for j := range a {
			if a[j].Status != b[j].Status || strings.Join(a[j].Evidence, "|") != strings.Join(b[j].Evidence, "|") {
				t.Fatalf("run %d: check %s differs", i, a[j].Name)
			}
		}
	}
}

// TestReadinessEvidenceCapped: a big topology gives at most
// maxEvidenceLines lines per check plus a count of the rest.
func TestReadinessEvidenceCapped(t *testing.T) {
	s := `nodes: {count: 2}
namespaces:
  - name: app
    mode: ambient
    services:
      - {name: "s-%d", count: 30}
  - name: legacy
    services:
      - {name: "x-%d", count: 20}
calls:
  - {from: "legacy/x-%d", to: "app/s-%d"}`
	for _, c := range readinessOf(t, s) {
		if len(c.Evidence) > maxEvidenceLines+1 {
			t.Errorf("%s: %d evidence lines, want at most %d", c.Name, len(c.Evidence), maxEvidenceLines+1)
		}
		if c.Name == CheckOutOfMesh && !strings.Contains(strings.Join(c.Evidence, "\n"), "more") {
			t.Errorf("%s: long evidence is not summarised: %q", c.Name, c.Evidence)
		}
	}
}

// BenchmarkReadiness evaluates the checklist on a 1,000-service topology
// with a namespace waypoint per namespace and out-of-mesh callers.
func BenchmarkReadiness(b *testing.B) {
	s := `nodes: {count: 20}
namespaces:
  - name: "app-%d"
    count: 20
    mode: ambient
    waypoint: {name: waypoint}
    services:
      - {name: "s-%d", count: 50}
  - name: legacy
    services:
      - {name: "x-%d", count: 10}
calls:
  - {from: "app-%d/s-1", to: "app-%d/s-%d"}
  - {from: "legacy/x-%d", to: "app-1/s-1"}`
	tp, err := ParseSpec("bench.yaml", []byte(s))
	if err != nil {
		b.Fatal(err)
	}
	fs := tp.Paths().Findings
	var checks []ReadinessCheck
	for b.Loop() {
		checks = Readiness(tp, fs)
	}
	b.ReportMetric(float64(len(tp.Services)), "services")
	b.ReportMetric(float64(len(checks)), "checks")
}

// TestReadinessCorpusCoverage guards testdata/cases/readiness.txt: on the
// upstream corpus every checklist item is shown passing and failing, and
// the items the manifests alone cannot decide are shown as cannot-tell.
func TestReadinessCorpusCoverage(t *testing.T) {
	data, err := os.ReadFile("testdata/cases/readiness.txt")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		_, rest, ok := strings.Cut(line, ". ")
		if !ok || line == "" || line[0] < '0' || line[0] > '9' {
			continue
		}
		i := strings.LastIndex(rest, ": ")
		if i < 0 {
			continue
		}
		name, status := rest[:i], rest[i+2:]
		if seen[name] == nil {
			seen[name] = map[string]bool{}
		}
		seen[name][status] = true
	}
	for _, name := range ReadinessChecks {
		for _, st := range []string{StatusPass, StatusFail} {
			if !seen[name][st] {
				t.Errorf("readiness.txt never shows %q as %s", name, st)
			}
		}
	}
	for _, name := range []string{CheckZtunnelHealth, CheckCNI, CheckPerformance} {
		if !seen[name][StatusCannotTell] {
			t.Errorf("readiness.txt never shows %q as cannot-tell (manifests without status or results)", name)
		}
	}
}
