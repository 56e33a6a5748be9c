package meshtest

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/echo"
	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/sidecar"
	"github.com/ambientsim/ambientsim/validation/waypoint"
	"github.com/ambientsim/ambientsim/validation/ztunnel"
)

// StartMesh runs any mesh description on loopback: an echo app on every pod
// (HTTP on each target port of the services that select it), a node proxy
// per node with an explicit capture listener for every (ambient pod,
// service port) pair, every waypoint, and a sidecar for every sidecar pod
// with an outbound listener per service port. Addresses in m must be
// loopback addresses (package meshconfig can assign them). Pods are named
// "namespace/name" in Env.Outbound, Env.Echo and Env.Sidecars. Everything
// stops in t.Cleanup.
func StartMesh(t testing.TB, m *mesh.Mesh, o Options) *Env {
	t.Helper()
	e := &Env{Mesh: m, Ztunnels: map[string]*ztunnel.Proxy{}, Echo: map[string]*echo.Server{},
		Sidecars: map[string]*sidecar.Proxy{}, outbound: map[[2]string]string{}}
	var err error
	if e.Index, err = mesh.Compile(m); err != nil {
		t.Fatal(err)
	}
	if e.CA, err = identity.NewCA(e.Index.TrustDomain, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
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
	ctx := context.Background()

	// Which ports each pod serves, and every service port a client may call.
	podPorts := map[string]map[uint16]bool{}
	var dests []string
	for _, s := range m.Services {
		info, _ := e.Index.Service(s.Namespace + "/" + s.Name)
		for _, p := range info.Ports {
			dests = append(dests, netip.AddrPortFrom(info.Addr, p.Port).String())
			for _, ep := range info.Endpoints {
				if podPorts[ep.Key] == nil {
					podPorts[ep.Key] = map[uint16]bool{}
				}
				podPorts[ep.Key][p.TargetPort] = true
			}
		}
	}
	var nodes []string
	seen := map[string]bool{}
	for _, w := range m.Workloads {
		info, _ := e.Index.Workload(w.Namespace + "/" + w.Name)
		e.CA.Placement().Place(w.Node, info.ID)
		if !seen[w.Node] {
			seen[w.Node] = true
			nodes = append(nodes, w.Node)
		}
		if len(podPorts[info.Key]) == 0 {
			continue
		}
		srv := &echo.Server{Name: w.Name, ServiceTime: o.ServiceTime, ResponseSize: o.ResponseSize}
		for port := range podPorts[info.Key] {
			if _, err := srv.ListenHTTP(ctx, netip.AddrPortFrom(info.Addr, port).String()); err != nil {
				t.Fatal(err)
			}
		}
		e.Echo[info.Key] = srv
		e.extra = append(e.extra, srv.Shutdown)
	}
	for _, node := range nodes {
		var outs []ztunnel.OutboundListener
		var keys [][2]string
		for _, w := range e.Index.WorkloadsOnNode(node, mesh.ModeAmbient) {
			for _, d := range dests {
				outs = append(outs, ztunnel.OutboundListener{Listen: w.IP + ":0", Source: w.Key, Destination: d})
				keys = append(keys, [2]string{w.Key, d})
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
	for _, wp := range m.Waypoints {
		p, err := waypoint.New(waypoint.Config{Name: wp.Namespace + "/" + wp.Name, Mesh: e.Index, Issuer: e.CA.Unrestricted(), Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if e.Waypoint == nil {
			e.Waypoint = p
		}
		e.extra = append(e.extra, p.Shutdown)
	}
	for _, w := range m.Workloads {
		info, _ := e.Index.Workload(w.Namespace + "/" + w.Name)
		if info.Mode != mesh.ModeSidecar {
			continue
		}
		var outs []sidecar.OutboundListener
		for _, d := range dests {
			outs = append(outs, sidecar.OutboundListener{Listen: w.IP + ":0", Destination: d})
		}
		appPort := uint16(HTTPPort)
		for p := range podPorts[info.Key] {
			appPort = p // a sidecar forwards mTLS to one app port; pick one it serves
			break
		}
		sc, err := sidecar.New(sidecar.Config{Pod: info.Key, Mesh: e.Index, Issuer: e.CA.Unrestricted(), Outbound: outs,
			AppPort: appPort, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		if err := sc.Start(ctx); err != nil {
			t.Fatal(fmt.Errorf("sidecar %s: %w", info.Key, err))
		}
		for i, a := range sc.OutboundAddrs() {
			e.outbound[[2]string{info.Key, dests[i]}] = a.String()
		}
		e.Sidecars[info.Key] = sc
		e.extra = append(e.extra, sc.Shutdown)
	}
	return e
}

// HasOutbound reports whether pod src has a capture listener for dst.
func (e *Env) HasOutbound(src, dst string) bool {
	_, ok := e.outbound[[2]string{src, dst}]
	return ok
}
