//go:build linux

package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// netnsDir is where `ip netns add` bind-mounts named namespaces.
func netnsDir() string {
	if d := os.Getenv("NETNS_RUN_DIR"); d != "" {
		return d
	}
	return "/run/netns"
}

// inNetns runs fn on an OS thread that has joined network namespace name.
// Sockets created by fn stay in that namespace after it returns. The
// thread goes back to its own namespace afterwards; if that fails, the
// goroutine exits still locked, and the runtime discards the thread rather
// than reuse it in the wrong namespace.
func inNetns(name string, fn func() error) error {
	target, err := os.Open(filepath.Join(netnsDir(), name))
	if err != nil {
		return fmt.Errorf("open network namespace %q: %w", name, err)
	}
	defer target.Close()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("open own network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("enter network namespace %q: %w", name, err)
			return
		}
		ferr := fn()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- ferr
	}()
	return <-done
}

// DialInNetns dials addr (an IP literal and port) from inside network
// namespace ns.
func DialInNetns(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := inNetns(ns, func() error {
		var d net.Dialer
		var err error
		conn, err = d.DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}
