package topology

import "fmt"

// Limits on what a compact spec may generate, checked from its counts
// before anything is generated, so a few hundred bytes cannot ask for
// billions of objects (docs/limits.md). MaxNodes and MaxPods bound every
// topology, from a spec or from manifests.
const (
	MaxServices  = 100_000   // services (and as many workloads without one)
	MaxWorkloads = 200_000   // workloads, with or without a Service
	MaxCalls     = 1_000_000 // call-graph edges after %d expansion
)

// checkTotals multiplies out the spec's counts (namespaces × services ×
// replicas) and refuses a spec that would generate more than the limits,
// naming the first field that takes it over.
func (sb *specBuild) checkTotals() error {
	var services, workloads, pods float64
	for i, ns := range sb.s.Namespaces {
		nsCount := float64(max(ns.Count, 1))
		for j, s := range ns.Services {
			n := nsCount * float64(max(s.Count, 1))
			services += n
			workloads += n
			pods += n * float64(max(s.Replicas, 1))
			field := fmt.Sprintf("namespaces[%d].services[%d]", i, j)
			if services > MaxServices {
				return sb.ferr(field+".count", "the spec would generate more than %d services (namespaces × count: %.0f so far); a topology holds at most %d", MaxServices, services, MaxServices)
			}
			if pods > MaxPods {
				return sb.ferr(field+".replicas", "the spec would generate more than %d pods (%.0f so far: namespaces × count × replicas); a topology holds at most %d", MaxPods, pods, MaxPods)
			}
		}
		for j, w := range ns.Workloads {
			n := nsCount * float64(max(w.Count, 1))
			workloads += n
			pods += n * float64(max(w.Replicas, 1))
			field := fmt.Sprintf("namespaces[%d].workloads[%d]", i, j)
			if workloads > MaxWorkloads {
				return sb.ferr(field+".count", "the spec would generate more than %d workloads (%.0f so far); a topology holds at most %d", MaxWorkloads, workloads, MaxWorkloads)
			}
			if pods > MaxPods {
				return sb.ferr(field+".replicas", "the spec would generate more than %d pods (%.0f so far: namespaces × count × replicas); a topology holds at most %d", MaxPods, pods, MaxPods)
			}
		}
	}
	return nil
}

// callPairs counts the calls a pattern expands to: every source with
// every destination, or only those in its own namespace.
func callPairs(froms []*Workload, tos []*Service, sameNS bool) int {
	if !sameNS {
		return len(froms) * len(tos)
	}
	perNS := map[string]int{}
	for _, to := range tos {
		perNS[to.Namespace]++
	}
	n := 0
	for _, f := range froms {
		n += perNS[f.Namespace]
	}
	return n
}

// checkCalls refuses a call pattern whose expansion would take the call
// graph past MaxCalls.
func (sb *specBuild) checkCalls(field string, have, pairs int) error {
	if n := float64(have) + float64(pairs); n > MaxCalls {
		return sb.ferr(field, "expands to %d calls, taking the call graph past %d; use the same %%d namespace pattern on both sides to pair sources with their own namespace", pairs, MaxCalls)
	}
	return nil
}
