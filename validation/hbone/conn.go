package hbone

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2/hpack"
)

// This file is the HTTP/2 connection HBONE runs on, for both roles. It
// speaks exactly the subset HBONE needs (CONNECT streams, DATA, flow
// control, SETTINGS, PING, RST_STREAM, GOAWAY; HPACK from x/net) so that the
// data path makes no copy a plain TLS proxy would not make except one:
//
//   - Write frames the caller's bytes in place: the frame header and the
//     first bytes of a frame share one full TLS record, the rest is handed to
//     tls.Conn.Write directly (no pipe, no framer buffer).
//   - The frame reader decrypts DATA payloads straight into the buffer of a
//     waiting Read, waiting up to lendWait for a reader busy with what it
//     read last; only otherwise into the stream's pooled receive chunks,
//     which Read copies out (the one added copy).
//   - Flow-control windows are ztunnel's (4 MiB stream, 16 MiB connection,
//     1 MiB frames) and are replenished once a quarter of a window was read,
//     so a bulk stream sends about one WINDOW_UPDATE per MiB.
//
// Locking: c.wmu serialises writes to the socket (and the HPACK encoder);
// c.mu guards the stream table, settings and send windows; s.mu guards a
// stream's receive side. No goroutine holds s.mu while taking c.mu. The frame
// reader never waits for the socket's write side: the frames it must send
// (ACKs, WINDOW_UPDATEs, RST_STREAMs) are queued and written by whoever holds
// c.wmu next, or by the connection's flusher goroutine, so two peers that both
// have full send buffers keep reading and cannot deadlock.

// errConnClosed is the error of streams on a connection closed locally.
var errConnClosed = errors.New("hbone connection closed")

// errGoingAway reports a stream refused because the connection received or
// sent GOAWAY; the request was not processed and may be retried elsewhere.
var errGoingAway = errors.New("hbone connection going away")

// connConfig is what a connection needs from its Client or Server.
type connConfig struct {
	server        bool
	streamWindow  int32  // receive window per stream
	connWindow    int32  // receive window of the connection
	maxFrame      uint32 // largest frame we accept
	maxStreams    uint32 // server: streams the peer may open at once
	maxHeaderList uint32 // largest decoded header list we accept
	pingInterval  time.Duration
	pingTimeout   time.Duration
	logger        *slog.Logger
	// onRequest (server) serves a new stream in its own goroutine.
	onRequest func(s *stream, req *rawRequest)
}

// rawRequest is a decoded request header block.
type rawRequest struct {
	method, authority, scheme, path, protocol string
	header                                    http.Header
}

// conn is one HTTP/2 connection over TLS.
type conn struct {
	cfg connConfig
	nc  net.Conn

	// Write side, guarded by wmu.
	wmu      sync.Mutex
	wbuf     []byte
	henc     *hpack.Encoder
	hbuf     bytes.Buffer
	tableMax atomic.Int64 // peer's SETTINGS_HEADER_TABLE_SIZE to apply, -1 if none

	// Frames waiting for a writer; guarded by ctrlMu.
	ctrlMu    sync.Mutex
	ctrl      []byte
	ctrlSpare []byte
	ctrlKick  chan struct{}

	mu             sync.Mutex
	streams        map[uint32]*stream
	nextID         uint32 // client: next stream id
	maxPeerID      uint32 // server: highest stream id the peer opened
	running        int    // server: handlers still running
	peerMaxStreams uint32
	peerWindow     int32  // peer's SETTINGS_INITIAL_WINDOW_SIZE
	peerMaxFrame   uint32 // peer's SETTINGS_MAX_FRAME_SIZE
	sendWindow     int64  // connection send window
	goAwayRecv     bool
	goAwayID       uint32
	goAwaySent     bool
	draining       bool // maybeDrained is closing the connection
	closed         bool
	err            error
	pings          map[[8]byte]chan struct{}
	slotFreed      chan struct{} // closed and replaced when a stream slot frees

	recvWindow  atomic.Int64 // what the peer may still send on the connection
	recvUnacked atomic.Int64 // read by the application, not yet returned
	lastFrame   atomic.Int64 // unix ns of the last frame received

	settingsSeen chan struct{} // closed on the peer's first SETTINGS
	done         chan struct{} // closed once the connection is dead

	// Frame reader state (reader goroutine only).
	lendTimer *time.Timer // bounds waitLend
	rbuf      []byte
	hdec      *hpack.Decoder
	fields    []hpack.HeaderField
	hsize     uint32
	hblock    []byte
}

