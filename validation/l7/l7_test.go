package l7_test

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"

	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/l4policy"
	"github.com/ambientsim/ambientsim/validation/l7"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

func testIndex(t testing.TB) *mesh.Index {
	t.Helper()
	m := &mesh.Mesh{
		Workloads: []mesh.Workload{
			{Name: "a", Namespace: "default", IP: "10.0.0.1"},
			{Name: "b", Namespace: "default", IP: "10.0.0.2"},
		},
		Services: []mesh.Service{
			{Name: "front", Namespace: "default", VIP: "10.1.0.1", Ports: []mesh.ServicePort{{Port: 80, TargetPort: 8080}}, Endpoints: []string{"a", "b"}},
			{Name: "a", Namespace: "default", VIP: "10.1.0.2", Ports: []mesh.ServicePort{{Port: 80, TargetPort: 8080}}, Endpoints: []string{"a"}},
			{Name: "b", Namespace: "default", VIP: "10.1.0.3", Ports: []mesh.ServicePort{{Port: 80, TargetPort: 8080}}, Endpoints: []string{"b"}},
		},
		Routes: []mesh.Route{{Name: "front", Namespace: "default", Service: "front", Rules: []mesh.RouteRule{
			{Matches: []mesh.RouteMatch{{PathPrefix: "/api", Method: "POST"}}, Backends: []mesh.Backend{{Service: "b"}}},
			{Matches: []mesh.RouteMatch{{Headers: map[string]string{"x-user": "tester"}}}, Backends: []mesh.Backend{{Service: "b"}}},
			{Backends: []mesh.Backend{{Service: "a", Weight: 3}, {Service: "b", Weight: 1}}},
		}}},
		L7Policies: []mesh.L7Policy{
			{Name: "deny-delete", Namespace: "default", TargetServices: []string{"front"}, Action: l4policy.Deny,
				Rules: []mesh.L7Rule{{Methods: []string{"DELETE"}}}},
			{Name: "allow-ns", Namespace: "default", TargetServices: []string{"front"}, Action: l4policy.Allow,
				Rules: []mesh.L7Rule{{Namespaces: []string{"default"}}, {Paths: []string{"/public*"}}}},
		},
	}
	ix, err := mesh.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestRoute(t *testing.T) {
	ix := testIndex(t)
	front, _ := ix.Service("default/front")
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		method, path string
		header       map[string]string
		want         string
	}{
		{"POST", "/api/v1", nil, "b"},
		{"POST", "/api", nil, "b"},
		{"POST", "/apix", nil, ""}, // segment prefix: falls to the weighted rule
		{"GET", "/x", map[string]string{"x-user": "tester"}, "b"},
	} {
		r, _ := http.NewRequest(tc.method, "http://front"+tc.path, nil)
		for k, v := range tc.header {
			r.Header.Set(k, v)
		}
		d, err := l7.Route(ix, front, 80, r, rnd)
		if err != nil {
			t.Fatal(err)
		}
		if tc.want != "" && d.Service.Name != tc.want {
			t.Errorf("%s %s → %s, want %s", tc.method, tc.path, d.Service.Name, tc.want)
		}
	}
	counts := map[string]int{}
	for i := 0; i < 4000; i++ {
		r, _ := http.NewRequest("GET", "http://front/", nil)
		d, _ := l7.Route(ix, front, 80, r, rnd)
		counts[d.Service.Name]++
	}
	if a := counts["a"]; a < 2800 || a > 3200 {
		t.Errorf("3:1 split gave %v", counts)
	}
}

func TestAuthorize(t *testing.T) {
	ix := testIndex(t)
	front, _ := ix.Service("default/front")
	other, _ := ix.Service("default/a")
	inNS := identity.MustParse("spiffe://cluster.local/ns/default/sa/x")
	outNS := identity.MustParse("spiffe://cluster.local/ns/other/sa/x")
	for _, tc := range []struct {
		src          identity.ID
		method, path string
		svc          *mesh.ServiceInfo
		want         bool
	}{
		{inNS, "GET", "/", front, true},
		{inNS, "DELETE", "/", front, false},
		{outNS, "GET", "/", front, false},
		{outNS, "GET", "/public/x", front, true},
		{identity.ID{}, "GET", "/public", front, true},
		{outNS, "DELETE", "/x", other, true}, // policies target front only
	} {
		d := l7.Authorize(ix, l7.AuthzInput{Source: tc.src, Method: tc.method, Path: tc.path, Port: 80, Services: []*mesh.ServiceInfo{tc.svc}})
		if d.Allowed != tc.want {
			t.Errorf("%v %s %s on %s = %+v, want %v", tc.src, tc.method, tc.path, tc.svc.Name, d, tc.want)
		}
	}
}

// FuzzRequest feeds raw bytes through the L7 parser (net/http's HTTP/1.1
// reader, as the waypoint uses) and into routing and authorization: nothing
// may panic, a route must name one of its rule's backends, and decisions
// must be deterministic.
func FuzzRequest(f *testing.F) {
	f.Add([]byte("GET /api/v1 HTTP/1.1\r\nHost: front\r\nx-user: tester\r\n\r\n"))
	f.Add([]byte("POST /api HTTP/1.1\r\nHost: front\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("DELETE /public/../x HTTP/1.1\r\nHost: f\r\n\r\n"))
	ix := testIndex(f)
	front, _ := ix.Service("default/front")
	src := identity.MustParse("spiffe://cluster.local/ns/default/sa/x")
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		d, err := l7.Route(ix, front, 80, r, rand.New(rand.NewPCG(1, 1)))
		if err == nil && !slices.Contains([]string{"a", "b"}, d.Service.Name) {
			t.Fatalf("routed to %q", d.Service.Name)
		}
		in := l7.AuthzInput{Source: src, Method: r.Method, Path: r.URL.Path, Port: 80, Services: []*mesh.ServiceInfo{front}}
		if l7.Authorize(ix, in) != l7.Authorize(ix, in) {
			t.Fatal("authorization is not deterministic")
		}
	})
}
