package harness

import (
	"bufio"
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLocalCapture checks the policy-routing capture: ambient pods'
// outbound connections to a capture port and inbound HBONE to their IPs
// land on their node proxy (a transparent listener in the node namespace,
// which sees the original destination as its local address); the proxy
// can dial with pod IPs as source and gets the replies; the node's own
// connections and out-of-mesh pods reach the apps directly.
func TestLocalCapture(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmdr := CommanderFunc(func(s ProcessSpec) (Command, error) {
		env := []string{"GORACE=atexit_sleep_ms=0", "AS_HARNESS_HELPER=echo"}
		switch s.Kind {
		case KindNodeProxy:
			env = append(env, "AS_TRANSPARENT=1", "AS_GREETING=nodeproxy/"+s.Owner, "AS_LISTEN=0.0.0.0:15008,0.0.0.0:8080")
			return Command{Path: self, Env: env, ReadyAddr: s.IP.String() + ":15008"}, nil
		case KindEcho:
			env = append(env, "AS_GREETING=echo/"+s.Owner, "AS_LISTEN=0.0.0.0:8080,0.0.0.0:15008")
			return Command{Path: self, Env: env, ReadyAddr: s.IP.String() + ":8080"}, nil
		}
		return Command{}, nil
	})
	plan := testPlan()
	for i := range plan.Pods {
		plan.Pods[i].Mode = ModeAmbient
	}
	plan.Pods = append(plan.Pods, Pod{Name: "outsider", Node: "node-a", Roles: []Role{RoleLoadGen}})
	plan.CapturePorts = []int{8080}
	b := newTestLocal(t, cmdr, nil)
	if err := b.Setup(ctx, plan); err != nil {
		t.Fatal(err)
	}
	l := b.Layout()
	ip := func(name string) string { s, _ := l.Sandbox(name); return s.IP.String() }
	nsOf := func(name string) string {
		if s, ok := l.Sandbox(name); ok {
			return s.Netns
		}
		n, _ := l.Node(name)
		return n.Netns
	}
	tests := []struct {
		from, source, to, want string
	}{
		// outbound capture at the source node, to another node and to the same node
		{"client-b", "", ip("server-a") + ":8080", "nodeproxy/node-b " + ip("server-a") + ":8080"},
		{"client-b", "", ip("server-b") + ":8080", "nodeproxy/node-b " + ip("server-b") + ":8080"},
		// inbound HBONE at the destination node, dialled by the source node's
		// proxy with the client pod's IP as source (ztunnel's spoofing)
		{"node-a", ip("client-a"), ip("server-b") + ":15008", "nodeproxy/node-b " + ip("server-b") + ":15008"},
		// the destination proxy dialling its app with the remote client's IP,
		// and with a same-node client's IP: the replies come back to it
		{"node-b", ip("client-a"), ip("server-b") + ":8080", "echo/server-b " + ip("server-b") + ":8080"},
		{"node-a", ip("client-a"), ip("server-a") + ":8080", "echo/server-a " + ip("server-a") + ":8080"},
		// the node itself, and an out-of-mesh pod: not captured
		{"node-a", "", ip("server-b") + ":8080", "echo/server-b " + ip("server-b") + ":8080"},
		{"outsider", "", ip("server-a") + ":8080", "echo/server-a " + ip("server-a") + ":8080"},
	}
	for _, tt := range tests {
		var conn net.Conn
		err := inNetns(nsOf(tt.from), func() error {
			d := net.Dialer{Timeout: 3 * time.Second}
			if tt.source != "" {
				d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(tt.source)}
			}
			var err error
			conn, err = d.DialContext(ctx, "tcp", tt.to)
			return err
		})
		if err != nil {
			t.Errorf("%s (source %q) → %s: %v", tt.from, tt.source, tt.to, err)
			continue
		}
		_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if got := strings.TrimSpace(line); err != nil || got != tt.want {
			t.Errorf("%s (source %q) → %s: answered %q (%v), want %q", tt.from, tt.source, tt.to, got, err, tt.want)
		}
	}
	id := b.RunID()
	if err := b.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, id)
}
