//go:build linux

package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ambientsim/ambientsim/validation/capture"
	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/meshtest"
	"github.com/ambientsim/ambientsim/validation/ztunnel"
)

// In-pod capture constants, as istio-cni programs them ([IO] traffic-redirection):
// the proxy marks its own sockets 0x539 (1337) and the pod's rules skip that
// mark; TPROXYed inbound packets get 0x111 and are routed to the local table.
const (
	inpodMark    = 0x539
	tproxyMark   = 0x111
	captureOut   = 15001 // ztunnel's outbound capture port
	tproxyInPort = 15088 // our TPROXY inbound HBONE listener (15008 is the port being captured)
	echoPort     = 9000
	podA         = "10.200.0.1" // client pod
	podB         = "10.200.0.2" // server pod
)

// TestTransparentCaptureEndToEnd proves in-pod transparent capture with real
// iptables rules: an app in the client pod's network namespace does a plain
// net.Dial to the server pod's IP:port; the nat OUTPUT REDIRECT sends it to
// the client ztunnel's capture listener (SO_ORIGINAL_DST gives the pod
// IP:port), which tunnels it over HBONE (its own socket is marked 0x539, so
// the same rule skips it) to the server pod, where the destination ztunnel
// pipes it to the echo app. Direct connections to the app from outside the
// server pod are rejected by a filter rule, so an echo can only have come
// through the tunnel; a marked (uncaptured) dial proves that. The "tproxy"
// variant also captures the inbound HBONE connection with mangle PREROUTING
// TPROXY to a transparent listener on another port (in-pod inbound capture).
func TestTransparentCaptureEndToEnd(t *testing.T) {
	needRootAndIPTables(t)
	for _, inbound := range []string{"pod-listener", "tproxy"} {
		t.Run("inbound="+inbound, func(t *testing.T) { testCapture(t, inbound == "tproxy") })
	}
}