func newConn(nc net.Conn, cfg connConfig) *conn {
	c := &conn{
		cfg: cfg, nc: nc,
		ctrlKick:       make(chan struct{}, 1),
		streams:        map[uint32]*stream{},
		nextID:         1,
		peerMaxStreams: math.MaxUint32,
		peerWindow:     defaultWindow,
		peerMaxFrame:   minMaxFrame,
		sendWindow:     defaultWindow,
		pings:          map[[8]byte]chan struct{}{},
		slotFreed:      make(chan struct{}),
		settingsSeen:   make(chan struct{}),
		done:           make(chan struct{}),
	}
	c.henc = hpack.NewEncoder(&c.hbuf)
	c.tableMax.Store(-1)
	c.recvWindow.Store(defaultWindow)
	c.hdec = hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		c.hsize += f.Size()
		if c.hsize <= c.cfg.maxHeaderList {
			c.fields = append(c.fields, f)
		}
	})
	c.hdec.SetMaxStringLength(int(cfg.maxHeaderList))
	c.lastFrame.Store(time.Now().UnixNano())
	return c
}

// start sends the preface and our SETTINGS, then runs the frame reader,
// the control-frame flusher and the keepalive in their own goroutines.
func (c *conn) start() error {
	b := c.wbuf[:0]
	if !c.cfg.server {
		b = append(b, clientPreface...)
	}
	kv := []uint32{
		settingInitialWindowSize, uint32(c.cfg.streamWindow),
		settingMaxFrameSize, c.cfg.maxFrame,
		settingMaxHeaderListSize, c.cfg.maxHeaderList,
	}
	if c.cfg.server {
		kv = append(kv, settingMaxConcurrentStreams, c.cfg.maxStreams)
	} else {
		kv = append(kv, settingEnablePush, 0)
	}
	b = appendSettings(b, kv...)
	if inc := int64(c.cfg.connWindow) - defaultWindow; inc > 0 {
		b = appendWindowUpdate(b, 0, uint32(inc))
		c.recvWindow.Add(inc)
	}
	c.wmu.Lock()
	_, err := c.nc.Write(b)
	c.wbuf = b[:0]
	c.wmu.Unlock()
	if err != nil {
		c.fail(err)
		return err
	}
	go c.readLoop()
	go c.flushLoop()
	go c.keepalive()
	return nil
}

// waitSettings waits for the peer's first SETTINGS frame: until then a
// stream would be framed for the 16 KiB default frame size for its whole life.
func (c *conn) waitSettings(done <-chan struct{}) error {
	select {
	case <-c.settingsSeen:
		return nil
	case <-c.done:
		return c.closeErr()
	case <-done:
		return errors.New("timed out waiting for the peer's HTTP/2 SETTINGS")
	}
}

func (c *conn) closeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	return errConnClosed
}

// fail closes the connection and fails every stream with err.
func (c *conn) fail(err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		err = errConnClosed
	}
	c.err = err
	streams := make([]*stream, 0, len(c.streams))
	for _, s := range c.streams {
		streams = append(streams, s)
	}
	clear(c.streams)
	for _, ch := range c.pings {
		close(ch)
	}
	clear(c.pings)
	close(c.slotFreed)
	c.mu.Unlock()
	_ = c.nc.Close()
	for _, s := range streams {
		s.abort(err)
	}
	close(c.done)
}

// close ends the connection politely: GOAWAY, then close.
func (c *conn) close() {
	c.mu.Lock()
	closed := c.closed
	last := c.maxPeerID
	c.mu.Unlock()
	if closed {
		return
	}
	if c.wmu.TryLock() {
		_ = c.nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		_, _ = c.nc.Write(appendGoAway(c.wbuf[:0], last, errCodeNo))
		c.wmu.Unlock()
	}
	c.fail(errConnClosed)
}

// isClosed reports whether the connection is dead.
func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// usable reports whether new streams may be opened (not closed, no GOAWAY).
func (c *conn) usable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed && !c.goAwayRecv && !c.goAwaySent && c.nextID < 1<<31
}

// peerStreamLimit returns the peer's SETTINGS_MAX_CONCURRENT_STREAMS (0 if unset).
func (c *conn) peerStreamLimit() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.peerMaxStreams == math.MaxUint32 {
		return 0
	}
	return c.peerMaxStreams
}

// activeStreams returns the number of open streams and running handlers.
func (c *conn) activeStreams() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.streams) + c.running
}

// ---- writing ----

