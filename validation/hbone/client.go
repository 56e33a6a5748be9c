package hbone

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ambientsim/ambientsim/validation/identity"
)

// ClientConfig configures an HBONE client and its pool. Zero values take
// ztunnel's defaults.
type ClientConfig struct {
	Manager           *identity.Manager // certificates of the source identities; required
	MaxStreamsPerConn int               // 100; the effective cap is min(this, peer SETTINGS)
	IdleTimeout       time.Duration     // 5 min: unused connections are released
	DialTimeout       time.Duration     // 10 s TCP connect timeout
	StreamWindow      int32             // 4 MiB
	ConnWindow        int32             // 16 MiB
	MaxFrameSize      uint32            // 1 MiB
	PingInterval      time.Duration     // 10 s
	PingTimeout       time.Duration     // 20 s
	// Dial opens the TCP connection to the next hop from source (invalid if
	// unset); nil uses a net.Dialer bound to source.
	Dial   func(ctx context.Context, source netip.Addr, addr string) (net.Conn, error)
	Logger *slog.Logger
}

// Target says where a tunnel goes.
type Target struct {
	Source    identity.ID   // identity presented to the next hop
	Expected  []identity.ID // identities the next hop may present (its SANs)
	NextHop   string        // ip:port of the proxy terminating HBONE (…:15008)
	Authority string        // :authority, the final destination ip:port
	Header    http.Header   // extra headers (baggage, forwarded); may be nil
	// SourceIP, if valid, is bound as the local address of new connections
	// (ztunnel spoofs the pod's IP) and is part of the pool key.
	SourceIP netip.Addr
}

// Key identifies a pool of connections: ztunnel's WorkloadKey without the
// spoofed source IP (the source identity already separates pods here).
type Key struct {
	Source   identity.ID
	SourceIP netip.Addr
	Expected string // sorted, comma-joined expected identities
	NextHop  string
}

// KeyOf returns the pool key of t.
func KeyOf(t Target) Key {
	ids := make([]string, len(t.Expected))
	for i, id := range t.Expected {
		ids[i] = id.String()
	}
	slices.Sort(ids)
	return Key{Source: t.Source, SourceIP: t.SourceIP, Expected: strings.Join(ids, ","), NextHop: t.NextHop}
}

// Client originates HBONE tunnels through a connection pool.
type Client struct {
	cfg ClientConfig

	mu      sync.Mutex
	pool    map[Key][]*poolConn
	all     map[*poolConn]struct{}
	dialing map[Key]chan struct{}
	closed  bool
	stop    chan struct{}
	reaper  sync.WaitGroup
	closers sync.WaitGroup

	stats PoolStats
}

// PoolStats counts pool events since the client was created.
type PoolStats struct {
	Dials       int // TLS+HTTP/2 connections opened
	DialErrors  int
	Streams     int // CONNECT streams opened
	Saturated   int // connections removed from the pool at their stream cap
	IdleRelease int // connections closed after IdleTimeout unused
	Refused     int // streams refused by the peer and retried
}

type poolConn struct {
	key      Key
	h2       *conn
	tc       *tls.Conn
	peer     identity.ID
	active   int
	inPool   bool
	lastUsed time.Time
}

// NewClient returns a client with an empty pool.
func NewClient(cfg ClientConfig) *Client {
	if cfg.MaxStreamsPerConn <= 0 {
		cfg.MaxStreamsPerConn = 100
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
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
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dial == nil {
		cfg.Dial = DialFrom
	}
	c := &Client{cfg: cfg, pool: map[Key][]*poolConn{}, all: map[*poolConn]struct{}{},
		dialing: map[Key]chan struct{}{}, stop: make(chan struct{})}
	c.reaper.Add(1)
	go c.reap()
	return c
}

// Stats returns a snapshot of pool counters.
func (c *Client) Stats() PoolStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// OpenConns returns how many TLS connections the client holds (pooled or draining).
func (c *Client) OpenConns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.all)
}

