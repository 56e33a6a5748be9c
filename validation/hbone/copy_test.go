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

// sizeWriter records the size of every write.
type sizeWriter struct{ sizes []int }

func (w *sizeWriter) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return len(p), nil
}

// trickle returns at most 1000 bytes per read, like an interactive peer.
type trickle struct{ zeroReader }

func (t *trickle) Read(p []byte) (int, error) { return t.zeroReader.Read(p[:min(len(p), 1000)]) }

// Copies grow their buffer with the bytes moved, as ztunnel's do: 1 KiB
// writes up to 128 KiB, 16 KiB writes up to 10 MiB, 256 KiB after; a
// trickling source never fills even the small buffer.
func TestCopyCountedGrowsWithTraffic(t *testing.T) {
	for _, c := range []struct {
		name      string
		src       io.Reader
		wantFirst int
		wantAt    map[int64]int // bytes copied before a write → its size
		wantMax   int
	}{
		{"short", &zeroReader{n: 64 << 10}, hbone.SmallBufferSize, nil, hbone.SmallBufferSize},
		{"bulk", &zeroReader{n: 16 << 20}, hbone.SmallBufferSize, map[int64]int{
			hbone.MediumAfter - hbone.SmallBufferSize: hbone.SmallBufferSize,
			hbone.MediumAfter:                         hbone.MediumBufferSize,
			hbone.LargeAfter - hbone.MediumBufferSize: hbone.MediumBufferSize,
			hbone.LargeAfter:                          hbone.LargeBufferSize,
		}, hbone.LargeBufferSize},
		{"trickle", &trickle{zeroReader{n: 4 << 20}}, 1000, nil, 1000},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := &sizeWriter{}
			n, err := hbone.CopyCounted(w, c.src, nil)
			if err != nil || n == 0 {
				t.Fatalf("copied %d: %v", n, err)
			}
			if w.sizes[0] != c.wantFirst {
				t.Errorf("first write %d, want %d", w.sizes[0], c.wantFirst)
			}
			var at int64
			largest := 0
			for _, sz := range w.sizes {
				if want, ok := c.wantAt[at]; ok && sz != want {
					t.Errorf("write after %d bytes: %d, want %d", at, sz, want)
				}
				at += int64(sz)
				largest = max(largest, sz)
			}
			if largest != c.wantMax {
				t.Errorf("largest write %d, want %d", largest, c.wantMax)
			}
		})
	}
}
