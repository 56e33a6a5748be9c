//go:build linux

package capture

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// soOriginalDstOpt is SO_ORIGINAL_DST from linux/netfilter_ipv4.h.
const soOriginalDstOpt = 80

func setTransparent(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_IP, syscall.IP_TRANSPARENT, 1)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("setsockopt IP_TRANSPARENT: %w", serr)
	}
	return nil
}

func soOriginalDst(tc *net.TCPConn) (netip.AddrPort, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, err
	}
	var (
		mreq *syscall.IPv6Mreq
		gerr error
	)
	err = rc.Control(func(fd uintptr) {
		// The kernel writes a struct sockaddr_in (16 bytes); IPv6Mreq is a
		// 20-byte buffer the syscall package lets us read it into.
		mreq, gerr = syscall.GetsockoptIPv6Mreq(int(fd), syscall.SOL_IP, soOriginalDstOpt)
	})
	if err != nil {
		return netip.AddrPort{}, err
	}
	if gerr != nil {
		return netip.AddrPort{}, fmt.Errorf("getsockopt SO_ORIGINAL_DST (no REDIRECT rule matched?): %w", gerr)
	}
	raw := mreq.Multiaddr // sin_family(2) sin_port(2, big endian) sin_addr(4)
	port := binary.BigEndian.Uint16(raw[2:4])
	addr := netip.AddrFrom4([4]byte{raw[4], raw[5], raw[6], raw[7]})
	return netip.AddrPortFrom(addr, port), nil
}
