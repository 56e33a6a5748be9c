package hbone

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/ambientsim/ambientsim/validation/identity"
)

var errStreamClosed = errors.New("hbone stream closed")

// stream is one HTTP/2 stream of a conn, either role.
type stream struct {
	c  *conn
	id uint32

	// Receive side and stream state, guarded by mu.
	mu         sync.Mutex
	buf        recvBuf
	writing    bool  // the frame reader is filling a region of buf's tail
	recvWindow int64 // what the peer may still send on this stream
	unacked    int64 // read by the application, not yet returned to the peer
	remoteEnd  bool  // END_STREAM received
	localEnd   bool  // END_STREAM sent
	resetSent  bool
	resetRecv  bool
	discarding bool  // closed locally: drop what still arrives
	rerr       error // returned by Read once buf is drained
	werr       error // returned by Write
	finished   bool
	onFinish   func()
	status     int         // client: response status
	header     http.Header // client: response headers
	rwake      chan struct{}
	rdl        deadline
	// Direct delivery: a Read blocked on an empty buffer lends its buffer
	// (rdst) and the frame reader decrypts the next DATA straight into it,
	// so the bytes are copied once, as a plain TLS reader copies them.
	rmu        sync.Mutex // one Read at a time, so a lent buffer has one owner
	rdst       []byte     // lent by the blocked Read, nil otherwise
	directBusy bool       // the frame reader is filling rdst
	directN    int        // bytes delivered into the lent buffer
	// DATA that arrives while the reader is away (busy with what it read
	// last, or draining the buffer) waits up to lendWait for it to come
	// back and lend its buffer, instead of being buffered and copied once
	// more; the socket holds the bytes meanwhile, as it does for a plain
	// TLS reader. A reader that does not come back in time is not waited
	// for again during the next lendSkip drains of its buffer (1, 2, 4...
	// up to maxLendSkip after consecutive misses), so a slow reader costs
	// the connection's other streams one such wait now and then, not one
	// per frame.
	lend        chan struct{} // the reader lent a buffer or drained it (or the stream ended)
	lendWaiting bool          // the frame reader waits on lend
	lentEver    bool          // a Read has lent a buffer: someone reads this stream
	inRead      bool          // a Read is running (it drains the buffer without blocking)
	lendSkip    int           // drains to go before waiting again
	lendBackoff int           // lendSkip of the last miss, 0 once the reader came back in time

	headersIn chan struct{} // client: closed when the response headers arrived or the stream failed
	done      chan struct{} // closed when the stream is finished both ways or reset

	// Send side: sendWindow is guarded by c.mu; wmu serialises this
	// stream's writers so that its frames go out in order.
	sendWindow int64
	wmu        sync.Mutex
	wwake      chan struct{}
	wdl        deadline
}

func newStream(c *conn, id uint32, peerWindow int32) *stream {
	return &stream{
		c: c, id: id,
		recvWindow: int64(c.cfg.streamWindow),
		sendWindow: int64(peerWindow),
		rwake:      make(chan struct{}, 1),
		lend:       make(chan struct{}, 1),
		wwake:      make(chan struct{}, 1),
		rdl:        newDeadline(),
		wdl:        newDeadline(),
		headersIn:  make(chan struct{}),
		done:       make(chan struct{}),
	}
}

// ---- frame reader side ----

