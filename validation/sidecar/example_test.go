package sidecar_test

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
	"github.com/ambientsim/ambientsim/validation/sidecar"
)

// Two sidecar-mode pods on loopback: the client's sidecar takes plain HTTP
// from the app on an outbound listener, routes it to a pod of the service and
// carries it over mTLS to the server's sidecar, which enforces the pod's L7
// policy (no DELETE) and forwards to the app on its local port.
func Example() {
	ctx := context.Background()
	// A random 127.a.b.0/24 keeps parallel test binaries apart.
	block := fmt.Sprintf("127.%d.%d.", 100+rand.IntN(100), 1+rand.IntN(250))
	m := &mesh.Mesh{
		Workloads: []mesh.Workload{
			{Name: "client", Namespace: "legacy", IP: block + "1", Node: "node-a", Mode: mesh.ModeSidecar},
			{Name: "orders", Namespace: "legacy", IP: block + "2", Node: "node-b", Mode: mesh.ModeSidecar, App: "orders"},
		},
		Services: []mesh.Service{{Name: "orders", Namespace: "legacy", VIP: block + "100",
			Ports: []mesh.ServicePort{{Port: 80, TargetPort: 8080}}, Endpoints: []string{"orders"}}},
		L7Policies: []mesh.L7Policy{{Name: "no-delete", Namespace: "legacy", Action: l4policy.Deny,
			Rules: []mesh.L7Rule{{Methods: []string{"DELETE"}}}}},
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

	app := &echo.Server{Name: "orders"}
	if _, err := app.ListenHTTP(ctx, block+"2:8080"); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Shutdown(ctx)

	quiet := slog.New(slog.DiscardHandler)
	server, err := sidecar.New(sidecar.Config{Pod: "legacy/orders", Mesh: ix, Issuer: ca.Unrestricted(), AppPort: 8080, Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := sidecar.New(sidecar.Config{Pod: "legacy/client", Mesh: ix, Issuer: ca.Unrestricted(), Logger: quiet,
		Outbound: []sidecar.OutboundListener{{Listen: block + "1:0", Destination: block + "100:80"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range []*sidecar.Proxy{server, client} {
		if err := p.Start(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = client.Shutdown(sctx)
		_ = server.Shutdown(sctx)
	}()

	httpc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	base := "http://" + client.OutboundAddrs()[0].String()
	for _, method := range []string{"GET", "DELETE"} {
		req, _ := http.NewRequest(method, base+"/orders/7", nil)
		req.Host = "orders.legacy.svc.cluster.local"
		resp, err := httpc.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %d pod=%q\n", method, resp.StatusCode, resp.Header.Get("x-echo-pod"))
	}
	fmt.Println("app saw", app.Requests(), "request(s)")
	// Output:
	// GET 200 pod="orders"
	// DELETE 403 pod=""
	// app saw 1 request(s)
}

// New accepts only a pod the mesh runs in sidecar mode: an ambient pod's
// traffic belongs to its node proxy instead.
func ExampleNew() {
	ix, err := mesh.Compile(&mesh.Mesh{
		Workloads: []mesh.Workload{
			{Name: "orders", Namespace: "legacy", IP: "127.0.10.1", Node: "node-a", Mode: mesh.ModeSidecar},
			{Name: "cart", Namespace: "shop", IP: "127.0.10.2", Node: "node-a", Mode: mesh.ModeAmbient},
		},
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
	for _, pod := range []string{"legacy/orders", "shop/cart"} {
		_, err := sidecar.New(sidecar.Config{Pod: pod, Mesh: ix, Issuer: ca.Unrestricted()})
		fmt.Println(pod, "error:", err)
	}
	// Output:
	// legacy/orders error: <nil>
	// shop/cart error: sidecar "shop/cart": not a sidecar-mode workload in the mesh
}
