package harness

import (
	"fmt"
	"strconv"
)

// captureTable is the routing table that delivers captured packets to the
// node namespace itself.
const captureTable = "100"

// captureCommands returns the ip commands that make each node's proxy see
// its ambient pods' traffic, the way ztunnel's redirection does, with
// policy routing alone (this machine has neither iptables nor nft tools):
//
//   - inbound: packets to an ambient pod's IP, TCP port 15008 (HBONE),
//     from anywhere, are delivered to the node namespace instead of the
//     pod (ip rule "to <pod>/32 ipproto tcp dport 15008");
//   - outbound: packets from an ambient pod's IP to one of the capture
//     ports are delivered to the node namespace (ip rule "from <pod>/32
//     ipproto tcp dport <port>"; "iif <veth>" cannot work, the bridge is
//     the input device); replies from the pod's own listeners (source
//     port = app port) are not matched and flow normally.
//
// Table 100 routes everything "local". A listener in the node namespace
// with IP_TRANSPARENT bound to 0.0.0.0:<port> then accepts these
// connections, and the connection's local address is the original
// destination (what the data plane calls TPROXY mode).
func captureCommands(l *Layout, ports []int) [][]string {
	var cmds [][]string
	for _, n := range l.Nodes {
		var rules [][]string
		for _, s := range l.Sandboxes {
			if s.Node != n.Name || s.Mode != ModeAmbient {
				continue
			}
			rules = append(rules, []string{"ip", "-n", n.Netns, "rule", "add", "to", prefixOf(s.IP, 32),
				"ipproto", "tcp", "dport", strconv.Itoa(HBONEPort), "lookup", captureTable, "prio", "100"})
			for _, p := range ports {
				rules = append(rules, []string{"ip", "-n", n.Netns, "rule", "add", "from", prefixOf(s.IP, 32),
					"ipproto", "tcp", "dport", strconv.Itoa(p), "lookup", captureTable, "prio", "110"})
			}
		}
		if len(rules) == 0 {
			continue
		}
		cmds = append(cmds, []string{"ip", "-n", n.Netns, "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", captureTable})
		cmds = append(cmds, rules...)
	}
	return cmds
}

// CaptureDescription says in one line what is captured, for reports.
func CaptureDescription(p *Plan) string {
	n := 0
	for _, pod := range p.Pods {
		if pod.Mode == ModeAmbient {
			n++
		}
	}
	return fmt.Sprintf("%d ambient pods: inbound TCP %d and outbound TCP %v captured to the node proxy by policy routing", n, HBONEPort, p.CapturePorts)
}
