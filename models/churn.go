package models

import (
	"fmt"

	"github.com/ambientsim/ambientsim/topology"
)

// Churn is pod churn: pods created and deleted while the mesh runs, by
// scaling (HPA, deployment scalers) and rolling restarts. Pods do not come
// and go in the simulated data plane (its topology is fixed); churn is
// what the control plane sees: every pod event is an endpoint (sidecar
// EDS) or workload (ambient WDS) update istiod pushes, and every new pod
// may need a workload certificate (controlplane.go). Zero values: no churn.
type Churn struct {
	// PodsPerSecond is the rate of scale events, each creating or
	// deleting one pod (a steady state: as many up as down).
	PodsPerSecond float64
	// RolloutsPerHour is the rate of rolling restarts; each replaces every
	// pod of one churning workload (R deletions and R creations).
	RolloutsPerHour float64
	// Workloads churn in proportion to their replicas; empty means every
	// workload with pods that is not mesh infrastructure.
	Workloads []*topology.Workload
}

// Active reports whether there is any churn.
func (c Churn) Active() bool { return c.PodsPerSecond > 0 || c.RolloutsPerHour > 0 }

// Validate checks the rates (the scenarios package names the field).
func (c Churn) Validate() error {
	switch {
	case c.PodsPerSecond < 0:
		return fmt.Errorf("pods_per_second %v is negative", c.PodsPerSecond)
	case c.RolloutsPerHour < 0:
		return fmt.Errorf("rollouts_per_hour %v is negative", c.RolloutsPerHour)
	}
	return nil
}
