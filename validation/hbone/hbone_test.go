package hbone_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ambientsim/ambientsim/validation/hbone"
	"github.com/ambientsim/ambientsim/validation/identity"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	serverID = identity.MustParse("spiffe://cluster.local/ns/istio-system/sa/ztunnel")
	clientID = identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	deniedID = identity.MustParse("spiffe://cluster.local/ns/default/sa/denied")
)

type fixture struct {
	ca     *identity.CA
	mgr    *identity.Manager
	srv    *hbone.Server
	addr   string // HBONE listener
	echo   string // plain TCP echo app
	closed string // a port nobody listens on
}

func newFixture(t *testing.T, maxStreams uint32) *fixture {
	t.Helper()
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mgr := identity.NewManager(ca.Unrestricted(), time.Hour)
	echo := startEcho(t)
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := dead.Addr().String()
	dead.Close()

	h := hbone.HandlerFunc(func(r *hbone.Request, s *hbone.ServerStream) {
		if r.Peer == deniedID {
			s.Reject(http.StatusUnauthorized)
			return
		}
		up, err := net.DialTimeout("tcp", r.Target.String(), time.Second)
		if err != nil {
			s.Reject(http.StatusServiceUnavailable)
			return
		}
		if err := s.Accept(); err != nil {
			up.Close()
			return
		}
		hbone.Splice(s, up, nil, nil)
	})
	srv := hbone.NewServer(hbone.ServerConfig{TLS: identity.ServerTLS(mgr, serverID), Handler: h, MaxConcurrentStreams: maxStreams})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return &fixture{ca: ca, mgr: mgr, srv: srv, addr: ln.Addr().String(), echo: echo, closed: closed}
}

func startEcho(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func (f *fixture) client(t *testing.T, cfg hbone.ClientConfig) *hbone.Client {
	cfg.Manager = f.mgr
	c := hbone.NewClient(cfg)
	t.Cleanup(func() { c.Close() })
	return c
}

func (f *fixture) target(src identity.ID, authority string) hbone.Target {
	return hbone.Target{Source: src, Expected: []identity.ID{serverID}, NextHop: f.addr, Authority: authority}
}

func TestEchoThroughTunnel(t *testing.T) {
	f := newFixture(t, 0)
	c := f.client(t, hbone.ClientConfig{})
	s, err := c.Dial(context.Background(), f.target(clientID, f.echo))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Peer() != serverID {
		t.Errorf("peer = %s, want %s", s.Peer(), serverID)
	}
	msg := bytes.Repeat([]byte("hbone!"), 50000)
	go func() { _, _ = s.Write(msg); _ = s.CloseWrite() }()
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo returned %d bytes, want %d", len(got), len(msg))
	}
}

func TestConnectStatuses(t *testing.T) {
	f := newFixture(t, 0)
	c := f.client(t, hbone.ClientConfig{})
	for _, tc := range []struct {
		name      string
		src       identity.ID
		authority string
		want      int
	}{
		{"denied principal", deniedID, f.echo, http.StatusUnauthorized},
		{"upstream refused", clientID, f.closed, http.StatusServiceUnavailable},
		{"hostname authority", clientID, "echo.default:80", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Dial(context.Background(), f.target(tc.src, tc.authority))
			var se *hbone.StatusError
			if !errors.As(err, &se) || se.Code != tc.want {
				t.Fatalf("Dial error = %v, want status %d", err, tc.want)
			}
		})
	}
}

func TestClientRejectsUnexpectedServerIdentity(t *testing.T) {
	f := newFixture(t, 0)
	c := f.client(t, hbone.ClientConfig{})
	tgt := f.target(clientID, f.echo)
	tgt.Expected = []identity.ID{identity.MustParse("spiffe://cluster.local/ns/default/sa/someone-else")}
	_, err := c.Dial(context.Background(), tgt)
	if !errors.Is(err, identity.ErrWrongIdentity) {
		t.Fatalf("Dial error = %v, want ErrWrongIdentity", err)
	}
}