// queue appends frames for the next writer; the frame reader uses it so
// that it never blocks on the socket.
func (c *conn) queue(encode func(b []byte) []byte) error {
	c.ctrlMu.Lock()
	c.ctrl = encode(c.ctrl)
	over := len(c.ctrl) > 1<<20
	c.ctrlMu.Unlock()
	if over {
		// The peer makes us queue replies faster than it reads them.
		return connError{errCodeEnhanceYourCalm, "control frames queued faster than the peer reads them"}
	}
	wake(c.ctrlKick)
	return nil
}

// flushCtrlLocked writes the queued frames; c.wmu must be held.
func (c *conn) flushCtrlLocked() error {
	c.ctrlMu.Lock()
	if len(c.ctrl) == 0 {
		c.ctrlMu.Unlock()
		return nil
	}
	out := c.ctrl
	c.ctrl, c.ctrlSpare = c.ctrlSpare[:0], nil
	c.ctrlMu.Unlock()
	_, err := c.nc.Write(out)
	c.ctrlMu.Lock()
	if c.ctrlSpare == nil && cap(out) <= 64<<10 {
		c.ctrlSpare = out[:0]
	}
	c.ctrlMu.Unlock()
	return err
}

func (c *conn) flushLoop() {
	for {
		select {
		case <-c.ctrlKick:
			c.wmu.Lock()
			err := c.flushCtrlLocked()
			c.wmu.Unlock()
			if err != nil {
				c.fail(err)
				return
			}
		case <-c.done:
			return
		}
	}
}

// writeFrames writes encoded frames now (after any queued ones).
func (c *conn) writeFrames(encode func(b []byte) []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.flushCtrlLocked(); err != nil {
		c.fail(err)
		return err
	}
	c.wbuf = encode(c.wbuf[:0])
	if _, err := c.nc.Write(c.wbuf); err != nil {
		c.fail(err)
		return err
	}
	return nil
}

// writeData sends p as one DATA frame on s (END_STREAM if end). The caller
// reserved len(p) of flow-control window and keeps len(p) ≤ the peer's
// max frame size.
func (c *conn) writeData(s *stream, p []byte, end bool) error {
	var flags uint8
	if end {
		flags = flagEndStream
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.flushCtrlLocked(); err != nil {
		c.fail(err)
		return err
	}
	if err := s.sendable(); err != nil {
		return err
	}
	// The header and the first bytes make one full TLS record; the rest goes
	// to tls.Conn.Write in place, which cuts it into full records itself.
	first := min(len(p), tlsRecord-frameHeaderLen)
	b := appendFrameHeader(c.wbuf[:0], len(p), frameData, flags, s.id)
	b = append(b, p[:first]...)
	c.wbuf = b
	if _, err := c.nc.Write(b); err != nil {
		c.fail(err)
		return err
	}
	if first < len(p) {
		if _, err := c.nc.Write(p[first:]); err != nil {
			c.fail(err)
			return err
		}
	}
	return c.flushCtrlLocked()
}

// writeHeaders encodes fields as one header block on stream id, split into
// HEADERS and CONTINUATION frames by the peer's max frame size. c.wmu must
// be held.
func (c *conn) writeHeadersLocked(id uint32, fields []hpack.HeaderField, end bool) error {
	if v := c.tableMax.Swap(-1); v >= 0 {
		c.henc.SetMaxDynamicTableSizeLimit(uint32(v))
	}
	c.hbuf.Reset()
	for _, f := range fields {
		if err := c.henc.WriteField(f); err != nil {
			return err
		}
	}
	c.mu.Lock()
	maxFrame := int(c.peerMaxFrame)
	c.mu.Unlock()
	block := c.hbuf.Bytes()
	b := c.wbuf[:0]
	typ := frameHeaders
	for first := true; first || len(block) > 0; first = false {
		n := min(len(block), maxFrame)
		var flags uint8
		if n == len(block) {
			flags |= flagEndHeaders
		}
		if end && typ == frameHeaders {
			flags |= flagEndStream
		}
		b = appendFrameHeader(b, n, typ, flags, id)
		b = append(b, block[:n]...)
		block = block[n:]
		typ = frameContinuation
	}
	c.wbuf = b
	if err := c.flushCtrlLocked(); err != nil {
		c.fail(err)
		return err
	}
	if _, err := c.nc.Write(b); err != nil {
		c.fail(err)
		return err
	}
	return nil
}

// headerFields turns an http.Header into lower-case HTTP/2 fields, dropping
// connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2).
func headerFields(dst []hpack.HeaderField, h http.Header) []hpack.HeaderField {
	for k, vs := range h {
		name := strings.ToLower(k)
		switch name {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "host":
			continue
		}
		for _, v := range vs {
			dst = append(dst, hpack.HeaderField{Name: name, Value: v})
		}
	}
	return dst
}

// ---- opening streams (client) ----

// openStream sends a CONNECT for authority and waits for the response
// headers. A status other than 200 is a *StatusError.
func (c *conn) openStream(done <-chan struct{}, authority string, h http.Header) (*stream, error) {
	fields := []hpack.HeaderField{{Name: ":method", Value: http.MethodConnect}, {Name: ":authority", Value: authority}}
	fields = headerFields(fields, h)
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, c.closeErr()
		}
		if c.goAwayRecv || c.goAwaySent || c.nextID >= 1<<31 {
			c.mu.Unlock()
			return nil, errGoingAway
		}
		if uint32(len(c.streams)) < c.peerMaxStreams {
			c.mu.Unlock()
			break
		}
		// The peer's count of our streams lags ours: wait for a slot, as
		// x/net's StrictMaxConcurrentStreams does.
		freed := c.slotFreed
		c.mu.Unlock()
		select {
		case <-freed:
		case <-done:
			return nil, errors.New("waiting for a stream slot: deadline exceeded")
		}
	}
	c.wmu.Lock()
	c.mu.Lock()
	if c.closed || c.goAwayRecv || c.nextID >= 1<<31 {
		c.mu.Unlock()
		c.wmu.Unlock()
		if c.isClosed() {
			return nil, c.closeErr()
		}
		return nil, errGoingAway
	}
	s := newStream(c, c.nextID, c.peerWindow)
	c.nextID += 2
	c.streams[s.id] = s
	c.mu.Unlock()
	err := c.writeHeadersLocked(s.id, fields, false)
	c.wmu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case <-s.headersIn:
	case <-done:
		s.reset(errCodeCancel)
		return nil, errors.New("waiting for the CONNECT response: deadline exceeded")
	}
	s.mu.Lock()
	status, rerr := s.status, s.rerr
	s.mu.Unlock()
	if status == 0 {
		if rerr == nil {
			rerr = errConnClosed
		}
		return nil, rerr
	}
	if status != http.StatusOK {
		s.reset(errCodeCancel)
		return nil, &StatusError{Code: status, Target: authority}
	}
	return s, nil
}

