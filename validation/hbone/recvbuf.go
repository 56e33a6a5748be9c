package hbone

import (
	"sync"
	"time"
)

// recvChunk is the size of the pooled chunks a stream's received bytes are
// stored in. The connection's reader decrypts straight into them (one copy,
// as a plain TLS reader makes into its caller's buffer) and the
// application's Read copies out of them (the one copy HBONE adds).
const recvChunk = 64 << 10

var recvPool = sync.Pool{New: func() any { b := make([]byte, recvChunk); return &b }}

// recvBuf is a stream's queue of received, not yet read bytes. One writer
// (the connection's frame reader) fills the tail chunk outside the stream's
// lock, in the region past w, and publishes with commit under the lock; the
// reader consumes [r, w) under the lock. A chunk is recycled only once it is
// both full and fully read, so the writer never writes into a recycled chunk.
type recvBuf struct {
	chunks []*[]byte
	r      int // read offset in chunks[0]
	w      int // published end in the last chunk
	n      int // bytes buffered
	// spare keeps one emptied chunk for the next space(): a bulk stream
	// recycles its chunks here instead of through sync.Pool, whose misses
	// after a GC cost an allocation each.
	spare *[]byte
}

func (b *recvBuf) getChunk() *[]byte {
	if c := b.spare; c != nil {
		b.spare = nil
		return c
	}
	return recvPool.Get().(*[]byte)
}

func (b *recvBuf) putChunk(c *[]byte) {
	if b.spare == nil {
		b.spare = c
		return
	}
	recvPool.Put(c)
}

// release returns every chunk but the one a writer may still be filling.
func (b *recvBuf) release(writing bool) {
	for i, c := range b.chunks {
		if i == len(b.chunks)-1 && writing {
			break // the frame reader still fills it; the GC takes it later
		}
		recvPool.Put(c)
	}
	if b.spare != nil {
		recvPool.Put(b.spare)
	}
	*b = recvBuf{}
}

// space returns the writable region of the tail chunk, adding a chunk when
// the tail is full.
func (b *recvBuf) space() []byte {
	if len(b.chunks) == 0 || b.w == recvChunk {
		b.chunks = append(b.chunks, b.getChunk())
		b.w = 0
		if len(b.chunks) == 1 {
			b.r = 0
		}
	}
	return (*b.chunks[len(b.chunks)-1])[b.w:]
}

// commit publishes k bytes written into the region space returned.
func (b *recvBuf) commit(k int) {
	b.w += k
	b.n += k
}

// read copies buffered bytes into p and recycles chunks it emptied.
// writing tells whether the writer holds a region of the tail chunk.
func (b *recvBuf) read(p []byte, writing bool) int {
	total := 0
	for len(p) > 0 && b.n > 0 {
		c := *b.chunks[0]
		end := recvChunk
		if len(b.chunks) == 1 {
			end = b.w
		}
		k := copy(p, c[b.r:end])
		p = p[k:]
		b.r += k
		b.n -= k
		total += k
		if b.r == recvChunk {
			// Full and fully read: no writer can hold a region of it.
			b.putChunk(b.chunks[0])
			// Shift down rather than reslice, so appends reuse the array.
			last := copy(b.chunks, b.chunks[1:])
			b.chunks[last] = nil
			b.chunks = b.chunks[:last]
			b.r = 0
		}
	}
	if b.n == 0 && len(b.chunks) == 1 && !writing {
		// Drained and idle: keep no more than the spare.
		b.putChunk(b.chunks[0])
		b.chunks[0] = nil
		b.chunks = b.chunks[:0]
		b.r, b.w = 0, 0
	}
	return total
}

// deadline is a settable deadline whose expiry closes a channel, so that a
// blocked Read or Write can select on it (net.Pipe-style).
type deadline struct {
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{} // closed once the deadline has passed
}

func newDeadline() deadline { return deadline{ch: make(chan struct{})} }

// set arms the deadline at t; the zero time disarms it.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.ch // the timer fired: wait for it to have closed ch
	}
	d.timer = nil
	expired := isClosedChan(d.ch)
	if t.IsZero() {
		if expired {
			d.ch = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if expired {
			d.ch = make(chan struct{})
		}
		ch := d.ch
		d.timer = time.AfterFunc(dur, func() { close(ch) })
		return
	}
	if !expired {
		close(d.ch)
	}
}

// wait returns a channel closed once the deadline has passed.
func (d *deadline) wait() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

func isClosedChan(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// wake does a non-blocking send on a one-slot notification channel.
func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
