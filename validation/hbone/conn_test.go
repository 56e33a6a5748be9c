package hbone

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2/hpack"
)

// The HTTP/2 connection is tested here without TLS (it runs on any
// net.Conn): against a peer that writes raw frames, as a hostile or buggy
// client would, and between two conns for stream semantics.

func testConnConfig(server bool, onRequest func(*stream, *rawRequest)) connConfig {
	return connConfig{
		server: server, streamWindow: 4 << 20, connWindow: 16 << 20, maxFrame: 1 << 20,
		maxStreams: 4, maxHeaderList: 16 << 10, pingInterval: time.Minute, pingTimeout: time.Minute,
		logger: slog.New(slog.DiscardHandler), onRequest: onRequest,
	}
}

// rawPeer is the far end of a server conn, speaking raw frames.
type rawPeer struct {
	t  *testing.T
	nc net.Conn
}

// echoHandler answers 200 and echoes the stream.
func echoHandler(s *stream, _ *rawRequest) {
	_ = s.respond(http.StatusOK, nil, false)
	_, _ = io.Copy(writerFunc(s.write), readerFunc(s.read))
	s.closeServer()
}

// stallHandler answers 200 and never reads, so no window is returned.
func stallHandler(s *stream, _ *rawRequest) {
	_ = s.respond(http.StatusOK, nil, false)
	<-s.done
}

// startRawServer starts a server conn whose handler echoes each stream.
func startRawServer(t *testing.T) (*conn, *rawPeer) {
	return startRawServerWith(t, echoHandler)
}

func startRawServerWith(t *testing.T, handler func(*stream, *rawRequest)) (*conn, *rawPeer) {
	t.Helper()
	a, b := net.Pipe()
	c := newConn(a, testConnConfig(true, handler))
	p := &rawPeer{t: t, nc: b}
	// net.Pipe is synchronous: read what the server sends in the background.
	go func() { _ = c.start() }()
	t.Cleanup(func() { _ = b.Close(); c.fail(errConnClosed); <-c.done })
	return c, p
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func (p *rawPeer) send(b []byte) {
	_ = p.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatalf("raw peer write: %v", err)
	}
}

// frame reads the next frame the server sent.
func (p *rawPeer) frame() (frameHeader, []byte, error) {
	_ = p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(p.nc, hdr[:]); err != nil {
		return frameHeader{}, nil, err
	}
	fh := parseFrameHeader(hdr[:])
	payload := make([]byte, fh.length)
	_, err := io.ReadFull(p.nc, payload)
	return fh, payload, err
}

// until reads frames until one of type typ arrives (or the connection ends).
func (p *rawPeer) until(typ frameType) (frameHeader, []byte, bool) {
	for {
		fh, payload, err := p.frame()
		if err != nil {
			return fh, nil, false
		}
		if fh.typ == typ {
			return fh, payload, true
		}
	}
}

func headerBlock(t *testing.T, fields ...string) []byte {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]}); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func appendFrame(b []byte, typ frameType, flags uint8, id uint32, payload []byte) []byte {
	return append(appendFrameHeader(b, len(payload), typ, flags, id), payload...)
}

func u32(v uint32) []byte { return appendUint32(nil, v) }

