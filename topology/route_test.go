package topology

import (
	"fmt"
	"testing"
)

func TestPickBackend(t *testing.T) {
	d := RouteDecision{Backends: []WeightedBackend{{Weight: 90}, {Weight: 0}, {Weight: 10}}, TotalWeight: 100}
	for _, tc := range []struct {
		u    float64
		want int
	}{{0, 0}, {0.5, 0}, {0.8999, 0}, {0.9, 2}, {0.9999, 2}} {
		if got := d.PickBackend(tc.u); got != tc.want {
			t.Errorf("PickBackend(%g) = %d, want %d", tc.u, got, tc.want)
		}
	}
	if got := (&RouteDecision{}).PickBackend(0.5); got != -1 {
		t.Errorf("no backends: got %d, want -1", got)
	}
}

func TestPathSeparatedPrefix(t *testing.T) {
	for _, tc := range []struct {
		path, prefix string
		want         bool
	}{
		{"/foo", "/foo", true}, {"/foo/bar", "/foo", true}, {"/foobar", "/foo", false},
		{"/foo/bar", "/foo/", true}, {"/foo", "/foo/", true}, {"/anything", "/", true},
	} {
		if got := pathSeparatedPrefix(tc.path, tc.prefix); got != tc.want {
			t.Errorf("pathSeparatedPrefix(%q, %q) = %v, want %v", tc.path, tc.prefix, got, tc.want)
		}
	}
}

const routeSpec = `
nodes: {count: 1}
namespaces:
  - name: shop
    mode: ambient
    waypoint: {}
    services:
      - {name: api}
      - {name: api-v2}
policies:
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: api, namespace: shop}
    spec:
      parentRefs: [{group: "", kind: Service, name: api}]
      rules:
      - matches: [{path: {type: PathPrefix, value: /v2}, headers: [{name: x-user, type: RegularExpression, value: "ann|bob"}]}]
        backendRefs: [{name: api-v2, port: 8080}]
      - backendRefs: [{name: api, port: 8080, weight: 3}, {name: api-v2, port: 8080, weight: 1}]
`

func TestRouteMatchAllocatesNothing(t *testing.T) {
	top, err := ParseSpec("route.yaml", []byte(routeSpec))
	if err != nil {
		t.Fatal(err)
	}
	rt := top.RouteTable(RouteParent{Kind: "Service", Namespace: "shop", Name: "api", Port: 8080})
	req := RouteRequest{Method: "GET", Path: "/v2/x?y=1", Headers: map[string]string{"X-User": "bob"}}
	if d := rt.Match(req); d.Rule != 0 {
		t.Fatalf("want rule 0, got %+v", d)
	}
	if n := testing.AllocsPerRun(100, func() { rt.Match(req) }); n != 0 {
		t.Errorf("Match allocates %v times per call, want 0", n)
	}
}

func BenchmarkRouteMatch(b *testing.B) {
	top, err := ParseSpec("route.yaml", []byte(routeSpec))
	if err != nil {
		b.Fatal(err)
	}
	rt := top.RouteTable(RouteParent{Kind: "Service", Namespace: "shop", Name: "api", Port: 8080})
	req := RouteRequest{Method: "GET", Path: "/v1/x", Headers: map[string]string{"x-user": "zed"}}
	for b.Loop() {
		rt.Match(req)
	}
}

// ExampleTopology_RouteTable compiles the routes a waypoint applies to a
// Service once, then decides requests: the header match wins for Ann, the
// weighted catch-all (3:1) serves everyone else, and the simulator draws
// the backend once per request.
func ExampleTopology_RouteTable() {
	top, _ := ParseSpec("route.yaml", []byte(routeSpec))
	rt := top.RouteTable(RouteParent{Kind: "Service", Namespace: "shop", Name: "api", Port: 8080})
	for _, req := range []RouteRequest{
		{Method: "GET", Path: "/v2/cart", Headers: map[string]string{"x-user": "ann"}},
		{Method: "GET", Path: "/v2/cart"},
	} {
		d := rt.Match(req)
		i := d.PickBackend(0.8) // a uniform draw from the request's stream
		fmt.Printf("%s rule %d -> %s (%d of %d backends), retries %d\n", req.Path, d.Rule, d.Backends[i].Service.ID(), i+1, len(d.Backends), d.Retry.Attempts)
	}
	// Output:
	// /v2/cart rule 0 -> shop/api-v2 (1 of 1 backends), retries 2
	// /v2/cart rule 1 -> shop/api-v2 (2 of 2 backends), retries 2
}