// ---- reading ----

func (c *conn) readLoop() {
	err := c.readFrames()
	var ce connError
	if errors.As(err, &ce) {
		c.cfg.logger.Debug("hbone connection error", "remote", c.nc.RemoteAddr(), "err", err)
		c.mu.Lock()
		last := c.maxPeerID
		c.mu.Unlock()
		if c.wmu.TryLock() {
			_ = c.nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			_, _ = c.nc.Write(appendGoAway(nil, last, ce.code))
			c.wmu.Unlock()
		}
	}
	c.fail(err)
}

// lendWait bounds how long the frame reader holds a DATA payload back for a
// stream's reader that is busy with what it read last (stream.receive). It
// is far above the time a reader takes to pass 1 MiB on, and far below
// anything another stream or a PING would notice.
const lendWait = 500 * time.Microsecond

// waitLend waits up to lendWait for s's reader to lend a buffer and reports
// whether it may have (false: timed out, or the stream or connection
// ended). Frame reader only.
func (c *conn) waitLend(s *stream) bool {
	if c.lendTimer == nil {
		c.lendTimer = time.NewTimer(lendWait)
	} else {
		c.lendTimer.Reset(lendWait)
	}
	defer c.lendTimer.Stop()
	select {
	case <-s.lend:
		return true
	case <-s.done:
		return false
	case <-c.done:
		return false
	case <-c.lendTimer.C:
		return false
	}
}

// payload reads a non-DATA frame's payload into the reader's scratch buffer.
func (c *conn) payload(n uint32) ([]byte, error) {
	if cap(c.rbuf) < int(n) {
		c.rbuf = make([]byte, n)
	}
	b := c.rbuf[:n]
	_, err := io.ReadFull(c.nc, b)
	return b, err
}

