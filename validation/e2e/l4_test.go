package e2e_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ambientsim/ambientsim/validation/echo"
	"github.com/ambientsim/ambientsim/validation/meshtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// bulkSize is 100 MB normally and 16 MB under the race detector, which slows
// copying about tenfold.
func bulkSize() int64 {
	if raceEnabled {
		return 16 << 20
	}
	return 100 << 20
}

func roundTrip(t *testing.T, c net.Conn, msg []byte) ([]byte, error) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	go func() {
		_, _ = c.Write(msg)
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	return io.ReadAll(c)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAmbientL4Path(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{})
	msg := []byte("hello through HBONE")
	for _, dst := range []string{env.ServerTCP, env.PodTCP} {
		c, err := env.Dial("client", dst)
		if err != nil {
			t.Fatal(err)
		}
		got, err := roundTrip(t, c, msg)
		c.Close()
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo via %s = %q, %v; want %q", dst, got, err, msg)
		}
	}
	dstReg := env.Ztunnels["node-b"].Registry()
	srcReg := env.Ztunnels["node-a"].Registry()
	waitFor(t, "destination closed count", func() bool {
		return meshtest.Sum(dstReg, "istio_tcp_connections_closed_total", map[string]string{"reporter": "destination", "response_flags": "-"}) == 2
	})
	checks := []struct {
		what string
		got  float64
		want float64
	}{
		{"source opened", meshtest.Sum(srcReg, "istio_tcp_connections_opened_total", map[string]string{
			"reporter": "source", "source_workload": "client", "destination_workload": "server-v1",
			"source_principal": "spiffe://cluster.local/ns/default/sa/client", "connection_security_policy": "mutual_tls",
			"request_protocol": "tcp", "response_flags": "-"}), 2},
		{"source opened via service", meshtest.Sum(srcReg, "istio_tcp_connections_opened_total", map[string]string{
			"destination_service": "server.default.svc.cluster.local", "destination_service_name": "server"}), 1},
		{"destination received bytes", meshtest.Sum(dstReg, "istio_tcp_received_bytes_total", map[string]string{
			"reporter": "destination", "source_workload": "client", "destination_workload": "server-v1"}), float64(2 * len(msg))},
		{"destination sent bytes", meshtest.Sum(dstReg, "istio_tcp_sent_bytes_total", map[string]string{
			"reporter": "destination"}), float64(2 * len(msg))},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if st := env.Ztunnels["node-a"].PoolStats(); st.Dials != 1 || st.Streams != 2 {
		t.Errorf("pool stats = %+v, want both streams on one pooled connection", st)
	}
}

func TestL4DeniedPrincipalGetsReset(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{})
	c, err := env.Dial("denied", env.ServerTCP)
	if err == nil {
		defer c.Close()
		var got []byte
		got, err = roundTrip(t, c, []byte("let me in"))
		if len(got) != 0 {
			t.Fatalf("denied app read %q", got)
		}
	}
	// On loopback the reset can even beat the connect call's completion.
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("denied app got %v; want a connection reset", err)
	}
	waitFor(t, "DENY counted", func() bool {
		return meshtest.Sum(env.Ztunnels["node-b"].Registry(), "istio_tcp_connections_closed_total",
			map[string]string{"reporter": "destination", "response_flags": "DENY",
				"source_principal": "spiffe://cluster.local/ns/default/sa/denied"}) == 1
	})
	if n := meshtest.Sum(env.Ztunnels["node-a"].Registry(), "istio_tcp_connections_closed_total",
		map[string]string{"reporter": "source", "response_flags": "DENY"}); n != 1 {
		t.Fatalf("source DENY closed = %v, want 1", n)
	}
	if n := env.Echo["server-v1"].Requests(); n != 0 {
		t.Fatalf("app saw %d requests", n)
	}
}

// bulk sends n pattern bytes and checks the SHA-256 of what comes back.
func bulkEcho(t *testing.T, c net.Conn, n int64) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	sent := sha256.New()
	errc := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.MultiWriter(c, sent), io.LimitReader(&echo.Pattern{}, n))
		_ = c.(*net.TCPConn).CloseWrite()
		errc <- err
	}()
	recv := sha256.New()
	got, err := io.Copy(recv, c)
	if err != nil {
		t.Fatalf("read after %d bytes: %v", got, err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("write: %v", err)
	}
	if got != n || !bytes.Equal(sent.Sum(nil), recv.Sum(nil)) {
		t.Fatalf("received %d bytes with sha256 %x, sent %d with %x", got, recv.Sum(nil), n, sent.Sum(nil))
	}
}

func TestBulkTransferL4(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{})
	c, err := env.Dial("client", env.ServerTCP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	bulkEcho(t, c, bulkSize())
	t.Logf("%d MB echoed through 2 HBONE hops in %v", bulkSize()>>20, time.Since(start))
}

// A tcp service port behind a waypoint is proxied as TCP by the waypoint.
func TestWaypointTCPPort(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{})
	c, err := env.Dial("client", env.WaypointTCP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte("raw bytes, not HTTP")
	got, err := roundTrip(t, c, msg)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo via waypoint tcp = %q, %v", got, err)
	}
	waitFor(t, "waypoint TCP metrics", func() bool {
		return meshtest.Sum(env.Waypoint.Registry(), "istio_tcp_connections_closed_total", map[string]string{
			"reporter": "waypoint", "source_workload": "client", "destination_service_name": "server-wp", "response_flags": "-"}) == 1
	})
}
