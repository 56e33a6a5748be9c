package ztunnel_test

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
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/meshtest"
	"github.com/ambientsim/ambientsim/validation/ztunnel"
)

// Two node proxies on loopback carry one HTTP request from an ambient
// client on node-a to an echo pod on node-b over HBONE (mTLS, HTTP/2
// CONNECT). The client application only sees a plain TCP listener: the
// explicit outbound listener plays the role of the capture rule.
func Example() {
	ctx := context.Background()
	// Pods get their own loopback addresses; a random 127.a.b.0/24 keeps
	// parallel test binaries apart (HBONE listens on podIP:15008).
	block := fmt.Sprintf("127.%d.%d.", 100+rand.IntN(100), 1+rand.IntN(250))
	m := &mesh.Mesh{
		Workloads: []mesh.Workload{
			{Name: "client", Namespace: "default", IP: block + "1", Node: "node-a"},
			{Name: "server", Namespace: "default", IP: block + "2", Node: "node-b", App: "echo"},
		},
		Services: []mesh.Service{{Name: "echo", Namespace: "default", VIP: block + "100",
			Ports: []mesh.ServicePort{{Port: 80, TargetPort: 8080}}, Endpoints: []string{"server"}}},
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
	// Node authorization: a node proxy gets certificates only for its pods.
	for _, key := range []string{"default/client", "default/server"} {
		w, _ := ix.Workload(key)
		ca.Placement().Place(w.Node, w.ID)
	}

	app := &echo.Server{Name: "server"}
	if _, err := app.ListenHTTP(ctx, block+"2:8080"); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Shutdown(ctx)

	quiet := slog.New(slog.DiscardHandler)
	src, err := ztunnel.New(ztunnel.Config{Node: "node-a", Mesh: ix, Issuer: ca.ForNode("node-a"), Logger: quiet,
		Outbound: []ztunnel.OutboundListener{{Listen: block + "1:0", Source: "default/client", Destination: block + "100:80"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	dst, err := ztunnel.New(ztunnel.Config{Node: "node-b", Mesh: ix, Issuer: ca.ForNode("node-b"), Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range []*ztunnel.Proxy{dst, src} {
		if err := p.Start(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = src.Shutdown(sctx)
		_ = dst.Shutdown(sctx)
	}()

	tr := &http.Transport{DisableKeepAlives: true}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + src.OutboundAddrs()[0].String() + "/echo-me")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "from", resp.Header.Get("x-echo-pod"))

	// The destination ztunnel reports the connection as Istio's would.
	opened := meshtest.Sum(dst.Registry(), "istio_tcp_connections_opened_total", map[string]string{
		"reporter":                   "destination",
		"source_principal":           "spiffe://cluster.local/ns/default/sa/default",
		"destination_service_name":   "echo",
		"connection_security_policy": "mutual_tls",
	})
	fmt.Println("destination opened:", opened)
	pool := src.PoolStats()
	fmt.Println("node-a HBONE dials:", pool.Dials, "streams:", pool.Streams)
	// Output:
	// 200 from server
	// destination opened: 1
	// node-a HBONE dials: 1 streams: 1
}

// New checks a configuration against the mesh before anything listens: an
// outbound listener must belong to an ambient pod on this node. A
// destination outside the mesh is fine: like ztunnel, the proxy passes such
// connections through.
func ExampleNew() {
	ix, err := mesh.Compile(&mesh.Mesh{
		Workloads: []mesh.Workload{
			{Name: "client", Namespace: "default", IP: "127.0.10.1", Node: "node-a"},
			{Name: "server", Namespace: "default", IP: "127.0.10.2", Node: "node-b"},
		},
		Services: []mesh.Service{{Name: "echo", Namespace: "default", VIP: "127.0.30.1",
			Ports: []mesh.ServicePort{{Port: 80, TargetPort: 8080}}, Endpoints: []string{"server"}}},
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
	for _, out := range []ztunnel.OutboundListener{
		{Listen: "127.0.10.1:0", Source: "default/client", Destination: "127.0.30.1:80"},
		{Listen: "127.0.10.2:0", Source: "default/server", Destination: "127.0.30.1:80"},
		{Listen: "127.0.10.1:0", Source: "default/client", Destination: "127.0.30.9:80"},
	} {
		p, err := ztunnel.New(ztunnel.Config{Node: "node-a", Mesh: ix, Issuer: ca.ForNode("node-a"),
			Outbound: []ztunnel.OutboundListener{out}})
		fmt.Println(out.Source, "→", out.Destination, "error:", err)
		if err == nil {
			_ = p.Shutdown(context.Background()) // releases the HBONE pool New created
		}
	}
	_, err = ztunnel.New(ztunnel.Config{Node: "node-a", Mesh: ix})
	fmt.Println(err)
	// Output:
	// default/client → 127.0.30.1:80 error: <nil>
	// default/server → 127.0.30.1:80 error: ztunnel node-a: outbound[0]: source "default/server" is not an ambient pod on this node
	// default/client → 127.0.30.9:80 error: <nil>
	// ztunnel: Node, Mesh and Issuer are required
}