// A peer that breaks the protocol gets a GOAWAY naming the error, and the
// connection is closed.
func TestConnRejectsProtocolViolations(t *testing.T) {
	connect := func(t *testing.T) []byte {
		return headerBlock(t, ":method", "CONNECT", ":authority", "127.0.0.1:80")
	}
	for _, tc := range []struct {
		name   string
		frames func(t *testing.T) []byte
		want   errCode
	}{
		{"bad preface", func(t *testing.T) []byte { return []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nxxxxxxxxxxxxxxxx") }, errCodeProtocol},
		{"frame over max size", func(t *testing.T) []byte {
			return appendFrameHeader([]byte(clientPreface), 2<<20, frameData, 0, 1)
		}, errCodeFrameSize},
		{"DATA on stream 0", func(t *testing.T) []byte {
			return appendFrame([]byte(clientPreface), frameData, 0, 0, []byte("x"))
		}, errCodeProtocol},
		{"DATA on an idle stream", func(t *testing.T) []byte {
			return appendFrame([]byte(clientPreface), frameData, 0, 7, []byte("x"))
		}, errCodeProtocol},
		{"CONTINUATION without HEADERS", func(t *testing.T) []byte {
			return appendFrame([]byte(clientPreface), frameContinuation, flagEndHeaders, 1, connect(t))
		}, errCodeProtocol},
		{"header block interrupted", func(t *testing.T) []byte {
			b := appendFrame([]byte(clientPreface), frameHeaders, 0, 1, connect(t))
			return appendFrame(b, framePing, 0, 0, make([]byte, 8))
		}, errCodeProtocol},
		{"PUSH_PROMISE from a client", func(t *testing.T) []byte {
			return appendFrame([]byte(clientPreface), framePushPromise, flagEndHeaders, 1, append(u32(2), connect(t)...))
		}, errCodeProtocol},
		{"even stream opened by the client", func(t *testing.T) []byte {
			return appendFrame([]byte(clientPreface), frameHeaders, flagEndHeaders, 2, connect(t))
		}, errCodeProtocol},
		{"garbage HPACK", func(t *testing.T) []byte {
			return appendFrame([]byte(clientPreface), frameHeaders, flagEndHeaders, 1, []byte{0xff, 0xff, 0xff, 0xff, 0xff})
		}, errCodeCompression},
		{"connection window overflow", func(t *testing.T) []byte {
			return appendFrame([]byte(clientPreface), frameWindowUpdate, 0, 0, u32(maxWindow))
		}, errCodeFlowControl},
		{"bad SETTINGS size", func(t *testing.T) []byte {
			return appendFrame([]byte(clientPreface), frameSettings, 0, 0, make([]byte, 5))
		}, errCodeFrameSize},
		{"max frame size out of range", func(t *testing.T) []byte {
			return appendSettings([]byte(clientPreface), settingMaxFrameSize, 100)
		}, errCodeProtocol},
		{"bad PING size", func(t *testing.T) []byte {
			return appendFrame([]byte(clientPreface), framePing, 0, 0, make([]byte, 4))
		}, errCodeFrameSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p := startRawServer(t)
			go func() { _, _ = p.nc.Write(tc.frames(t)) }()
			_, payload, ok := p.until(frameGoAway)
			if !ok {
				t.Fatal("connection ended without GOAWAY")
			}
			if got := errCode(uint32(payload[4])<<24 | uint32(payload[5])<<16 | uint32(payload[6])<<8 | uint32(payload[7])); got != tc.want {
				t.Fatalf("GOAWAY %s, want %s", got, tc.want)
			}
			select {
			case <-c.done:
			case <-time.After(5 * time.Second):
				t.Fatal("connection still open after GOAWAY")
			}
		})
	}
}

// Data beyond the 16 MiB connection window (four streams of 4 MiB nobody
// reads, then one more frame) is a connection error.
func TestConnWindowOverrun(t *testing.T) {
	c, p := startRawServerWith(t, stallHandler)
	connect := headerBlock(t, ":method", "CONNECT", ":authority", "127.0.0.1:80")
	b := []byte(clientPreface)
	chunk := make([]byte, 1<<20)
	for id := uint32(1); id <= 7; id += 2 {
		b = appendFrame(b, frameHeaders, flagEndHeaders, id, connect)
		for range 4 {
			b = appendFrame(b, frameData, 0, id, chunk)
		}
	}
	b = appendFrame(b, frameData, 0, 7, chunk[:1])
	go func() { _, _ = p.nc.Write(b) }()
	_, payload, ok := p.until(frameGoAway)
	if !ok || errCode(payload[7]) != errCodeFlowControl {
		t.Fatalf("got GOAWAY %v (ok %v), want FLOW_CONTROL_ERROR", payload, ok)
	}
	<-c.done
}

// Stream-level errors reset the stream and keep the connection.
func TestConnStreamErrors(t *testing.T) {
	connect := headerBlock(t, ":method", "CONNECT", ":authority", "127.0.0.1:80")
	t.Run("stream window overrun", func(t *testing.T) {
		c, p := startRawServerWith(t, stallHandler)
		b := appendFrame([]byte(clientPreface), frameHeaders, flagEndHeaders, 1, connect)
		chunk := make([]byte, 1<<20)
		for range 5 { // 5 MiB > 4 MiB stream window
			b = appendFrame(b, frameData, 0, 1, chunk)
		}
		go func() { _, _ = p.nc.Write(b) }()
		fh, payload, ok := p.until(frameRSTStream)
		if !ok || fh.streamID != 1 || errCode(payload[3]) != errCodeFlowControl {
			t.Fatalf("got %+v %v, want RST_STREAM FLOW_CONTROL_ERROR on stream 1", fh, payload)
		}
		if c.isClosed() {
			t.Fatal("a stream error closed the connection")
		}
	})
	t.Run("too many streams", func(t *testing.T) {
		_, p := startRawServer(t)
		b := []byte(clientPreface)
		for id := uint32(1); id <= 9; id += 2 { // 5 streams, limit 4
			b = appendFrame(b, frameHeaders, flagEndHeaders, id, connect)
		}
		go func() { _, _ = p.nc.Write(b) }()
		fh, payload, ok := p.until(frameRSTStream)
		if !ok || fh.streamID != 9 || errCode(payload[3]) != errCodeRefusedStream {
			t.Fatalf("got %+v %v, want RST_STREAM REFUSED_STREAM on stream 9", fh, payload)
		}
	})
	t.Run("uppercase header name", func(t *testing.T) {
		_, p := startRawServer(t)
		bad := headerBlock(t, ":method", "CONNECT", ":authority", "127.0.0.1:80", "Baggage", "x")
		go func() { _, _ = p.nc.Write(appendFrame([]byte(clientPreface), frameHeaders, flagEndHeaders, 1, bad)) }()
		fh, payload, ok := p.until(frameRSTStream)
		if !ok || fh.streamID != 1 || errCode(payload[3]) != errCodeProtocol {
			t.Fatalf("got %+v %v, want RST_STREAM PROTOCOL_ERROR", fh, payload)
		}
	})
}

// A PING is answered with the same payload; unknown frame types are ignored.
func TestConnPingAndUnknownFrames(t *testing.T) {
	_, p := startRawServer(t)
	data := []byte("8 bytes!")
	b := appendFrame([]byte(clientPreface), frameType(0xfa), 0, 0, []byte("ignored"))
	b = appendFrame(b, framePing, 0, 0, data)
	go func() { _, _ = p.nc.Write(b) }()
	fh, payload, ok := p.until(framePing)
	if !ok || fh.flags&flagAck == 0 || !bytes.Equal(payload, data) {
		t.Fatalf("got %+v %q, want PING ACK %q", fh, payload, data)
	}
}

// connPair is a client and a server conn joined by TCP on loopback.
func connPair(t *testing.T, handler func(*stream, *rawRequest)) *conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			accepted <- nc
		}
		close(accepted)
	}()
	cn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sn := <-accepted
	srv := newConn(sn, testConnConfig(true, handler))
	cli := newConn(cn, testConnConfig(false, nil))
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	if err := cli.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cli.close()
		srv.close()
		<-cli.done
		<-srv.done
	})
	timeout := make(chan struct{})
	timer := time.AfterFunc(5*time.Second, func() { close(timeout) })
	defer timer.Stop()
	if err := cli.waitSettings(timeout); err != nil {
		t.Fatal(err)
	}
	return cli
}