// receive takes a DATA frame's n payload bytes off the connection into the
// stream's buffer; extra is the frame's padding overhead (flow-controlled
// but not data).
func (s *stream) receive(n int, extra int64, end bool) error {
	c := s.c
	s.mu.Lock()
	s.recvWindow -= int64(n) + extra
	var code errCode
	switch {
	case s.recvWindow < 0:
		code = errCodeFlowControl
	case s.remoteEnd:
		code = errCodeStreamClosed
	}
	if code != 0 {
		s.mu.Unlock()
		s.reset(code)
		if err := c.discard(n); err != nil {
			return err
		}
		c.returnConnCredit(int64(n) + extra)
		return nil
	}
	s.unacked += extra
	missed := false
	for n > 0 {
		if s.discarding || s.resetSent || s.resetRecv {
			s.mu.Unlock()
			if err := c.discard(n); err != nil {
				return err
			}
			c.returnConnCredit(int64(n))
			s.mu.Lock()
			break
		}
		if s.buf.n == 0 && s.rdst != nil {
			dst := s.rdst[:min(n, len(s.rdst))]
			s.rdst, s.directBusy = nil, true
			s.mu.Unlock()
			_, err := io.ReadFull(c.nc, dst)
			s.mu.Lock()
			s.directBusy = false
			if err != nil {
				wake(s.rwake)
				s.mu.Unlock()
				return err
			}
			s.directN = len(dst)
			n -= len(dst)
			wake(s.rwake)
			continue
		}
		if s.waitForReader() && !missed {
			// The reader is busy with what it read or is draining the
			// buffer: give it lendWait to come back with its buffer.
			s.lendWaiting = true
			s.mu.Unlock()
			ok := c.waitLend(s)
			s.mu.Lock()
			s.lendWaiting = false
			if !ok && !(s.buf.n == 0 && s.rdst != nil) {
				s.missedLend()
				missed = true // buffer at least one read before waiting again
			}
			continue
		}
		// No reader waiting: buffer what one socket read brings (at most the
		// rest of one TLS record), then look again, so that a reader that
		// comes back finds little to copy and lends its buffer for the rest.
		dst := s.buf.space()
		s.writing = true
		s.mu.Unlock()
		k, err := c.nc.Read(dst[:min(n, len(dst))])
		s.mu.Lock()
		s.writing = false
		missed = false
		if k > 0 {
			if s.discarding {
				c.returnConnCredit(int64(k))
			} else {
				s.buf.commit(k)
				wake(s.rwake)
			}
			n -= k
		}
		if err != nil {
			s.mu.Unlock()
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	if end {
		s.remoteEnd = true
		wake(s.rwake)
	}
	s.mu.Unlock()
	if extra > 0 {
		c.returnConnCredit(extra)
	}
	if end {
		s.maybeFinish()
	}
	return nil
}

// maxLendSkip caps how many drains of its buffer a reader that keeps missing
// lendWait goes without being waited for.
const maxLendSkip = 64

// waitForReader reports whether the frame reader, holding DATA for s that
// it cannot deliver into a lent buffer now, should wait for the reader
// rather than buffer it: someone reads the stream, has not missed recently,
// and either drained the buffer or is draining it right now. s.mu is held.
func (s *stream) waitForReader() bool {
	if !s.lentEver || s.lendSkip > 0 || s.discarding {
		return false
	}
	return s.buf.n == 0 || s.inRead
}

// drained records that the reader emptied the buffer. s.mu is held.
func (s *stream) drained() {
	if s.lendSkip > 0 {
		s.lendSkip--
	}
	if s.lendWaiting {
		wake(s.lend)
	}
}

// missedLend records a lendWait that expired. s.mu is held.
func (s *stream) missedLend() {
	s.lendBackoff = min(max(1, 2*s.lendBackoff), maxLendSkip)
	s.lendSkip = s.lendBackoff
}

// onHeaders records the response (client role).
func (s *stream) onHeaders(status int, h http.Header, end bool) {
	s.mu.Lock()
	if s.status != 0 || (status >= 100 && status < 200 && !end) {
		// Trailers, or an informational response before the final one.
		if end {
			s.remoteEnd = true
			wake(s.rwake)
		}
		s.mu.Unlock()
		if end {
			s.maybeFinish()
		}
		return
	}
	s.status, s.header = status, h
	close(s.headersIn)
	if end {
		s.remoteEnd = true
		wake(s.rwake)
	}
	s.mu.Unlock()
	if end {
		s.maybeFinish()
	}
}

// remoteEnded records END_STREAM carried by HEADERS.
func (s *stream) remoteEnded() {
	s.mu.Lock()
	s.remoteEnd = true
	wake(s.rwake)
	s.mu.Unlock()
	s.maybeFinish()
}

// remoteReset handles the peer's RST_STREAM.
func (s *stream) remoteReset(code errCode) {
	s.mu.Lock()
	s.resetRecv = true
	var err error = &StreamResetError{Code: uint32(code), Remote: true}
	if code == errCodeNo {
		// "Stop sending, the response is complete" (RFC 9113 §8.1).
		err = io.EOF
	}
	if s.rerr == nil {
		s.rerr = err
	}
	if s.werr == nil {
		if code == errCodeNo {
			s.werr = errStreamClosed
		} else {
			s.werr = err
		}
	}
	s.failHeadersLocked()
	s.finishLocked()
	s.mu.Unlock()
	s.c.removeStream(s)
}

// abort fails the stream because its connection failed or is going away.
func (s *stream) abort(err error) {
	s.mu.Lock()
	if s.rerr == nil {
		s.rerr = err
	}
	if s.werr == nil {
		s.werr = err
	}
	s.failHeadersLocked()
	s.finishLocked()
	s.mu.Unlock()
}

func (s *stream) failHeadersLocked() {
	if !isClosedChan(s.headersIn) {
		close(s.headersIn)
	}
}

// finishLocked marks the stream done and wakes everyone waiting on it.
func (s *stream) finishLocked() {
	if s.finished {
		return
	}
	s.finished = true
	close(s.done)
	wake(s.rwake)
	wake(s.lend)
	wake(s.wwake)
	if s.onFinish != nil {
		s.onFinish()
	}
}

// setOnFinish registers f to run once the stream is finished (at once if it
// already is).
func (s *stream) setOnFinish(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		f()
		return
	}
	s.onFinish = f
}

// maybeFinish retires a stream closed in both directions.
func (s *stream) maybeFinish() {
	s.mu.Lock()
	both := s.localEnd && s.remoteEnd
	if both {
		s.finishLocked()
	}
	s.mu.Unlock()
	if both {
		s.c.removeStream(s)
	}
}

// reset sends RST_STREAM with code unless the stream is already over.
func (s *stream) reset(code errCode) {
	s.mu.Lock()
	if s.resetSent || s.resetRecv || (s.localEnd && s.remoteEnd) {
		s.mu.Unlock()
		return
	}
	s.resetSent = true
	err := &StreamResetError{Code: uint32(code)}
	if s.rerr == nil {
		s.rerr = err
	}
	if s.werr == nil {
		s.werr = err
	}
	s.failHeadersLocked()
	s.finishLocked()
	s.mu.Unlock()
	_ = s.c.queue(func(b []byte) []byte { return appendRSTStream(b, s.id, code) })
	s.c.removeStream(s)
}

func (s *stream) wakeWriter() { wake(s.wwake) }

// sendable reports why no more DATA may be sent, if so.
func (s *stream) sendable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.werr != nil {
		return s.werr
	}
	if s.localEnd || s.resetSent || s.resetRecv {
		return errStreamClosed
	}
	return nil
}

