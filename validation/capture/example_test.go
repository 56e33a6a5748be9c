package capture_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/ambientsim/ambientsim/validation/capture"
)

// A node proxy listens in the mode the harness's iptables rules use and asks
// every accepted connection where the application meant to go. Here, on
// plain loopback without a REDIRECT rule, there is no original destination
// to read, and OriginalDst says so instead of guessing.
func ExampleListen() {
	ctx := context.Background()
	if _, err := capture.Listen(ctx, "dnat", "127.0.0.1:0"); err != nil {
		fmt.Println(err)
	}

	ln, err := capture.Listen(ctx, capture.ModeRedirect, "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	client, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	c, err := ln.Accept() // the handshake is done: Accept returns at once
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	if _, err := capture.OriginalDst(capture.ModeRedirect, c); err != nil {
		fmt.Println("redirect: no original destination (no REDIRECT rule matched this connection)")
	}
	// Output:
	// capture mode "dnat", want redirect or tproxy
	// redirect: no original destination (no REDIRECT rule matched this connection)
}

// In TPROXY mode the kernel delivers the connection with its original
// destination as the local address, so OriginalDst reads it from there. A
// connection dialled straight to a loopback listener shows the rule: its
// original destination is the address the client dialled.
func ExampleOriginalDst() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	client, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	c, err := ln.Accept()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	dst, err := capture.OriginalDst(capture.ModeTPROXY, c)
	if err != nil {
		fmt.Println(err)
		return
	}
	dialled := netip.MustParseAddrPort(client.RemoteAddr().String())
	fmt.Println(dst.Addr(), dst == dialled)
	// Output:
	// 127.0.0.1 true
}
