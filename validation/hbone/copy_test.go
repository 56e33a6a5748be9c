package hbone_test

import (
	"io"
	"testing"

	"github.com/ambientsim/ambientsim/validation/hbone"
)

// zeroReader yields n bytes without allocating.
type zeroReader struct{ n int }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	m := min(len(p), z.n)
	clear(p[:m])
	z.n -= m
	return m, nil
}

// Copying uses pooled buffers: in steady state no allocation happens per
// copied byte (nor per copy).
func TestCopyCountedDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	var total int
	count := func(n int) { total += n }
	r := &zeroReader{}
	hbone.PutBuffer(hbone.GetBuffer()) // warm the pool
	allocs := testing.AllocsPerRun(20, func() {
		r.n = 16 << 20
		if _, err := hbone.CopyCounted(io.Discard, r, count); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("CopyCounted allocated %v times per 16 MiB copy", allocs)
	}
}

func BenchmarkCopyCounted(b *testing.B) {
	r := &zeroReader{}
	b.SetBytes(16 << 20)
	b.ReportAllocs()
	for range b.N {
		r.n = 16 << 20
		_, _ = hbone.CopyCounted(io.Discard, r, nil)
	}
}
