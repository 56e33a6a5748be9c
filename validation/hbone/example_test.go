package hbone_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/ambientsim/ambientsim/validation/hbone"
	"github.com/ambientsim/ambientsim/validation/identity"
)

// A node proxy terminating HBONE and a client tunnelling one connection
// through it. The handler here answers in place of dialling a pod.
func Example() {
	ca, _ := identity.NewCA("cluster.local", time.Hour)
	mgr := identity.NewManager(ca.Unrestricted(), time.Hour)
	proxy := identity.MustParse("spiffe://cluster.local/ns/default/sa/server")
	app := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")

	srv := hbone.NewServer(hbone.ServerConfig{
		TLS: identity.ServerTLS(mgr, proxy),
		Handler: hbone.HandlerFunc(func(r *hbone.Request, s *hbone.ServerStream) {
			if err := s.Accept(); err != nil { // 200: policy passed, upstream ready
				return
			}
			fmt.Fprintf(s, "hello %s, you asked for %s", r.Peer.ServiceAccount, r.Target)
		}),
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	cli := hbone.NewClient(hbone.ClientConfig{Manager: mgr})
	defer cli.Close()
	s, err := cli.Dial(context.Background(), hbone.Target{Source: app, Expected: []identity.ID{proxy},
		NextHop: ln.Addr().String(), Authority: "10.0.0.5:8080"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	reply, _ := io.ReadAll(s)
	fmt.Println(string(reply))
	fmt.Println("peer:", s.Peer())
	// Output:
	// hello client, you asked for 10.0.0.5:8080
	// peer: spiffe://cluster.local/ns/default/sa/server
}
