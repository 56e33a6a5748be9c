package sidecar

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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ambientsim/ambientsim/validation/hbone"
	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/istiometrics"
	"github.com/ambientsim/ambientsim/validation/l7"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// Config configures the sidecar of one pod.
type Config struct {
	Pod     string // namespace/name of a sidecar-mode workload
	Mesh    *mesh.Index
	Issuer  identity.Issuer
	CertTTL time.Duration // 24 h
	// Outbound lists explicit capture listeners (plaintext HTTP from the app).
	Outbound []OutboundListener
	// AppPort is the local app's HTTP port that inbound traffic goes to (8080).
	AppPort  uint16
	Registry *prometheus.Registry
	Logger   *slog.Logger
}

// OutboundListener receives the app's requests for one destination (ip:port).
type OutboundListener struct {
	Listen      string `yaml:"listen"`
	Destination string `yaml:"destination"`
}

// Proxy is a running sidecar.
type Proxy struct {
	cfg     Config
	pod     *mesh.WorkloadInfo
	mgr     *identity.Manager
	metrics *istiometrics.HTTP
	reg     *prometheus.Registry
	log     *slog.Logger
	outTr   *http.Transport
	inTr    *http.Transport
	servers []*http.Server
	addrs   []net.Addr
	wg      sync.WaitGroup
	hb      *hbone.Server
	hbAddr  net.Addr
}

// New builds a sidecar from cfg.
func New(cfg Config) (*Proxy, error) {
	if cfg.Mesh == nil || cfg.Issuer == nil {
		return nil, errors.New("sidecar: Mesh and Issuer are required")
	}
	pod, ok := cfg.Mesh.Workload(cfg.Pod)
	if !ok || pod.Mode != mesh.ModeSidecar {
		return nil, fmt.Errorf("sidecar %q: not a sidecar-mode workload in the mesh", cfg.Pod)
	}
	for i, o := range cfg.Outbound {
		if _, err := netip.ParseAddrPort(o.Destination); err != nil {
			return nil, fmt.Errorf("sidecar %s: outbound[%d]: destination %q: %w", cfg.Pod, i, o.Destination, err)
		}
	}
	if cfg.CertTTL == 0 {
		cfg.CertTTL = 24 * time.Hour
	}
	if cfg.AppPort == 0 {
		cfg.AppPort = 8080
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := istiometrics.NewHTTP(cfg.Registry)
	if err != nil {
		return nil, fmt.Errorf("sidecar %s: %w", cfg.Pod, err)
	}
	p := &Proxy{cfg: cfg, pod: pod, metrics: m, reg: cfg.Registry, log: cfg.Logger.With("sidecar", cfg.Pod)}
	p.mgr = identity.NewManager(cfg.Issuer, cfg.CertTTL)
	p.outTr = &http.Transport{
		DialTLSContext: p.dialPeer,
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return hbone.DialFrom(ctx, pod.Addr, addr)
		},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 256,
		WriteBufferSize:     hbone.BufferSize,
		ReadBufferSize:      hbone.BufferSize,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	p.inTr = &http.Transport{MaxIdleConnsPerHost: 256, WriteBufferSize: hbone.BufferSize, ReadBufferSize: hbone.BufferSize, IdleConnTimeout: 90 * time.Second, DisableCompression: true}
	return p, nil
}

// Registry returns the sidecar's metrics registry.
func (p *Proxy) Registry() *prometheus.Registry { return p.reg }

// HBONEAddr returns the address of the HBONE listener (podIP:15008).
func (p *Proxy) HBONEAddr() net.Addr { return p.hbAddr }

// startHBONE accepts HBONE on podIP:15008, as Istio sidecars do for traffic
// from ambient node proxies and waypoints, and serves the tunnelled HTTP
// through the same inbound L7 proxy as mTLS traffic.
func (p *Proxy) startHBONE(ctx context.Context, inbound http.Handler) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", mesh.HBONEAddr(p.pod.Addr).String())
	if err != nil {
		return fmt.Errorf("sidecar %s HBONE: %w", p.cfg.Pod, err)
	}
	p.hbAddr = ln.Addr()
	sl := hbone.NewStreamListener(ln.Addr())
	p.hb = hbone.NewServer(hbone.ServerConfig{
		TLS: identity.ServerTLS(p.mgr, p.pod.ID),
		Handler: hbone.HandlerFunc(func(r *hbone.Request, s *hbone.ServerStream) {
			if r.Target.Addr().Unmap() != p.pod.Addr {
				s.Reject(http.StatusBadRequest)
				return
			}
			ds := l7.Downstream{ID: r.Peer, Authority: r.Target}
			if ra, err := netip.ParseAddrPort(s.RemoteAddr().String()); err == nil {
				ds.Addr = ra.Addr().Unmap()
			}
			l7.ServeTunnel(sl, r, s, ds)
		}),
		Logger: p.log,
	})
	hs := &http.Server{Handler: inbound, ConnContext: l7.ConnContext, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelDebug)}
	p.servers = append(p.servers, hs)
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		_ = hs.Serve(sl)
	}()
	go func() {
		defer p.wg.Done()
		if err := p.hb.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("HBONE listener stopped", "err", err)
		}
	}()
	return nil
}

