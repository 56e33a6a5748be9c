package models

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/ambientsim/ambientsim/sim"
)

func gather(t *testing.T, r *RunResult) map[string]*dto.MetricFamily {
	t.Helper()
	reg, err := r.Metrics.Registry()
	if err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func reporters(f *dto.MetricFamily) string {
	if f == nil {
		return ""
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range f.Metric {
		if r := label(m, "reporter"); !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return strings.Join(out, ",")
}

// TestTelemetryByPath: an L4-only path has ztunnel TCP metrics and no HTTP
// status codes; a waypoint reports HTTP with reporter=waypoint; sidecars
// report HTTP from both sides.
func TestTelemetryByPath(t *testing.T) {
	for _, tc := range []struct {
		mode, ns        string
		http, tcpOpened string
	}{
		{"ambient", "mode: ambient", "", "destination,source"},
		{"ambient+waypoint", "mode: ambient\n    waypoint: {scope: namespace}", "waypoint", "destination,source"},
		{"sidecar", "mode: sidecar", "destination,source", ""},
		{"out-of-mesh", "mode: out-of-mesh", "", ""},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			top := mustTopology(t, `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    `+tc.ns+`
    workloads: [{name: client}]
    services: [{name: server}]
calls:
  - {from: a/client, to: a/server, rate: 100}
`)
			_, res := runMesh(t, Config{Topology: top, Profile: mustProfile(t), Mode: tc.mode, Seed: 1,
				Duration: 5 * sim.Second, Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 2})})
			f := gather(t, res)
			if got := reporters(f["istio_requests_total"]); got != tc.http {
				t.Errorf("istio_requests_total reporters %q, want %q", got, tc.http)
			}
			if got := reporters(f["istio_tcp_connections_opened_total"]); got != tc.tcpOpened {
				t.Errorf("istio_tcp_connections_opened_total reporters %q, want %q", got, tc.tcpOpened)
			}
			if h := f["istio_request_duration_milliseconds"]; h != nil {
				if n := len(h.Metric[0].GetHistogram().Bucket); n != len(EnvoyBuckets) {
					t.Errorf("%d duration buckets, want Envoy's %d", n, len(EnvoyBuckets))
				}
			}
			// A proxy reports the time it held the request, which is less
			// than what the client saw.
			if h := f["istio_request_duration_milliseconds"]; h != nil {
				for _, m := range h.Metric {
					hm := m.GetHistogram()
					mean := hm.GetSampleSum() / float64(hm.GetSampleCount())
					client := res.Measured.Edges[0].MeanMs
					ok := mean > 0 && mean < client
					if label(m, "reporter") == "source" {
						ok = mean > 0 && mean <= client+0.001 // (rounded) the client's own proxy sees (nearly) all of it
					}
					if !ok {
						t.Errorf("%s reporter mean %.3f ms, client mean %.3f ms", label(m, "reporter"), mean, res.Measured.Edges[0].MeanMs)
					}
				}
			}
			for _, m := range f["istio_tcp_sent_bytes_total"].GetMetric() {
				if label(m, "request_protocol") != "tcp" || label(m, "mode") != tc.mode {
					t.Errorf("tcp series labels: %v", m.Label)
				}
			}
		})
	}
}

// TestPolicyDenials: an L4 DENY is enforced by the destination ztunnel as a
// connection reset; an L7 rule on a waypoint answers 403 there.
func TestPolicyDenials(t *testing.T) {
	for _, tc := range []struct {
		name, ns, policy, cause string
		code                    string
	}{
		{"l4-deny-ztunnel", "mode: ambient", `
      - apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-client, namespace: a}
        spec:
          selector: {matchLabels: {app: server}}
          action: DENY
          rules: [{from: [{source: {principals: ["cluster.local/ns/a/sa/client"]}}]}]`, "l4_denied_reset", ""},
		{"l7-deny-waypoint", "mode: ambient\n    waypoint: {scope: namespace}", `
      - apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: no-get, namespace: a}
        spec:
          targetRefs: [{kind: Service, group: "", name: server}]
          action: DENY
          rules: [{to: [{operation: {methods: ["GET"]}}]}]`, "l7_denied_403", "403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := mustTopology(t, `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    `+tc.ns+`
    workloads: [{name: client}]
    services: [{name: server}]
calls:
  - {from: a/client, to: a/server, rate: 100}
policies:`+tc.policy+`
`)
			_, res := runMesh(t, Config{Topology: top, Profile: mustProfile(t), Mode: tc.name, Seed: 1,
				Duration: 5 * sim.Second, Edges: edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 2})})
			if res.Measured.Requests.Succeeded != 0 || res.Measured.Requests.Failed == 0 {
				t.Fatalf("requests %+v: every request should be denied", res.Measured.Requests)
			}
			if len(res.Measured.Errors) != 1 || res.Measured.Errors[0].Cause != tc.cause {
				t.Errorf("errors %+v, want only %s", res.Measured.Errors, tc.cause)
			}
			f := gather(t, res)
			if tc.code != "" {
				for _, m := range f["istio_requests_total"].GetMetric() {
					if label(m, "response_code") != tc.code {
						t.Errorf("response_code %s, want %s", label(m, "response_code"), tc.code)
					}
				}
			} else {
				var deny float64
				for _, m := range f["istio_tcp_connections_closed_total"].GetMetric() {
					if label(m, "response_flags") == "DENY" {
						deny += m.GetCounter().GetValue()
					}
				}
				if deny == 0 {
					t.Error("no istio_tcp_connections_closed_total with response_flags=DENY")
				}
				if f["istio_requests_total"] != nil {
					t.Error("an L4-only path must not produce istio_requests_total")
				}
			}
		})
	}
}
