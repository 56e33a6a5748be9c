package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ambientsim/ambientsim/validation/mesh"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func freeAddr(t *testing.T, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitTCP(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never accepted", addr)
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never answered", url)
}

// TestRolesAsProcessesInOneBinary runs the CA, two node proxies, a waypoint
// and the echo app through the same entry points the binary uses, drives
// load through the mesh, then stops everything as SIGTERM would.
func TestRolesAsProcessesInOneBinary(t *testing.T) {
	meshFile := filepath.Join("testdata", "mesh.yaml")
	pki := t.TempDir()
	caAddr := freeAddr(t, "127.0.0.1")
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 8)
	start := func(role string, args ...string) {
		go func() { errs <- roles[role](ctx, args) }()
	}
	start("ca", "--mesh", meshFile, "--pki", pki, "--listen", caAddr)
	waitTCP(t, caAddr)
	common := []string{"--mesh", meshFile, "--pki", pki, "--ca-url", "https://" + caAddr}
	out := freeAddr(t, "127.0.77.1")
	metricsB := freeAddr(t, "127.0.0.1")
	start("echo", "--name", "server", "--http", "127.0.77.11:8080", "--tcp", "127.0.77.11:9000")
	start("ztunnel", append(common, "--node", "node-b", "--metrics", metricsB)...)
	start("waypoint", append(common, "--name", "default/waypoint")...)
	start("ztunnel", append(common, "--node", "node-a",
		"--outbound", "source=default/client,listen="+out+",dest=127.0.77.101:80")...)
	waitHTTP(t, "http://"+metricsB+"/ready")
	time.Sleep(200 * time.Millisecond) // node-a listeners
	var lerr error
	for i := 0; i < 50; i++ {
		if lerr = roles["load"](ctx, []string{"--url", "http://127.0.77.101/", "--via", out, "--qps", "100", "--c", "2", "--n", "20"}); lerr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lerr != nil {
		t.Fatal(lerr)
	}
	resp, err := http.Get("http://" + metricsB + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	buf := make([]byte, 1<<20)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	if !strings.Contains(sb.String(), `istio_tcp_connections_opened_total{`) || !strings.Contains(sb.String(), `source_workload="waypoint"`) {
		t.Errorf("node-b metrics lack the waypoint's inbound connections:\n%.2000s", sb.String())
	}
	cancel()
	for i := 0; i < 5; i++ {
		if err := <-errs; err != nil {
			t.Errorf("role exited with %v", err)
		}
	}
}

func TestMeshRoleWritesALoadableFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "mesh.yaml")
	spec := filepath.Join("..", "..", "meshconfig", "testdata", "cluster.yaml")
	if err := roles["mesh"](context.Background(), []string{"--out", out, spec}); err != nil {
		t.Fatal(err)
	}
	m, err := mesh.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mesh.Compile(m); err != nil {
		t.Fatal(err)
	}
	if len(m.Workloads) != 5 || len(m.Waypoints) != 1 {
		t.Fatalf("mesh has %d pods and %d waypoints, want 5 and 1", len(m.Workloads), len(m.Waypoints))
	}
	if err := roles["mesh"](context.Background(), []string{spec}); err == nil {
		t.Fatal("missing --out accepted")
	}
}
