package sweep

import (
	"fmt"
	"math"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// proxyKinds are the mesh's own components, the ones the cost table prices.
var proxyKinds = []string{"sidecar", "waypoint", "ztunnel"}

// costTable extrapolates the reference run's per-instance usage to each
// cluster size: a sidecar per pod, waypoints in proportion to pods, a
// ztunnel per node; each instance provisioned at max(request, used ×
// headroom). Done per replication, so the intervals carry the run-to-run
// variation of the usage.
func costTable(plan *Plan, reps []Replication) (*results.CostTable, error) {
	if len(reps) == 0 {
		return nil, fmt.Errorf("no reference run")
	}
	c := plan.Cost
	ct := &results.CostTable{
		Headroom:  c.Headroom,
		Reference: plan.costRef(),
		Method: "per-instance CPU and memory of each proxy kind measured in the reference run; " +
			"instances at N pods: sidecars and waypoints in proportion to pods, ztunnels one per node (N / pods_per_node, rounded up) " +
			"with per-node CPU scaled by pods per node (memory kept: it is mostly the per-node base); provisioned = Σ instances × max(request, used × headroom)",
	}
	for _, k := range proxyKinds {
		r := c.Requests[k]
		ct.Requests = append(ct.Requests, results.KindRequest{Kind: k, CPUCores: r.CPUCores, MemoryGiB: r.MemoryGiB})
	}
	ref := reps[0].Modes[0]
	if ref.Pods < 1 || ref.Nodes < 1 {
		return nil, fmt.Errorf("the reference run reports %d pods on %d nodes; the cost table needs both", ref.Pods, ref.Nodes)
	}
	refPPN := float64(ref.Pods) / float64(ref.Nodes)
	ct.PodsPerNode = c.PodsPerNode
	if ct.PodsPerNode == 0 {
		ct.PodsPerNode = refPPN
	}
	modes := reps[0].Modes
	for _, pods := range c.Pods {
		nodes := int(math.Ceil(float64(pods) / ct.PodsPerNode))
		for mi, m := range modes {
			row := results.CostRow{Pods: pods, Mode: m.Mode, Nodes: nodes}
			var cpu, mem, ucpu, umem []float64
			for ri, r := range reps {
				f := r.Modes[mi]
				var tc, tm, uc, um float64
				for _, k := range proxyKinds {
					kf, ok := findKind(f.Kinds, k)
					if !ok || kf.Instances == 0 {
						continue
					}
					perCPU := kf.CPUCores / float64(kf.Instances)
					perMem := kf.MemoryGiB / float64(kf.Instances)
					var n int
					switch k {
					case "ztunnel":
						n = nodes
						perCPU *= ct.PodsPerNode / refPPN // traffic per node
					default:
						n = int(math.Ceil(float64(pods) * float64(kf.Instances) / float64(f.Pods)))
					}
					if ri == 0 {
						row.Instances = append(row.Instances, results.KindCount{Kind: k, Count: n})
					}
					req := c.Requests[k]
					tc += float64(n) * math.Max(req.CPUCores, perCPU*c.Headroom)
					tm += float64(n) * math.Max(req.MemoryGiB, perMem*c.Headroom)
					uc += float64(n) * perCPU
					um += float64(n) * perMem
				}
				cpu, mem, ucpu, umem = append(cpu, tc), append(mem, tm), append(ucpu, uc), append(umem, um)
			}
			row.CPUCores, row.MemoryGiB = MeanCI(cpu, plan.Confidence), MeanCI(mem, plan.Confidence)
			row.UsedCPUCores, row.UsedMemoryGiB = MeanCI(ucpu, plan.Confidence), MeanCI(umem, plan.Confidence)
			ct.Rows = append(ct.Rows, row)
		}
	}
	return ct, nil
}

func findKind(ks []KindFigures, kind string) (KindFigures, bool) {
	for _, k := range ks {
		if k.Kind == kind {
			return k, true
		}
	}
	return KindFigures{}, false
}
