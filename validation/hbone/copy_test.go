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

// maxWriter records the largest write.
type maxWriter struct{ max int }

func (w *maxWriter) Write(p []byte) (int, error) { w.max = max(w.max, len(p)); return len(p), nil }

// trickle returns at most 1000 bytes per read, like an interactive peer.
type trickle struct{ zeroReader }

func (t *trickle) Read(p []byte) (int, error) { return t.zeroReader.Read(p[:min(len(p), 1000)]) }

// A bulk source (every read fills the buffer) grows the copy to
// LargeBufferSize; a trickling one keeps the small buffer.
func TestCopyCountedGrowsForBulk(t *testing.T) {
	for _, c := range []struct {
		name string
		src  io.Reader
		want int
	}{
		{"bulk", &zeroReader{n: 4 << 20}, hbone.LargeBufferSize},
		{"short bulk", &zeroReader{n: 4 * hbone.BufferSize}, hbone.BufferSize},
		{"trickle", &trickle{zeroReader{n: 4 << 20}}, 1000},
	} {
		w := &maxWriter{}
		if n, err := hbone.CopyCounted(w, c.src, nil); err != nil || n == 0 {
			t.Fatalf("%s: copied %d: %v", c.name, n, err)
		}
		if w.max != c.want {
			t.Errorf("%s: largest write %d, want %d", c.name, w.max, c.want)
		}
	}
}