func TestServerRejectsForeignTrustDomainAndPlaintext(t *testing.T) {
	f := newFixture(t, 0)
	// A certificate from another CA (other mesh) must fail the chain check.
	other, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	om := identity.NewManager(other.Unrestricted(), time.Hour)
	cfg := identity.ClientTLS(om, clientID, serverID)
	cfg.VerifyPeerCertificate = nil // we only want to see the server refuse us
	conn, err := tls.Dial("tcp", f.addr, cfg)
	if err == nil {
		// TLS 1.3: the client may finish before the server's verdict arrives.
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Fatal("server accepted a client certificate from a foreign root")
	}

	raw, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_, _ = raw.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, _ := io.ReadFull(raw, buf)
	if bytes.Contains(buf[:n], []byte("HTTP")) || n > 7 {
		t.Fatalf("plaintext client got %d bytes %q, want the connection refused", n, buf[:n])
	}
}

func TestPoolCapsStreamsPerConnection(t *testing.T) {
	f := newFixture(t, 0)
	c := f.client(t, hbone.ClientConfig{MaxStreamsPerConn: 3})
	var streams []*hbone.ClientStream
	for i := 0; i < 7; i++ {
		s, err := c.Dial(context.Background(), f.target(clientID, f.echo))
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	st := c.Stats()
	if st.Dials != 3 || st.Saturated != 2 || st.Streams != 7 {
		t.Fatalf("stats = %+v, want 3 dials, 2 saturated, 7 streams", st)
	}
	for _, s := range streams {
		s.Close()
	}
	// Saturated connections close once their streams end; the partly used one stays pooled.
	if n := c.OpenConns(); n != 1 {
		t.Fatalf("open conns after closing streams = %d, want 1", n)
	}
}

func TestPoolHonoursPeerLimitAndOneDialPerKey(t *testing.T) {
	f := newFixture(t, 2) // server advertises 2 streams
	c := f.client(t, hbone.ClientConfig{})
	// Warm one connection so the peer's SETTINGS are known.
	s0, err := c.Dial(context.Background(), f.target(clientID, f.echo))
	if err != nil {
		t.Fatal(err)
	}
	s0.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var streams []*hbone.ClientStream
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := c.Dial(context.Background(), f.target(clientID, f.echo))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			streams = append(streams, s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, s := range streams {
		s.Close()
	}
	if st := c.Stats(); st.Dials != 3 {
		t.Fatalf("stats = %+v, want 3 dials for 6 streams at a peer limit of 2", st)
	}
}

func TestPoolIdleRelease(t *testing.T) {
	f := newFixture(t, 0)
	c := f.client(t, hbone.ClientConfig{IdleTimeout: 40 * time.Millisecond})
	s, err := c.Dial(context.Background(), f.target(clientID, f.echo))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	deadline := time.Now().Add(3 * time.Second)
	for c.OpenConns() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := c.Stats(); st.IdleRelease != 1 || c.OpenConns() != 0 {
		t.Fatalf("stats = %+v open=%d, want the idle connection released", st, c.OpenConns())
	}
}

func TestRoundTripServerClosesFirst(t *testing.T) {
	// An app that writes and closes without waiting for the client's EOF must
	// still deliver EOF to the client (Connection: close style servers).
	f := newFixture(t, 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = c.Write([]byte("bye"))
		c.Close()
	}()
	c := f.client(t, hbone.ClientConfig{})
	s, err := c.Dial(context.Background(), f.target(clientID, ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := io.ReadAll(s)
	if err != nil || string(got) != "bye" {
		t.Fatalf("read %q, %v; want \"bye\", nil", got, err)
	}
}

func TestDialFromFallsBackWhenSourceIsNotLocal(t *testing.T) {
	echo := startEcho(t)
	// 192.0.2.1 (TEST-NET-1) is not assigned to this machine.
	c, err := hbone.DialFrom(context.Background(), netip.MustParseAddr("192.0.2.1"), echo)
	if err != nil {
		t.Fatalf("DialFrom with a foreign source: %v", err)
	}
	c.Close()
	c, err = hbone.DialFrom(context.Background(), netip.MustParseAddr("127.0.0.9"), echo)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.LocalAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.9" {
		t.Fatalf("bound %s, want 127.0.0.9", got)
	}
}
