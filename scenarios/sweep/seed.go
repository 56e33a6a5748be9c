package sweep

import "github.com/ambientsim/ambientsim/sim"

// SeedFor derives the seed of one replication of one point from the sweep's
// base seed, the point's key (Point.Key, which leaves out the modes) and the
// replication number. It depends on nothing else — not on the point's
// position in the design, the worker that runs it or the shard it lands in —
// so a sweep gives the same numbers however it is split, and all modes of a
// replication share their seed (common random numbers). The hash and mixer
// are sim's, the same that derive the per-entity streams.
func SeedFor(base uint64, pointKey string, replication int) uint64 {
	h := sim.HashString(pointKey)
	return sim.Mix64(sim.Mix64(base^sim.Mix64(h)) + uint64(replication+1)*sim.GoldenGamma)
}