func (c *conn) readFrames() error {
	if c.cfg.server {
		var pre [len(clientPreface)]byte
		if _, err := io.ReadFull(c.nc, pre[:]); err != nil {
			return err
		}
		if string(pre[:]) != clientPreface {
			return connError{errCodeProtocol, "bad client preface"}
		}
	}
	var hdr [frameHeaderLen]byte
	var contID uint32 // stream whose header block continues, 0 if none
	var contEnd bool
	for {
		if _, err := io.ReadFull(c.nc, hdr[:]); err != nil {
			return err
		}
		fh := parseFrameHeader(hdr[:])
		c.lastFrame.Store(time.Now().UnixNano())
		if fh.length > c.cfg.maxFrame {
			return connError{errCodeFrameSize, fmt.Sprintf("%d-byte frame, max %d", fh.length, c.cfg.maxFrame)}
		}
		if contID != 0 && (fh.typ != frameContinuation || fh.streamID != contID) {
			return connError{errCodeProtocol, "header block interrupted"}
		}
		var err error
		switch fh.typ {
		case frameData:
			err = c.onData(fh)
		case frameHeaders, frameContinuation:
			var p []byte
			if p, err = c.payload(fh.length); err != nil {
				return err
			}
			if fh.typ == frameContinuation {
				if contID == 0 {
					return connError{errCodeProtocol, "CONTINUATION without HEADERS"}
				}
			} else {
				if fh.streamID == 0 {
					return connError{errCodeProtocol, "HEADERS on stream 0"}
				}
				if p, err = stripHeaders(fh, p); err != nil {
					return err
				}
				c.hblock = c.hblock[:0]
				contID, contEnd = fh.streamID, fh.flags&flagEndStream != 0
			}
			if len(c.hblock)+len(p) > int(c.cfg.maxHeaderList)+4096 {
				return connError{errCodeEnhanceYourCalm, "header block too large"}
			}
			c.hblock = append(c.hblock, p...)
			if fh.flags&flagEndHeaders != 0 {
				id := contID
				contID = 0
				err = c.onHeaderBlock(id, contEnd)
			}
		case frameSettings:
			err = c.onSettings(fh)
		case frameWindowUpdate:
			err = c.onWindowUpdate(fh)
		case framePing:
			err = c.onPing(fh)
		case frameRSTStream:
			err = c.onRST(fh)
		case frameGoAway:
			err = c.onGoAway(fh)
		case framePriority:
			if fh.length != 5 {
				return connError{errCodeFrameSize, "PRIORITY frame size"}
			}
			_, err = c.payload(fh.length)
		case framePushPromise:
			return connError{errCodeProtocol, "PUSH_PROMISE received; push is disabled"}
		default: // unknown frame types are ignored (RFC 9113 §4.1)
			_, err = c.payload(fh.length)
		}
		if err != nil {
			return err
		}
	}
}

// stripHeaders removes padding and priority fields from a HEADERS payload.
func stripHeaders(fh frameHeader, p []byte) ([]byte, error) {
	if fh.flags&flagPadded != 0 {
		if len(p) < 1 || int(p[0]) >= len(p) {
			return nil, connError{errCodeProtocol, "bad HEADERS padding"}
		}
		p = p[1 : len(p)-int(p[0])]
	}
	if fh.flags&flagPriority != 0 {
		if len(p) < 5 {
			return nil, connError{errCodeFrameSize, "short HEADERS priority"}
		}
		p = p[5:]
	}
	return p, nil
}

func (c *conn) stream(id uint32) *stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

// idleStream reports whether id was never opened (a frame on it is a
// connection error, RFC 9113 §5.1).
func (c *conn) idleStream(id uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id%2 == 1 {
		if c.cfg.server {
			return id > c.maxPeerID
		}
		return id >= c.nextID
	}
	return true // we never use even (server-initiated) streams
}

func (c *conn) onData(fh frameHeader) error {
	if fh.streamID == 0 {
		return connError{errCodeProtocol, "DATA on stream 0"}
	}
	n := int64(fh.length)
	if c.recvWindow.Add(-n) < 0 {
		return connError{errCodeFlowControl, "peer overran the connection window"}
	}
	data, pad := int(fh.length), 0
	if fh.flags&flagPadded != 0 {
		p, err := c.payload(1)
		if err != nil {
			return err
		}
		pad = int(p[0])
		if pad >= data {
			return connError{errCodeProtocol, "bad DATA padding"}
		}
		data -= 1 + pad
	}
	s := c.stream(fh.streamID)
	if s == nil {
		if c.idleStream(fh.streamID) {
			return connError{errCodeProtocol, "DATA on an idle stream"}
		}
		// A stream we already closed: the peer had not seen that yet.
		if err := c.discard(data + pad); err != nil {
			return err
		}
		c.returnConnCredit(n)
		return nil
	}
	if err := s.receive(data, int64(fh.length)-int64(data), fh.flags&flagEndStream != 0); err != nil {
		return err
	}
	return c.discard(pad)
}

// discard reads and drops n payload bytes.
func (c *conn) discard(n int) error {
	for n > 0 {
		p, err := c.payload(uint32(min(n, 16<<10)))
		if err != nil {
			return err
		}
		n -= len(p)
	}
	return nil
}