// open is openStream with a 5 s limit.
func open(t *testing.T, c *conn) *stream {
	t.Helper()
	done := make(chan struct{})
	timer := time.AfterFunc(5*time.Second, func() { close(done) })
	defer timer.Stop()
	s, err := c.openStream(done, "127.0.0.1:80", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// HTTP/2 half-close is real in both directions: the server can end its
// side and still read everything the client sends afterwards.
func TestConnServerHalfClose(t *testing.T) {
	got := make(chan []byte, 1)
	cli := connPair(t, func(s *stream, _ *rawRequest) {
		_ = s.respond(http.StatusOK, nil, false)
		_, _ = s.write([]byte("bye"))
		_ = s.closeWrite()
		b, _ := io.ReadAll(readerFunc(s.read))
		got <- b
		s.closeServer()
	})
	s := open(t, cli)
	defer s.closeClient()
	b, err := io.ReadAll(readerFunc(s.read))
	if err != nil || string(b) != "bye" {
		t.Fatalf("client read %q, %v; want \"bye\", EOF", b, err)
	}
	msg := bytes.Repeat([]byte("after the server's END_STREAM "), 10000)
	if _, err := s.write(msg); err != nil {
		t.Fatalf("write after the server half-closed: %v", err)
	}
	_ = s.closeWrite()
	if b := <-got; !bytes.Equal(b, msg) {
		t.Fatalf("server read %d bytes, want %d", len(b), len(msg))
	}
}

// A read deadline expires like a socket's and can be lifted again; data
// that arrives afterwards is not lost.
func TestConnReadDeadline(t *testing.T) {
	release := make(chan struct{})
	cli := connPair(t, func(s *stream, _ *rawRequest) {
		_ = s.respond(http.StatusOK, nil, false)
		<-release
		_, _ = s.write([]byte("late"))
		s.closeServer()
	})
	s := open(t, cli)
	defer s.closeClient()
	s.setReadDeadline(time.Now().Add(20 * time.Millisecond))
	buf := make([]byte, 16)
	if _, err := s.read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	s.setReadDeadline(time.Time{})
	close(release)
	n, err := s.read(buf)
	if err != nil || string(buf[:n]) != "late" {
		t.Fatalf("read after lifting the deadline: %q, %v", buf[:n], err)
	}
}

// A peer's RST_STREAM fails the stream's reads and writes with its code;
// other streams on the connection go on.
func TestConnResetIsolation(t *testing.T) {
	var mu sync.Mutex
	var streams []*stream
	cli := connPair(t, func(s *stream, _ *rawRequest) {
		_ = s.respond(http.StatusOK, nil, false)
		mu.Lock()
		streams = append(streams, s)
		n := len(streams)
		mu.Unlock()
		if n == 1 {
			s.reset(errCodeCancel)
			return
		}
		_, _ = io.Copy(writerFunc(s.write), readerFunc(s.read))
		s.closeServer()
	})
	first := open(t, cli)
	defer first.closeClient()
	_, err := first.read(make([]byte, 1))
	var re *StreamResetError
	if !errors.As(err, &re) || re.Code != uint32(errCodeCancel) || !re.Remote {
		t.Fatalf("read on a reset stream: %v, want a remote CANCEL reset", err)
	}
	second := open(t, cli)
	defer second.closeClient()
	if _, err := second.write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(readerFunc(second.read), buf); err != nil || string(buf) != "ping" {
		t.Fatalf("second stream echo: %q, %v", buf, err)
	}
}

// FuzzServerFrames feeds arbitrary bytes after the client preface to a
// server connection: it must neither panic nor hang, and must end when the
// input does.
func FuzzServerFrames(f *testing.F) {
	connect := func() []byte {
		var buf bytes.Buffer
		enc := hpack.NewEncoder(&buf)
		_ = enc.WriteField(hpack.HeaderField{Name: ":method", Value: "CONNECT"})
		_ = enc.WriteField(hpack.HeaderField{Name: ":authority", Value: "127.0.0.1:80"})
		return buf.Bytes()
	}()
	f.Add(appendSettings(nil, settingInitialWindowSize, 1<<20))
	f.Add(appendFrame(appendFrame(nil, frameHeaders, flagEndHeaders, 1, connect), frameData, flagEndStream, 1, []byte("hi")))
	f.Add(appendFrame(nil, frameHeaders, flagPadded|flagPriority|flagEndHeaders, 1, append(append([]byte{2}, make([]byte, 5)...), append(connect, 0, 0)...)))
	f.Add(appendFrame(appendFrame(nil, frameHeaders, flagEndHeaders, 1, connect), frameData, flagPadded, 1, []byte{3, 'a', 0, 0, 0}))
	f.Add(appendFrame(nil, frameRSTStream, 0, 1, u32(8)))
	f.Add(appendFrame(nil, frameGoAway, 0, 0, append(u32(0), u32(0)...)))
	f.Add(appendWindowUpdate(nil, 0, 1000))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, b := net.Pipe()
		c := newConn(a, testConnConfig(true, func(s *stream, _ *rawRequest) {
			_ = s.respond(http.StatusOK, nil, false)
			_, _ = io.Copy(io.Discard, readerFunc(s.read))
			s.closeServer()
		}))
		go func() { _, _ = io.Copy(io.Discard, b) }() // drain what the server writes
		go func() { _ = c.start() }()
		_, _ = b.Write(append([]byte(clientPreface), in...))
		_ = b.Close()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			t.Fatal("server connection did not end with its input")
		}
	})
}

