package hbone

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/ambientsim/ambientsim/validation/identity"
)

var errStreamClosed = errors.New("hbone stream closed")

// ErrDeadlineUnsupported is returned by deadline setters on client streams:
// HTTP/2 client request bodies have no per-read deadline.
var ErrDeadlineUnsupported = errors.New("hbone client stream: deadlines not supported")

// ClientStream is one established CONNECT tunnel seen from the client. It is
// a net.Conn whose CloseWrite sends END_STREAM.
type ClientStream struct {
	pw      *io.PipeWriter
	body    io.ReadCloser
	local   net.Addr
	remote  net.Addr
	peer    identity.ID
	header  http.Header
	cancel  func()
	release func()
	once    sync.Once
	wclosed sync.Once
}

// Header returns the headers of the server's 200 (e.g. ztunnel's baggage).
func (s *ClientStream) Header() http.Header { return s.header }

// Peer returns the verified identity of the proxy that terminated the tunnel.
func (s *ClientStream) Peer() identity.ID { return s.peer }

// Read reads tunnelled bytes from the server.
func (s *ClientStream) Read(p []byte) (int, error) { return s.body.Read(p) }

// Write sends tunnelled bytes to the server.
func (s *ClientStream) Write(p []byte) (int, error) {
	n, err := s.pw.Write(p)
	if errors.Is(err, io.ErrClosedPipe) {
		err = errStreamClosed
	}
	return n, err
}

// CloseWrite half-closes the tunnel (END_STREAM on the request).
func (s *ClientStream) CloseWrite() error {
	s.wclosed.Do(func() { _ = s.pw.Close() })
	return nil
}

// Close ends the stream in both directions and returns its slot to the pool.
func (s *ClientStream) Close() error {
	s.once.Do(func() {
		_ = s.CloseWrite()
		_ = s.body.Close()
		s.cancel()
		s.release()
	})
	return nil
}

// LocalAddr returns the local address of the underlying TLS connection.
func (s *ClientStream) LocalAddr() net.Addr { return s.local }

// RemoteAddr returns the next hop's address.
func (s *ClientStream) RemoteAddr() net.Addr { return s.remote }

// SetDeadline is not supported on client streams.
func (s *ClientStream) SetDeadline(time.Time) error { return ErrDeadlineUnsupported }

// SetReadDeadline is not supported on client streams.
func (s *ClientStream) SetReadDeadline(time.Time) error { return ErrDeadlineUnsupported }

// SetWriteDeadline is not supported on client streams.
func (s *ClientStream) SetWriteDeadline(time.Time) error { return ErrDeadlineUnsupported }

// ServerStream is one CONNECT request seen by a Handler. Before Accept or
// Reject nothing has been sent to the client. After Accept it is a net.Conn
// carrying the tunnelled bytes.
type ServerStream struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	body     io.ReadCloser
	local    net.Addr
	remote   net.Addr
	answered bool
	done     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	wclosed  bool

	// Deadline-capable reads (see SetReadDeadline); pending is owned by the reader.
	pump            chan chunk
	readDeadline    time.Time
	deadlineChanged chan struct{}
	pending         pendingChunk
}

type pendingChunk struct {
	buf    *[]byte
	n, off int
	err    error // reported once buf is drained, and on every read after
}

// Reject answers the CONNECT with status (401, 503, 400...); the stream ends.
func (s *ServerStream) Reject(status int) {
	if s.answered {
		return
	}
	s.answered = true
	s.w.WriteHeader(status)
	_ = s.Close()
}

// Header returns the response headers, to set before Accept or Reject
// (ztunnel sends a baggage header describing the destination with its 200).
func (s *ServerStream) Header() http.Header { return s.w.Header() }

// Accept answers 200 and turns the stream into a tunnel.
func (s *ServerStream) Accept() error {
	if s.answered {
		return errors.New("hbone: stream already answered")
	}
	s.answered = true
	s.w.WriteHeader(http.StatusOK)
	return s.rc.Flush()
}

// Read reads tunnelled bytes from the client.
func (s *ServerStream) Read(p []byte) (int, error) {
	s.mu.Lock()
	pumped := s.pump != nil
	s.mu.Unlock()
	if pumped {
		return s.readPumped(p)
	}
	n, err := s.body.Read(p)
	return n, s.readErr(err)
}

