//go:build !linux

package harness

import (
	"context"
	"errors"
	"net"
)

var errNotLinux = errors.New("network namespaces exist only on Linux; use --backend kind")

func netnsDir() string { return "/run/netns" }

func inNetns(string, func() error) error { return errNotLinux }

// DialInNetns dials addr from inside network namespace ns (Linux only).
func DialInNetns(context.Context, string, string, string) (net.Conn, error) {
	return nil, errNotLinux
}
