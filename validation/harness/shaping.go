package harness

import (
	"context"
	"fmt"
	"time"
)

// unlimitedRate is the htb rate of classes with no bandwidth wish: far
// above what a veth on a small machine carries.
const unlimitedRate = "100gbit"

// detectNetem reports whether the kernel has sch_netem, by adding a netem
// qdisc to the loopback of namespace ns and removing it again.
func detectNetem(ctx context.Context, r Runner, ns string) bool {
	if _, err := r.Run(ctx, "tc", "-n", ns, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"); err != nil {
		return false
	}
	_, _ = r.Run(ctx, "tc", "-n", ns, "qdisc", "del", "dev", "lo", "root")
	return true
}

// shapingCommands returns the tc commands that give each node's uplink the
// wished cross-node and cross-zone link shape, and what cannot be emulated.
//
// Every node shapes its own egress, so each direction of a node pair is
// shaped once. On each uplink, an htb root has one class for same-zone
// peers (1:10), one for other-zone peers (1:20) and an unshaped default
// (1:30, ARP and anything unmatched); u32 filters pick the class by the
// peer's pod CIDR and node IP. With netem, a netem qdisc under a class adds
// the delay; without it the delay is reported as not emulated.
func shapingCommands(l *Layout, n Network, netem bool) (cmds [][]string, notEmulated []string) {
	if n.CrossNode.IsZero() && n.CrossZone.IsZero() {
		return nil, nil
	}
	zones := map[string]int{}
	for _, node := range l.Nodes {
		zones[node.Zone]++
	}
	multiZone := len(zones) > 1
	sameZonePair := false
	for _, n := range zones {
		sameZonePair = sameZonePair || n > 1
	}
	if !sameZonePair && !n.CrossNode.IsZero() && len(l.Nodes) > 1 {
		notEmulated = append(notEmulated, "cross-node (same-zone) link shape not applied: no two nodes share a zone")
	}
	if !multiZone && !n.CrossZone.IsZero() {
		notEmulated = append(notEmulated, "cross-zone link shape not applied: all nodes are in one zone")
	}
	for _, what := range []struct {
		name  string
		shape LinkShape
		used  bool
	}{{"cross-node", n.CrossNode, sameZonePair}, {"cross-zone", n.CrossZone, multiZone}} {
		if what.used && what.shape.Delay > 0 && !netem {
			notEmulated = append(notEmulated, fmt.Sprintf("%s latency %v (one way) not emulated: sch_netem unavailable on this kernel", what.name, what.shape.Delay))
		}
	}
	if len(l.Nodes) < 2 {
		return nil, notEmulated
	}
	for _, node := range l.Nodes {
		tc := func(args ...string) { cmds = append(cmds, append([]string{"tc", "-n", node.Netns}, args...)) }
		dev := node.Uplink
		tc("qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "30")
		classes := []struct {
			id    string
			shape LinkShape
		}{{"10", n.CrossNode}, {"20", n.CrossZone}, {"30", LinkShape{}}}
		for _, c := range classes {
			rate := unlimitedRate
			if c.shape.BandwidthBitsPerSec > 0 {
				rate = fmt.Sprintf("%dbit", c.shape.BandwidthBitsPerSec)
			}
			tc("class", "add", "dev", dev, "parent", "1:", "classid", "1:"+c.id, "htb", "rate", rate, "ceil", rate)
			if netem && c.shape.Delay > 0 {
				tc("qdisc", "add", "dev", dev, "parent", "1:"+c.id, "handle", c.id+":", "netem", "delay", netemDelay(c.shape.Delay))
			}
		}
		for _, peer := range l.Nodes {
			if peer.Name == node.Name {
				continue
			}
			class := "1:10"
			if peer.Zone != node.Zone {
				class = "1:20"
			}
			for _, dst := range []string{peer.PodCIDR.String(), peer.IP.String() + "/32"} {
				tc("filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio", "1", "u32", "match", "ip", "dst", dst, "flowid", class)
			}
		}
	}
	return cmds, notEmulated
}

// netemDelay formats d for tc: microseconds keep sub-millisecond delays.
func netemDelay(d time.Duration) string { return fmt.Sprintf("%dus", d.Microseconds()) }
