package capture_test

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/ambientsim/ambientsim/validation/capture"
)

func TestListenModes(t *testing.T) {
	if _, err := capture.Listen(context.Background(), "bogus", "127.0.0.1:0"); err == nil {
		t.Fatal("accepted an unknown mode")
	}
	ln, err := capture.Listen(context.Background(), capture.ModeRedirect, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			defer c.Close()
			_, _ = c.Read(make([]byte, 1))
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Without a REDIRECT rule there is no conntrack NAT entry to read.
	if _, err := capture.OriginalDst(capture.ModeRedirect, c); err == nil || runtime.GOOS == "linux" && !strings.Contains(err.Error(), "SO_ORIGINAL_DST") {
		t.Fatalf("OriginalDst on an unredirected connection: %v", err)
	}
	// In TPROXY mode the local address is the original destination.
	dst, err := capture.OriginalDst(capture.ModeTPROXY, c)
	if err != nil || dst.String() != ln.Addr().String() {
		t.Fatalf("tproxy original dst = %v, %v; want %s", dst, err, ln.Addr())
	}
}

// TestTransparentListener: as root on Linux a tproxy listener carries
// IP_TRANSPARENT and accepts connections whose local address is the
// original destination. Only a missing capability (EPERM in a restricted
// container) skips it.
func TestTransparentListener(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("IP_TRANSPARENT needs Linux and CAP_NET_ADMIN")
	}
	ln, err := capture.Listen(context.Background(), capture.ModeTPROXY, "127.0.0.1:0")
	if errors.Is(err, syscall.EPERM) {
		t.Skipf("root without CAP_NET_ADMIN here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	raw, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var on int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		on, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_IP, syscall.IP_TRANSPARENT)
	}); err != nil || serr != nil {
		t.Fatalf("getsockopt IP_TRANSPARENT: %v %v", err, serr)
	}
	if on != 1 {
		t.Fatalf("IP_TRANSPARENT = %d on the tproxy listener, want 1", on)
	}
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst, err := capture.OriginalDst(capture.ModeTPROXY, c)
	if err != nil || dst.String() != ln.Addr().String() {
		t.Fatalf("original dst = %v, %v; want %s", dst, err, ln.Addr())
	}
}