// pattern returns n bytes that differ at every offset modulo a prime, so
// that a lost, duplicated or reordered chunk shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// The frame reader delivers DATA straight into a waiting reader's buffer,
// waits up to lendWait for a reader busy with its last bytes, and buffers
// otherwise: whatever mix a reader's pace causes, the bytes arrive whole and
// in order.
func TestConnDeliveryKeepsOrder(t *testing.T) {
	const total = 6 << 20
	want := pattern(total)
	for _, tc := range []struct {
		name       string
		readSize   int
		pauseEvery int           // pause after every pauseEvery-th read, 0: never
		pause      time.Duration // longer than lendWait: the frame reader buffers
	}{
		{"waiting reader, large buffer", 256 << 10, 0, 0},
		{"small reads", 1000, 0, 0},
		{"reader slower than lendWait", 64 << 10, 3, 3 * lendWait},
		{"reader always late", 300 << 10, 1, 2 * lendWait},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli := connPair(t, func(s *stream, _ *rawRequest) {
				_ = s.respond(http.StatusOK, nil, false)
				for p := want; len(p) > 0; {
					n := min(len(p), 100_003) // frames that do not align with TLS records or chunks
					if _, err := s.write(p[:n]); err != nil {
						return
					}
					p = p[n:]
				}
				s.closeServer()
			})
			s := open(t, cli)
			defer s.closeClient()
			got := make([]byte, 0, total)
			buf := make([]byte, tc.readSize)
			for reads := 1; ; reads++ {
				n, err := s.read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("read after %d bytes: %v", len(got), err)
				}
				if tc.pauseEvery > 0 && reads%tc.pauseEvery == 0 {
					time.Sleep(tc.pause)
				}
			}
			if !bytes.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Fatalf("received %d bytes, want %d; first difference at offset %d", len(got), len(want), i)
			}
		})
	}
}

