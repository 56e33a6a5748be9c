package l7

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/ambientsim/ambientsim/validation/hbone"
	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/istiometrics"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// Downstream is what the connection layer knows about the peer of a request.
type Downstream struct {
	ID        identity.ID    // verified peer identity (zero for plaintext)
	Addr      netip.Addr     // peer IP (the source pod's IP for ztunnel HBONE)
	Authority netip.AddrPort // the address the client meant (HBONE :authority or original destination)
}

type downstreamKey struct{}

// WithDownstream stores d in ctx (use it in http.Server.ConnContext).
func WithDownstream(ctx context.Context, d Downstream) context.Context {
	return context.WithValue(ctx, downstreamKey{}, d)
}

// DownstreamFrom returns the Downstream stored in ctx.
func DownstreamFrom(ctx context.Context) (Downstream, bool) {
	d, ok := ctx.Value(downstreamKey{}).(Downstream)
	return d, ok
}

// Config configures a Proxy.
type Config struct {
	Mesh     *mesh.Index
	Reporter string // "waypoint", "source" (outbound sidecar) or "destination" (inbound sidecar)
	// Transport carries requests to endpoints; requests arrive with URL.Host
	// set to the endpoint's podIP:targetPort.
	Transport http.RoundTripper
	Metrics   *istiometrics.HTTP
	// Authorize enables L7 policy enforcement (waypoints and inbound sidecars).
	Authorize bool
	// Route enables HTTPRoute routing (waypoints and outbound sidecars);
	// without it requests go to the addressed pod unchanged.
	Route bool
	// SecurityPolicy labels metrics: "mutual_tls" or "none".
	SecurityPolicy string
	Logger         *slog.Logger
	// MaxRetryBody is the largest request body buffered for retries (1 MiB).
	MaxRetryBody int64
}

// Proxy is an L7 proxy handler.
type Proxy struct{ cfg Config }

// New returns a Proxy.
func New(cfg Config) *Proxy {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxRetryBody == 0 {
		cfg.MaxRetryBody = 1 << 20
	}
	if cfg.SecurityPolicy == "" {
		cfg.SecurityPolicy = "mutual_tls"
	}
	return &Proxy{cfg: cfg}
}

// hopHeaders are removed before forwarding (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// ServeHTTP authorizes, routes and forwards one request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ds, _ := DownstreamFrom(r.Context())
	rec := istiometrics.Request{Reporter: p.cfg.Reporter, Protocol: "http", SecurityPolicy: p.cfg.SecurityPolicy,
		Source: p.sourcePeer(ds), RequestBytes: max(r.ContentLength, 0)}
	if r.ProtoMajor == 2 && r.Header.Get("content-type") == "application/grpc" {
		rec.Protocol = "grpc"
	}
	defer func() {
		rec.Duration = time.Since(start)
		if p.cfg.Metrics != nil {
			p.cfg.Metrics.Record(rec)
		}
	}()
	fail := func(code int, flag, msg string) {
		rec.Code, rec.ResponseFlags = code, flag
		body := msg + "\n"
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
		rec.ResponseBytes = int64(len(body))
	}

	target := ds.Authority
	if !target.IsValid() {
		fail(http.StatusBadRequest, "NR", "no destination address")
		return
	}
	svc, pod := p.lookup(target)
	if svc == nil && pod == nil {
		fail(http.StatusNotFound, "NR", "route_not_found")
		return
	}
	if svc != nil {
		rec.Service = svc.MetricService()
	}
	if p.cfg.Authorize {
		svcs := []*mesh.ServiceInfo{}
		if svc != nil {
			svcs = append(svcs, svc)
		} else {
			svcs = p.servicesOf(pod)
		}
		d := Authorize(p.cfg.Mesh, AuthzInput{Source: ds.ID, Method: r.Method, Path: r.URL.Path, Port: target.Port(), Services: svcs})
		if !d.Allowed {
			p.cfg.Logger.Info("request denied", "src", ds.ID, "method", r.Method, "path", r.URL.Path, "policy", d.Policy)
			fail(http.StatusForbidden, "-", "RBAC: access denied")
			return
		}
	}

	// Decide the backend service and port.
	var rule *mesh.RouteRule
	backendSvc, backendPort := svc, target.Port()
	if svc != nil && p.cfg.Route {
		dec, err := Route(p.cfg.Mesh, svc, target.Port(), r, nil)
		if err != nil {
			fail(http.StatusNotFound, "NR", "route_not_found")
			return
		}
		rule, backendSvc, backendPort = dec.Rule, dec.Service, dec.Port
		rec.Service = backendSvc.MetricService()
	}

	// Buffer small bodies so a retry can resend them.
	retries := 0
	var timeout, perTry time.Duration
	if rule != nil {
		retries, timeout, perTry = rule.Retries, rule.Timeout, rule.PerTryTimeout
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		if retries > 0 && r.ContentLength >= 0 && r.ContentLength <= p.cfg.MaxRetryBody {
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				fail(http.StatusBadRequest, "DPE", "bad request body")
				return
			}
		} else {
			retries = 0
		}
	}
	ctx := r.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}

	var (
		resp    *http.Response
		err     error
		dst     *mesh.WorkloadInfo
		cancels []context.CancelFunc // per-try contexts live until the response is copied
	)
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	for attempt := 0; ; attempt++ {
		dst, err = p.endpoint(backendSvc, backendPort, pod)
		if err != nil {
			fail(http.StatusServiceUnavailable, "UH", "no healthy upstream")
			return
		}
		port := backendPort
		if backendSvc != nil {
			if tp, ok := backendSvc.TargetPort(backendPort); ok {
				port = tp
			}
		}
		actx := ctx
		if perTry > 0 {
			var c context.CancelFunc
			actx, c = context.WithTimeout(ctx, perTry)
			cancels = append(cancels, c)
		}
		out := r.Clone(actx)
		out.RequestURI = ""
		out.URL.Scheme = "http"
		out.URL.Host = netip.AddrPortFrom(dst.Addr, port).String()
		out.Host = r.Host
		for _, h := range hopHeaders {
			out.Header.Del(h)
		}
		if body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
			out.ContentLength = int64(len(body))
		} else if attempt > 0 {
			out.Body = http.NoBody
		}
		resp, err = p.cfg.Transport.RoundTrip(out)
		retryable := err != nil || resp.StatusCode == http.StatusServiceUnavailable
		if !retryable || attempt >= retries || ctx.Err() != nil {
			break
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
	}
	rec.Destination = dst.Peer()
	if err != nil {
		p.cfg.Logger.Info("upstream request failed", "endpoint", dst.Key, "err", err, "downstream_err", r.Context().Err())
		switch {
		case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
			fail(http.StatusGatewayTimeout, "UT", "upstream request timeout")
		case retries > 0:
			fail(http.StatusServiceUnavailable, "URX", "upstream connect error or disconnect/reset before headers")
		default:
			fail(http.StatusServiceUnavailable, "UF", "upstream connect error or disconnect/reset before headers")
		}
		return
	}
	defer resp.Body.Close()
	for _, h := range hopHeaders {
		resp.Header.Del(h)
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	rec.Code = resp.StatusCode
	w.WriteHeader(resp.StatusCode)
	// A fixed buffer: flushWriter flushes a write shorter than the buffer
	// (the upstream had no more bytes ready), so the size must not change.
	bp := hbone.GetBuffer()
	n, cerr := hbone.CopyBuffer(flushWriter{w}, resp.Body, *bp, nil)
	hbone.PutBuffer(bp)
	rec.ResponseBytes = n
	if cerr != nil {
		rec.ResponseFlags = "UPE"
		if errors.Is(cerr, context.DeadlineExceeded) {
			rec.ResponseFlags = "UT"
		}
		// Abort the downstream response so the client sees the failure.
		panic(http.ErrAbortHandler)
	}
}