// returnConnCredit gives n bytes of connection window back to the peer once
// a quarter of the window is due.
func (c *conn) returnConnCredit(n int64) {
	u := c.recvUnacked.Add(n)
	if u < int64(c.cfg.connWindow)/4 || !c.recvUnacked.CompareAndSwap(u, 0) {
		return
	}
	c.recvWindow.Add(u)
	_ = c.queue(func(b []byte) []byte { return appendWindowUpdate(b, 0, uint32(u)) })
}

func (c *conn) onHeaderBlock(id uint32, endStream bool) error {
	c.fields, c.hsize = c.fields[:0], 0
	if _, err := c.hdec.Write(c.hblock); err != nil {
		return connError{errCodeCompression, err.Error()}
	}
	if err := c.hdec.Close(); err != nil {
		return connError{errCodeCompression, err.Error()}
	}
	tooBig := c.hsize > c.cfg.maxHeaderList
	if c.cfg.server {
		return c.onRequest(id, endStream, tooBig)
	}
	return c.onResponse(id, endStream, tooBig)
}

func (c *conn) onRequest(id uint32, endStream, tooBig bool) error {
	if id%2 == 0 {
		return connError{errCodeProtocol, "client opened an even stream"}
	}
	c.mu.Lock()
	if s := c.streams[id]; s != nil {
		c.mu.Unlock()
		// Trailers: they end the request side of the stream.
		if !endStream {
			return connError{errCodeProtocol, "second HEADERS without END_STREAM"}
		}
		s.remoteEnded()
		return nil
	}
	if id <= c.maxPeerID {
		c.mu.Unlock()
		return connError{errCodeStreamClosed, "HEADERS on a closed stream"}
	}
	c.maxPeerID = id
	refuse := c.goAwaySent || uint32(len(c.streams)) >= c.cfg.maxStreams ||
		c.running >= 4*int(c.cfg.maxStreams)
	c.mu.Unlock()
	if refuse {
		return c.queue(func(b []byte) []byte { return appendRSTStream(b, id, errCodeRefusedStream) })
	}
	req, ok := parseRequest(c.fields)
	if !ok || tooBig {
		return c.queue(func(b []byte) []byte { return appendRSTStream(b, id, errCodeProtocol) })
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	s := newStream(c, id, c.peerWindow)
	c.streams[id] = s
	c.running++
	c.mu.Unlock()
	if endStream {
		s.remoteEnded()
	}
	go func() {
		defer c.handlerDone()
		c.cfg.onRequest(s, req)
	}()
	return nil
}

func (c *conn) handlerDone() {
	c.mu.Lock()
	c.running--
	c.mu.Unlock()
	c.maybeDrained()
}

// parseRequest checks a request header block (RFC 9113 §8.3): pseudo-headers
// first, known ones only, lower-case names.
func parseRequest(fields []hpack.HeaderField) (*rawRequest, bool) {
	req := &rawRequest{header: http.Header{}}
	regular := false
	for _, f := range fields {
		if strings.HasPrefix(f.Name, ":") {
			if regular {
				return nil, false
			}
			var dst *string
			switch f.Name {
			case ":method":
				dst = &req.method
			case ":authority":
				dst = &req.authority
			case ":scheme":
				dst = &req.scheme
			case ":path":
				dst = &req.path
			case ":protocol":
				dst = &req.protocol
			default:
				return nil, false
			}
			if *dst != "" {
				return nil, false
			}
			*dst = f.Value
			continue
		}
		regular = true
		if f.Name != strings.ToLower(f.Name) {
			return nil, false
		}
		req.header.Add(http.CanonicalHeaderKey(f.Name), f.Value)
	}
	if req.method == "" {
		return nil, false
	}
	if req.authority == "" {
		req.authority = req.header.Get("Host")
	}
	return req, true
}

func (c *conn) onResponse(id uint32, endStream, tooBig bool) error {
	s := c.stream(id)
	if s == nil {
		if c.idleStream(id) {
			return connError{errCodeProtocol, "HEADERS on an idle stream"}
		}
		return nil
	}
	status := 0
	h := http.Header{}
	for _, f := range c.fields {
		switch {
		case f.Name == ":status":
			status, _ = strconv.Atoi(f.Value)
		case strings.HasPrefix(f.Name, ":"):
		default:
			h.Add(http.CanonicalHeaderKey(f.Name), f.Value)
		}
	}
	if tooBig {
		s.reset(errCodeProtocol)
		return nil
	}
	s.onHeaders(status, h, endStream)
	return nil
}

func (c *conn) onSettings(fh frameHeader) error {
	if fh.streamID != 0 {
		return connError{errCodeProtocol, "SETTINGS on a stream"}
	}
	if fh.flags&flagAck != 0 {
		if fh.length != 0 {
			return connError{errCodeFrameSize, "SETTINGS ACK with a payload"}
		}
		return nil
	}
	if fh.length%6 != 0 {
		return connError{errCodeFrameSize, "SETTINGS size"}
	}
	p, err := c.payload(fh.length)
	if err != nil {
		return err
	}
	var wake []*stream
	c.mu.Lock()
	for ; len(p) >= 6; p = p[6:] {
		id, v := uint16(p[0])<<8|uint16(p[1]), uint32(p[2])<<24|uint32(p[3])<<16|uint32(p[4])<<8|uint32(p[5])
		switch id {
		case settingHeaderTableSize:
			c.tableMax.Store(int64(v))
		case settingEnablePush:
			if v > 1 {
				c.mu.Unlock()
				return connError{errCodeProtocol, "SETTINGS_ENABLE_PUSH > 1"}
			}
		case settingMaxConcurrentStreams:
			c.peerMaxStreams = v
		case settingInitialWindowSize:
			if v > maxWindow {
				c.mu.Unlock()
				return connError{errCodeFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE too large"}
			}
			delta := int64(v) - int64(c.peerWindow)
			c.peerWindow = int32(v)
			for _, s := range c.streams {
				s.sendWindow += delta
				if s.sendWindow > maxWindow {
					c.mu.Unlock()
					return connError{errCodeFlowControl, "stream window overflow"}
				}
				wake = append(wake, s)
			}
		case settingMaxFrameSize:
			if v < minMaxFrame || v > maxMaxFrame {
				c.mu.Unlock()
				return connError{errCodeProtocol, "SETTINGS_MAX_FRAME_SIZE out of range"}
			}
			c.peerMaxFrame = v
		}
	}
	first := !isClosedChan(c.settingsSeen)
	if first {
		close(c.settingsSeen)
	}
	c.mu.Unlock()
	for _, s := range wake {
		s.wakeWriter()
	}
	return c.queue(func(b []byte) []byte { return appendFrameHeader(b, 0, frameSettings, flagAck, 0) })
}

func (c *conn) onWindowUpdate(fh frameHeader) error {
	if fh.length != 4 {
		return connError{errCodeFrameSize, "WINDOW_UPDATE size"}
	}
	p, err := c.payload(4)
	if err != nil {
		return err
	}
	inc := int64(uint32(p[0])<<24|uint32(p[1])<<16|uint32(p[2])<<8|uint32(p[3])) & maxWindow
	if fh.streamID == 0 {
		if inc == 0 {
			return connError{errCodeProtocol, "WINDOW_UPDATE of 0 on the connection"}
		}
		c.mu.Lock()
		c.sendWindow += inc
		if c.sendWindow > maxWindow {
			c.mu.Unlock()
			return connError{errCodeFlowControl, "connection window overflow"}
		}
		streams := make([]*stream, 0, len(c.streams))
		for _, s := range c.streams {
			streams = append(streams, s)
		}
		c.mu.Unlock()
		for _, s := range streams {
			s.wakeWriter()
		}
		return nil
	}
	s := c.stream(fh.streamID)
	if s == nil {
		if c.idleStream(fh.streamID) {
			return connError{errCodeProtocol, "WINDOW_UPDATE on an idle stream"}
		}
		return nil
	}
	if inc == 0 {
		s.reset(errCodeProtocol)
		return nil
	}
	c.mu.Lock()
	s.sendWindow += inc
	overflow := s.sendWindow > maxWindow
	c.mu.Unlock()
	if overflow {
		s.reset(errCodeFlowControl)
		return nil
	}
	s.wakeWriter()
	return nil
}

func (c *conn) onPing(fh frameHeader) error {
	if fh.streamID != 0 {
		return connError{errCodeProtocol, "PING on a stream"}
	}
	if fh.length != 8 {
		return connError{errCodeFrameSize, "PING size"}
	}
	p, err := c.payload(8)
	if err != nil {
		return err
	}
	var data [8]byte
	copy(data[:], p)
	if fh.flags&flagAck != 0 {
		c.mu.Lock()
		if ch, ok := c.pings[data]; ok {
			close(ch)
			delete(c.pings, data)
		}
		c.mu.Unlock()
		return nil
	}
	return c.queue(func(b []byte) []byte { return appendPing(b, true, data) })
}

func (c *conn) onRST(fh frameHeader) error {
	if fh.length != 4 {
		return connError{errCodeFrameSize, "RST_STREAM size"}
	}
	if fh.streamID == 0 {
		return connError{errCodeProtocol, "RST_STREAM on stream 0"}
	}
	p, err := c.payload(4)
	if err != nil {
		return err
	}
	code := errCode(uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3]))
	s := c.stream(fh.streamID)
	if s == nil {
		if c.idleStream(fh.streamID) {
			return connError{errCodeProtocol, "RST_STREAM on an idle stream"}
		}
		return nil
	}
	s.remoteReset(code)
	return nil
}