// Dial opens one CONNECT stream to t. It returns a *StatusError if the
// server answered with something other than 200.
func (c *Client) Dial(ctx context.Context, t Target) (*ClientStream, error) {
	if len(t.Expected) == 0 {
		return nil, fmt.Errorf("hbone dial %s via %s: no expected identities", t.Authority, t.NextHop)
	}
	for attempt := 0; ; attempt++ {
		pc, err := c.checkout(ctx, t)
		if err != nil {
			return nil, err
		}
		s, err := c.connect(ctx, pc, t)
		if err == nil {
			return s, nil
		}
		c.release(pc)
		// A refused stream was never processed (RFC 9113 §8.7), so it is safe
		// to retry; it happens when the server still counts a stream we have
		// already reset against its MAX_CONCURRENT_STREAMS, or when a GOAWAY
		// raced our checkout.
		var se *StreamResetError
		refused := errors.As(err, &se) && se.Code == uint32(errCodeRefusedStream)
		goingAway := errors.Is(err, errGoingAway) || !pc.h2.usable()
		if attempt >= 4 || !(refused || goingAway) || ctx.Err() != nil {
			return nil, err
		}
		c.mu.Lock()
		c.stats.Refused++
		c.mu.Unlock()
		time.Sleep(time.Duration(attempt+1) * time.Millisecond)
	}
}

func (c *Client) connect(ctx context.Context, pc *poolConn, t Target) (*ClientStream, error) {
	h := t.Header
	if h.Get("traceparent") == "" {
		h = h.Clone()
		if h == nil {
			h = http.Header{}
		}
		h.Set("traceparent", newTraceparent())
	}
	st, err := pc.h2.openStream(ctx.Done(), t.Authority, h)
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, fmt.Errorf("hbone CONNECT %s via %s: %w", t.Authority, t.NextHop, err)
	}
	s := &ClientStream{st: st, local: pc.tc.LocalAddr(), remote: pc.tc.RemoteAddr(), peer: pc.peer}
	s.release = func() { c.release(pc) }
	return s, nil
}

func (c *Client) checkout(ctx context.Context, t Target) (*poolConn, error) {
	key := KeyOf(t)
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, errors.New("hbone client closed")
		}
		if pc := c.takeLocked(key); pc != nil {
			c.mu.Unlock()
			return pc, nil
		}
		if wait, ok := c.dialing[key]; ok {
			// Someone is already dialling this key: wait for it rather than
			// opening a connection storm (ztunnel's per-key mutex).
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("hbone dial %s via %s: %w", t.Authority, t.NextHop, ctx.Err())
			}
		}
		done := make(chan struct{})
		c.dialing[key] = done
		c.mu.Unlock()

		pc, err := c.dialConn(ctx, key, t)

		c.mu.Lock()
		delete(c.dialing, key)
		close(done)
		if err != nil {
			c.stats.DialErrors++
			c.mu.Unlock()
			return nil, err
		}
		c.stats.Dials++
		if c.closed {
			c.mu.Unlock()
			pc.h2.close()
			return nil, errors.New("hbone client closed")
		}
		pc.inPool = true
		pc.lastUsed = time.Now()
		c.pool[key] = append(c.pool[key], pc)
		c.all[pc] = struct{}{}
		c.mu.Unlock()
	}
}

// takeLocked checks a usable connection out of the pool, dropping dead ones
// and removing one that reaches its stream cap.
func (c *Client) takeLocked(key Key) *poolConn {
	conns := c.pool[key]
	for i := 0; i < len(conns); i++ {
		pc := conns[i]
		if !pc.h2.usable() {
			conns = slices.Delete(conns, i, i+1)
			i--
			pc.inPool = false
			c.maybeCloseLocked(pc)
			continue
		}
		limit := c.cfg.MaxStreamsPerConn
		if peer := int(pc.h2.peerStreamLimit()); peer > 0 && peer < limit {
			limit = peer
		}
		if pc.active >= limit {
			continue
		}
		pc.active++
		pc.lastUsed = time.Now()
		c.stats.Streams++
		if pc.active >= limit {
			// Saturated: out of the pool for good; it serves its streams and closes.
			conns = slices.Delete(conns, i, i+1)
			pc.inPool = false
			c.stats.Saturated++
		}
		c.setPoolLocked(key, conns)
		return pc
	}
	c.setPoolLocked(key, conns)
	return nil
}

func (c *Client) setPoolLocked(key Key, conns []*poolConn) {
	if len(conns) == 0 {
		delete(c.pool, key)
		return
	}
	c.pool[key] = conns
}

