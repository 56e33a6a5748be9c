package ztunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ambientsim/ambientsim/validation/capture"
	"github.com/ambientsim/ambientsim/validation/hbone"
	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/istiometrics"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// Proxy is a running node proxy.
type Proxy struct {
	cfg     Config
	ix      *mesh.Index
	mgr     *identity.Manager
	client  *hbone.Client
	server  *hbone.Server
	tcp     *istiometrics.TCP
	reg     *prometheus.Registry
	log     *slog.Logger
	pods    map[netip.Addr]*mesh.WorkloadInfo // ambient pods on this node
	started bool

	mu        sync.Mutex
	listeners []net.Listener
	outAddrs  []net.Addr
	inAddrs   []net.Addr
	conns     map[net.Conn]struct{}
	closing   bool
	wg        sync.WaitGroup // accept loops and outbound connections
	serveWG   sync.WaitGroup // hbone Serve loops
}

// New validates cfg and builds a proxy; Start opens its listeners.
func New(cfg Config) (*Proxy, error) {
	if cfg.Node == "" || cfg.Mesh == nil || cfg.Issuer == nil {
		return nil, errors.New("ztunnel: Node, Mesh and Issuer are required")
	}
	if cfg.CertTTL == 0 {
		cfg.CertTTL = 24 * time.Hour
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Dial == nil {
		cfg.Dial = hbone.DialFrom
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{cfg: cfg, ix: cfg.Mesh, reg: cfg.Registry, log: cfg.Logger.With("node", cfg.Node),
		pods: map[netip.Addr]*mesh.WorkloadInfo{}, conns: map[net.Conn]struct{}{}}
	for _, w := range cfg.Mesh.WorkloadsOnNode(cfg.Node, mesh.ModeAmbient) {
		p.pods[w.Addr] = w
	}
	for i, o := range cfg.Outbound {
		w, ok := cfg.Mesh.Workload(o.Source)
		if !ok || w.Node != cfg.Node || w.Mode != mesh.ModeAmbient {
			return nil, fmt.Errorf("ztunnel %s: outbound[%d]: source %q is not an ambient pod on this node", cfg.Node, i, o.Source)
		}
		if _, err := netip.ParseAddrPort(o.Destination); err != nil {
			return nil, fmt.Errorf("ztunnel %s: outbound[%d]: destination %q: %w", cfg.Node, i, o.Destination, err)
		}
	}
	var err error
	if p.tcp, err = istiometrics.NewTCP(cfg.Registry); err != nil {
		return nil, fmt.Errorf("ztunnel %s: %w", cfg.Node, err)
	}
	p.mgr = identity.NewManager(cfg.Issuer, cfg.CertTTL)
	p.client = hbone.NewClient(hbone.ClientConfig{Manager: p.mgr, MaxStreamsPerConn: cfg.PoolMaxStreams,
		IdleTimeout: cfg.PoolIdleTimeout, DialTimeout: cfg.ConnectTimeout, Dial: cfg.Dial, Logger: p.log})
	p.server = hbone.NewServer(hbone.ServerConfig{
		TLS:                  identity.ServerTLSFor(p.mgr, p.serverIdentity),
		Handler:              hbone.HandlerFunc(p.serveInbound),
		MaxConcurrentStreams: cfg.ServerStreams,
		Logger:               p.log,
	})
	return p, nil
}

// Registry returns the proxy's metrics registry.
func (p *Proxy) Registry() *prometheus.Registry { return p.reg }

// Certificates returns the identity manager (tests inspect rotation).
func (p *Proxy) Certificates() *identity.Manager { return p.mgr }

// PoolStats returns the outbound HBONE pool counters.
func (p *Proxy) PoolStats() hbone.PoolStats { return p.client.Stats() }

// OutboundAddrs returns the bound addresses of the explicit outbound
// listeners, in Config.Outbound order (useful with port 0).
func (p *Proxy) OutboundAddrs() []net.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]net.Addr(nil), p.outAddrs...)
}

// InboundAddrs returns the bound HBONE listener addresses.
func (p *Proxy) InboundAddrs() []net.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]net.Addr(nil), p.inAddrs...)
}

