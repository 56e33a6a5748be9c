package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/echo"
	"github.com/ambientsim/ambientsim/validation/l4policy"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/meshtest"
)

func get(t *testing.T, c *http.Client, method, url string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestWaypointPath(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{ResponseSize: 1024})
	c := env.HTTPClient(t, "client")
	for _, tc := range []struct {
		path, pod string
	}{
		{"/", "server-v1"}, {"/v2", "server-v2"}, {"/v2/deeper", "server-v2"}, {"/v2x", "server-v1"},
	} {
		code, body, h := get(t, c, http.MethodGet, "http://"+env.WaypointHTTP+tc.path)
		if code != http.StatusOK || len(body) != 1024 || h.Get("x-echo-pod") != tc.pod {
			t.Errorf("GET %s = %d, %d bytes, pod %q; want 200, 1024 bytes, pod %q", tc.path, code, len(body), h.Get("x-echo-pod"), tc.pod)
		}
	}
	wreg := env.Waypoint.Registry()
	waitFor(t, "waypoint metrics", func() bool {
		return meshtest.Sum(wreg, "istio_request_duration_milliseconds", map[string]string{"reporter": "waypoint"}) == 4
	})
	if n := meshtest.Sum(wreg, "istio_requests_total", map[string]string{
		"reporter": "waypoint", "response_code": "200", "source_workload": "client",
		"source_principal": "spiffe://cluster.local/ns/default/sa/client", "destination_workload": "server-v2",
		"destination_service": "server-v2.default.svc.cluster.local", "request_protocol": "http",
	}); n != 2 {
		t.Errorf("waypoint requests to server-v2 = %v, want 2", n)
	}
	if n := meshtest.Sum(wreg, "istio_request_duration_milliseconds", map[string]string{"reporter": "waypoint"}); n != 4 {
		t.Errorf("waypoint duration samples = %v, want 4", n)
	}
	// Both HBONE legs: the client's ztunnel names the waypoint as the
	// destination, the server's ztunnel names it as the source.
	if n := meshtest.Sum(env.Ztunnels["node-a"].Registry(), "istio_tcp_connections_opened_total", map[string]string{
		"reporter": "source", "destination_workload": "waypoint", "destination_service": "server-wp.default.svc.cluster.local"}); n < 1 {
		t.Errorf("source ztunnel did not report a connection to the waypoint")
	}
	if n := meshtest.Sum(env.Ztunnels["node-b"].Registry(), "istio_tcp_connections_opened_total", map[string]string{
		"reporter": "destination", "source_workload": "waypoint",
		"source_principal": "spiffe://cluster.local/ns/default/sa/waypoint"}); n < 1 {
		t.Errorf("destination ztunnel did not see the waypoint as source")
	}
}

func TestL7PolicyAtWaypointAndSidecar(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{L7Policies: []mesh.L7Policy{
		{Name: "deny-denied", Namespace: "default", TargetServices: []string{"server-wp"}, Action: l4policy.Deny,
			Rules: []mesh.L7Rule{{Principals: []string{"cluster.local/ns/default/sa/denied"}}}},
		{Name: "no-admin-delete", Namespace: "default", Action: l4policy.Deny,
			Rules: []mesh.L7Rule{{Methods: []string{"DELETE"}, Paths: []string{"/admin*"}}}},
	}})
	denied := env.HTTPClient(t, "denied")
	// The L4 deny policy names server-v1/v2 pods, but via the waypoint the
	// destination ztunnel sees the waypoint's identity: the L7 policy is what
	// stops the denied principal, with a 403.
	if code, body, _ := get(t, denied, http.MethodGet, "http://"+env.WaypointHTTP+"/"); code != http.StatusForbidden || !strings.Contains(body, "RBAC: access denied") {
		t.Errorf("denied via waypoint = %d %q, want 403 RBAC: access denied", code, body)
	}
	client := env.HTTPClient(t, "client")
	for _, tc := range []struct {
		method, path string
		want         int
	}{{"DELETE", "/admin/users", 403}, {"GET", "/admin/users", 200}, {"DELETE", "/other", 200}} {
		if code, _, _ := get(t, client, tc.method, "http://"+env.WaypointHTTP+tc.path); code != tc.want {
			t.Errorf("waypoint %s %s = %d, want %d", tc.method, tc.path, code, tc.want)
		}
		if code, _, _ := get(t, env.HTTPClient(t, "sc-client"), tc.method, "http://"+env.SidecarHTTP+tc.path); code != tc.want {
			t.Errorf("sidecar %s %s = %d, want %d", tc.method, tc.path, code, tc.want)
		}
	}
	waitFor(t, "waypoint 403 for denied counted", func() bool {
		return meshtest.Sum(env.Waypoint.Registry(), "istio_requests_total", map[string]string{"response_code": "403", "source_workload": "denied"}) == 1
	})
	if n := env.Echo["server-v1"].Requests() + env.Echo["server-v2"].Requests(); n != 2 {
		t.Errorf("apps behind the waypoint served %d requests, want 2 (denied ones never arrive)", n)
	}
}

