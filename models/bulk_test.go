package models

import (
	"math"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// bulkRun runs iperf-like bulk streams (TCP, 128 KiB writes, no response
// body) from a client on node-1 to a server on node-2, out of mesh:
// streams connections, each with window writes in flight.
func bulkRun(t *testing.T, streams, window int) (*Mesh, EdgeStats) {
	t.Helper()
	top := mustTopology(t, `
nodes: {count: 2, zones: [z]}
namespaces:
  - name: a
    workloads: [{name: client, nodeName: node-1}]
    services: [{name: server, nodeName: node-2}]
calls:
  - {from: a/client, to: a/server, rate: 0}
`)
	prof := mustProfile(t)
	prof.LoadGen.PerRequestCPU.Value = 0
	cfg := Config{Topology: top, Profile: prof, Mode: "out-of-mesh", Seed: 4, Duration: 5 * sim.Second, Warmup: 500 * sim.Millisecond,
		Edges: edgesOf(top, EdgeConfig{Protocol: TCP, KeepAlive: true, Pool: 1,
			ReqSize:   sim.DistSpec{Kind: sim.DistConstant, Mean: 128 << 10},
			RespSize:  sim.DistSpec{Kind: sim.DistConstant, Mean: 0},
			Generator: &Generator{Connections: streams, Window: window}}),
		Apps: map[*topology.Workload]AppConfig{top.Workload("a", "server"): {
			ServiceTime: sim.DistSpec{Kind: sim.DistConstant, Mean: float64(10 * sim.Microsecond)}, Concurrency: 1024}}}
	m, res := runMesh(t, cfg)
	return m, res.Measured.Edges[0]
}

// TestBulkThroughputCaps: a bulk stream with one write in flight moves one
// write per round trip (window / RTT: serialisation on the sender's NIC,
// propagation, the receiver's 10 µs, the empty acknowledgement back), and
// enough streams fill the sending node's NIC, whose bandwidth then caps
// the total exactly.
func TestBulkThroughputCaps(t *testing.T) {
	const chunk = 128 << 10
	m, one := bulkRun(t, 1, 1)
	nicGbps := m.mustProfileNIC()
	ser := sim.Time(float64(chunk)*8/nicGbps + 0.5)
	cycle := ser + 2*m.c.crossNode + 10*sim.Microsecond
	want := float64(chunk) * 8 / cycle.Seconds() / 1e6
	t.Logf("one stream, one write in flight: %.1f Mbit/s; window/RTT %.1f Mbit/s (cycle %v)", one.ThroughputMbps, want, cycle)
	if math.Abs(one.ThroughputMbps-want) > 0.01*want {
		t.Errorf("one stream: %.1f Mbit/s, window/RTT gives %.1f", one.ThroughputMbps, want)
	}
	_, many := bulkRun(t, 8, 4)
	t.Logf("8 streams × 4 writes: %.1f Mbit/s; NIC %.0f Mbit/s", many.ThroughputMbps, nicGbps*1000)
	if math.Abs(many.ThroughputMbps-nicGbps*1000) > 0.01*nicGbps*1000 {
		t.Errorf("8 streams: %.1f Mbit/s, want the NIC's %.0f", many.ThroughputMbps, nicGbps*1000)
	}
}

// mustProfileNIC is the NIC bandwidth of node 0, Gbit/s.
func (m *Mesh) mustProfileNIC() float64 { return 8 / m.nodes[0].nicNs }