// A stream whose reader stops reading costs the connection's other streams
// one lendWait, not one per frame: its DATA is buffered (within its window)
// after the first wait expires, and a second stream moves 8 MiB meanwhile.
func TestConnStalledReaderDoesNotHoldOthers(t *testing.T) {
	const bulk = 8 << 20
	cli := connPair(t, func(s *stream, _ *rawRequest) {
		_ = s.respond(http.StatusOK, nil, false)
		chunk := make([]byte, 256<<10)
		for sent := 0; sent < bulk; sent += len(chunk) {
			if _, err := s.write(chunk); err != nil {
				return
			}
		}
		s.closeServer()
	})
	stalled := open(t, cli)
	defer stalled.closeClient()
	// One read, so that the stream counts as read, then nothing more.
	if _, err := stalled.read(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	other := open(t, cli)
	defer other.closeClient()
	n, err := io.Copy(io.Discard, readerFunc(other.read))
	if err != nil || n != bulk {
		t.Fatalf("second stream: %d bytes, %v; want %d", n, err, bulk)
	}
	stalled.mu.Lock()
	backoff, buffered := stalled.lendBackoff, stalled.buf.n
	stalled.mu.Unlock()
	if backoff > 1 {
		// 0: its DATA was buffered before the reader lent a buffer, no wait.
		t.Errorf("the frame reader waited for the stalled reader again and again (backoff %d), want at most once", backoff)
	}
	if buffered == 0 {
		t.Error("nothing buffered for the stalled stream: its DATA was held back, not buffered")
	}
}
