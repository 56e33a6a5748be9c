package l7_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/istiometrics"
	"github.com/ambientsim/ambientsim/validation/l4policy"
	"github.com/ambientsim/ambientsim/validation/l7"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// exampleIndex is a small mesh: service "front" with an HTTPRoute that sends
// POST /api… to "b" and everything else to "a", and a policy that denies
// DELETE on "front".
func exampleIndex() (*mesh.Index, error) {
	port := []mesh.ServicePort{{Port: 80, TargetPort: 8080}}
	return mesh.Compile(&mesh.Mesh{
		Workloads: []mesh.Workload{
			{Name: "a", Namespace: "default", IP: "127.0.10.1"},
			{Name: "b", Namespace: "default", IP: "127.0.10.2"},
		},
		Services: []mesh.Service{
			{Name: "front", Namespace: "default", VIP: "127.0.30.1", Ports: port, Endpoints: []string{"a", "b"}},
			{Name: "a", Namespace: "default", VIP: "127.0.30.2", Ports: port, Endpoints: []string{"a"}},
			{Name: "b", Namespace: "default", VIP: "127.0.30.3", Ports: port, Endpoints: []string{"b"}},
		},
		Routes: []mesh.Route{{Name: "front", Namespace: "default", Service: "front", Rules: []mesh.RouteRule{
			{Matches: []mesh.RouteMatch{{PathPrefix: "/api", Method: "POST"}}, Backends: []mesh.Backend{{Service: "b"}}},
			{Backends: []mesh.Backend{{Service: "a"}}},
		}}},
		L7Policies: []mesh.L7Policy{{
			Name: "deny-delete", Namespace: "default", TargetServices: []string{"front"},
			Action: l4policy.Deny, Rules: []mesh.L7Rule{{Methods: []string{"DELETE"}}},
		}},
	})
}

// Matches applies one HTTPRoute match to a parsed request. Path prefixes
// match whole segments, as Gateway API PathPrefix does.
func ExampleMatches() {
	raw := "POST /api/v1/orders HTTP/1.1\r\nHost: front\r\nX-User: tester\r\nContent-Length: 0\r\n\r\n"
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Method, r.URL.Path, r.Header.Get("x-user"))

	for _, m := range []mesh.RouteMatch{
		{PathPrefix: "/api", Method: "POST"},
		{PathPrefix: "/ap"}, // not a whole segment
		{PathExact: "/api/v1/orders"},
		{Headers: map[string]string{"x-user": "tester"}},
		{PathPrefix: "/api", Method: "GET"},
	} {
		fmt.Printf("%+v → %v\n", m, l7.Matches(m, r.Method, r.URL.Path, r.Header))
	}
	// Output:
	// POST /api/v1/orders tester
	// {PathPrefix:/api PathExact: Method:POST Headers:map[]} → true
	// {PathPrefix:/ap PathExact: Method: Headers:map[]} → false
	// {PathPrefix: PathExact:/api/v1/orders Method: Headers:map[]} → true
	// {PathPrefix: PathExact: Method: Headers:map[x-user:tester]} → true
	// {PathPrefix:/api PathExact: Method:GET Headers:map[]} → false
}

// Route picks the backend service for a request to front:80; the first
// matching rule wins. A seeded source keeps weighted picks reproducible.
func ExampleRoute() {
	ix, err := exampleIndex()
	if err != nil {
		fmt.Println(err)
		return
	}
	front, _ := ix.Service("default/front")
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, req := range []struct{ method, path string }{
		{"POST", "/api/v1"},
		{"POST", "/apix"},
		{"GET", "/api/v1"},
	} {
		r, _ := http.NewRequest(req.method, "http://front.default"+req.path, nil)
		d, err := l7.Route(ix, front, 80, r, rnd)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s %s → %s:%d\n", req.method, req.path, d.Service.Name, d.Port)
	}
	// Output:
	// POST /api/v1 → b:80
	// POST /apix → a:80
	// GET /api/v1 → a:80
}

// Authorize evaluates the L7 AuthorizationPolicies bound to the destination
// services, as a waypoint does before routing.
func ExampleAuthorize() {
	ix, err := exampleIndex()
	if err != nil {
		fmt.Println(err)
		return
	}
	front, _ := ix.Service("default/front")
	src := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	for _, method := range []string{"GET", "DELETE"} {
		d := l7.Authorize(ix, l7.AuthzInput{
			Source: src, Method: method, Path: "/orders/7", Port: 80,
			Services: []*mesh.ServiceInfo{front},
		})
		fmt.Printf("%s allowed=%v policy=%q\n", method, d.Allowed, d.Policy)
	}
	// Output:
	// GET allowed=true policy=""
	// DELETE allowed=false policy="default/deny-delete"
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A Proxy is an http.Handler: the connection layer stores who the peer is
// and which address it meant (WithDownstream), and Config.Transport reaches
// the chosen endpoint. Here the transport answers in process, so the whole
// waypoint decision (authorize, route, forward, record metrics) runs without
// a network.
func ExampleProxy() {
	ix, err := exampleIndex()
	if err != nil {
		fmt.Println(err)
		return
	}
	reg := prometheus.NewRegistry()
	p := l7.New(l7.Config{
		Mesh:           ix,
		Reporter:       "waypoint",
		Authorize:      true,
		Route:          true,
		SecurityPolicy: "mutual_tls",
		Metrics:        istiometrics.MustHTTP(reg),
		Logger:         slog.New(slog.DiscardHandler),
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			// A waypoint would open HBONE to the pod's node proxy here.
			body := "served by " + r.URL.Host
			return &http.Response{StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)),
				ContentLength: int64(len(body)), Request: r}, nil
		}),
	})

	downstream := l7.Downstream{
		ID:        identity.MustParse("spiffe://cluster.local/ns/default/sa/client"),
		Addr:      netip.MustParseAddr("127.0.10.9"),
		Authority: netip.MustParseAddrPort("127.0.30.1:80"), // front's VIP
	}
	for _, req := range []struct{ method, path string }{
		{"GET", "/"},
		{"POST", "/api/orders"},
		{"DELETE", "/api/orders/7"},
	} {
		r := httptest.NewRequest(req.method, "http://front.default"+req.path, nil)
		r = r.WithContext(l7.WithDownstream(r.Context(), downstream))
		w := httptest.NewRecorder()
		p.ServeHTTP(w, r)
		fmt.Printf("%s %s → %d %s\n", req.method, req.path, w.Code, strings.TrimSpace(w.Body.String()))
	}

	// Every request is in istio_requests_total, labelled as Istio does: a
	// routed request counts against the backend service it was sent to.
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() != "istio_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			fmt.Printf("istio_requests_total{reporter=%q,destination_service_name=%q,response_code=%q} %v\n",
				labels["reporter"], labels["destination_service_name"], labels["response_code"], m.GetCounter().GetValue())
		}
	}
	// Output:
	// GET / → 200 served by 127.0.10.1:8080
	// POST /api/orders → 200 served by 127.0.10.2:8080
	// DELETE /api/orders/7 → 403 RBAC: access denied
	// istio_requests_total{reporter="waypoint",destination_service_name="a",response_code="200"} 1
	// istio_requests_total{reporter="waypoint",destination_service_name="b",response_code="200"} 1
	// istio_requests_total{reporter="waypoint",destination_service_name="front",response_code="403"} 1
}
