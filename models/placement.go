package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// Placement of nodes on machines (Config.Machines): every container of a
// node runs on its machine's cores; nodes listed together share one
// machine (a host).

type placement struct {
	cfgs  []MachineConfig
	of    map[string]int  // node name → index in cfgs
	built []*sim.Machine  // per cfgs index, created on first use
	used  map[string]bool // nodes that were placed
}

func newPlacement(cfgs []MachineConfig, top *topology.Topology) (*placement, error) {
	pl := &placement{cfgs: cfgs, of: map[string]int{}, built: make([]*sim.Machine, len(cfgs)), used: map[string]bool{}}
	for i, mc := range cfgs {
		name := mc.Name
		if name == "" && len(mc.Nodes) > 0 {
			name = mc.Nodes[0]
		}
		if err := mc.Machine.validate(); err != nil {
			return nil, fmt.Errorf("models: machine %q: %w", name, err)
		}
		if mc.NICGbps < 0 {
			return nil, fmt.Errorf("models: machine %q: negative NIC bandwidth %v", name, mc.NICGbps)
		}
		for _, n := range mc.Nodes {
			if j, dup := pl.of[n]; dup {
				return nil, fmt.Errorf("models: node %q is on two machines, %q and %q", n, cfgs[j].Name, name)
			}
			pl.of[n] = i
		}
	}
	return pl, nil
}

// validate checks a machine's numbers.
func (mc Machine) validate() error {
	switch {
	case !(mc.Cores > 0) || math.IsInf(mc.Cores, 0):
		return fmt.Errorf("%v cores, want > 0", mc.Cores)
	case !(mc.Speed > 0) || math.IsInf(mc.Speed, 0):
		return fmt.Errorf("speed %v, want > 0", mc.Speed)
	case mc.SMT < 0 || mc.SMT > 2:
		return fmt.Errorf("SMT %d, want 1 or 2", mc.SMT)
	case mc.SMT == 2 && !(mc.SMTYield >= 1 && mc.SMTYield <= 2):
		return fmt.Errorf("SMT yield %v, want within [1, 2]", mc.SMTYield)
	}
	return nil
}

// check reports machines naming nodes the topology does not have.
func (pl *placement) check(nodeIdx map[string]int32) error {
	for _, mc := range pl.cfgs {
		for _, n := range mc.Nodes {
			if _, ok := nodeIdx[n]; !ok {
				return fmt.Errorf("models: machine %q: node %q is not in the topology", mc.Name, n)
			}
		}
	}
	return nil
}

// newNode returns node name's runtime state on its machine, with its
// ztunnel container.
func (m *Mesh) newNode(pl *placement, name string, zone int32) nodeRT {
	mc := MachineConfig{Machine: DefaultMachine}
	var mach *sim.Machine
	if i, ok := pl.of[name]; ok {
		mc = pl.cfgs[i]
		mach = pl.built[i]
		if mach == nil {
			mach = m.newMachine(mc, name)
			pl.built[i] = mach
		}
	} else {
		mach = m.newMachine(mc, name)
	}
	n := nodeRT{name: name, zone: zone, mach: mach, machine: mc.Machine}
	bw := mc.NICGbps
	if bw == 0 && m.c.nicNsPerByte > 0 {
		n.nicNs = m.c.nicNsPerByte
	} else if bw > 0 {
		n.nicNs = 8 / bw
	}
	res := Resources{Request: m.c.ztCPUReq, Limit: m.c.ztCPULim}
	workers := m.c.ztWorkers
	if r := m.cfg.Ztunnel.Resources; r != nil {
		res = *r
	}
	if w := m.cfg.Ztunnel.Workers; w > 0 {
		workers = w
	}
	n.zt = newContainer(mach, m.strm, "ztunnel/"+name, res, workers, true, m.c.ztAct)
	if m.c.ztLatD.sigma > 0 {
		n.latR[0] = streamState(m.strm, "latency/ztunnel/"+name)
	}
	if m.c.wp.latD.sigma > 0 {
		n.latR[1] = streamState(m.strm, "latency/waypoint/"+name)
	}
	if m.c.sc.latD.sigma > 0 {
		n.latR[2] = streamState(m.strm, "latency/sidecar/"+name)
	}
	return n
}

// newMachine builds the simulated machine of mc: speeds are relative to
// the cores the profile's costs were measured on.
func (m *Mesh) newMachine(mc MachineConfig, node string) *sim.Machine {
	name := mc.Name
	if name == "" {
		name = node
	}
	mt := mc.Machine
	spec := sim.MachineSpec{Cores: mt.Cores, Speed: mt.Speed / m.c.refSpeed, SMT: max(mt.SMT, 1), SMTYield: mt.SMTYield}
	if spec.SMT < 2 {
		spec.SMTYield = 0
	}
	return sim.NewMachine(m.s, "machine/"+name, spec)
}

// envoyResources returns an Envoy's container resources and worker count:
// the scenario's override, else the profile's; with a CPU limit and no
// explicit workers, concurrency is the limit rounded up (pilot-agent sets
// it from ISTIO_CPU_LIMIT).
func (m *Mesh) envoyResources(pc ProxyConfig, e *envoyCosts, profileWorkers int) (Resources, int) {
	res := Resources{Request: e.cpuReq, Limit: e.cpuLim}
	workers := profileWorkers
	if pc.Resources != nil {
		res = *pc.Resources
		if res.Limit > 0 {
			workers = int(math.Ceil(res.Limit))
		}
	}
	if pc.Workers > 0 {
		workers = pc.Workers
	}
	return res, max(workers, 1)
}

// streamState is a copy of the named stream's state, for a stream only its
// holder draws from: the holder keeps it inline and draws exactly what the
// stream would have given.
func streamState(strm *sim.Streams, name string) rand.PCG {
	return *strm.Source(name).(*rand.PCG)
}