func TestSidecarPath(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{ResponseSize: 512})
	c := env.HTTPClient(t, "sc-client")
	for i := 0; i < 3; i++ {
		code, body, h := get(t, c, http.MethodGet, "http://"+env.SidecarHTTP+"/")
		if code != 200 || len(body) != 512 || h.Get("x-echo-pod") != "sc-server" {
			t.Fatalf("GET = %d %d bytes pod %q", code, len(body), h.Get("x-echo-pod"))
		}
	}
	// Proxies record a request once its last byte is sent, so the client may
	// see the response just before the metric lands.
	waitFor(t, "sidecar metrics", func() bool {
		src := meshtest.Sum(env.Sidecars["sc-client"].Registry(), "istio_requests_total", map[string]string{
			"reporter": "source", "source_workload": "sc-client", "destination_workload": "sc-server", "response_code": "200"})
		dst := meshtest.Sum(env.Sidecars["sc-server"].Registry(), "istio_requests_total", map[string]string{
			"reporter": "destination", "source_workload": "sc-client", "destination_workload": "sc-server",
			"source_principal": "spiffe://cluster.local/ns/default/sa/sc-client", "connection_security_policy": "mutual_tls"})
		return src == 3 && dst == 3
	})
}

func TestWaypointTimeoutAndRetries(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{Routes: []mesh.Route{{Name: "r", Namespace: "default", Service: "server-wp",
		Rules: []mesh.RouteRule{
			{Matches: []mesh.RouteMatch{{PathPrefix: "/slow"}}, Backends: []mesh.Backend{{Service: "server"}}, Timeout: 50 * time.Millisecond},
			{Matches: []mesh.RouteMatch{{Headers: map[string]string{"x-canary": "yes"}}}, Backends: []mesh.Backend{{Service: "server-v2"}}},
			{Backends: []mesh.Backend{{Service: "server"}}, Retries: 2},
		}}}})
	c := env.HTTPClient(t, "client")
	start := time.Now()
	code, _, _ := get(t, c, http.MethodGet, "http://"+env.WaypointHTTP+"/slow?delay=2s")
	if code != http.StatusGatewayTimeout || time.Since(start) > time.Second {
		t.Errorf("slow request = %d after %v, want 504 after about 50ms", code, time.Since(start))
	}
	before := env.Echo["server-v1"].Requests()
	if code, _, _ := get(t, c, http.MethodGet, "http://"+env.WaypointHTTP+"/flaky?status=503"); code != 503 {
		t.Errorf("always-503 = %d, want 503 after retries", code)
	}
	if n := env.Echo["server-v1"].Requests() - before; n != 3 {
		t.Errorf("app saw %d attempts, want 1 + 2 retries", n)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+env.WaypointHTTP+"/", nil)
	req.Header.Set("x-canary", "yes")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if pod := resp.Header.Get("x-echo-pod"); pod != "server-v2" {
		t.Errorf("header match routed to %q, want server-v2", pod)
	}
}

