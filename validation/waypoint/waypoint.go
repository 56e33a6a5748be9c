package waypoint

import (
	"context"
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

// Config configures a waypoint replica.
type Config struct {
	Name    string // namespace/name of the waypoint in the mesh
	Mesh    *mesh.Index
	Issuer  identity.Issuer
	CertTTL time.Duration // 24 h
	// Listen overrides the HBONE address (default <waypoint IP>:15008).
	Listen               string
	MaxConcurrentStreams uint32        // 100, as Istio's waypoint listener
	PoolMaxStreams       int           // upstream HBONE pool cap (100)
	PoolIdleTimeout      time.Duration // 1 h, meshConfig.hboneIdleTimeout
	Registry             *prometheus.Registry
	Logger               *slog.Logger
}

// Proxy is a running waypoint.
type Proxy struct {
	cfg    Config
	info   *mesh.WaypointInfo
	mgr    *identity.Manager
	server *hbone.Server
	client *hbone.Client
	tr     *http.Transport
	hs     *http.Server
	sl     *hbone.StreamListener
	reg    *prometheus.Registry
	log    *slog.Logger
	tcp    *istiometrics.TCP

	ln      net.Listener
	serveWG sync.WaitGroup
}

// New builds a waypoint from cfg.
func New(cfg Config) (*Proxy, error) {
	if cfg.Mesh == nil || cfg.Issuer == nil {
		return nil, errors.New("waypoint: Mesh and Issuer are required")
	}
	info, ok := cfg.Mesh.Waypoint(cfg.Name)
	if !ok {
		return nil, fmt.Errorf("waypoint %q: not in the mesh's waypoints", cfg.Name)
	}
	if cfg.CertTTL == 0 {
		cfg.CertTTL = 24 * time.Hour
	}
	if cfg.MaxConcurrentStreams == 0 {
		cfg.MaxConcurrentStreams = 100
	}
	if cfg.PoolIdleTimeout == 0 {
		cfg.PoolIdleTimeout = time.Hour
	}
	if cfg.Listen == "" {
		cfg.Listen = mesh.HBONEAddr(info.Addr).String()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	metrics, err := istiometrics.NewHTTP(cfg.Registry)
	if err != nil {
		return nil, fmt.Errorf("waypoint %s: %w", cfg.Name, err)
	}
	p := &Proxy{cfg: cfg, info: info, reg: cfg.Registry, log: cfg.Logger.With("waypoint", cfg.Name)}
	if p.tcp, err = istiometrics.NewTCP(cfg.Registry); err != nil {
		return nil, fmt.Errorf("waypoint %s: %w", cfg.Name, err)
	}
	p.mgr = identity.NewManager(cfg.Issuer, cfg.CertTTL)
	p.client = hbone.NewClient(hbone.ClientConfig{Manager: p.mgr, MaxStreamsPerConn: cfg.PoolMaxStreams,
		IdleTimeout: cfg.PoolIdleTimeout, Logger: p.log})
	p.tr = &http.Transport{
		DialContext:         p.dialEndpoint,
		MaxIdleConnsPerHost: 256,
		WriteBufferSize:     hbone.BufferSize,
		ReadBufferSize:      hbone.BufferSize,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	p.server = hbone.NewServer(hbone.ServerConfig{
		TLS:                  identity.ServerTLS(p.mgr, info.ID),
		Handler:              hbone.HandlerFunc(p.serveHBONE),
		MaxConcurrentStreams: cfg.MaxConcurrentStreams,
		Logger:               p.log,
	})
	handler := l7.New(l7.Config{Mesh: cfg.Mesh, Reporter: "waypoint", Transport: p.tr, Metrics: metrics,
		Authorize: true, Route: true, Logger: p.log})
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	p.hs = &http.Server{
		Handler:           handler,
		Protocols:         &protos,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       time.Hour,
		ConnContext:       l7.ConnContext,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
	}
	return p, nil
}

// Registry returns the waypoint's metrics registry.
func (p *Proxy) Registry() *prometheus.Registry { return p.reg }

// Addr returns the HBONE listener address once started.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// Start listens for HBONE and starts the HTTP layer.
func (p *Proxy) Start(ctx context.Context) error {
	if _, err := p.mgr.Certificate(ctx, p.info.ID); err != nil {
		return fmt.Errorf("waypoint %s: %w", p.cfg.Name, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("waypoint %s: %w", p.cfg.Name, err)
	}
	p.ln = ln
	p.sl = hbone.NewStreamListener(ln.Addr())
	p.serveWG.Add(2)
	go func() {
		defer p.serveWG.Done()
		if err := p.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("hbone listener stopped", "err", err)
		}
	}()
	go func() {
		defer p.serveWG.Done()
		_ = p.hs.Serve(p.sl)
	}()
	return nil
}

func (p *Proxy) serveHBONE(r *hbone.Request, s *hbone.ServerStream) {
	ds := l7.Downstream{ID: r.Peer, Authority: r.Target}
	if ra, err := netip.ParseAddrPort(s.RemoteAddr().String()); err == nil {
		ds.Addr = ra.Addr().Unmap()
	}
	if svc, ok := p.cfg.Mesh.ServiceByVIP(r.Target.Addr()); ok {
		for _, sp := range svc.Ports {
			if sp.Port == r.Target.Port() && sp.Protocol == "tcp" {
				p.serveTCP(r, s, ds, svc, sp)
				return
			}
		}
	}
	l7.ServeTunnel(p.sl, r, s, ds)
}

// serveTCP proxies a service port declared tcp as Envoy's tcp_proxy does:
// no HTTP parsing, no L7 policy, one upstream HBONE stream per tunnel, and
// istio_tcp_* metrics with reporter "waypoint".
func (p *Proxy) serveTCP(r *hbone.Request, s *hbone.ServerStream, ds l7.Downstream, svc *mesh.ServiceInfo, sp mesh.ServicePort) {
	labels := istiometrics.TCPConn{Reporter: "waypoint", SecurityPolicy: "mutual_tls", Service: svc.MetricService(),
		Source: istiometrics.Peer{Principal: ds.ID.String(), Namespace: ds.ID.Namespace}}
	if w, ok := p.cfg.Mesh.WorkloadByIP(ds.Addr); ok && w.ID == ds.ID {
		labels.Source = w.Peer()
	}
	ep, err := svc.PickEndpoint()
	if err != nil {
		s.Reject(http.StatusServiceUnavailable)
		return
	}
	labels.Destination = ep.Peer()
	rec := p.tcp.Open(labels)
	up, err := p.dialEndpoint(r.Context, "tcp", netip.AddrPortFrom(ep.Addr, sp.TargetPort).String())
	if err != nil {
		rec.Close(hbone.FlagConnect)
		s.Reject(http.StatusServiceUnavailable)
		return
	}
	if err := s.Accept(); err != nil {
		_ = up.Close()
		rec.Close(hbone.FlagConnect)
		return
	}
	hbone.Splice(s, up, rec.Received, rec.Sent)
	rec.Close(hbone.FlagNone)
}

// dialEndpoint opens one HBONE stream to a pod's node proxy for the HTTP
// transport: one upstream app connection, one CONNECT stream.
func (p *Proxy) dialEndpoint(ctx context.Context, _, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("waypoint upstream %q: %w", addr, err)
	}
	w, ok := p.cfg.Mesh.WorkloadByIP(ap.Addr())
	if !ok {
		return nil, fmt.Errorf("waypoint upstream %s: unknown pod", addr)
	}
	if w.Mode == mesh.ModeNone {
		return hbone.DialFrom(ctx, p.info.Addr, addr) // out of mesh: plaintext
	}
	// Ambient pods (their node proxy) and sidecar pods both accept HBONE on podIP:15008.
	return p.client.Dial(ctx, hbone.Target{Source: p.info.ID, SourceIP: p.info.Addr, Expected: []identity.ID{w.ID},
		NextHop: mesh.HBONEAddr(w.Addr).String(), Authority: addr})
}

// Shutdown stops accepting HBONE, lets in-flight requests finish until ctx
// ends (Envoy's drain), then closes everything.
func (p *Proxy) Shutdown(ctx context.Context) error {
	if p.ln == nil {
		return p.client.Close()
	}
	_ = p.ln.Close()
	errHTTP := p.hs.Shutdown(ctx)
	if errHTTP != nil {
		_ = p.hs.Close()
	}
	errHBONE := p.server.Shutdown(ctx)
	p.serveWG.Wait()
	p.tr.CloseIdleConnections()
	_ = p.client.Close()
	if err := errors.Join(errHTTP, errHBONE); err != nil {
		return fmt.Errorf("waypoint %s shutdown: %w", p.cfg.Name, err)
	}
	return nil
}
