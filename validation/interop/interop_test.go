package interop_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	istiohbone "istio.io/istio/pkg/hbone"

	"github.com/ambientsim/ambientsim/validation/hbone"
	"github.com/ambientsim/ambientsim/validation/identity"
)

var (
	serverID = identity.MustParse("spiffe://cluster.local/ns/default/sa/server")
	clientID = identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
)

func echoServer(t *testing.T) string {
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

func managers(t *testing.T) *identity.Manager {
	t.Helper()
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return identity.NewManager(ca.Unrestricted(), time.Hour)
}

func checkEcho(t *testing.T, c net.Conn) {
	t.Helper()
	msg := bytes.Repeat([]byte("interop "), 20000)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		errc <- err
	}()
	got := make([]byte, len(msg))
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echo mismatch")
	}
}

// Istio's dialer → our HBONE server (mTLS, ALPN h2, CONNECT with :authority).
func TestIstioClientOurServer(t *testing.T) {
	mgr := managers(t)
	echo := echoServer(t)
	var seenPeer identity.ID
	var mu sync.Mutex
	srv := hbone.NewServer(hbone.ServerConfig{
		TLS: identity.ServerTLS(mgr, serverID),
		Handler: hbone.HandlerFunc(func(r *hbone.Request, s *hbone.ServerStream) {
			mu.Lock()
			seenPeer = r.Peer
			mu.Unlock()
			up, err := net.Dial("tcp", r.Target.String())
			if err != nil {
				s.Reject(http.StatusServiceUnavailable)
				return
			}
			if err := s.Accept(); err != nil {
				up.Close()
				return
			}
			hbone.Splice(s, up, nil, nil)
		}),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}()

	d := istiohbone.NewDialer(istiohbone.Config{ProxyAddress: ln.Addr().String(), TLS: identity.ClientTLS(mgr, clientID, serverID)})
	c, err := d.DialContext(context.Background(), "tcp", echo)
	if err != nil {
		t.Fatalf("istio dialer through our server: %v", err)
	}
	defer c.Close()
	checkEcho(t, c)
	mu.Lock()
	defer mu.Unlock()
	if seenPeer != clientID {
		t.Fatalf("our server saw peer %v, want %v", seenPeer, clientID)
	}
}

// Our pooled client → Istio's HBONE server, served over our mTLS (Istio's
// NewServer speaks HTTP/1 and h2c only; its callers supply TLS).
func TestOurClientIstioServer(t *testing.T) {
	mgr := managers(t)
	echo := echoServer(t)
	isrv := istiohbone.NewServer()
	isrv.TLSConfig = identity.ServerTLS(mgr, serverID)
	isrv.Protocols.SetHTTP2(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = isrv.ServeTLS(ln, "", "") }()
	defer func() { _ = isrv.Close(); <-done }()

	cli := hbone.NewClient(hbone.ClientConfig{Manager: mgr})
	defer cli.Close()
	tgt := hbone.Target{Source: clientID, Expected: []identity.ID{serverID}, NextHop: ln.Addr().String(), Authority: echo}
	for i := 0; i < 3; i++ {
		s, err := cli.Dial(context.Background(), tgt)
		if err != nil {
			t.Fatalf("our client through istio server: %v", err)
		}
		checkEcho(t, s)
		s.Close()
	}
	if st := cli.Stats(); st.Dials != 1 || st.Streams != 3 {
		t.Errorf("pool %+v: want 3 streams on one connection", st)
	}
	// Unlike ztunnel, Istio's Go server flushes the 200 before it dials the
	// target (handleConnect calls Flush first), so a refused upstream shows
	// up as an accepted tunnel that ends at once with no bytes.
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := dead.Addr().String()
	dead.Close()
	tgt.Authority = addr
	s, err := cli.Dial(context.Background(), tgt)
	var se *hbone.StatusError
	switch {
	case errors.As(err, &se) && se.Code == http.StatusServiceUnavailable:
		// A future Istio that answers only after dialling is fine too.
	case err == nil:
		b, rerr := io.ReadAll(s)
		s.Close()
		if len(b) != 0 {
			t.Fatalf("tunnel to a closed port returned %q (%v)", b, rerr)
		}
	default:
		t.Fatalf("dial to a closed port via istio: %v", err)
	}
}