// ---- application side ----

// read reads received bytes, returning the window to the peer as they are
// consumed.
func (s *stream) read(p []byte) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.mu.Lock()
	s.inRead = true
	n, err := s.readLocked(p)
	s.inRead = false
	s.rdst = nil // not lent any more (the frame reader clears it when it takes it)
	if n == 0 {
		s.mu.Unlock()
		return 0, err
	}
	s.unacked += int64(n)
	var inc int64
	if !s.remoteEnd && s.unacked >= int64(s.c.cfg.streamWindow)/4 && !s.resetSent && !s.resetRecv {
		inc, s.unacked = s.unacked, 0
		s.recvWindow += inc
	}
	s.mu.Unlock()
	if inc > 0 {
		_ = s.c.queue(func(b []byte) []byte { return appendWindowUpdate(b, s.id, uint32(inc)) })
	}
	s.c.returnConnCredit(int64(n))
	return n, nil
}

// readLocked waits for bytes (buffered or delivered into p) or the end.
func (s *stream) readLocked(p []byte) (int, error) {
	for {
		if s.directBusy {
			// The frame reader is writing into p: p must stay ours until it is done.
		} else if s.directN > 0 {
			n := s.directN
			s.directN = 0
			return n, nil
		} else {
			if isClosedChan(s.rdl.wait()) {
				return 0, os.ErrDeadlineExceeded
			}
			if s.buf.n > 0 {
				n := s.buf.read(p, s.writing)
				if s.buf.n == 0 {
					s.drained()
				}
				return n, nil
			}
			if s.remoteEnd || s.discarding {
				return 0, io.EOF
			}
			if s.rerr != nil {
				return 0, s.rerr
			}
			if len(p) == 0 {
				return 0, nil
			}
			s.rdst = p
			s.lentEver = true
			if s.lendWaiting {
				s.lendBackoff = 0 // came back in time
				wake(s.lend)
			}
		}
		rw, dl := s.rwake, s.rdl.wait()
		s.mu.Unlock()
		select {
		case <-rw:
		case <-dl:
		}
		s.mu.Lock()
	}
}

// write sends p in DATA frames as the flow-control windows allow.
func (s *stream) write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	total := 0
	for len(p) > 0 {
		n, err := s.reserve(len(p))
		if err != nil {
			return total, err
		}
		if err := s.c.writeData(s, p[:n], false); err != nil {
			return total, s.writeErr(err)
		}
		total += n
		p = p[n:]
	}
	return total, nil
}

