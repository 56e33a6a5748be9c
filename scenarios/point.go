package scenarios

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/topology"
)

// A sweep point is a typed change to a scenario. WithPoint applies the
// parameters that are scenario fields (modes, profile, waypoint replicas)
// and checks the scenario again exactly as Parse checks a file; the rest
// is applied where its value is used:
//
//	load              compile: every edge's offered rate (from the
//	                  topology calls, traffic defaults or traffic edges)
//	                  multiplied by the factor
//	nodes             BuildTopology: topology.spec.nodes.count
//	podsPerService    BuildTopology: replicas of every service in the spec
//	waypointReplicas  mesh.waypoint_replicas, and in BuildTopology the
//	                  replicas of every waypoint declared in the spec
//	waypointScope     BuildTopology: the scope of every namespace's waypoint
//	                  (one is declared for each namespace with services)
//	workerThreads     Execute: ztunnel worker threads of the loaded profile
//	instanceType      compile: every node not on a host gets that machine
//	                  (as a last topology.machines entry)
//	profile           the scenario's profile
//	mode              the scenario's modes, all run on the same seed

// WithPoint returns a copy of the scenario with the sweep point's
// parameters applied and without its sweep and capacity sections (each run
// of a sweep is a plain scenario). The copy passes the same validation as a file; a
// parameter the scenario cannot take (nodes on an explicit node list, a
// topology parameter on a manifest topology) is an error naming the point.
func (sc *Scenario) WithPoint(p sweep.Point) (*Scenario, error) {
	c, doc, err := decode(sc.file, sc.raw)
	if err != nil {
		return nil, err
	}
	c.embedded = sc.embedded
	c.Sweep = yaml.Node{}
	c.Capacity = nil // a sweep point is one run per mode, not a capacity search
	c.point = p
	c.point.Modes = slices.Clone(p.Modes)
	if len(p.Modes) > 0 {
		c.Modes = slices.Clone(p.Modes)
	}
	if p.Profile != "" {
		c.Profile = p.Profile
	}
	if p.WaypointReplicas > 0 {
		c.Mesh.WaypointReplicas = p.WaypointReplicas
	}
	if p.InstanceType != "" {
		if _, err := models.LookupMachine(p.InstanceType); err != nil {
			return nil, fmt.Errorf("scenario with %s: instanceType: %w", p, err)
		}
		c.Topology.Machines = append(c.Topology.Machines, MachineSpec{InstanceType: p.InstanceType})
	}
	if err := c.validate(doc); err != nil {
		return nil, fmt.Errorf("scenario with %s: %w", p, err)
	}
	if err := checkPointSpec(c.spec, p); err != nil {
		return nil, fmt.Errorf("%s: applying %s: %w", c.file, p, err)
	}
	return c, nil
}

// Point is the sweep point applied by WithPoint (zero: as written).
func (sc *Scenario) Point() sweep.Point { return sc.point }

// checkPointSpec rejects topology parameters the scenario's topology
// cannot take.
func checkPointSpec(sp *topology.Spec, p sweep.Point) error {
	needSpec := func(param string) error {
		if sp == nil {
			return fmt.Errorf("%s needs a generative topology.spec; this scenario's topology is manifests", param)
		}
		return nil
	}
	if p.Nodes > 0 {
		if err := needSpec("nodes"); err != nil {
			return err
		}
		if len(sp.Nodes.List) > 0 {
			return fmt.Errorf("nodes cannot be swept: topology.spec.nodes has an explicit list; use nodes.count")
		}
	}
	if p.PodsPerService > 0 {
		if err := needSpec("podsPerService"); err != nil {
			return err
		}
	}
	if p.WaypointScope != "" {
		if err := needSpec("waypointScope"); err != nil {
			return err
		}
	}
	return nil
}

// applyPointToSpec changes a decoded topology spec by the point's
// topology parameters (checked by checkPointSpec).
func applyPointToSpec(sp *topology.Spec, p sweep.Point) {
	if p.Nodes > 0 {
		sp.Nodes.Count = p.Nodes
	}
	for i := range sp.Namespaces {
		ns := &sp.Namespaces[i]
		if p.PodsPerService > 0 {
			for j := range ns.Services {
				ns.Services[j].Replicas = p.PodsPerService
			}
		}
		if p.WaypointScope != "" && len(ns.Services) > 0 {
			if ns.Waypoint == nil {
				ns.Waypoint = &topology.WaypointSpec{}
			}
			ns.Waypoint.Scope = p.WaypointScope
		}
		if p.WaypointReplicas > 0 {
			if ns.Waypoint != nil {
				ns.Waypoint.Replicas = p.WaypointReplicas
			}
			for j := range ns.Waypoints {
				ns.Waypoints[j].Replicas = p.WaypointReplicas
			}
		}
	}
}

// decodeSpec decodes the scenario's generative topology with its sweep
// point applied.
func (sc *Scenario) decodeSpec() (*topology.Spec, error) {
	sp, err := topology.DecodeSpec(sc.file, &sc.Topology.Spec)
	if err != nil {
		return nil, specErr(sc.file, err)
	}
	applyPointToSpec(sp, sc.point)
	return sp, nil
}

// tuneProfile applies the point's profile parameters (ztunnel worker
// threads) to a loaded profile and re-encodes it, so the inputs hash
// tells tuned runs apart; the recorded profile name stays the original's.
func (sc *Scenario) tuneProfile(prof *models.Profile) error {
	if sc.point.WorkerThreads <= 0 {
		return nil
	}
	prof.Ztunnel.WorkerThreads.Value = float64(sc.point.WorkerThreads)
	prof.Ztunnel.WorkerThreads.Derivation = "set by the sweep parameter workerThreads"
	raw, err := yaml.Marshal(prof)
	if err != nil {
		return fmt.Errorf("tuned profile %s: %w", prof.Name, err)
	}
	prof.Raw = raw
	return nil
}

// loadScale is the factor on every offered rate (the point's load; 1 as
// written).
func (sc *Scenario) loadScale() float64 {
	if sc.point.Load > 0 {
		return sc.point.Load
	}
	return 1
}
