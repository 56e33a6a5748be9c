package capture

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// Capture modes.
const (
	// ModeRedirect: iptables REDIRECT/DNAT; read SO_ORIGINAL_DST.
	ModeRedirect = "redirect"
	// ModeTPROXY: iptables TPROXY; the local address is the original destination.
	ModeTPROXY = "tproxy"
)

// Listen opens a listener for mode: IP_TRANSPARENT for tproxy, a plain
// listener for redirect.
func Listen(ctx context.Context, mode, addr string) (net.Listener, error) {
	switch mode {
	case ModeRedirect:
		var lc net.ListenConfig
		return lc.Listen(ctx, "tcp", addr)
	case ModeTPROXY:
		lc := net.ListenConfig{Control: setTransparent}
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("tproxy listen %s (needs CAP_NET_ADMIN): %w", addr, err)
		}
		return ln, nil
	default:
		return nil, fmt.Errorf("capture mode %q, want redirect or tproxy", mode)
	}
}

// OriginalDst returns where the application addressed connection c.
func OriginalDst(mode string, c net.Conn) (netip.AddrPort, error) {
	switch mode {
	case ModeTPROXY:
		ap, err := netip.ParseAddrPort(c.LocalAddr().String())
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("original destination: %w", err)
		}
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	case ModeRedirect:
		tc, ok := c.(*net.TCPConn)
		if !ok {
			return netip.AddrPort{}, fmt.Errorf("original destination: %T is not a TCP connection", c)
		}
		return soOriginalDst(tc)
	default:
		return netip.AddrPort{}, fmt.Errorf("capture mode %q, want redirect or tproxy", mode)
	}
}