func (c *Client) maybeCloseLocked(pc *poolConn) {
	if !pc.inPool && pc.active == 0 {
		if _, ok := c.all[pc]; ok {
			delete(c.all, pc)
			c.closers.Add(1)
			go func() { defer c.closers.Done(); pc.h2.close() }()
		}
	}
}

func (c *Client) release(pc *poolConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pc.active--
	pc.lastUsed = time.Now()
	c.maybeCloseLocked(pc)
}

func (c *Client) dialConn(ctx context.Context, key Key, t Target) (*poolConn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	raw, err := c.cfg.Dial(dctx, t.SourceIP, t.NextHop)
	if err != nil {
		return nil, fmt.Errorf("hbone dial %s: %w", t.NextHop, err)
	}
	tc := tls.Client(raw, identity.ClientTLS(c.cfg.Manager, t.Source, t.Expected...))
	if err := tc.HandshakeContext(dctx); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("hbone TLS handshake with %s as %s: %w", t.NextHop, t.Source, err)
	}
	cs := tc.ConnectionState()
	if cs.NegotiatedProtocol != identity.ALPNH2 {
		_ = raw.Close()
		return nil, fmt.Errorf("hbone TLS handshake with %s: peer did not negotiate h2", t.NextHop)
	}
	peer, err := identity.PeerID(cs)
	if err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("hbone peer %s: %w", t.NextHop, err)
	}
	h2 := newConn(tc, connConfig{
		streamWindow:  c.cfg.StreamWindow,
		connWindow:    c.cfg.ConnWindow,
		maxFrame:      c.cfg.MaxFrameSize,
		maxHeaderList: 16 << 10, // ztunnel's client limit
		pingInterval:  c.cfg.PingInterval,
		pingTimeout:   c.cfg.PingTimeout,
		logger:        c.cfg.Logger,
	})
	if err := h2.start(); err != nil {
		return nil, fmt.Errorf("hbone HTTP/2 preface to %s: %w", t.NextHop, err)
	}
	// Wait for the server's SETTINGS before the first stream, so that even
	// the first stream frames its DATA by the server's max frame size (1 MiB
	// for ztunnel) rather than the 16 KiB default.
	if err := h2.waitSettings(dctx.Done()); err != nil {
		h2.close()
		return nil, fmt.Errorf("hbone HTTP/2 settings from %s: %w", t.NextHop, err)
	}
	return &poolConn{key: key, h2: h2, tc: tc, peer: peer}, nil
}

func (c *Client) reap() {
	defer c.reaper.Done()
	every := c.cfg.IdleTimeout / 4
	if every < 10*time.Millisecond {
		every = 10 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-tick.C:
			c.mu.Lock()
			for key, conns := range c.pool {
				kept := conns[:0]
				for _, pc := range conns {
					if pc.active == 0 && now.Sub(pc.lastUsed) >= c.cfg.IdleTimeout {
						pc.inPool = false
						c.stats.IdleRelease++
						c.maybeCloseLocked(pc)
						continue
					}
					kept = append(kept, pc)
				}
				c.setPoolLocked(key, kept)
			}
			c.mu.Unlock()
		}
	}
}

// Close closes every connection, ending their streams, and stops the pool.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	conns := make([]*poolConn, 0, len(c.all))
	for pc := range c.all {
		conns = append(conns, pc)
	}
	c.all = map[*poolConn]struct{}{}
	c.pool = map[Key][]*poolConn{}
	c.mu.Unlock()
	close(c.stop)
	c.reaper.Wait()
	for _, pc := range conns {
		pc.h2.close()
	}
	c.closers.Wait()
	return nil
}

// DialFrom dials TCP to addr with the local address bound to source when
// source is valid, as ztunnel spoofs the pod's IP (on loopback any 127/8
// address can be bound). Where source is not a local address (a proxy in
// its own network namespace), it dials from the default address instead.
func DialFrom(ctx context.Context, source netip.Addr, addr string) (net.Conn, error) {
	var d net.Dialer
	if source.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(source, 0))
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil && source.IsValid() && errors.Is(err, syscall.EADDRNOTAVAIL) {
		d.LocalAddr = nil
		return d.DialContext(ctx, "tcp", addr)
	}
	return c, err
}

func newTraceparent() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-00"
}
