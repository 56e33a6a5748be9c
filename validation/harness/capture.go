package harness

import (
	"fmt"
	"strconv"
)

// captureTable is the routing table that delivers captured packets to the
// node namespace itself.
const captureTable = "100"

// Rule priorities of the capture scheme (lower runs first).
const (
	prioInboundHBONE  = "100" // to <local ambient pod> dport 15008
	prioHBONEReply    = "101" // to <local ambient pod> sport 15008
	prioOutbound      = "110" // from <local ambient pod> dport <capture port>
	prioAppReply      = "111" // from <local ambient pod> sport <capture port> to <ambient pod>
	prioGateway       = "140" // to <gateway> → local table
	prioPods          = "150" // to <any pod CIDR> → main table (forward)
	prioLocalTable    = "1000"
	defaultLocalTable = "0"
)

// captureCommands returns the ip commands that let each node proxy handle
// its ambient pods' traffic the way ztunnel does — capturing it, and
// dialling with the pods' own IPs as source ("spoofing") — using policy
// routing alone (this machine has neither iptables nor nft tools). In
// every node namespace with a node proxy:
//
//   - every ambient pod and waypoint IP of the plan is added to lo, so the
//     proxy may bind it as a source (the kernel refuses a non-local source to a
//     socket without IP_TRANSPARENT); accept_local and rp_filter=0 let
//     packets from those addresses in;
//   - the local table moves from priority 0 to 1000, after these rules:
//     inbound: "to <pod> ipproto tcp dport 15008" and the replies to the
//     proxy's HBONE dials "to <pod> sport 15008" are delivered locally
//     (table 100: local 0.0.0.0/0); outbound: "from <pod> dport <capture
//     port>" is delivered locally, and the app's replies to dials spoofed
//     from another ambient pod or a waypoint, "from <pod> sport <port> to
//     <ambient pod or waypoint>";
//     the gateway stays local; everything else to any pod CIDR follows the
//     main table (is forwarded), although the pod IPs are now local too.
//
// A listener with IP_TRANSPARENT bound to 0.0.0.0:<port> accepts the
// captured connections, their local address being the original
// destination (the data plane's TPROXY mode). Out-of-mesh pods reach
// ambient pods directly, and their replies are not captured.
func captureCommands(l *Layout, ports []int) [][]string {
	var ambient, spoofed []SandboxLayout
	for _, s := range l.Sandboxes {
		if s.Mode == ModeAmbient {
			ambient = append(ambient, s)
		}
		// A destination proxy dials the app from the client's address:
		// an ambient pod's or a waypoint's.
		if s.Mode == ModeAmbient || s.Kind == SandboxWaypoint {
			spoofed = append(spoofed, s)
		}
	}
	if len(ambient) == 0 {
		return nil
	}
	var cmds [][]string
	for _, n := range l.Nodes {
		var local []SandboxLayout
		for _, s := range ambient {
			if s.Node == n.Name {
				local = append(local, s)
			}
		}
		if len(local) == 0 {
			continue // validation guarantees ambient pods' nodes have a node proxy
		}
		ip := func(args ...string) { cmds = append(cmds, append([]string{"ip", "-n", n.Netns}, args...)) }
		sys := []string{"ip", "netns", "exec", n.Netns, "sysctl", "-qw"}
		for _, dev := range []string{"all", "default", n.Bridge, n.Uplink, "lo"} {
			sys = append(sys, "net.ipv4.conf."+dev+".accept_local=1", "net.ipv4.conf."+dev+".rp_filter=0")
		}
		cmds = append(cmds, sys)
		for _, s := range spoofed {
			ip("addr", "add", prefixOf(s.IP, 32), "dev", "lo")
		}
		ip("route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", captureTable)
		rule := func(prio string, sel ...string) {
			ip(append(append([]string{"rule", "add"}, sel...), "prio", prio)...)
		}
		hbone := strconv.Itoa(HBONEPort)
		for _, s := range local {
			p := prefixOf(s.IP, 32)
			rule(prioInboundHBONE, "to", p, "ipproto", "tcp", "dport", hbone, "lookup", captureTable)
			rule(prioHBONEReply, "to", p, "ipproto", "tcp", "sport", hbone, "lookup", captureTable)
			for _, port := range ports {
				// iif: only packets the pod sent, never the proxy's own
				// (spoofed) packets with the same addresses.
				rule(prioOutbound, "iif", n.Bridge, "from", p, "ipproto", "tcp", "dport", strconv.Itoa(port), "lookup", captureTable)
				for _, peer := range spoofed {
					rule(prioAppReply, "iif", n.Bridge, "from", p, "to", prefixOf(peer.IP, 32), "ipproto", "tcp", "sport", strconv.Itoa(port), "lookup", captureTable)
				}
			}
		}
		rule(prioGateway, "to", prefixOf(n.Gateway, 32), "lookup", "local")
		for _, peer := range l.Nodes {
			rule(prioPods, "to", peer.PodCIDR.String(), "lookup", "main")
		}
		rule(prioLocalTable, "lookup", "local")
		ip("rule", "del", "prio", defaultLocalTable)
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
	return fmt.Sprintf("%d ambient pods: inbound TCP %d and outbound TCP %v captured to the node proxy by policy routing; the node proxy may use the pods' IPs as source", n, HBONEPort, p.CapturePorts)
}
