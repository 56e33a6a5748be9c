// Package sweep turns single simulation runs into the answers capacity
// planners need: design points over parameters, independent replications
// with confidence intervals, the largest load that meets an SLO, the
// smallest waypoint or ztunnel size that does, and the cluster cost per
// dataplane mode from 100 to 100,000 pods. It also splits a sweep into
// shards for Kubernetes Indexed Jobs and merges them back.
//
// # A usage story
//
// A platform team must tell its review board whether ambient saves money
// over sidecars at their SLO of a 25 ms p99. They add a sweep: section to
// their scenario:
//
//	sweep:
//	  replications: 5
//	  parameters:
//	    mode: [sidecar, ambient, ambient+waypoint]
//	    load: {from: 0.5, to: 10, step: 0.5}
//	  slo: {metric: p99, threshold: 25, search: {from: 0.5, to: 16}}
//	  sizing: {load: 8, parameters: [waypointReplicas, workerThreads]}
//	  cost: {headroom: 1.3, pods: [100, 1000, 10000, 100000]}
//
// and run it (scenarios.StudyRunner is the Runner that simulates a point;
// any Runner will do, which is how this package is tested):
//
//	spec, err := sweep.DecodeSpec("study.yaml", sweepNode)
//	plan, err := spec.Plan(sweep.PlanOptions{Scenario: "shop", Seed: 1})
//	res, err := sweep.Run(ctx, plan, runner, sweep.Options{Workers: 2})
//	err = sweep.WriteResult("out", res) // out/sweep.json, out/sweep.csv
//
// # Design, seeds and common random numbers
//
// Spec.Expand lists the points: the cartesian product of the parameters
// (the last one written varies fastest) or a listed design. The mode
// parameter is not an axis: every mode of a replication runs in the same
// scenario run, on the same seed, so the modes see identical arrivals
// (common random numbers) and results.SweepPointResult.Differences — paired per
// replication — have far narrower intervals than two independent ones.
// SeedFor derives each replication's seed from the base seed, the point's
// Key and the replication number only: results do not depend on the order,
// the worker or the shard that ran a point.
//
// # Statistics
//
// Every figure is reported as an Estimate: the mean over replications and
// the half-width of its Student-t confidence interval (MeanCI, from
// gonum's distuv). Warm-up: each run discards the scenario's warm-up;
// MSER5 (White's Marginal Standard Error Rule on batches of five) checks it
// on a run's batch-means series when the Runner provides one.
//
// # Answers
//
// The SLO search bisects the load multiplier (in log space) per mode and
// reports the bracket [MaxLoad, MinViolatingLoad], the largest load whose
// whole interval meets the SLO, and whether an interval straddles the
// threshold (Uncertain: more replications needed). A run that cannot keep
// up (Figures.Saturated) violates the SLO whatever its latencies say.
// Sizing bisects waypoint replicas or ztunnel worker threads for the
// smallest value meeting the SLO at a load. The cost table scales the
// per-instance usage of a reference run to each cluster size and
// provisions max(request, used × headroom) per proxy.
//
// # Shards
//
// Plan.Units are the points, then the tasks (searches, sizing, the cost
// reference run); shard i of n runs the units u with u mod n = i.
// Execute runs one shard and returns its raw ShardResult; Merge checks that
// the shards belong to one plan and cover it, then computes the Result. A
// local run is Merge of one shard, so merged shards give a byte-identical
// sweep.json. Package kubejob writes the Indexed Job that runs the shards.
package sweep
