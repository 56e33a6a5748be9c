package meshtest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/echo"
	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/l4policy"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/sidecar"
	"github.com/ambientsim/ambientsim/validation/waypoint"
	"github.com/ambientsim/ambientsim/validation/ztunnel"
)

// Ports used by the echo pods.
const (
	HTTPPort = 8080
	TCPPort  = 9000
)

// Options tune the environment.
type Options struct {
	ServiceTime    time.Duration // echo service time
	ResponseSize   int           // echo default response size (bytes)
	L4Policies     []l4policy.Policy
	L7Policies     []mesh.L7Policy
	Routes         []mesh.Route // replaces the default route on server-wp
	PoolMaxStreams int
	CertTTL        time.Duration // node proxy workload certificate lifetime (24 h)
	Verbose        bool          // log proxies to stderr
}

// Env is a running loopback mesh.
type Env struct {
	CA       *identity.CA
	Mesh     *mesh.Mesh
	Index    *mesh.Index
	Ztunnels map[string]*ztunnel.Proxy // by node
	Echo     map[string]*echo.Server   // by pod name
	Waypoint *waypoint.Proxy
	Sidecars map[string]*sidecar.Proxy // by pod name

	// Destinations, as the client app addresses them.
	ServerTCP    string // service "server" VIP:9000, no waypoint
	ServerHTTP   string // service "server" VIP:80, no waypoint
	PodTCP       string // pod server-v1 IP:9000
	WaypointHTTP string // service "server-wp" VIP:80, through the waypoint
	SidecarHTTP  string // service "sc-server" VIP:80, sidecar to sidecar
	PodClosed    string // pod server-v1 IP:9999, where nothing listens
	WaypointTCP  string // service "server-wp" VIP:9000 (tcp) through the waypoint

	base     [3]byte
	outbound map[[2]string]string
	extra    []func(context.Context) error
}

// DeniedPolicy is the default L4 policy: the "denied" service account may
// not reach server-v1 (or server-v2) at all.
func DeniedPolicy() l4policy.Policy {
	return l4policy.Policy{Name: "deny-denied", Namespace: "default", Workloads: []string{"server-v1", "server-v2"},
		Action: l4policy.Deny, Rules: []l4policy.Rule{{Principals: []string{"cluster.local/ns/default/sa/denied"}}}}
}

// IP returns the address with last octet n in the environment's /24.
func (e *Env) IP(n byte) string { return fmt.Sprintf("127.%d.%d.%d", e.base[0], e.base[1], n) }

func (e *Env) hostPort(n byte, port int) string { return fmt.Sprintf("%s:%d", e.IP(n), port) }

// Mesh builds the environment's mesh description (exported for the
// harness and for meshconfig tests).
func (e *Env) buildMesh(o Options) *mesh.Mesh {
	wl := func(name, sa, node string, n byte, mode, version string) mesh.Workload {
		return mesh.Workload{Name: name, Namespace: "default", ServiceAccount: sa, IP: e.IP(n), Node: node,
			Mode: mode, App: sa, Version: version}
	}
	http := []mesh.ServicePort{{Port: 80, TargetPort: HTTPPort}, {Port: TCPPort, TargetPort: TCPPort, Protocol: "tcp"}}
	m := &mesh.Mesh{
		TrustDomain: "cluster.local",
		Workloads: []mesh.Workload{
			wl("client", "client", "node-a", 1, mesh.ModeAmbient, "v1"),
			wl("denied", "denied", "node-a", 2, mesh.ModeAmbient, "v1"),
			wl("server-v1", "server", "node-b", 11, mesh.ModeAmbient, "v1"),
			wl("server-v2", "server", "node-b", 12, mesh.ModeAmbient, "v2"),
			wl("sc-client", "sc-client", "node-a", 21, mesh.ModeSidecar, "v1"),
			wl("sc-server", "sc-server", "node-b", 22, mesh.ModeSidecar, "v1"),
		},
		Waypoints: []mesh.Waypoint{{Name: "waypoint", Namespace: "default", IP: e.IP(50), For: mesh.ForService}},
		Services: []mesh.Service{
			{Name: "server", Namespace: "default", VIP: e.IP(100), Ports: http, Endpoints: []string{"server-v1"}},
			{Name: "server-wp", Namespace: "default", VIP: e.IP(101), Ports: http, Endpoints: []string{"server-v1", "server-v2"}, Waypoint: "waypoint"},
			{Name: "server-v2", Namespace: "default", VIP: e.IP(102), Ports: http, Endpoints: []string{"server-v2"}},
			{Name: "sc-server", Namespace: "default", VIP: e.IP(103), Ports: http, Endpoints: []string{"sc-server"}},
		},
		Routes: []mesh.Route{{Name: "server-wp", Namespace: "default", Service: "server-wp", Rules: []mesh.RouteRule{
			{Matches: []mesh.RouteMatch{{PathPrefix: "/v2"}}, Backends: []mesh.Backend{{Service: "server-v2", Port: 80}}},
			{Backends: []mesh.Backend{{Service: "server", Port: 80}}, Retries: 2},
		}}},
		L4Policies: append([]l4policy.Policy{DeniedPolicy()}, o.L4Policies...),
		L7Policies: o.L7Policies,
	}
	if o.Routes != nil {
		m.Routes = o.Routes
	}
	return m
}

