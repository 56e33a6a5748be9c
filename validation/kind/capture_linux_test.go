//go:build linux

package kind

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ambientsim/ambientsim/validation/capture"
	"github.com/ambientsim/ambientsim/validation/harness"
)

// TestCaptureStepsInNetns checks the inbound capture the kind backend
// installs, without kind: network namespaces stand in for two kind nodes
// on the docker network (172.31.0.0/24) and for two pods of node A (pod
// CIDR 10.250.1.0/24, /32 routes and proxy ARP as kindnet does); the exact
// `ip` commands of CaptureSteps run in node A; a transparent listener on
// 0.0.0.0:15008 in node A (the node proxy's --inbound-listen) must accept
// HBONE dials to pod 10.250.1.2:15008 — from node B (cross-node), from
// node A itself (its node proxy to its own pod) and from the other pod
// (a waypoint on the same node) — with the pod's address as local
// address, while the pod itself listens on nothing.
func TestCaptureStepsInNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2")
	}
	id := fmt.Sprintf("akc%d", os.Getpid()%100000)
	nodeA, nodeB, pod1, pod2 := id+"-a", id+"-b", id+"-p1", id+"-p2"
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{nodeA, nodeB, pod1, pod2} {
		run("ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	in := func(ns string, args ...string) { run(append([]string{"ip", "-n", ns}, args...)...) }
	// The docker network between the nodes.
	in(nodeA, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", nodeB)
	in(nodeA, "addr", "add", "172.31.0.1/24", "dev", "eth0")
	in(nodeB, "addr", "add", "172.31.0.2/24", "dev", "eth0")
	for _, ns := range []string{nodeA, nodeB, pod1, pod2} {
		in(ns, "link", "set", "lo", "up")
	}
	in(nodeA, "link", "set", "eth0", "up")
	in(nodeB, "link", "set", "eth0", "up")
	in(nodeB, "route", "add", "10.250.1.0/24", "via", "172.31.0.1")
	run("ip", "netns", "exec", nodeA, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// Two pods on node A.
	for i, p := range []struct{ ns, ip string }{{pod1, "10.250.1.2"}, {pod2, "10.250.1.3"}} {
		veth := fmt.Sprintf("vp%d", i+1)
		in(nodeA, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", p.ns)
		in(nodeA, "link", "set", veth, "up")
		run("ip", "netns", "exec", nodeA, "sysctl", "-qw", "net.ipv4.conf."+veth+".proxy_arp=1")
		in(nodeA, "route", "add", p.ip+"/32", "dev", veth)
		in(p.ns, "addr", "add", p.ip+"/32", "dev", "eth0")
		in(p.ns, "link", "set", "eth0", "up")
		in(p.ns, "route", "add", "default", "dev", "eth0")
	}
	// The capture, exactly as the backend runs it (docker exec → ip -n).
	for _, s := range CaptureSteps("ambientsim-worker", "10.250.1.0/24", "172.31.0.1") {
		if s.Argv[0] != "docker" || s.Argv[1] != "exec" || s.Argv[2] != "ambientsim-worker" || s.Argv[3] != "ip" {
			t.Fatalf("step %v: want docker exec <node> ip ...", s.Argv)
		}
		in(nodeA, s.Argv[4:]...)
	}

	// The node proxy's transparent HBONE listener in node A.
	var ln net.Listener
	if err := inNetns(nodeA, func() (err error) {
		ln, err = capture.Listen(context.Background(), capture.ModeTPROXY, fmt.Sprintf("0.0.0.0:%d", harness.HBONEPort))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s %s\n", c.LocalAddr(), c.RemoteAddr())
			c.Close()
		}
	}()

	for _, tc := range []struct{ from, wantRemote string }{
		{nodeB, "172.31.0.2"}, // cross-node: node B's proxy
		{nodeA, "172.31.0.1"}, // same node: node A's proxy, from the node IP
		{pod2, "10.250.1.3"},  // a waypoint pod on node A
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := harness.DialInNetns(ctx, tc.from, "tcp", "10.250.1.2:15008")
		cancel()
		if err != nil {
			t.Errorf("from %s: %v", tc.from, err)
			continue
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil {
			t.Errorf("from %s: %v", tc.from, err)
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || f[0] != "10.250.1.2:15008" || !strings.HasPrefix(f[1], tc.wantRemote+":") {
			t.Errorf("from %s: listener saw local, remote = %q, want 10.250.1.2:15008 and %s", tc.from, line, tc.wantRemote)
		}
	}
	// Other ports to the pod are not captured: nothing listens in the pod.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if c, err := harness.DialInNetns(ctx, nodeB, "tcp", "10.250.1.2:8080"); err == nil {
		c.Close()
		t.Error("port 8080 to the pod was captured")
	}
}

// inNetns runs fn on an OS thread inside network namespace name (sockets
// it creates stay there).
func inNetns(name string, fn func() error) error {
	target, err := os.Open(filepath.Join("/run/netns", name))
	if err != nil {
		return err
	}
	defer target.Close()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- err
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
