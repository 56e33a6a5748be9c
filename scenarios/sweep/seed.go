package sweep

// SeedFor derives the seed of one replication of one point from the sweep's
// base seed, the point's key (Point.Key, which leaves out the modes) and the
// replication number. It depends on nothing else — not on the point's
// position in the design, the worker that runs it or the shard it lands in —
// so a sweep gives the same numbers however it is split, and all modes of a
// replication share their seed (common random numbers).
func SeedFor(base uint64, pointKey string, replication int) uint64 {
	h := uint64(14695981039346656037) // FNV-1a of the key
	for i := 0; i < len(pointKey); i++ {
		h ^= uint64(pointKey[i])
		h *= 1099511628211
	}
	return mix64(mix64(base^mix64(h)) + uint64(replication+1)*0x9e3779b97f4a7c15)
}

// mix64 is the SplitMix64 finaliser, a bijective 64-bit mixer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