// writeErr maps an error of the connection's writer to what Write reports.
func (s *stream) writeErr(err error) error {
	if serr := s.sendable(); serr != nil {
		return serr
	}
	return errors.Join(errStreamClosed, err)
}

// reserve waits until n > 0 bytes of both send windows are available and
// takes them, at most one peer max frame.
func (s *stream) reserve(want int) (int, error) {
	c := s.c
	for {
		if err := s.sendable(); err != nil {
			return 0, err
		}
		dl := s.wdl.wait()
		if isClosedChan(dl) {
			return 0, os.ErrDeadlineExceeded
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0, c.closeErr()
		}
		n := min(int64(want), s.sendWindow, c.sendWindow, int64(c.peerMaxFrame))
		if n > 0 {
			s.sendWindow -= n
			c.sendWindow -= n
			c.mu.Unlock()
			return int(n), nil
		}
		c.mu.Unlock()
		select {
		case <-s.wwake:
		case <-dl:
		case <-s.done:
		case <-c.done:
		}
	}
}

// closeWrite sends END_STREAM (a half-close: reading goes on).
func (s *stream) closeWrite() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.sendable() != nil {
		return nil
	}
	err := s.c.writeData(s, nil, true)
	s.mu.Lock()
	s.localEnd = true
	s.mu.Unlock()
	s.maybeFinish()
	return err
}

// respond sends response headers (server role); end also ends our side.
func (s *stream) respond(status int, h http.Header, end bool) error {
	fields := []hpack.HeaderField{{Name: ":status", Value: strconv.Itoa(status)}}
	fields = headerFields(fields, h)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.sendable(); err != nil {
		return err
	}
	s.c.wmu.Lock()
	err := s.c.writeHeadersLocked(s.id, fields, end)
	s.c.wmu.Unlock()
	if end {
		s.mu.Lock()
		s.localEnd = true
		s.mu.Unlock()
		s.maybeFinish()
	}
	return err
}

// stopReading drops buffered and future data, returning its window credit.
func (s *stream) stopReading() {
	s.mu.Lock()
	if s.discarding {
		s.mu.Unlock()
		return
	}
	s.discarding = true
	dropped := s.buf.n
	s.buf.release(s.writing)
	wake(s.rwake)
	wake(s.lend)
	s.mu.Unlock()
	s.c.returnConnCredit(int64(dropped))
}

// closeClient ends a client stream: a stream not finished both ways is
// reset (CANCEL), as an HTTP/2 client closing a request body early does.
func (s *stream) closeClient() {
	s.stopReading()
	s.reset(errCodeCancel)
	s.mu.Lock()
	if s.werr == nil {
		s.werr = errStreamClosed
	}
	s.finishLocked()
	s.mu.Unlock()
}

// closeServer ends a server stream after its handler: END_STREAM if not sent
// yet, then RST_STREAM(NO_ERROR) if the client is still sending, which tells
// it the response is complete (RFC 9113 §8.1).
func (s *stream) closeServer() {
	s.stopReading()
	_ = s.closeWrite()
	s.reset(errCodeNo)
	s.mu.Lock()
	if s.werr == nil {
		s.werr = errStreamClosed
	}
	s.finishLocked()
	s.mu.Unlock()
}

func (s *stream) setReadDeadline(t time.Time) {
	s.rdl.set(t)
	s.mu.Lock()
	wake(s.rwake)
	s.mu.Unlock()
}

func (s *stream) setWriteDeadline(t time.Time) {
	s.wdl.set(t)
	wake(s.wwake)
}

// ---- public wrappers ----

// ClientStream is one established CONNECT tunnel seen from the client. It is
// a net.Conn whose CloseWrite sends END_STREAM.
type ClientStream struct {
	st      *stream
	local   net.Addr
	remote  net.Addr
	peer    identity.ID
	release func()
	once    sync.Once
}

// Header returns the headers of the server's 200 (e.g. ztunnel's baggage).
func (s *ClientStream) Header() http.Header { return s.st.header }

// Peer returns the verified identity of the proxy that terminated the tunnel.
func (s *ClientStream) Peer() identity.ID { return s.peer }

// Read reads tunnelled bytes from the server.
func (s *ClientStream) Read(p []byte) (int, error) { return s.st.read(p) }

