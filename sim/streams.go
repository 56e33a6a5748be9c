package sim

import "math/rand/v2"

// Streams hands out independent random number streams, one per named entity,
// all derived from one scenario seed. A stream depends only on the seed and
// its name — not on which other streams exist or in what order they were
// created — so two runs that differ only in mesh mode see identical arrival
// and demand sequences (common random numbers), which makes their difference
// far less noisy than independent runs would.
//
// Each name has exactly one stream per Streams: asking twice for the same
// name returns the same, shared, stream. Give every entity its own name
// ("client/frontend-7/arrivals", "ztunnel/node-2/cpu").
type Streams struct {
	seed    uint64
	streams map[string]stream
}

type stream struct {
	src *rand.PCG
	rnd *rand.Rand
}

// NewStreams returns the stream family for one scenario seed.
func NewStreams(seed uint64) *Streams {
	return &Streams{seed: seed, streams: make(map[string]stream)}
}

// Seed returns the scenario seed.
func (s *Streams) Seed() uint64 { return s.seed }

// Source returns the PCG stream for name.
func (s *Streams) Source(name string) rand.Source { return s.get(name).src }

// Rand returns a *rand.Rand drawing from the stream for name.
func (s *Streams) Rand(name string) *rand.Rand { return s.get(name).rnd }

func (s *Streams) get(name string) stream {
	if st, ok := s.streams[name]; ok {
		return st
	}
	h := HashString(name)
	// Both PCG words depend on seed and name; the SplitMix64 finaliser makes
	// neighbouring seeds and similar names yield unrelated states.
	hi := Mix64(s.seed ^ Mix64(h))
	lo := Mix64(h ^ Mix64(s.seed+GoldenGamma))
	src := rand.NewPCG(hi, lo)
	st := stream{src: src, rnd: rand.New(src)}
	s.streams[name] = st
	return st
}

// GoldenGamma is SplitMix64's increment, 2^64 divided by the golden ratio:
// adding multiples of it before Mix64 spreads consecutive counters
// (replication numbers, seeds) over the whole 64-bit space.
const GoldenGamma = 0x9e3779b97f4a7c15

// HashString is the 64-bit FNV-1a hash of name. It is the one string hash
// that seed derivations use (stream names here, sweep point keys in
// scenarios/sweep), so the same name always maps to the same seed.
func HashString(name string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return h
}

// Mix64 is the SplitMix64 finaliser, a bijective 64-bit mixer: nearby inputs
// give unrelated outputs, and distinct inputs distinct outputs.
func Mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
