//go:build !linux

package capture

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
)

var errUnsupported = errors.New("transparent capture needs Linux")

func setTransparent(_, _ string, _ syscall.RawConn) error { return errUnsupported }

func soOriginalDst(*net.TCPConn) (netip.AddrPort, error) { return netip.AddrPort{}, errUnsupported }