// Start opens every listener and starts serving. Certificates for local pods
// are fetched first, so a misplaced pod fails here rather than on traffic.
func (p *Proxy) Start(ctx context.Context) error {
	if p.started {
		return errors.New("ztunnel: already started")
	}
	p.started = true
	for _, w := range p.pods {
		if _, err := p.mgr.Certificate(ctx, w.ID); err != nil {
			return fmt.Errorf("ztunnel %s: %w", p.cfg.Node, err)
		}
	}
	fail := func(err error) error {
		p.closeListeners()
		return fmt.Errorf("ztunnel %s: %w", p.cfg.Node, err)
	}
	var lc net.ListenConfig
	if p.cfg.InboundListen != "" {
		ln, err := capture.Listen(ctx, capture.ModeTPROXY, p.cfg.InboundListen)
		if err != nil {
			return fail(err)
		}
		p.serveHBONE(ln)
	} else {
		for _, w := range p.ix.WorkloadsOnNode(p.cfg.Node, mesh.ModeAmbient) {
			ln, err := lc.Listen(ctx, "tcp", mesh.HBONEAddr(w.Addr).String())
			if err != nil {
				return fail(fmt.Errorf("inbound listener for %s: %w", w.Key, err))
			}
			p.serveHBONE(ln)
		}
	}
	for _, o := range p.cfg.Outbound {
		ln, err := lc.Listen(ctx, "tcp", o.Listen)
		if err != nil {
			return fail(fmt.Errorf("outbound listener %s: %w", o.Listen, err))
		}
		src, _ := p.ix.Workload(o.Source)
		dst := netip.MustParseAddrPort(o.Destination)
		p.addListener(ln, true)
		p.acceptLoop(ln, func(c net.Conn) (*mesh.WorkloadInfo, netip.AddrPort, error) { return src, dst, nil })
	}
	for _, cl := range p.cfg.Capture {
		ln, err := capture.Listen(ctx, cl.Mode, cl.Listen)
		if err != nil {
			return fail(err)
		}
		mode := cl.Mode
		p.addListener(ln, true)
		p.acceptLoop(ln, func(c net.Conn) (*mesh.WorkloadInfo, netip.AddrPort, error) {
			dst, err := capture.OriginalDst(mode, c)
			if err != nil {
				return nil, dst, err
			}
			ra, err := netip.ParseAddrPort(c.RemoteAddr().String())
			if err != nil {
				return nil, dst, err
			}
			src, ok := p.pods[ra.Addr().Unmap()]
			if !ok {
				return nil, dst, fmt.Errorf("captured connection from %s: not an ambient pod on this node", ra)
			}
			return src, dst, nil
		})
	}
	return nil
}

func (p *Proxy) addListener(ln net.Listener, outbound bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listeners = append(p.listeners, ln)
	if outbound {
		p.outAddrs = append(p.outAddrs, ln.Addr())
	} else {
		p.inAddrs = append(p.inAddrs, ln.Addr())
	}
}

func (p *Proxy) serveHBONE(ln net.Listener) {
	p.addListener(ln, false)
	p.serveWG.Add(1)
	go func() {
		defer p.serveWG.Done()
		if err := p.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("hbone listener stopped", "addr", ln.Addr(), "err", err)
		}
	}()
}

func (p *Proxy) closeListeners() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closing = true
	for _, ln := range p.listeners {
		_ = ln.Close()
	}
}

// serverIdentity picks the certificate for an inbound handshake: the pod
// whose IP the client connected to (podIP:15008, or the TPROXY'd original
// destination).
func (p *Proxy) serverIdentity(hello *tls.ClientHelloInfo) (identity.ID, error) {
	ap, err := netip.ParseAddrPort(hello.Conn.LocalAddr().String())
	if err != nil {
		return identity.ID{}, err
	}
	w, ok := p.pods[ap.Addr().Unmap()]
	if !ok {
		return identity.ID{}, fmt.Errorf("no local pod with IP %s", ap.Addr())
	}
	return w.ID, nil
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	p.wg.Done()
}

type sourceFunc func(net.Conn) (*mesh.WorkloadInfo, netip.AddrPort, error)

func (p *Proxy) acceptLoop(ln net.Listener, source sourceFunc) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				return
			}
			if !p.track(c) {
				hbone.Reset(c)
				return
			}
			go func() {
				defer p.untrack(c)
				src, dst, err := source(c)
				if err != nil {
					p.log.Warn("outbound connection dropped", "err", err)
					hbone.Reset(c)
					return
				}
				p.serveOutbound(c, src, dst)
			}()
		}
	}()
}

// Shutdown drains like ztunnel: listeners close at once, HBONE connections
// get GOAWAY, established connections may finish until ctx ends, then the
// rest are closed.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.closeListeners()
	err := p.server.Shutdown(ctx)
	p.serveWG.Wait()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		p.mu.Lock()
		for c := range p.conns {
			hbone.Reset(c)
		}
		p.mu.Unlock()
		_ = p.client.Close()
		<-done
		if err == nil {
			err = fmt.Errorf("ztunnel %s drain: %w", p.cfg.Node, ctx.Err())
		}
	}
	_ = p.client.Close()
	return err
}

func statusFlag(err error) string {
	var se *hbone.StatusError
	if errors.As(err, &se) && se.Code == http.StatusUnauthorized {
		return hbone.FlagDeny
	}
	return hbone.FlagConnect
}

func baggage(w *mesh.WorkloadInfo, cluster string) string {
	parts := []string{"k8s.namespace.name=" + w.Namespace, "k8s.pod.name=" + w.Name}
	if cluster != "" {
		parts = append([]string{"k8s.cluster.name=" + cluster}, parts...)
	}
	if app := w.App; app != "" {
		parts = append(parts, "service.name="+app)
	}
	if w.Version != "" {
		parts = append(parts, "service.version="+w.Version)
	}
	return strings.Join(parts, ",")
}