// Write sends tunnelled bytes to the server.
func (s *ClientStream) Write(p []byte) (int, error) { return s.st.write(p) }

// CloseWrite half-closes the tunnel (END_STREAM on the request).
func (s *ClientStream) CloseWrite() error { return s.st.closeWrite() }

// Close ends the stream in both directions (RST_STREAM if it is not
// finished both ways) and returns its slot to the pool.
func (s *ClientStream) Close() error {
	s.once.Do(func() {
		s.st.closeClient()
		s.release()
	})
	return nil
}

// LocalAddr returns the local address of the underlying TLS connection.
func (s *ClientStream) LocalAddr() net.Addr { return s.local }

// RemoteAddr returns the next hop's address.
func (s *ClientStream) RemoteAddr() net.Addr { return s.remote }

// SetDeadline sets the read and write deadlines.
func (s *ClientStream) SetDeadline(t time.Time) error {
	s.st.setReadDeadline(t)
	s.st.setWriteDeadline(t)
	return nil
}

// SetReadDeadline sets the read deadline; it can be moved or lifted after
// it expired, like a socket's.
func (s *ClientStream) SetReadDeadline(t time.Time) error { s.st.setReadDeadline(t); return nil }

// SetWriteDeadline bounds how long Write waits for flow-control window.
func (s *ClientStream) SetWriteDeadline(t time.Time) error { s.st.setWriteDeadline(t); return nil }

// ServerStream is one CONNECT request seen by a Handler. Before Accept or
// Reject nothing has been sent to the client. After Accept it is a net.Conn
// carrying the tunnelled bytes.
type ServerStream struct {
	st       *stream
	hdr      http.Header
	local    net.Addr
	remote   net.Addr
	answered bool
	once     sync.Once
}

// Reject answers the CONNECT with status (401, 503, 400...); the stream ends.
func (s *ServerStream) Reject(status int) {
	if s.answered {
		return
	}
	s.answered = true
	_ = s.st.respond(status, s.hdr, true)
	_ = s.Close()
}

// Header returns the response headers, to set before Accept or Reject
// (ztunnel sends a baggage header describing the destination with its 200).
func (s *ServerStream) Header() http.Header { return s.hdr }

// Accept answers 200 and turns the stream into a tunnel.
func (s *ServerStream) Accept() error {
	if s.answered {
		return errors.New("hbone: stream already answered")
	}
	s.answered = true
	return s.st.respond(http.StatusOK, s.hdr, false)
}

// Read reads tunnelled bytes from the client.
func (s *ServerStream) Read(p []byte) (int, error) { return s.st.read(p) }

// Write sends tunnelled bytes to the client. Bytes are on the wire (handed
// to TLS) when Write returns: there is nothing to flush.
func (s *ServerStream) Write(p []byte) (int, error) { return s.st.write(p) }

// CloseWrite half-closes the tunnel from the server side (END_STREAM on the
// response); the client's bytes can still be read.
func (s *ServerStream) CloseWrite() error { return s.st.closeWrite() }

// Close ends the stream: END_STREAM if not sent yet, and RST_STREAM
// (NO_ERROR) if the client is still sending.
func (s *ServerStream) Close() error {
	s.once.Do(func() {
		if !s.answered {
			// Nothing may be sent before the response headers.
			s.answered = true
			_ = s.st.respond(http.StatusServiceUnavailable, s.hdr, true)
		}
		s.st.closeServer()
	})
	return nil
}

// Done is closed when the stream has been closed.
func (s *ServerStream) Done() <-chan struct{} { return s.st.done }

// LocalAddr returns the server's address.
func (s *ServerStream) LocalAddr() net.Addr { return s.local }

// RemoteAddr returns the client proxy's address.
func (s *ServerStream) RemoteAddr() net.Addr { return s.remote }

// SetDeadline sets read and write deadlines.
func (s *ServerStream) SetDeadline(t time.Time) error {
	s.st.setReadDeadline(t)
	s.st.setWriteDeadline(t)
	return nil
}

// SetReadDeadline sets the read deadline. It can expire and be lifted again
// like a socket's (net/http's HTTP/1 server expires it on purpose to stop its
// background read).
func (s *ServerStream) SetReadDeadline(t time.Time) error { s.st.setReadDeadline(t); return nil }

// SetWriteDeadline bounds how long Write waits for flow-control window.
func (s *ServerStream) SetWriteDeadline(t time.Time) error { s.st.setWriteDeadline(t); return nil }
