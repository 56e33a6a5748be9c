package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProfiles(t *testing.T) {
	ps := Profiles()
	if len(ps) == 0 || ps[0].Name != DefaultProfile || ps[0].Description == "" {
		t.Fatalf("profiles %+v", ps)
	}
	p, err := LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	if p.Hash == "" || len(p.Raw) == 0 {
		t.Error("profile hash/raw not set")
	}
	if _, err := LoadProfile("istio-9.99"); err == nil || !strings.Contains(err.Error(), "istio-1.24-published") {
		t.Errorf("unknown profile error should list the built-ins: %v", err)
	}
}

func TestProfileErrors(t *testing.T) {
	good, err := profileFS.ReadFile("profiles/" + DefaultProfile + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, from, to string
		want           []string
	}{
		{"wrong unit", "value: 27.952\n    unit: us", "value: 27.952\n    unit: ms", []string{"ztunnel.per_message_cpu", `unit "ms", want "us"`, "x.yaml:"}},
		{"unknown field", "  per_byte_cpu:\n    value: 2\n", "  per_byte_cpu:\n    valeu: 2\n", []string{"x.yaml", "valeu"}},
		{"missing source", `source: "assumed: AES-GCM + copy in rustls/tokio, order of 0.5 GB/s per core; Istio publishes no per-byte split"`, "source: \"\"", []string{"ztunnel.per_byte_cpu", "source"}},
		{"negative", "  handshake_server_cpu:\n    value: 335\n", "  handshake_server_cpu:\n    value: -335\n", []string{"handshake_server_cpu", "negative"}},
		{"fraction above 1", "  cpu_fraction:\n    value: 1\n", "  cpu_fraction:\n    value: 1.5\n", []string{"app.cpu_fraction", "above its maximum"}},
		// One source per number (provenance.go).
		{"undeclared source", `source: "[istio-1.24-perf] ztunnel 0.06 vCPU per 1000 rps"`, `source: "[istio-1.25-perf] ztunnel 0.06 vCPU per 1000 rps"`, []string{"x.yaml:", "ztunnel.per_message_cpu.source", "[istio-1.25-perf] is not a declared source"}},
		{"no convention", `source: "[istio-1.24-perf] ztunnel 0.06 vCPU per 1000 rps"`, `source: "Istio perf docs"`, []string{"ztunnel.per_message_cpu.source", "start it with [source-id]"}},
		{"assumption without reason", `source: "assumed: AES-GCM + copy in rustls/tokio, order of 0.5 GB/s per core; Istio publishes no per-byte split"`, `source: "assumed"`, []string{"ztunnel.per_byte_cpu.source", "needs its reason"}},
		{"two sources", `source: "[istio-1.24-perf] ztunnel 0.06 vCPU per 1000 rps"`, `source: "[istio-1.24-perf] ztunnel 0.06 vCPU, scaled by [istio-1.18-perf]"`, []string{"ztunnel.per_message_cpu.source", "one source per number"}},
		{"excluded source used", `source: "assumed: one EndpointSet entry`, `source: "assumed: https://ambientmesh.io/docs/setup/advanced says one EndpointSet entry`, []string{"ztunnel.memory_per_endpoint", "uses excluded source https://ambientmesh.io/docs/setup/advanced (vendor)"}},
		{"third-party as a source", "    kind: istio-benchmark-setup\n    url: https://github.com/istio/tools/tree/release-1.24/perf/benchmark", "    kind: vendor\n    url: https://github.com/istio/tools/tree/release-1.24/perf/benchmark", []string{"sources[3].kind", "third-party posts go under excluded_sources"}},
		{"figures without machine", `machine: "not stated on the page"`, `machine: ""`, []string{"sources[1].setup.machine: missing"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := strings.Replace(string(good), tc.from, tc.to, 1)
			if data == string(good) {
				t.Fatal("test edit did not apply")
			}
			_, err := ParseProfile("x.yaml", []byte(data))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	// A profile file by path loads the same way.
	path := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(good), "name: istio-1.24-published", "name: mine", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProfile(path)
	if err != nil || p.Name != "mine" {
		t.Fatalf("loading by path: %v %v", p, err)
	}
}