func (s *ServerStream) readErr(err error) error {
	if err != nil && err != io.EOF {
		s.mu.Lock()
		closed := s.wclosed
		s.mu.Unlock()
		if closed {
			return io.EOF
		}
	}
	return err
}

// Write sends tunnelled bytes to the client and flushes them.
func (s *ServerStream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wclosed {
		return 0, errStreamClosed
	}
	n, err := s.w.Write(p)
	if err == nil {
		err = s.rc.Flush()
	}
	if err != nil {
		return n, errors.Join(errStreamClosed, err)
	}
	return n, nil
}

// CloseWrite ends the tunnel from the server side. A Go HTTP/2 server cannot
// send END_STREAM while the client's half is still open, so a server-side
// half-close ends the whole stream: the client reads EOF after all bytes
// written so far, and its later writes fail. Pending reads return io.EOF.
func (s *ServerStream) CloseWrite() error {
	s.mu.Lock()
	s.wclosed = true
	s.mu.Unlock()
	return s.body.Close()
}

// Close ends the stream: the handler returns and the response is completed.
func (s *ServerStream) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.wclosed = true
		s.mu.Unlock()
		_ = s.body.Close()
		close(s.done)
	})
	return nil
}

// Done is closed when the stream has been closed.
func (s *ServerStream) Done() <-chan struct{} { return s.done }

// LocalAddr returns the server's address.
func (s *ServerStream) LocalAddr() net.Addr { return s.local }

// RemoteAddr returns the client proxy's address.
func (s *ServerStream) RemoteAddr() net.Addr { return s.remote }

// SetDeadline sets read and write deadlines.
func (s *ServerStream) SetDeadline(t time.Time) error {
	return errors.Join(s.SetReadDeadline(t), s.SetWriteDeadline(t))
}

// SetReadDeadline sets the read deadline. Deadlines on HTTP/2 request bodies
// are one-shot in Go (an expired one breaks the body for good), but
// net/http's HTTP/1 server expires them on purpose to stop its background
// read, so the first call switches the stream to reads through a pump
// goroutine whose deadline can expire and be lifted again like a socket's.
func (s *ServerStream) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pump == nil {
		s.pump = make(chan chunk)
		s.deadlineChanged = make(chan struct{})
		go s.runPump()
	}
	s.readDeadline = t
	close(s.deadlineChanged)
	s.deadlineChanged = make(chan struct{})
	return nil
}

// SetWriteDeadline sets the write deadline; a non-zero deadline that expires
// ends the stream (HTTP/2 semantics).
func (s *ServerStream) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		return nil
	}
	return s.rc.SetWriteDeadline(t)
}

type chunk struct {
	buf *[]byte
	n   int
	err error
}

func (s *ServerStream) runPump() {
	for {
		bp := GetBuffer()
		n, err := s.body.Read(*bp)
		select {
		case s.pump <- chunk{buf: bp, n: n, err: err}:
		case <-s.done:
			PutBuffer(bp)
			return
		}
		if err != nil {
			return
		}
	}
}

func (s *ServerStream) readPumped(p []byte) (int, error) {
	for {
		c := &s.pending
		if c.buf != nil {
			n := copy(p, (*c.buf)[c.off:c.n])
			c.off += n
			if c.off >= c.n {
				PutBuffer(c.buf)
				c.buf = nil
			}
			if n > 0 || len(p) == 0 {
				return n, nil
			}
		}
		if c.buf == nil && c.err != nil {
			return 0, s.readErr(c.err) // sticky, like a socket's EOF
		}
		s.mu.Lock()
		deadline, changed := s.readDeadline, s.deadlineChanged
		s.mu.Unlock()
		var (
			timer   *time.Timer
			timeout <-chan time.Time
		)
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			timer = time.NewTimer(d)
			timeout = timer.C
		}
		select {
		case ch := <-s.pump:
			*c = pendingChunk{buf: ch.buf, n: ch.n, err: ch.err}
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		case <-changed:
		case <-s.done:
			if timer != nil {
				timer.Stop()
			}
			return 0, io.EOF
		}
		if timer != nil {
			timer.Stop()
		}
	}
}
