package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLayoutGolden(t *testing.T) {
	p := testPlan()
	p.Waypoints = []Waypoint{{Name: "waypoint", Node: "node-b"}}
	p.Pods[0].Mode = ModeAmbient
	l, err := NewLayout(p, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "fabric %s bridge %s subnet %s\n", l.Fabric, l.FabricBridge, l.FabricPrefix)
	for _, n := range l.Nodes {
		fmt.Fprintf(&b, "node %s zone %s netns %s ip %s gateway %s pods %s bridge %s uplink %s fabric-port %s\n",
			n.Name, n.Zone, n.Netns, n.IP, n.Gateway, n.PodCIDR, n.Bridge, n.Uplink, n.FabricPort)
	}
	for _, s := range l.Sandboxes {
		fmt.Fprintf(&b, "%s %s node %s ns %s service %q mode %s netns %s ip %s node-port %s\n",
			s.Kind, s.Name, s.Node, s.Namespace, s.Service, s.Mode, s.Netns, s.IP, s.NodePort)
	}
	goldenFile(t, "layout.txt", []byte(b.String()))

	for _, target := range []string{"server-a", "echo", "10.0.0.1:80", "waypoint"} {
		if _, err := l.Resolve(target); err != nil {
			t.Errorf("Resolve(%q): %v", target, err)
		}
	}
	if ips := l.ServiceIPs("echo"); len(ips) != 2 {
		t.Errorf("ServiceIPs(echo) = %v, want 2 pods", ips)
	}
	if _, err := l.Resolve("nope"); err == nil {
		t.Error("Resolve(nope) succeeded")
	}
}

func TestLayoutRunsDoNotShareAddresses(t *testing.T) {
	// Different run IDs usually land in different /16s; the same ID always
	// gives the same layout.
	a, _ := NewLayout(testPlan(), "aaaaaa")
	a2, _ := NewLayout(testPlan(), "aaaaaa")
	if a.Nodes[0].IP != a2.Nodes[0].IP {
		t.Error("layout is not deterministic")
	}
	if !a.FabricPrefix.Addr().Is4() || a.FabricPrefix.Addr().As4()[0] != 100 {
		t.Errorf("fabric %v is not in 100.64.0.0/10", a.FabricPrefix)
	}
	if _, err := NewLayout(testPlan(), "BAD"); err == nil {
		t.Error("bad run ID accepted")
	}
	for range 20 {
		if id := NewRunID(); !ValidRunID(id) {
			t.Fatalf("NewRunID() = %q is not valid", id)
		}
	}
}

func TestPlanValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(p *Plan)
		want   string // substring of the error; "" = valid
	}{
		{"valid", func(*Plan) {}, ""},
		{"no nodes", func(p *Plan) { p.Nodes = nil; p.Pods = nil; p.NodeProxies = nil }, "at least one node"},
		{"bad node name", func(p *Plan) { p.Nodes[0].Name = "Node_A" }, `nodes[0].name "Node_A"`},
		{"duplicate node", func(p *Plan) { p.Nodes[1].Name = "node-a" }, "duplicate node name"},
		{"pod on unknown node", func(p *Plan) { p.Pods[0].Node = "node-z" }, `pods[0].node "node-z": no such node`},
		{"pod without roles", func(p *Plan) { p.Pods[0].Roles = nil }, "pods[0].roles: empty"},
		{"unknown role", func(p *Plan) { p.Pods[0].Roles = []Role{"db"} }, `unknown role`},
		{"pod and waypoint share a name", func(p *Plan) {
			p.Waypoints = []Waypoint{{Name: "server-a", Node: "node-a"}}
		}, "already used by pods[0]"},
		{"two node proxies", func(p *Plan) { p.NodeProxies = append(p.NodeProxies, NodeProxy{Node: "node-a"}) }, "at most one node proxy"},
		{"negative delay", func(p *Plan) { p.Network.CrossZone.Delay = -time.Millisecond }, "network.crossZone"},
		{"ambient without node proxy", func(p *Plan) { p.Pods[0].Mode = ModeAmbient; p.NodeProxies = p.NodeProxies[1:] }, "has no node proxy"},
		{"sidecar mode without sidecar", func(p *Plan) { p.Pods[0].Mode = ModeSidecar }, `no "sidecar" role`},
		{"unknown mode", func(p *Plan) { p.Pods[0].Mode = "mesh" }, `mode "mesh"`},
		{"capture HBONE port", func(p *Plan) { p.CapturePorts = []int{15008} }, "capturePorts[0] 15008"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan()
			tt.modify(p)
			err := p.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestExperimentValidate(t *testing.T) {
	ok := Load{From: "client-a", Target: "echo", Duration: time.Second}
	tests := []struct {
		name string
		exp  Experiment
		want string
	}{
		{"valid", Experiment{Loads: []Load{ok}, Failures: []FailureAction{{At: time.Second, Action: FailKill, Target: "nodeproxy/node-a"}}}, ""},
		{"no loads", Experiment{}, "at least one load"},
		{"from a server", Experiment{Loads: []Load{{From: "server-a", Target: "echo", Duration: time.Second}}}, `no "loadgen" role`},
		{"zero duration", Experiment{Loads: []Load{{From: "client-a", Target: "echo"}}}, "must be positive"},
		{"bad protocol", Experiment{Loads: []Load{{From: "client-a", Target: "echo", Duration: time.Second, Protocol: "udp"}}}, `protocol "udp"`},
		{"bad mode", Experiment{Loads: []Load{{From: "client-a", Target: "echo", Duration: time.Second, Mode: "pooled"}}}, `mode "pooled"`},
		{"unknown failure target", Experiment{Loads: []Load{ok}, Failures: []FailureAction{{Action: FailKill, Target: "waypoint/x"}}}, "no such long-running process"},
		{"unknown failure", Experiment{Loads: []Load{ok}, Failures: []FailureAction{{Action: "explode", Target: "echo/server-a"}}}, `action "explode"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.exp.Validate(testPlan())
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestNetworkCommandsGolden records the ip/tc/sysctl commands that build
// (and then remove) the test plan, with and without sch_netem. It needs no
// root: nothing is executed.
func TestNetworkCommandsGolden(t *testing.T) {
	for _, netem := range []bool{false, true} {
		t.Run(fmt.Sprintf("netem=%v", netem), func(t *testing.T) {
			rec := &RecordingRunner{}
			if !netem {
				rec.Fail = func(line string) error {
					if strings.Contains(line, " netem ") {
						return errors.New("Specified qdisc kind is unknown")
					}
					return nil
				}
			}
			b, err := NewLocal(LocalOptions{RunID: "abc123", Runner: rec, Commander: testCommander(t)})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.setup(context.Background(), testPlan(), false); err != nil {
				t.Fatal(err)
			}
			notEmulated := b.NotEmulated()
			if err := b.Teardown(context.Background()); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			for _, l := range rec.Lines() {
				out.WriteString(l + "\n")
			}
			for _, ne := range notEmulated {
				out.WriteString("# not emulated: " + ne + "\n")
			}
			goldenFile(t, fmt.Sprintf("network-netem-%v.txt", netem), []byte(out.String()))
			if !netem && len(notEmulated) != 1 {
				t.Errorf("NotEmulated = %q, want the cross-zone latency", notEmulated)
			}
		})
	}
}

func TestShapingCommands(t *testing.T) {
	p := testPlan()
	p.Nodes = append(p.Nodes, Node{Name: "node-c", Zone: "zone-1"}) // a same-zone pair with node-a
	l, err := NewLayout(p, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		net         Network
		netem       bool
		wantCmds    int
		notEmulated []string
	}{
		{"nothing wished", Network{}, false, 0, nil},
		// Per node: an htb root, 3 classes, 2 filters per peer (+ netem leaves).
		{"bandwidth only", Network{CrossNode: LinkShape{BandwidthBitsPerSec: 1e8}}, false, 3 * (1 + 3 + 4), nil},
		{"delay with netem", Network{CrossZone: LinkShape{Delay: 500 * time.Microsecond}}, true, 3 * (1 + 3 + 1 + 4), nil},
		{"delay without netem", Network{CrossNode: LinkShape{Delay: time.Millisecond}, CrossZone: LinkShape{Delay: 2 * time.Millisecond}}, false, 3 * (1 + 3 + 4),
			[]string{"cross-node latency 1ms (one way) not emulated: sch_netem unavailable on this kernel", "cross-zone latency 2ms (one way) not emulated: sch_netem unavailable on this kernel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmds, ne := shapingCommands(l, tt.net, tt.netem)
			if len(cmds) != tt.wantCmds {
				t.Errorf("%d commands, want %d:\n%v", len(cmds), tt.wantCmds, cmds)
			}
			if fmt.Sprint(ne) != fmt.Sprint(tt.notEmulated) {
				t.Errorf("not emulated = %q, want %q", ne, tt.notEmulated)
			}
		})
	}
}

func TestJournalUnwind(t *testing.T) {
	var j Journal
	var order []string
	for _, name := range []string{"a", "b", "c"} {
		j.Add(name, func(ctx context.Context) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			order = append(order, name)
			if name == "b" {
				return errors.New("b is stuck")
			}
			return nil
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // cleanup must run even when the caller's context is cancelled
	err := j.Unwind(ctx)
	if got := strings.Join(order, ","); got != "c,b,a" {
		t.Errorf("undo order %s, want c,b,a", got)
	}
	if err == nil || !strings.Contains(err.Error(), "remove b: b is stuck") {
		t.Errorf("error = %v, want b's failure", err)
	}
	if j.Len() != 0 {
		t.Errorf("journal not empty after Unwind: %v", j.Entries())
	}
}

func TestNewLocalNeedsCommander(t *testing.T) {
	if _, err := NewLocal(LocalOptions{}); err == nil {
		t.Error("NewLocal without Commander succeeded")
	}
	if _, err := NewLocal(LocalOptions{Commander: testCommander(t), RunID: "x"}); err == nil {
		t.Error("NewLocal with a bad run ID succeeded")
	}
}

func TestShapingReportsUnusableWishes(t *testing.T) {
	l, err := NewLayout(testPlan(), "abc123") // two nodes, two zones
	if err != nil {
		t.Fatal(err)
	}
	_, ne := shapingCommands(l, Network{CrossNode: LinkShape{Delay: time.Millisecond}}, true)
	if len(ne) != 1 || !strings.Contains(ne[0], "no two nodes share a zone") {
		t.Errorf("not emulated = %q", ne)
	}
	one, err := NewLayout(&Plan{Nodes: []Node{{Name: "solo"}}}, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	cmds, ne := shapingCommands(one, Network{CrossZone: LinkShape{BandwidthBitsPerSec: 1e6}}, true)
	if len(cmds) != 0 || len(ne) != 1 || !strings.Contains(ne[0], "all nodes are in one zone") {
		t.Errorf("single node: cmds %v, not emulated %q", cmds, ne)
	}
}

func TestCaptureCommands(t *testing.T) {
	p := testPlan()
	p.Pods[0].Mode = ModeAmbient // server-a on node-a
	p.Pods[3].Mode = ModeAmbient // client-b on node-b
	p.CapturePorts = []int{8080, 9090}
	l, err := NewLayout(p, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, c := range captureCommands(l, p.CapturePorts) {
		out.WriteString(strings.Join(c, " ") + "\n")
	}
	goldenFile(t, "capture.txt", []byte(out.String()))
	if got := CaptureDescription(p); !strings.Contains(got, "2 ambient pods") {
		t.Errorf("CaptureDescription = %q", got)
	}
}