func (c *conn) onGoAway(fh frameHeader) error {
	if fh.streamID != 0 {
		return connError{errCodeProtocol, "GOAWAY on a stream"}
	}
	if fh.length < 8 {
		return connError{errCodeFrameSize, "GOAWAY size"}
	}
	p, err := c.payload(fh.length)
	if err != nil {
		return err
	}
	last := (uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])) & maxWindow
	code := errCode(uint32(p[4])<<24 | uint32(p[5])<<16 | uint32(p[6])<<8 | uint32(p[7]))
	if code != errCodeNo {
		c.cfg.logger.Debug("hbone peer sent GOAWAY", "remote", c.nc.RemoteAddr(), "code", code)
	}
	c.mu.Lock()
	c.goAwayRecv, c.goAwayID = true, last
	var refused []*stream
	for id, s := range c.streams {
		if !c.cfg.server && id > last {
			refused = append(refused, s)
		}
	}
	c.mu.Unlock()
	for _, s := range refused {
		s.abort(errGoingAway)
		c.removeStream(s)
	}
	c.maybeDrained()
	return nil
}

// goAway (server) stops new streams: GOAWAY with the last stream accepted;
// the connection closes once its streams are done.
func (c *conn) goAway() {
	c.mu.Lock()
	if c.closed || c.goAwaySent {
		c.mu.Unlock()
		return
	}
	c.goAwaySent = true
	last := c.maxPeerID
	c.mu.Unlock()
	_ = c.queue(func(b []byte) []byte { return appendGoAway(b, last, errCodeNo) })
	c.maybeDrained()
}

