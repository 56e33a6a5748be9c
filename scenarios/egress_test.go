package scenarios

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

// TestEgressScenario runs testdata/egress.yaml end to end and checks the
// hand-computed expectations in its header: the ambient caller's calls all
// cross the egress waypoint (its HTTP metrics count every one) and take
// the host's service time plus its round trip; the caller the policy on
// the ServiceEntry refuses fails every call at the waypoint; the sidecar
// bypasses the waypoint. Then it pins summary.json
// (go test ./scenarios/ -run TestEgressScenario -update).
func TestEgressScenario(t *testing.T) {
	sc, err := Load("testdata/egress.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(sc, Options{Command: "ambientsim run testdata/egress.yaml --out OUT"})
	if err != nil {
		t.Fatal(err)
	}
	js, err := SummaryJSON(run)
	if err != nil {
		t.Fatal(err)
	}
	var sum results.Summary
	if err := json.Unmarshal(js, &sum); err != nil {
		t.Fatal(err)
	}
	m := &sum.Modes[0]
	const host = "istio-egress/api.example.com"
	client := edgeOf(t, m, "shop/client", host)
	batch := edgeOf(t, m, "jobs/batch", host)
	legacy := edgeOf(t, m, "legacy/app", host)
	for _, e := range []results.EdgeResult{client, batch, legacy} {
		if e.Category != "external" || e.Calls < 300 {
			t.Errorf("%s -> %s: category %q, %d calls; want external, at least 300 (4 s at >= 100/s)", e.Source, e.Destination, e.Category, e.Calls)
		}
	}
	if client.Failed != 0 || client.Bypassed != 0 {
		t.Errorf("client: %d failed, %d bypassed; want 0, 0 (the policy admits shop, the path crosses the waypoint)", client.Failed, client.Bypassed)
	}
	if client.P50Ms < 45 || client.P50Ms > 47 {
		t.Errorf("client p50 %.3f ms, want within [45, 47] (5 ms service + 40 ms round trip + proxies)", client.P50Ms)
	}
	if batch.Failed != batch.Calls {
		t.Errorf("batch: %d of %d failed; the egress waypoint's policy admits only namespace shop", batch.Failed, batch.Calls)
	}
	if batch.P50Ms > 5 {
		t.Errorf("batch p50 %.3f ms: a 403 from the waypoint never reaches the host 40 ms away", batch.P50Ms)
	}
	if legacy.Failed != 0 || legacy.Bypassed != legacy.Calls {
		t.Errorf("legacy: %d failed, %d of %d bypassed; want none failed, all bypassed (sidecars skip the egress waypoint)", legacy.Failed, legacy.Bypassed, legacy.Calls)
	}
	if legacy.P50Ms < 45 {
		t.Errorf("legacy p50 %.3f ms, want >= 45 (it reaches the host)", legacy.P50Ms)
	}
	// The egress waypoint's HTTP metrics count every call that crossed it.
	wp := map[string]float64{}
	for _, s := range promSeries(t, run) {
		if s.name != "istio_requests_total" || s.labels["reporter"] != "waypoint" {
			continue
		}
		if s.labels["destination_service"] != "api.example.com" || s.labels["destination_service_namespace"] != "istio-egress" {
			t.Errorf("waypoint series for %q in %q, want the host api.example.com", s.labels["destination_service"], s.labels["destination_service_namespace"])
		}
		wp[s.labels["source_workload"]+" "+s.labels["response_code"]] += s.value
	}
	if got := int64(wp["client 200"]); got != client.Calls {
		t.Errorf("waypoint counted %d client 200s, want %d (every measured call)", got, client.Calls)
	}
	if got := int64(wp["batch 403"]); got != batch.Calls {
		t.Errorf("waypoint counted %d batch 403s, want %d", got, batch.Calls)
	}
	for k := range wp {
		if strings.HasPrefix(k, "app ") {
			t.Errorf("waypoint reported the sidecar's bypassing calls: %s", k)
		}
	}
	golden.Check(t, filepath.Join("testdata", "egress.summary.json"), js)
}

// TestEgressErrors: an external_hosts entry naming no ServiceEntry host,
// and a call to a host no ServiceEntry declares, are errors naming file,
// line and field.
func TestEgressErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/egress.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"external host", "host: istio-egress/api.example.com,", "host: istio-egress/api.example.org,",
			`egress.yaml:64: external_hosts[0].host: "istio-egress/api.example.org" matches no ServiceEntry host (name it namespace/host; hosts: istio-egress/api.example.com)`},
		{"call", "to: istio-egress/api.example.com, rate: 100}\n      - {from: legacy", "to: istio-egress/api.example.net, rate: 100}\n      - {from: legacy",
			`egress.yaml:58: topology.spec.calls[1].to: no ServiceEntry in namespace "istio-egress" declares host "api.example.net"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(string(data), tc.from, tc.to, 1)
			if doc == string(data) {
				t.Fatal("the edit did not apply")
			}
			sc, err := Parse("testdata/egress.yaml", []byte(doc))
			if err == nil {
				_, err = Execute(sc, Options{})
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}