// Start builds and starts the environment; everything stops in t.Cleanup
// and Start fails the test if shutdown is not clean.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	e := &Env{Ztunnels: map[string]*ztunnel.Proxy{}, Echo: map[string]*echo.Server{}, outbound: map[[2]string]string{}}
	e.base = [3]byte{byte(100 + rand.IntN(150)), byte(1 + rand.IntN(250))}
	e.Mesh = e.buildMesh(o)
	var err error
	if e.Index, err = mesh.Compile(e.Mesh); err != nil {
		t.Fatal(err)
	}
	if e.CA, err = identity.NewCA("cluster.local", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, w := range e.Mesh.Workloads {
		e.CA.Placement().Place(w.Node, identity.ID{TrustDomain: "cluster.local", Namespace: w.Namespace, ServiceAccount: w.ServiceAccount})
	}
	e.ServerTCP = e.hostPort(100, TCPPort)
	e.ServerHTTP = e.hostPort(100, 80)
	e.PodTCP = e.hostPort(11, TCPPort)
	e.WaypointHTTP = e.hostPort(101, 80)
	e.SidecarHTTP = e.hostPort(103, 80)
	e.PodClosed = e.hostPort(11, 9999)
	e.WaypointTCP = e.hostPort(101, TCPPort)

	ctx := context.Background()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for i := len(e.extra) - 1; i >= 0; i-- {
			if err := e.extra[i](sctx); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		}
	})
	logger := slog.New(slog.DiscardHandler)
	if o.Verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// Echo apps on every server pod.
	for _, name := range []string{"server-v1", "server-v2", "sc-server"} {
		w, _ := e.Index.Workload("default/" + name)
		srv := &echo.Server{Name: name, ServiceTime: o.ServiceTime, ResponseSize: o.ResponseSize}
		if _, err := srv.ListenHTTP(ctx, fmt.Sprintf("%s:%d", w.IP, HTTPPort)); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.ListenTCP(ctx, fmt.Sprintf("%s:%d", w.IP, TCPPort)); err != nil {
			t.Fatal(err)
		}
		e.Echo[name] = srv
		e.extra = append(e.extra, srv.Shutdown)
	}
	// Node proxies, with explicit outbound listeners for each ambient client.
	dests := []string{e.ServerTCP, e.ServerHTTP, e.PodTCP, e.WaypointHTTP, e.hostPort(11, HTTPPort), e.PodClosed, e.SidecarHTTP, e.WaypointTCP}
	for _, node := range []string{"node-a", "node-b"} {
		var outs []ztunnel.OutboundListener
		var keys [][2]string
		for _, w := range e.Index.WorkloadsOnNode(node, mesh.ModeAmbient) {
			if w.Name != "client" && w.Name != "denied" {
				continue
			}
			for _, d := range dests {
				outs = append(outs, ztunnel.OutboundListener{Listen: w.IP + ":0", Source: w.Key, Destination: d})
				keys = append(keys, [2]string{w.Name, d})
			}
		}
		z, err := ztunnel.New(ztunnel.Config{Node: node, Mesh: e.Index, Issuer: e.CA.ForNode(node), Outbound: outs,
			PoolMaxStreams: o.PoolMaxStreams, CertTTL: o.CertTTL, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		if err := z.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for i, a := range z.OutboundAddrs() {
			e.outbound[keys[i]] = a.String()
		}
		e.Ztunnels[node] = z
		e.extra = append(e.extra, z.Shutdown)
	}
	e.startL7(t, ctx, logger)
	return e
}

// Outbound returns the address a client app in pod src dials to reach dst
// through its node proxy (the explicit capture listener).
func (e *Env) Outbound(src, dst string) string {
	a, ok := e.outbound[[2]string{src, dst}]
	if !ok {
		panic(fmt.Sprintf("meshtest: no outbound listener for %s → %s", src, dst))
	}
	return a
}

// Dial connects pod src's app to dst through the mesh.
func (e *Env) Dial(src, dst string) (net.Conn, error) {
	return net.Dial("tcp", e.Outbound(src, dst))
}