func needRootAndIPTables(t *testing.T) {
	t.Helper()
	ci := os.Getenv("CI") != ""
	if os.Geteuid() != 0 {
		if ci {
			t.Fatal("CI is set but the test is not running as root; the capture test needs root (network namespaces, iptables)")
		}
		t.Skip("needs root for network namespaces and iptables")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			if ci {
				t.Fatalf("CI is set but %s is missing (install it: apt-get install -y iptables iproute2, see .ci/deps)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

func run(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newNetns creates a named network namespace removed in Cleanup (which also
// runs after a failure or a panic in the test).
func newNetns(t *testing.T, name string) string {
	t.Helper()
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	return "/var/run/netns/" + name
}

// inNetns runs fn on a fresh OS thread moved into the namespace at path.
// Sockets created by fn stay in that namespace for their whole life. The
// thread is never unlocked, so Go discards it when the goroutine ends.
func inNetns(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // no Unlock: the thread dies with the goroutine
		f, err := os.Open(path)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", path, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// podDialer is ztunnel's in-pod socket factory: sockets are created in the
// pod's namespace and carry the proxy mark, bound to source when possible.
func podDialer(path string) func(ctx context.Context, source netip.Addr, addr string) (net.Conn, error) {
	return func(ctx context.Context, source netip.Addr, addr string) (c net.Conn, err error) {
		err = inNetns(path, func() error {
			d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
				var serr error
				if err := rc.Control(func(fd uintptr) {
					serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, inpodMark)
				}); err != nil {
					return err
				}
				return serr
			}}
			if source.IsValid() {
				bound := d
				bound.LocalAddr = &net.TCPAddr{IP: source.AsSlice()}
				var err error
				if c, err = bound.DialContext(ctx, "tcp", addr); err == nil || !errors.Is(err, syscall.EADDRNOTAVAIL) {
					return err
				}
			}
			var err error
			c, err = d.DialContext(ctx, "tcp", addr)
			return err
		})
		return c, err
	}
}

// echoServer echoes every connection accepted on ln until ln closes; the
// returned wait blocks until all its goroutines are gone.
func echoServer(ln net.Listener) (remotes func() []string, wait func()) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen []string
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			seen = append(seen, c.RemoteAddr().String())
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }, wg.Wait
}

func testCapture(t *testing.T, tproxyInbound bool) {
	prefix := fmt.Sprintf("ascap%d", os.Getpid()%100000)
	if tproxyInbound {
		prefix += "t"
	}
	nsA := newNetns(t, prefix+"-a")
	nsB := newNetns(t, prefix+"-b")
	// One veth between the pods (deleted with the namespaces).
	run(t, "ip", "link", "add", prefix+"va", "netns", prefix+"-a", "type", "veth", "peer", "name", prefix+"vb", "netns", prefix+"-b")
	for _, c := range [][]string{
		{prefix + "-a", prefix + "va", podA}, {prefix + "-b", prefix + "vb", podB},
	} {
		run(t, "ip", "-n", c[0], "addr", "add", c[2]+"/24", "dev", c[1])
		run(t, "ip", "-n", c[0], "link", "set", c[1], "up")
		run(t, "ip", "-n", c[0], "link", "set", "lo", "up")
	}
	ipt := func(ns string, args ...string) {
		run(t, append([]string{"ip", "netns", "exec", ns, "iptables", "-w"}, args...)...)
	}
	// Client pod: outbound capture as istio-cni's in-pod ISTIO_OUTPUT chain.
	a := prefix + "-a"
	ipt(a, "-t", "nat", "-N", "ISTIO_OUTPUT")
	ipt(a, "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-j", "ISTIO_OUTPUT")
	ipt(a, "-t", "nat", "-A", "ISTIO_OUTPUT", "-p", "tcp", "-m", "mark", "--mark", fmt.Sprintf("%#x/0xfff", inpodMark), "-j", "ACCEPT")
	ipt(a, "-t", "nat", "-A", "ISTIO_OUTPUT", "!", "-d", "127.0.0.1/32", "-o", "lo", "-j", "ACCEPT")
	ipt(a, "-t", "nat", "-A", "ISTIO_OUTPUT", "!", "-d", "127.0.0.1/32", "-p", "tcp", "-j", "REDIRECT", "--to-ports", fmt.Sprint(captureOut))
	// Server pod: the app accepts nothing from the network directly.
	b := prefix + "-b"
	ipt(b, "-A", "INPUT", "-i", prefix+"vb", "-p", "tcp", "--dport", fmt.Sprint(echoPort), "-j", "REJECT", "--reject-with", "tcp-reset")
	if tproxyInbound {
		ipt(b, "-t", "mangle", "-A", "PREROUTING", "-i", prefix+"vb", "-p", "tcp", "--dport", "15008", "-j", "TPROXY",
			"--on-port", fmt.Sprint(tproxyInPort), "--on-ip", "0.0.0.0", "--tproxy-mark", fmt.Sprintf("%#x/0xfff", tproxyMark))
		run(t, "ip", "-n", b, "rule", "add", "fwmark", fmt.Sprintf("%#x/0xfff", tproxyMark), "lookup", "133")
		run(t, "ip", "-n", b, "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "133")
	}

	m := &mesh.Mesh{Workloads: []mesh.Workload{
		{Name: "client", Namespace: "default", ServiceAccount: "client", IP: podA, Node: "node-a"},
		{Name: "server", Namespace: "default", ServiceAccount: "server", IP: podB, Node: "node-b"},
	}}
	ix, err := mesh.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := identity.NewCA(ix.TrustDomain, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range m.Workloads {
		ca.Placement().Place(w.Node, identity.MustParse(fmt.Sprintf("spiffe://cluster.local/ns/%s/sa/%s", w.Namespace, w.ServiceAccount)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	start := func(ns string, cfg ztunnel.Config) *ztunnel.Proxy {
		t.Helper()
		cfg.Mesh, cfg.Issuer, cfg.Dial, cfg.ConnectTimeout = ix, ca.ForNode(cfg.Node), podDialer(ns), 5*time.Second
		z, err := ztunnel.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := inNetns(ns, func() error { return z.Start(ctx) }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			if err := z.Shutdown(sctx); err != nil {
				t.Errorf("shutdown %s: %v", cfg.Node, err)
			}
		})
		return z
	}
	zb := ztunnel.Config{Node: "node-b"}
	if tproxyInbound {
		zb.InboundListen = fmt.Sprintf("0.0.0.0:%d", tproxyInPort)
	}
	destZ := start(nsB, zb)
	srcZ := start(nsA, ztunnel.Config{Node: "node-a",
		Capture: []ztunnel.CaptureListener{{Listen: fmt.Sprintf("0.0.0.0:%d", captureOut), Mode: capture.ModeRedirect}}})

	var ln net.Listener
	if err := inNetns(nsB, func() (err error) {
		ln, err = net.Listen("tcp", net.JoinHostPort(podB, fmt.Sprint(echoPort)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	remotes, wait := echoServer(ln)
	t.Cleanup(func() { ln.Close(); wait() })

	// Control: an uncaptured (marked) connection from the client pod straight
	// to the app is refused, so the app is reachable only through the tunnel.
	if c, err := podDialer(nsA)(ctx, netip.Addr{}, net.JoinHostPort(podB, fmt.Sprint(echoPort))); err == nil {
		c.Close()
		t.Fatal("a direct (uncaptured) connection to the app succeeded; the reject rule is missing")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("direct connection: %v, want connection refused", err)
	}

	// The app: a plain net.Dial in the client pod's namespace.
	msg := bytes.Repeat([]byte("captured through HBONE\n"), 4096)
	var got []byte
	if err := inNetns(nsA, func() error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(podB, fmt.Sprint(echoPort)), 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		errc := make(chan error, 1)
		go func() {
			_, err := c.Write(msg)
			if err == nil {
				err = c.(*net.TCPConn).CloseWrite()
			}
			errc <- err
		}()
		got, err = io.ReadAll(c)
		if werr := <-errc; werr != nil {
			return werr
		}
		return err
	}); err != nil {
		t.Fatalf("captured dial: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echoed %d bytes, want %d identical", len(got), len(msg))
	}

	client := "spiffe://cluster.local/ns/default/sa/client"
	waitFor(t, "destination ztunnel counted the connection", func() bool {
		return meshtest.Sum(destZ.Registry(), "istio_tcp_connections_closed_total",
			map[string]string{"reporter": "destination", "source_principal": client}) == 1
	})
	for _, c := range []struct {
		z    *ztunnel.Proxy
		name string
		lbl  map[string]string
	}{
		{srcZ, "source", map[string]string{"reporter": "source", "source_workload": "client", "destination_workload": "server"}},
		{destZ, "destination", map[string]string{"reporter": "destination", "source_principal": client,
			"source_workload": "client", "destination_workload": "server", "connection_security_policy": "mutual_tls"}},
	} {
		if n := meshtest.Sum(c.z.Registry(), "istio_tcp_connections_opened_total", c.lbl); n != 1 {
			t.Errorf("%s ztunnel: istio_tcp_connections_opened_total%v = %v, want 1", c.name, c.lbl, n)
		}
		if n := meshtest.Sum(c.z.Registry(), "istio_tcp_received_bytes_total", c.lbl); n != float64(len(msg)) {
			t.Errorf("%s ztunnel: istio_tcp_received_bytes_total = %v, want %d", c.name, n, len(msg))
		}
	}
	if st := srcZ.PoolStats(); st.Dials != 1 {
		t.Errorf("source ztunnel pool dials = %d, want 1 HBONE connection", st.Dials)
	}
	// The app saw the destination ztunnel's connection from inside its own
	// pod (the client's IP is not local there), never the client directly.
	if r := remotes(); len(r) != 1 || !strings.HasPrefix(r[0], podB+":") {
		t.Errorf("app accepted %v, want one connection from %s (the destination ztunnel)", r, podB)
	}
}