// maybeDrained closes a connection that is going away once nothing uses it.
// It may run on the frame reader, so the closing (which flushes the queued
// GOAWAY first and may wait for the socket) happens in a goroutine.
func (c *conn) maybeDrained() {
	c.mu.Lock()
	drained := (c.goAwaySent || c.goAwayRecv) && !c.closed && !c.draining && len(c.streams) == 0 && c.running == 0
	if drained {
		c.draining = true
	}
	c.mu.Unlock()
	if !drained {
		return
	}
	go func() {
		c.wmu.Lock()
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		_ = c.flushCtrlLocked()
		c.wmu.Unlock()
		c.fail(errConnClosed)
	}()
}

// removeStream drops a stream that is closed both ways from the table.
func (c *conn) removeStream(s *stream) {
	c.mu.Lock()
	if c.streams[s.id] != s {
		c.mu.Unlock()
		return
	}
	delete(c.streams, s.id)
	close(c.slotFreed)
	c.slotFreed = make(chan struct{})
	c.mu.Unlock()
	c.maybeDrained()
}

// ping sends a PING and waits up to timeout for its ACK.
func (c *conn) ping(timeout time.Duration) error {
	var data [8]byte
	_, _ = rand.Read(data[:])
	ch := make(chan struct{})
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.closeErr()
	}
	c.pings[data] = ch
	c.mu.Unlock()
	if err := c.queue(func(b []byte) []byte { return appendPing(b, false, data) }); err != nil {
		return err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ch:
		if c.isClosed() {
			return c.closeErr()
		}
		return nil
	case <-t.C:
		c.mu.Lock()
		delete(c.pings, data)
		c.mu.Unlock()
		return errors.New("PING not acknowledged in time")
	}
}

// keepalive pings a connection that received nothing for pingInterval and
// closes it if the ACK does not come within pingTimeout (ztunnel's 10 s /
// 20 s HTTP/2 keepalive).
func (c *conn) keepalive() {
	t := time.NewTimer(c.cfg.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, c.lastFrame.Load()))
		if idle < c.cfg.pingInterval {
			t.Reset(c.cfg.pingInterval - idle)
			continue
		}
		if err := c.ping(c.cfg.pingTimeout); err != nil {
			c.fail(fmt.Errorf("hbone keepalive: %w", err))
			return
		}
		t.Reset(c.cfg.pingInterval)
	}
}
