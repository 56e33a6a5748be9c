package hbone

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
)

// BufferSize is the size of the pooled general-purpose I/O buffers
// (GetBuffer): HTTP transports' read and write buffers, and copies whose
// writer decides about flushing from the size of each write (CopyBuffer).
const BufferSize = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, BufferSize); return &b }}

// GetBuffer takes a BufferSize buffer from the shared pool.
func GetBuffer() *[]byte { return bufPool.Get().(*[]byte) }

// PutBuffer returns a buffer taken with GetBuffer.
func PutBuffer(b *[]byte) { bufPool.Put(b) }

// Adaptive copy buffers, as ztunnel sizes them (src/copy.rs): every copy
// starts small so that the many idle or chatty connections of a node proxy
// cost little memory, and grows with the bytes it has moved.
const (
	// SmallBufferSize is where every copy starts.
	SmallBufferSize = 1 << 10
	// MediumBufferSize is used once MediumAfter bytes were copied: a full
	// TLS record of payload per write.
	MediumBufferSize = 16 << 10
	// LargeBufferSize is used once LargeAfter bytes were copied: bulk
	// transfers write 256 KiB at a time (one HTTP/2 DATA frame, 16 TLS records).
	LargeBufferSize = 256 << 10

	MediumAfter = 128 << 10 // bytes copied before growing to MediumBufferSize
	LargeAfter  = 10 << 20  // bytes copied before growing to LargeBufferSize
)

var copyPools = [...]struct {
	size int
	pool *sync.Pool
}{
	{SmallBufferSize, &sync.Pool{New: func() any { b := make([]byte, SmallBufferSize); return &b }}},
	{MediumBufferSize, &sync.Pool{New: func() any { b := make([]byte, MediumBufferSize); return &b }}},
	{LargeBufferSize, &sync.Pool{New: func() any { b := make([]byte, LargeBufferSize); return &b }}},
}

// closeWriter is implemented by *net.TCPConn, *tls.Conn and the HBONE streams.
type closeWriter interface{ CloseWrite() error }

// Counter receives byte counts as they are copied (metrics count live).
type Counter func(n int)

// CopyCounted copies src to dst until EOF with pooled adaptive buffers
// (SmallBufferSize, MediumBufferSize after MediumAfter bytes, LargeBufferSize
// after LargeAfter bytes), calling count after each write. It returns the
// bytes written and the first error other than io.EOF.
func CopyCounted(dst io.Writer, src io.Reader, count Counter) (int64, error) {
	class := 0
	bp := copyPools[0].pool.Get().(*[]byte)
	defer func() { copyPools[class].pool.Put(bp) }()
	var total int64
	for {
		n, err := copyOnce(dst, src, *bp, count)
		total += int64(n)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return total, nil
			}
			return total, err
		}
		if class < len(copyPools)-1 && total >= growAt(class) {
			copyPools[class].pool.Put(bp)
			class++
			bp = copyPools[class].pool.Get().(*[]byte)
		}
	}
}

func growAt(class int) int64 {
	if class == 0 {
		return MediumAfter
	}
	return LargeAfter
}

// CopyBuffer copies src to dst until EOF through buf, calling count after
// each write; unlike CopyCounted the write size never changes.
func CopyBuffer(dst io.Writer, src io.Reader, buf []byte, count Counter) (int64, error) {
	var total int64
	for {
		n, err := copyOnce(dst, src, buf, count)
		total += int64(n)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return total, nil
			}
			return total, err
		}
	}
}

// copyOnce does one read and writes what it got; io.EOF ends the copy.
func copyOnce(dst io.Writer, src io.Reader, buf []byte, count Counter) (int, error) {
	nr, rerr := src.Read(buf)
	if nr > 0 {
		nw, werr := dst.Write(buf[:nr])
		if count != nil && nw > 0 {
			count(nw)
		}
		if werr != nil {
			return nw, werr
		}
		if nw != nr {
			return nw, io.ErrShortWrite
		}
		return nw, rerr
	}
	return 0, rerr
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
