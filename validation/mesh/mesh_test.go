package mesh_test

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/validation/mesh"
)

func load(t *testing.T) *mesh.Index {
	t.Helper()
	m, err := mesh.Load(filepath.Join("..", "cmd", "meshnode", "testdata", "mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := mesh.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestResolveOutbound(t *testing.T) {
	ix := load(t)
	for _, tc := range []struct {
		dst, kind, next, authority, expected string
	}{
		{"127.0.77.100:80", mesh.HopDirect, "127.0.77.11:15008", "127.0.77.11:8080", "spiffe://cluster.local/ns/default/sa/server"},
		{"127.0.77.100:9000", mesh.HopDirect, "127.0.77.11:15008", "127.0.77.11:9000", "spiffe://cluster.local/ns/default/sa/server"},
		{"127.0.77.101:80", mesh.HopWaypoint, "127.0.77.50:15008", "127.0.77.101:80", "spiffe://cluster.local/ns/default/sa/waypoint"},
		{"127.0.77.11:8080", mesh.HopDirect, "127.0.77.11:15008", "127.0.77.11:8080", "spiffe://cluster.local/ns/default/sa/server"},
		{"127.0.77.103:80", mesh.HopSidecar, "127.0.77.22:15008", "127.0.77.22:8080", "spiffe://cluster.local/ns/default/sa/sc-server"},
		{"10.9.9.9:443", mesh.HopPassthrough, "10.9.9.9:443", "10.9.9.9:443", "spiffe://"},
	} {
		out, err := ix.ResolveOutbound(netip.MustParseAddrPort(tc.dst))
		if err != nil {
			t.Fatalf("%s: %v", tc.dst, err)
		}
		exp := out.Expected.String()
		if out.Expected.IsZero() {
			exp = "spiffe://"
		}
		if out.Kind != tc.kind || out.NextHop.String() != tc.next || out.Authority.String() != tc.authority || exp != tc.expected {
			t.Errorf("%s → %s via %s authority %s expecting %s; want %s via %s authority %s expecting %s",
				tc.dst, out.Kind, out.NextHop, out.Authority, exp, tc.kind, tc.next, tc.authority, tc.expected)
		}
	}
	if _, err := ix.ResolveOutbound(netip.MustParseAddrPort("127.0.77.100:81")); err == nil {
		t.Error("resolved a port the service does not expose")
	}
}

func TestCompileErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"workloads: [{name: a, namespace: d, ip: nope}]", "workloads[0] d/a: ip"},
		{"workloads: [{name: a, namespace: d, ip: 1.2.3.4, mode: magic}]", "mode \"magic\""},
		{"services: [{name: s, namespace: d, vip: 1.2.3.4, endpoints: [ghost]}]", "endpoint \"ghost\" not found"},
		{"waypoints: [{name: w, namespace: d, ip: 1.1.1.1, for: everything}]", "for \"everything\""},
		{"l4Policies: [{name: p, namespace: d, action: MAYBE}]", "action \"MAYBE\""},
	} {
		m, err := mesh.Parse("test.yaml", []byte(tc.yaml))
		if err == nil {
			_, err = mesh.Compile(m)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.yaml, err, tc.want)
		}
	}
	if _, err := mesh.Parse("x.yaml", []byte("workloadz: []")); err == nil || !strings.Contains(err.Error(), "x.yaml") {
		t.Errorf("unknown field error = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("workloads: [{name: a, namespace: d, ip: 1.2.3.4}]\nservices: [{name: s, namespace: d, vip: 1.2.3.5, ports: [{port: 80}], endpoints: [a]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := mesh.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		ix, err := mesh.Compile(m)
		if err != nil {
			return
		}
		for _, s := range m.Services {
			if info, ok := ix.Service(s.Namespace + "/" + s.Name); ok {
				for _, p := range info.Ports {
					_, _ = ix.ResolveOutbound(netip.AddrPortFrom(info.Addr, p.Port))
				}
			}
		}
	})
}