// OutboundAddrs returns the bound outbound listener addresses in Config order.
func (p *Proxy) OutboundAddrs() []net.Addr { return append([]net.Addr(nil), p.addrs[1:]...) }

// Start opens the inbound mTLS listener and the outbound listeners.
func (p *Proxy) Start(ctx context.Context) error {
	if _, err := p.mgr.Certificate(ctx, p.pod.ID); err != nil {
		return fmt.Errorf("sidecar %s: %w", p.cfg.Pod, err)
	}
	var lc net.ListenConfig
	inAddr := netip.AddrPortFrom(p.pod.Addr, p.pod.SidecarPort).String()
	ln, err := lc.Listen(ctx, "tcp", inAddr)
	if err != nil {
		return fmt.Errorf("sidecar %s inbound: %w", p.cfg.Pod, err)
	}
	appTarget := netip.AddrPortFrom(p.pod.Addr, p.cfg.AppPort)
	inbound := l7.New(l7.Config{Mesh: p.cfg.Mesh, Reporter: "destination", Transport: p.inTr, Metrics: p.metrics,
		Authorize: true, Logger: p.log})
	in := &http.Server{
		TLSConfig: identity.ServerTLS(p.mgr, p.pod.ID),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ds := l7.Downstream{Authority: appTarget}
			if r.TLS != nil {
				ds.ID, _ = identity.PeerID(*r.TLS)
			}
			if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
				ds.Addr = ap.Addr().Unmap()
			}
			inbound.ServeHTTP(w, r.WithContext(l7.WithDownstream(r.Context(), ds)))
		}),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
	}
	p.serve(in, ln, true)
	if err := p.startHBONE(ctx, inbound); err != nil {
		_ = p.Shutdown(ctx)
		return err
	}

	outbound := l7.New(l7.Config{Mesh: p.cfg.Mesh, Reporter: "source", Transport: roundTripper(p.roundTripOut),
		Metrics: p.metrics, Route: true, Logger: p.log})
	for _, o := range p.cfg.Outbound {
		oln, err := lc.Listen(ctx, "tcp", o.Listen)
		if err != nil {
			_ = p.Shutdown(ctx)
			return fmt.Errorf("sidecar %s outbound %s: %w", p.cfg.Pod, o.Listen, err)
		}
		ds := l7.Downstream{ID: p.pod.ID, Addr: p.pod.Addr, Authority: netip.MustParseAddrPort(o.Destination)}
		hs := &http.Server{
			Handler:           outbound,
			ReadHeaderTimeout: 30 * time.Second,
			ConnContext:       func(ctx context.Context, _ net.Conn) context.Context { return l7.WithDownstream(ctx, ds) },
			ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
		}
		p.serve(hs, oln, false)
	}
	return nil
}

func (p *Proxy) serve(hs *http.Server, ln net.Listener, tlsOn bool) {
	p.servers = append(p.servers, hs)
	p.addrs = append(p.addrs, ln.Addr())
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var err error
		if tlsOn {
			err = hs.ServeTLS(ln, "", "")
		} else {
			err = hs.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("listener stopped", "addr", ln.Addr(), "err", err)
		}
	}()
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// roundTripOut sends requests for sidecar pods over mTLS (https scheme, so
// the transport uses dialPeer) and anything else in plaintext.
func (p *Proxy) roundTripOut(r *http.Request) (*http.Response, error) {
	if ap, err := netip.ParseAddrPort(r.URL.Host); err == nil {
		if w, ok := p.cfg.Mesh.WorkloadByIP(ap.Addr()); ok && w.Mode == mesh.ModeSidecar {
			r.URL.Scheme = "https"
		}
	}
	return p.outTr.RoundTrip(r)
}

// dialPeer opens mTLS to the destination pod's sidecar, pinning its identity.
func (p *Proxy) dialPeer(ctx context.Context, _, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("sidecar upstream %q: %w", addr, err)
	}
	w, ok := p.cfg.Mesh.WorkloadByIP(ap.Addr())
	if !ok {
		return nil, fmt.Errorf("sidecar upstream %s: unknown pod", addr)
	}
	raw, err := hbone.DialFrom(ctx, p.pod.Addr, netip.AddrPortFrom(w.Addr, w.SidecarPort).String())
	if err != nil {
		return nil, err
	}
	tc := tls.Client(raw, identity.ClientTLS(p.mgr, p.pod.ID, w.ID))
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("sidecar mTLS to %s: %w", w.Key, err)
	}
	return tc, nil
}

// Shutdown stops the listeners and lets in-flight requests finish until ctx ends.
func (p *Proxy) Shutdown(ctx context.Context) error {
	var errs []error
	// HTTP first: closing the idle keep-alive connections ends the HBONE
	// streams that carry them, which the HBONE server then drains.
	for _, hs := range p.servers {
		if err := hs.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			_ = hs.Close()
		}
	}
	if p.hb != nil {
		if err := p.hb.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	p.wg.Wait()
	p.outTr.CloseIdleConnections()
	p.inTr.CloseIdleConnections()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sidecar %s shutdown: %w", p.cfg.Pod, err)
	}
	return nil
}
