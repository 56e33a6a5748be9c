package hbone

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
)

// BufferSize is the size of pooled copy buffers (ztunnel grows its buffers
// to 256 KiB for bulk transfers; 64 KiB keeps memory per stream modest while
// matching HTTP/2 frame batching).
const BufferSize = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, BufferSize); return &b }}

// LargeBufferSize is what a copy grows to once its source keeps filling
// BufferSize reads (a bulk transfer), as ztunnel's adaptive copy buffers grow
// to 256 KiB. Larger writes mean larger HTTP/2 DATA frames: fewer frame
// headers, each costing its own small TLS record and write syscall.
const LargeBufferSize = 256 << 10

// growAfter consecutive full reads switch a copy to a large buffer.
const growAfter = 4

var largePool = sync.Pool{New: func() any { b := make([]byte, LargeBufferSize); return &b }}

// GetBuffer takes a BufferSize buffer from the shared pool.
func GetBuffer() *[]byte { return bufPool.Get().(*[]byte) }

// PutBuffer returns a buffer taken with GetBuffer.
func PutBuffer(b *[]byte) { bufPool.Put(b) }

// closeWriter is implemented by *net.TCPConn, *tls.Conn and the HBONE streams.
type closeWriter interface{ CloseWrite() error }

// Counter receives byte counts as they are copied (metrics count live).
type Counter func(n int)

// CopyCounted copies src to dst with a pooled buffer, calling count after
// each write. It starts with a BufferSize buffer and switches to a
// LargeBufferSize one after growAfter consecutive reads filled the buffer. It returns the bytes written and the first error other than
// io.EOF.
func CopyCounted(dst io.Writer, src io.Reader, count Counter) (int64, error) {
	bp, large, full := GetBuffer(), false, 0
	defer func() {
		if large {
			largePool.Put(bp)
		} else {
			PutBuffer(bp)
		}
	}()
	buf := *bp
	var total int64
	for {
		nr, rerr := src.Read(buf)
		if nr > 0 {
			nw, werr := dst.Write(buf[:nr])
			total += int64(nw)
			if count != nil && nw > 0 {
				count(nw)
			}
			if werr != nil {
				return total, werr
			}
			if nw != nr {
				return total, io.ErrShortWrite
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return total, nil
			}
			return total, rerr
		}
		if !large {
			if nr < len(buf) {
				full = 0
			} else if full++; full >= growAfter {
				PutBuffer(bp)
				bp, large = largePool.Get().(*[]byte), true
				buf = *bp
			}
		}
	}
}

// SpliceResult reports a finished bidirectional copy.
type SpliceResult struct {
	AToB, BToA int64 // bytes copied in each direction
	Err        error // first non-EOF error, nil for a clean close on both sides
}

// Splice copies a→b and b→a until both directions end. A clean EOF on one
// side half-closes the other (CloseWrite); an error on either direction
// closes both connections at once. Both are closed when Splice returns.
// aToB and bToA, if not nil, are called live with each copied chunk.
func Splice(a, b io.ReadWriteCloser, aToB, bToA Counter) SpliceResult {
	var (
		res  SpliceResult
		once sync.Once
		wg   sync.WaitGroup
	)
	fail := func(err error) {
		once.Do(func() {
			res.Err = err
			_ = a.Close()
			_ = b.Close()
		})
	}
	half := func(dst, src io.ReadWriteCloser, n *int64, c Counter) {
		defer wg.Done()
		written, err := CopyCounted(dst, src, c)
		*n = written
		if err != nil {
			fail(err)
			return
		}
		if cw, ok := dst.(closeWriter); ok {
			if err := cw.CloseWrite(); err != nil && !isClosed(err) {
				fail(err)
			}
			return
		}
		// No half-close available: closing is the only way to signal EOF.
		_ = dst.Close()
	}
	wg.Add(2)
	go half(b, a, &res.AToB, aToB)
	half(a, b, &res.BToA, bToA)
	wg.Wait()
	_ = a.Close()
	_ = b.Close()
	if res.Err != nil && isClosed(res.Err) {
		// The peer closed while we were still copying the other way: that is
		// how a TCP proxy sees a normal full close.
		res.Err = nil
	}
	return res
}

// Reset closes c with an RST instead of a FIN when c is a TCP connection: it
// is what an application sees when its proxy could not reach the destination.
func Reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, errStreamClosed)
}