func TestWeightedBackends(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{Routes: []mesh.Route{{Name: "r", Namespace: "default", Service: "server-wp",
		Rules: []mesh.RouteRule{{Backends: []mesh.Backend{{Service: "server", Weight: 80}, {Service: "server-v2", Weight: 20}}}}}}})
	c := env.HTTPClient(t, "client")
	counts := map[string]int{}
	const n = 200
	for i := 0; i < n; i++ {
		code, body, h := get(t, c, http.MethodGet, "http://"+env.WaypointHTTP+"/")
		if code != http.StatusOK {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
		counts[h.Get("x-echo-pod")]++
	}
	// 80/20 split: v2 count is Binomial(200, 0.2), mean 40, sd 5.7.
	if v2 := counts["server-v2"]; v2 < 15 || v2 > 65 || counts["server-v1"]+v2 != n {
		t.Errorf("weighted split = %v, want about 160/40", counts)
	}
}

// TestBulkTransferHTTP pushes a checksummed body up and pulls one down
// through the waypoint path and the sidecar path.
func TestBulkTransferHTTP(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{})
	n := bulkSize()
	want := sha256.New()
	_, _ = io.Copy(want, io.LimitReader(&echo.Pattern{}, n))
	wantHex := hex.EncodeToString(want.Sum(nil))
	for _, tc := range []struct{ name, src, dst string }{
		{"waypoint", "client", env.WaypointHTTP},
		{"sidecar", "sc-client", env.SidecarHTTP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := env.HTTPClient(t, tc.src)
			start := time.Now()
			resp, err := c.Post("http://"+tc.dst+"/sha256", "application/octet-stream", io.LimitReader(&echo.Pattern{}, n))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := strings.TrimSpace(string(body)); got != fmt.Sprintf("%s %d", wantHex, n) {
				t.Fatalf("upload checksum = %q, want %s %d", got, wantHex, n)
			}
			up := time.Since(start)
			start = time.Now()
			resp, err = c.Get(fmt.Sprintf("http://%s/bytes?size=%d", tc.dst, n))
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			got, err := io.Copy(h, resp.Body)
			resp.Body.Close()
			if err != nil || got != n || !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
				t.Fatalf("download %d bytes (%v), checksum match %v", got, err, bytes.Equal(h.Sum(nil), want.Sum(nil)))
			}
			t.Logf("%d MB up in %v, down in %v", n>>20, up, time.Since(start))
		})
	}
}

// An ambient client calling a sidecar pod: its node proxy tunnels HBONE to
// the sidecar's podIP:15008, and the sidecar enforces L7 policy.
func TestAmbientToSidecar(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{L7Policies: []mesh.L7Policy{
		{Name: "no-delete", Namespace: "default", TargetServices: []string{"sc-server"}, Action: l4policy.Deny,
			Rules: []mesh.L7Rule{{Methods: []string{"DELETE"}}}},
	}})
	c := env.HTTPClient(t, "client")
	if code, _, h := get(t, c, http.MethodGet, "http://"+env.SidecarHTTP+"/"); code != 200 || h.Get("x-echo-pod") != "sc-server" {
		t.Fatalf("GET = %d from %q", code, h.Get("x-echo-pod"))
	}
	if code, _, _ := get(t, c, http.MethodDelete, "http://"+env.SidecarHTTP+"/"); code != http.StatusForbidden {
		t.Fatalf("DELETE = %d, want 403 from the sidecar", code)
	}
	waitFor(t, "sidecar saw the ambient client", func() bool {
		return meshtest.Sum(env.Sidecars["sc-server"].Registry(), "istio_requests_total", map[string]string{
			"reporter": "destination", "source_workload": "client", "source_principal": "spiffe://cluster.local/ns/default/sa/client"}) == 2
	})
}

// The waypoint parses HTTP/2 (cleartext, prior knowledge) inside the tunnel
// as well as HTTP/1.1.
func TestWaypointHTTP2(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{ResponseSize: 300})
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protos, DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", env.Outbound("client", addr))
	}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, path := range []string{"/", "/v2/x"} {
		resp, err := c.Get("http://" + env.WaypointHTTP + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 || len(body) != 300 {
			t.Fatalf("GET %s = %s %d, %d bytes; want HTTP/2 200 with 300 bytes", path, resp.Proto, resp.StatusCode, len(body))
		}
	}
}
