package e2e_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/hbone"
	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/meshtest"
)

// A pod port nobody listens on: the destination ztunnel answers 503 after
// its dial fails, the source app sees a reset, both reporters count CONNECT.
func TestUnreachablePodPortIs503AndReset(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{})
	// 127.x.y.11:8080 is served; :9999 is not. Use a direct client so the
	// status code is visible, as the source ztunnel would see it.
	cli := hbone.NewClient(hbone.ClientConfig{Manager: identity.NewManager(env.CA.ForNode("node-a"), time.Hour)})
	defer cli.Close()
	src := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	srv := identity.MustParse("spiffe://cluster.local/ns/default/sa/server")
	tgt := hbone.Target{Source: src, Expected: []identity.ID{srv}, NextHop: env.IP(11) + ":15008"}
	for _, tc := range []struct {
		authority string
		want      int
	}{
		{env.IP(11) + ":9999", http.StatusServiceUnavailable},  // pod dial fails
		{env.IP(12) + ":8080", http.StatusBadRequest},          // authority is another pod than the one reached
		{env.IP(11) + ":15008", http.StatusServiceUnavailable}, // self-call
	} {
		tgt.Authority = tc.authority
		_, err := cli.Dial(context.Background(), tgt)
		var se *hbone.StatusError
		if !errors.As(err, &se) || se.Code != tc.want {
			t.Errorf("CONNECT %s: %v, want %d", tc.authority, err, tc.want)
		}
	}
	// Another pod's identity is refused by the TLS handshake (node authorization
	// also stops node-a from obtaining it: only node-b's pods are on node-b).
	_, err := identity.NewManager(env.CA.ForNode("node-a"), time.Hour).Certificate(context.Background(), srv)
	if !errors.Is(err, identity.ErrNotOnNode) {
		t.Errorf("node-a obtained a certificate for a node-b pod: %v", err)
	}

	// Through the mesh: the app sees a reset and CONNECT is counted.
	c, err := env.Dial("client", env.PodClosed)
	if err == nil {
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = io.ReadAll(c)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("app to a closed pod port got %v, want a reset", err)
	}
	waitFor(t, "CONNECT counted at both reporters", func() bool {
		return meshtest.Sum(env.Ztunnels["node-a"].Registry(), "istio_tcp_connections_closed_total",
			map[string]string{"reporter": "source", "response_flags": "CONNECT"}) == 1 &&
			meshtest.Sum(env.Ztunnels["node-b"].Registry(), "istio_tcp_connections_closed_total",
				map[string]string{"reporter": "destination", "response_flags": "CONNECT"}) >= 1
	})
}

// Node proxies renew workload certificates at half-life while serving: a
// handshake after the half-life presents a fresh certificate.
func TestCertificateRotationWhileServing(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{CertTTL: 2 * time.Second})
	src := env.Ztunnels["node-a"].Certificates()
	id := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	first, err := src.Certificate(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := env.Dial("client", env.ServerTCP)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(t, c, []byte("before")); err != nil || string(got) != "before" {
		t.Fatalf("before rotation: %q %v", got, err)
	}
	c.Close()
	t.Logf("cert %v..%v renew at %v (in %v)", first.Leaf.NotBefore, first.Leaf.NotAfter, identity.RenewAt(first), time.Until(identity.RenewAt(first)))
	time.Sleep(time.Until(identity.RenewAt(first)) + 50*time.Millisecond)
	// A new pool key (the waypoint) forces a new handshake.
	code, _, _ := get(t, env.HTTPClient(t, "client"), http.MethodGet, "http://"+env.WaypointHTTP+"/")
	if code != 200 {
		t.Fatalf("after rotation: %d", code)
	}
	second, err := src.Certificate(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if src.Rotations() < 1 || second.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
		t.Fatalf("rotations = %d, same serial = %v", src.Rotations(), second.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0)
	}
}

// The destination node proxy's 200 carries a baggage header describing the
// destination (ztunnel's ENABLE_RESPONSE_BAGGAGE default).
func TestResponseBaggage(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{})
	cli := hbone.NewClient(hbone.ClientConfig{Manager: identity.NewManager(env.CA.ForNode("node-a"), time.Hour)})
	defer cli.Close()
	s, err := cli.Dial(context.Background(), hbone.Target{
		Source:   identity.MustParse("spiffe://cluster.local/ns/default/sa/client"),
		Expected: []identity.ID{identity.MustParse("spiffe://cluster.local/ns/default/sa/server")},
		NextHop:  env.IP(11) + ":15008", Authority: env.PodTCP})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if b := s.Header().Get("baggage"); !strings.Contains(b, "k8s.pod.name=server-v1") || !strings.Contains(b, "k8s.namespace.name=default") {
		t.Fatalf("baggage = %q", b)
	}
}
