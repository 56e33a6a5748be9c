package hbone

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/ambientsim/ambientsim/validation/identity"
)

// Request is a validated CONNECT request handed to a Handler.
type Request struct {
	// Target is the parsed :authority (destination ip:port).
	Target netip.AddrPort
	// Peer is the SPIFFE identity from the client's certificate.
	Peer identity.ID
	// Header holds the request headers (baggage, forwarded, traceparent...).
	Header http.Header
	// Context ends when the stream or the server ends.
	Context context.Context
}

// Handler serves HBONE streams. It must call s.Accept (200) or s.Reject and,
// after Accept, use s as the tunnel until it is done; the stream ends when
// ServeHBONE returns. A handler that returns without answering sends 503.
type Handler interface {
	ServeHBONE(r *Request, s *ServerStream)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(r *Request, s *ServerStream)

// ServeHBONE calls f(r, s).
func (f HandlerFunc) ServeHBONE(r *Request, s *ServerStream) { f(r, s) }

// ServerConfig configures an HBONE server. Zero values take ztunnel's defaults.
type ServerConfig struct {
	TLS                  *tls.Config // from identity.ServerTLS; required
	Handler              Handler     // required
	MaxConcurrentStreams uint32      // 200 (ztunnel); waypoints use 100
	StreamWindow         int32       // 4 MiB
	ConnWindow           int32       // 16 MiB
	MaxFrameSize         uint32      // 1 MiB
	PingInterval         time.Duration
	PingTimeout          time.Duration
	HandshakeTimeout     time.Duration // 10 s
	Logger               *slog.Logger
	// OnBadRequest, if set, is told about requests rejected before the Handler.
	OnBadRequest func(status int, err error)
}

// Server terminates HBONE on one or more listeners.
type Server struct {
	cfg ServerConfig

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]*conn // nil until the TLS handshake is done
	closing   bool
	wg        sync.WaitGroup
	ctx       context.Context
	cancel    context.CancelFunc
}

// NewServer returns a server; call Serve with a listener.
func NewServer(cfg ServerConfig) *Server {
	if cfg.MaxConcurrentStreams == 0 {
		cfg.MaxConcurrentStreams = 200
	}
	if cfg.StreamWindow == 0 {
		cfg.StreamWindow = 4 << 20
	}
	if cfg.ConnWindow == 0 {
		cfg.ConnWindow = 16 << 20
	}
	if cfg.MaxFrameSize == 0 {
		cfg.MaxFrameSize = 1 << 20
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = 10 * time.Second
	}
	if cfg.PingTimeout == 0 {
		cfg.PingTimeout = 20 * time.Second
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, listeners: map[net.Listener]struct{}{}, conns: map[net.Conn]*conn{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Serve accepts connections on ln until Shutdown or Close. It returns
// http.ErrServerClosed after a shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = ln.Close()
		return http.ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			delete(s.listeners, ln)
			s.mu.Unlock()
			if closing || errors.Is(err, net.ErrClosed) {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return fmt.Errorf("hbone accept on %s: %w", ln.Addr(), err)
		}
		if !s.track(c) {
			_ = c.Close()
			return http.ErrServerClosed
		}
		go s.serveConn(c)
	}
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = nil
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) serveConn(raw net.Conn) {
	defer s.untrack(raw)
	defer raw.Close()
	tc := tls.Server(raw, s.cfg.TLS)
	hctx, cancel := context.WithTimeout(s.ctx, s.cfg.HandshakeTimeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		s.cfg.Logger.Debug("hbone handshake failed", "remote", raw.RemoteAddr(), "err", err)
		return
	}
	cs := tc.ConnectionState()
	if cs.NegotiatedProtocol != identity.ALPNH2 {
		s.cfg.Logger.Debug("hbone peer did not negotiate h2", "remote", raw.RemoteAddr())
		return
	}
	peer, err := identity.PeerID(cs)
	if err != nil {
		return
	}
	c := newConn(tc, connConfig{
		server:        true,
		streamWindow:  s.cfg.StreamWindow,
		connWindow:    s.cfg.ConnWindow,
		maxFrame:      s.cfg.MaxFrameSize,
		maxStreams:    s.cfg.MaxConcurrentStreams,
		maxHeaderList: 64 << 10, // ztunnel's server limit
		pingInterval:  s.cfg.PingInterval,
		pingTimeout:   s.cfg.PingTimeout,
		logger:        s.cfg.Logger,
		onRequest: func(st *stream, req *rawRequest) {
			s.serveStream(st, req, peer, tc)
		},
	})
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.conns[raw] = c
	s.mu.Unlock()
	if c.start() != nil {
		return
	}
	<-c.done
}

func (s *Server) serveStream(st *stream, req *rawRequest, peer identity.ID, tc net.Conn) {
	ss := &ServerStream{st: st, hdr: http.Header{}, local: tc.LocalAddr(), remote: tc.RemoteAddr()}
	target, status, err := ParseConnect(req.method, req.authority)
	if err != nil {
		if s.cfg.OnBadRequest != nil {
			s.cfg.OnBadRequest(status, err)
		}
		ss.Reject(status)
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	st.setOnFinish(cancel)
	defer cancel()
	s.cfg.Handler.ServeHBONE(&Request{Target: target, Peer: peer, Header: req.header, Context: ctx}, ss)
	_ = ss.Close() // 503 if the handler did not answer
}

// Shutdown stops accepting, sends GOAWAY on every connection, and waits for
// active streams to finish until ctx ends; then it closes what is left
// (ztunnel's drain: graceful first, forced at the deadline). A connection
// closes as soon as its last stream ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		_ = ln.Close()
	}
	for raw, c := range s.conns {
		if c == nil {
			_ = raw.Close() // still handshaking: no streams to drain
			continue
		}
		c.goAway()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	_ = s.Close()
	<-done
	return fmt.Errorf("hbone shutdown: %w", ctx.Err())
}

// Close closes all listeners and connections at once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		_ = ln.Close()
	}
	for raw, c := range s.conns {
		if c != nil {
			c.fail(errConnClosed)
		}
		_ = raw.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}