// flushWriter flushes after each short write so streamed responses are not
// held back by the proxy (Envoy streams too); full-buffer writes of a bulk
// body are left to the server's own buffering.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(http.Flusher); ok && err == nil && len(p) < hbone.BufferSize {
		fl.Flush()
	}
	return n, err
}

func (p *Proxy) lookup(target netip.AddrPort) (*mesh.ServiceInfo, *mesh.WorkloadInfo) {
	if s, ok := p.cfg.Mesh.ServiceByVIP(target.Addr()); ok {
		return s, nil
	}
	if w, ok := p.cfg.Mesh.WorkloadByIP(target.Addr()); ok {
		return nil, w
	}
	return nil, nil
}

func (p *Proxy) servicesOf(w *mesh.WorkloadInfo) []*mesh.ServiceInfo {
	var out []*mesh.ServiceInfo
	for _, s := range p.cfg.Mesh.Mesh.Services {
		info, _ := p.cfg.Mesh.Service(s.Namespace + "/" + s.Name)
		for _, ep := range info.Endpoints {
			if ep == w {
				out = append(out, info)
				break
			}
		}
	}
	return out
}

func (p *Proxy) endpoint(svc *mesh.ServiceInfo, port uint16, pod *mesh.WorkloadInfo) (*mesh.WorkloadInfo, error) {
	if svc == nil {
		return pod, nil
	}
	return svc.PickEndpoint()
}

func (p *Proxy) sourcePeer(ds Downstream) istiometrics.Peer {
	if w, ok := p.cfg.Mesh.WorkloadByIP(ds.Addr); ok && w.ID == ds.ID {
		return w.Peer()
	}
	if ds.ID.IsZero() {
		return istiometrics.Peer{}
	}
	return istiometrics.Peer{Principal: ds.ID.String(), Namespace: ds.ID.Namespace}
}

// Conn is a connection that knows its Downstream (an accepted HBONE stream).
type Conn struct {
	net.Conn
	Downstream Downstream
}

// ConnContext is an http.Server.ConnContext that stores the Downstream of
// a *Conn in the request context.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*Conn); ok {
		return WithDownstream(ctx, lc.Downstream)
	}
	return ctx
}

// ServeTunnel accepts an HBONE stream and serves the HTTP inside it through
// sl until the stream ends; ds describes the peer.
func ServeTunnel(sl *hbone.StreamListener, r *hbone.Request, s *hbone.ServerStream, ds Downstream) {
	if err := s.Accept(); err != nil {
		return
	}
	if !sl.Push(&Conn{Conn: s, Downstream: ds}) {
		return
	}
	select {
	case <-s.Done():
	case <-r.Context.Done():
	}
}
