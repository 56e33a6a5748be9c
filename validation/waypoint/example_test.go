package waypoint_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/ambientsim/ambientsim/validation/echo"
	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/l4policy"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/waypoint"
	"github.com/ambientsim/ambientsim/validation/ztunnel"
)

// An ambient client calls service "echo", which has a waypoint: the client's
// node proxy sends the connection over HBONE to the waypoint, which applies
// the service's HTTPRoute (/v2… goes to echo-v2) and its L7 policy (no
// DELETE), then carries each request over HBONE to the chosen pod's node
// proxy. Everything runs on loopback in this process.
func Example() {
	ctx := context.Background()
	// A random 127.a.b.0/24 keeps parallel test binaries apart.
	block := fmt.Sprintf("127.%d.%d.", 100+rand.IntN(100), 1+rand.IntN(250))
	port := []mesh.ServicePort{{Port: 80, TargetPort: 8080}}
	m := &mesh.Mesh{
		Workloads: []mesh.Workload{
			{Name: "client", Namespace: "default", IP: block + "1", Node: "node-a"},
			{Name: "echo-v1", Namespace: "default", IP: block + "2", Node: "node-b", App: "echo", Version: "v1"},
			{Name: "echo-v2", Namespace: "default", IP: block + "3", Node: "node-b", App: "echo", Version: "v2"},
		},
		Services: []mesh.Service{
			{Name: "echo", Namespace: "default", VIP: block + "100", Ports: port, Endpoints: []string{"echo-v1"}, Waypoint: "waypoint"},
			{Name: "echo-v2", Namespace: "default", VIP: block + "101", Ports: port, Endpoints: []string{"echo-v2"}},
		},
		Waypoints: []mesh.Waypoint{{Name: "waypoint", Namespace: "default", IP: block + "50"}},
		Routes: []mesh.Route{{Name: "echo", Namespace: "default", Service: "echo", Rules: []mesh.RouteRule{
			{Matches: []mesh.RouteMatch{{PathPrefix: "/v2"}}, Backends: []mesh.Backend{{Service: "echo-v2"}}},
			{Backends: []mesh.Backend{{Service: "echo"}}},
		}}},
		L7Policies: []mesh.L7Policy{{Name: "no-delete", Namespace: "default", TargetServices: []string{"echo"},
			Action: l4policy.Deny, Rules: []mesh.L7Rule{{Methods: []string{"DELETE"}}}}},
	}
	ix, err := mesh.Compile(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	ca, err := identity.NewCA(ix.TrustDomain, time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}
	var stops []func(context.Context) error
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		for i := len(stops) - 1; i >= 0; i-- {
			_ = stops[i](sctx)
		}
	}()
	for _, name := range []string{"echo-v1", "echo-v2"} {
		w, _ := ix.Workload("default/" + name)
		app := &echo.Server{Name: name}
		if _, err := app.ListenHTTP(ctx, w.IP+":8080"); err != nil {
			fmt.Println(err)
			return
		}
		stops = append(stops, app.Shutdown)
	}
	for _, key := range []string{"default/client", "default/echo-v1", "default/echo-v2"} {
		w, _ := ix.Workload(key)
		ca.Placement().Place(w.Node, w.ID)
	}

	quiet := slog.New(slog.DiscardHandler)
	wp, err := waypoint.New(waypoint.Config{Name: "default/waypoint", Mesh: ix, Issuer: ca.Unrestricted(), Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := wp.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	stops = append(stops, wp.Shutdown)
	var client *ztunnel.Proxy
	for _, node := range []string{"node-b", "node-a"} {
		cfg := ztunnel.Config{Node: node, Mesh: ix, Issuer: ca.ForNode(node), Logger: quiet}
		if node == "node-a" {
			cfg.Outbound = []ztunnel.OutboundListener{{Listen: block + "1:0", Source: "default/client", Destination: block + "100:80"}}
		}
		z, err := ztunnel.New(cfg)
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := z.Start(ctx); err != nil {
			fmt.Println(err)
			return
		}
		stops = append(stops, z.Shutdown)
		client = z
	}

	httpc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	base := "http://" + client.OutboundAddrs()[0].String()
	for _, req := range []struct{ method, path string }{
		{"GET", "/hello"},
		{"GET", "/v2/hello"},
		{"DELETE", "/hello"},
	} {
		r, _ := http.NewRequest(req.method, base+req.path, nil)
		r.Host = "echo.default.svc.cluster.local"
		resp, err := httpc.Do(r)
		if err != nil {
			fmt.Println(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %s → %d pod=%q\n", req.method, req.path, resp.StatusCode, resp.Header.Get("x-echo-pod"))
	}
	// Output:
	// GET /hello → 200 pod="echo-v1"
	// GET /v2/hello → 200 pod="echo-v2"
	// DELETE /hello → 403 pod=""
}

// New accepts only a waypoint the mesh declares; its HBONE listener
// defaults to the waypoint's IP on port 15008 (Config.Listen overrides it).
func ExampleNew() {
	ix, err := mesh.Compile(&mesh.Mesh{
		Waypoints: []mesh.Waypoint{{Name: "waypoint", Namespace: "shop", IP: "127.0.20.1"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ca, err := identity.NewCA(ix.TrustDomain, time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range []string{"shop/waypoint", "shop/gateway"} {
		p, err := waypoint.New(waypoint.Config{Name: name, Mesh: ix, Issuer: ca.Unrestricted()})
		fmt.Println(name, "error:", err)
		if err == nil {
			_ = p.Shutdown(context.Background()) // releases the HBONE pool New created
		}
	}
	// Output:
	// shop/waypoint error: <nil>
	// shop/gateway error: waypoint "shop/gateway": not in the mesh's waypoints
}
