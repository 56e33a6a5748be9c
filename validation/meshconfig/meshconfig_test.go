package meshconfig_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ambientsim/ambientsim/topology"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/meshconfig"
	"github.com/ambientsim/ambientsim/validation/meshtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func build(t *testing.T) (*topology.Topology, *mesh.Mesh) {
	t.Helper()
	top, err := topology.LoadSpec(filepath.Join("testdata", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base := netip.MustParsePrefix(fmt.Sprintf("127.%d.0.0/16", 100+rand.IntN(150)))
	m, rep, err := meshconfig.Build(top, meshconfig.Options{Base: base})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range rep.Warnings {
		t.Log("warning:", w)
	}
	// What Build produces must survive the YAML file the processes read.
	data, err := mesh.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := mesh.Parse("roundtrip.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mesh.Compile(back); err != nil {
		t.Fatal(err)
	}
	return top, back
}

// TestTopologyAndDataPlaneAgree runs the translated cluster on real proxies
// and checks, for every client pod, service and request, that the simulator's
// topology (path and policy decision) predicts what the data plane does.
func TestTopologyAndDataPlaneAgree(t *testing.T) {
	top, m := build(t)
	env := meshtest.StartMesh(t, m, meshtest.Options{})
	requests := []struct{ method, path string }{{"GET", "/"}, {"DELETE", "/"}, {"GET", "/admin/x"}}
	checked := 0
	denials := map[string]int{} // by enforcing layer, so the test cannot pass on allow-only cases
	for _, src := range top.Pods {
		if src.Name != "client" && src.Name != "intruder" && src.Name != "orders-0" {
			continue
		}
		for _, svc := range top.Services {
			ms, _ := env.Index.Service(svc.ID())
			for _, sp := range svc.Ports {
				vip := netip.AddrPortFrom(ms.Addr, uint16(sp.Port)).String()
				path := top.PathFrom(src, svc, sp.Port)
				if src.Mode == topology.Ambient {
					out, err := env.Index.ResolveOutbound(netip.MustParseAddrPort(vip))
					if err != nil {
						t.Fatal(err)
					}
					if (path.Waypoint != nil) != (out.Kind == mesh.HopWaypoint) {
						t.Errorf("%s → %s: topology path %s (waypoint %v), data plane hop %s", src.ID(), svc.ID(), path.Category, path.Waypoint != nil, out.Kind)
					}
				}
				for _, rq := range requests {
					d := top.Evaluate(src, path.Endpoint, path.Waypoint, svc.TargetPort(sp.Port), topology.Request{Method: rq.method, Path: rq.path, Service: svc})
					got, detail := call(env, src.ID(), vip, rq.method, rq.path)
					if got != d.Allow {
						t.Errorf("%s %s %s%s: topology allow=%v (%s %s %s), data plane allow=%v (%s)",
							src.ID(), rq.method, svc.ID(), rq.path, d.Allow, d.By, d.Layer, d.Policy, got, detail)
					}
					checked++
					if !d.Allow {
						denials[d.Layer]++
					}
				}
			}
		}
	}
	if checked < 20 || denials["L4"] == 0 || denials["L7"] == 0 {
		t.Fatalf("only %d cases checked with denials %v: want L4 and L7 denials covered", checked, denials)
	}
	t.Logf("%d (source, service, request) cases agree; denials by layer %v", checked, denials)
}

func call(env *meshtest.Env, src, vip, method, path string) (bool, string) {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", env.Outbound(src, vip))
	}}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(method, "http://"+vip+path, nil)
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK, resp.Status
}
