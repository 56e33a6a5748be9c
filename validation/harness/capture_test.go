package harness

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLocalCapture checks the policy-routing capture: ambient pods'
// outbound connections to a capture port and inbound HBONE to their IPs
// land on their node proxy (a transparent listener in the node namespace,
// which sees the original destination as its local address), while the
// node's own connections and out-of-mesh pods reach the apps directly.
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
		from, to, want string
	}{
		{"client-b", ip("server-a") + ":8080", "nodeproxy/node-b " + ip("server-a") + ":8080"},   // outbound capture at the source node
		{"client-b", ip("server-b") + ":8080", "nodeproxy/node-b " + ip("server-b") + ":8080"},   // also to a pod on the same node
		{"client-a", ip("server-b") + ":15008", "nodeproxy/node-b " + ip("server-b") + ":15008"}, // inbound HBONE at the destination node
		{"node-a", ip("server-b") + ":8080", "echo/server-b " + ip("server-b") + ":8080"},        // the node proxy dialling an app
		{"outsider", ip("server-a") + ":8080", "echo/server-a " + ip("server-a") + ":8080"},      // out of the mesh: not captured
	}
	for _, tt := range tests {
		conn, err := DialInNetns(ctx, nsOf(tt.from), "tcp", tt.to)
		if err != nil {
			t.Errorf("%s → %s: %v", tt.from, tt.to, err)
			continue
		}
		_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if got := strings.TrimSpace(line); err != nil || got != tt.want {
			t.Errorf("%s → %s: answered %q (%v), want %q", tt.from, tt.to, got, err, tt.want)
		}
	}
	id := b.RunID()
	if err := b.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, id)
}
