package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ambientsim/ambientsim/validation/echo"
	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/loadgen"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/sidecar"
	"github.com/ambientsim/ambientsim/validation/waypoint"
	"github.com/ambientsim/ambientsim/validation/ztunnel"
)

func runCA(ctx context.Context, args []string) error {
	c := newCommon("ca")
	listen := c.fs.String("listen", "127.0.0.1:15012", "CA server address")
	ttl := c.fs.Duration("max-ttl", 24*time.Hour, "longest workload certificate lifetime")
	if err := c.parse(args, "mesh", "pki"); err != nil {
		return err
	}
	c.allOptional = true
	log := c.logger()
	ix, err := c.loadMesh(ctx, log)
	if err != nil {
		return err
	}
	ca, err := identity.NewCA(ix.TrustDomain, *ttl)
	if err != nil {
		return err
	}
	if err := ca.WriteRoot(filepath.Join(c.pki, "root.pem")); err != nil {
		return err
	}
	nodes := map[string]bool{}
	for _, w := range ix.Mesh.Workloads {
		info, _ := ix.Workload(w.Namespace + "/" + w.Name)
		ca.Placement().Place(w.Node, info.ID)
		switch info.Mode {
		case mesh.ModeAmbient:
			nodes[w.Node] = true
		case mesh.ModeSidecar:
			cred, err := ca.Issue(info.ID, 10*365*24*time.Hour)
			if err != nil {
				return err
			}
			if err := identity.WriteCredential(filepath.Join(c.pki, "bootstrap", w.Namespace+"."+w.Name+".pem"), cred); err != nil {
				return err
			}
		}
	}
	for node := range nodes {
		cred, err := ca.IssueNode(node, 10*365*24*time.Hour)
		if err != nil {
			return err
		}
		if err := identity.WriteCredential(filepath.Join(c.pki, "bootstrap", "node-"+node+".pem"), cred); err != nil {
			return err
		}
	}
	for _, wp := range ix.Mesh.Waypoints {
		info, _ := ix.Waypoint(wp.Namespace + "/" + wp.Name)
		cred, err := ca.Issue(info.ID, 10*365*24*time.Hour)
		if err != nil {
			return err
		}
		if err := identity.WriteCredential(filepath.Join(c.pki, "bootstrap", wp.Namespace+"."+wp.Name+".pem"), cred); err != nil {
			return err
		}
	}
	tlsCfg, err := ca.ServerTLSForCA()
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *listen)
	if err != nil {
		return fmt.Errorf("CA listener: %w", err)
	}
	hs := &http.Server{Handler: ca.Handler(), TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	done := make(chan error, 1)
	go func() { done <- hs.ServeTLS(ln, "", "") }()
	log.Info("CA serving", "addr", ln.Addr(), "pki", c.pki)
	return c.serve(ctx, prometheus.NewRegistry(), log, func(dctx context.Context) error {
		err := hs.Shutdown(dctx)
		<-done
		return err
	})
}

func runZtunnel(ctx context.Context, args []string) error {
	c := newCommon("ztunnel")
	node := c.fs.String("node", "", "node name (its ambient pods are served)")
	var outbound, capture listFlag
	c.fs.Var(&outbound, "outbound", "explicit capture: source=NS/POD,listen=ADDR,dest=IP:PORT (repeatable)")
	c.fs.Var(&capture, "capture", "transparent capture: listen=ADDR,mode=redirect|tproxy (repeatable)")
	inbound := c.fs.String("inbound-listen", "", "single TPROXY HBONE listener (default: podIP:15008 per pod)")
	poolStreams := c.fs.Int("pool-max-streams", 100, "HBONE streams per pooled connection")
	poolIdle := c.fs.Duration("pool-idle", 5*time.Minute, "release pooled connections idle this long")
	if err := c.parse(args, "mesh", "pki", "ca-url", "node"); err != nil {
		return err
	}
	cfg := ztunnel.Config{Node: *node, InboundListen: *inbound, PoolMaxStreams: *poolStreams, PoolIdleTimeout: *poolIdle}
	for _, o := range outbound {
		m, err := kv(o)
		if err != nil {
			return usageError{fmt.Errorf("--outbound %w", err)}
		}
		cfg.Outbound = append(cfg.Outbound, ztunnel.OutboundListener{Listen: m["listen"], Source: m["source"], Destination: m["dest"]})
	}
	for _, o := range capture {
		m, err := kv(o)
		if err != nil {
			return usageError{fmt.Errorf("--capture %w", err)}
		}
		cfg.Capture = append(cfg.Capture, ztunnel.CaptureListener{Listen: m["listen"], Mode: m["mode"]})
	}
	log := c.logger()
	ix, err := c.loadMesh(ctx, log)
	if err != nil {
		return err
	}
	for i := range cfg.Outbound {
		if cfg.Outbound[i].Destination, err = resolveHostPort(ctx, cfg.Outbound[i].Destination, c.resolveOptions(ctx, log)); err != nil {
			return fmt.Errorf("--outbound dest: %w", err)
		}
	}
	iss, err := c.issuer(ctx, ix, "node-"+*node)
	if err != nil {
		return err
	}
	defer iss.Close()
	cfg.Mesh, cfg.Issuer, cfg.Logger, cfg.Registry = ix, iss, log, prometheus.NewRegistry()
	p, err := ztunnel.New(cfg)
	if err != nil {
		return usageError{err}
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	log.Info("ztunnel serving", "node", *node, "inbound", p.InboundAddrs(), "outbound", p.OutboundAddrs())
	return c.serve(ctx, cfg.Registry, log, p.Shutdown)
}

func runWaypoint(ctx context.Context, args []string) error {
	c := newCommon("waypoint")
	name := c.fs.String("name", "", "waypoint NS/NAME in the mesh")
	listen := c.fs.String("listen", "", "HBONE address (default <waypoint IP>:15008)")
	if err := c.parse(args, "mesh", "pki", "ca-url", "name"); err != nil {
		return err
	}
	log := c.logger()
	ix, err := c.loadMesh(ctx, log)
	if err != nil {
		return err
	}
	wp, ok := ix.Waypoint(*name)
	if !ok {
		return usageError{fmt.Errorf("--name %q: no such waypoint in %s", *name, c.meshPath)}
	}
	iss, err := c.issuer(ctx, ix, wp.Namespace+"."+wp.Name)
	if err != nil {
		return err
	}
	defer iss.Close()
	reg := prometheus.NewRegistry()
	p, err := waypoint.New(waypoint.Config{Name: *name, Mesh: ix, Issuer: iss, Listen: *listen, Registry: reg, Logger: log})
	if err != nil {
		return usageError{err}
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	log.Info("waypoint serving", "addr", p.Addr())
	return c.serve(ctx, reg, log, p.Shutdown)
}

func runSidecar(ctx context.Context, args []string) error {
	c := newCommon("sidecar")
	pod := c.fs.String("pod", "", "sidecar-mode pod NS/NAME in the mesh")
	appPort := c.fs.Uint("app-port", 8080, "local app HTTP port for inbound traffic")
	var outbound listFlag
	c.fs.Var(&outbound, "outbound", "explicit capture: listen=ADDR,dest=IP:PORT (repeatable)")
	if err := c.parse(args, "mesh", "pki", "ca-url", "pod"); err != nil {
		return err
	}
	cfg := sidecar.Config{Pod: *pod, AppPort: uint16(*appPort)}
	for _, o := range outbound {
		m, err := kv(o)
		if err != nil {
			return usageError{fmt.Errorf("--outbound %w", err)}
		}
		cfg.Outbound = append(cfg.Outbound, sidecar.OutboundListener{Listen: m["listen"], Destination: m["dest"]})
	}
	log := c.logger()
	ix, err := c.loadMesh(ctx, log)
	if err != nil {
		return err
	}
	w, ok := ix.Workload(*pod)
	if !ok {
		return usageError{fmt.Errorf("--pod %q: no such workload in %s", *pod, c.meshPath)}
	}
	for i := range cfg.Outbound {
		if cfg.Outbound[i].Destination, err = resolveHostPort(ctx, cfg.Outbound[i].Destination, c.resolveOptions(ctx, log)); err != nil {
			return fmt.Errorf("--outbound dest: %w", err)
		}
	}
	iss, err := c.issuer(ctx, ix, w.Namespace+"."+w.Name)
	if err != nil {
		return err
	}
	defer iss.Close()
	cfg.Mesh, cfg.Issuer, cfg.Logger, cfg.Registry = ix, iss, log, prometheus.NewRegistry()
	p, err := sidecar.New(cfg)
	if err != nil {
		return usageError{err}
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	log.Info("sidecar serving", "pod", *pod, "outbound", p.OutboundAddrs())
	return c.serve(ctx, cfg.Registry, log, p.Shutdown)
}

func runEcho(ctx context.Context, args []string) error {
	c := newCommon("echo")
	name := c.fs.String("name", "echo", "pod name reported in x-echo-pod")
	httpAddr := c.fs.String("http", "", "HTTP listen address")
	tcpAddr := c.fs.String("tcp", "", "TCP echo listen address")
	st := c.fs.Duration("service-time", 0, "time spent per HTTP request before answering")
	size := c.fs.Int("response-size", 1024, "default HTTP response body size in bytes")
	if err := c.parse(args); err != nil {
		return err
	}
	if *httpAddr == "" && *tcpAddr == "" {
		return usageError{fmt.Errorf("echo: set --http and/or --tcp")}
	}
	log := c.logger()
	srv := &echo.Server{Name: *name, ServiceTime: *st, ResponseSize: *size}
	if *httpAddr != "" {
		a, err := srv.ListenHTTP(ctx, *httpAddr)
		if err != nil {
			return err
		}
		log.Info("echo http", "addr", a)
	}
	if *tcpAddr != "" {
		a, err := srv.ListenTCP(ctx, *tcpAddr)
		if err != nil {
			_ = srv.Shutdown(context.Background())
			return err
		}
		log.Info("echo tcp", "addr", a)
	}
	return c.serve(ctx, prometheus.NewRegistry(), log, srv.Shutdown)
}

func runLoad(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	url := fs.String("url", "", "target URL")
	via := fs.String("via", "", "dial this address instead of the URL's host (a capture listener)")
	qps := fs.Float64("qps", 0, "total requests per second (0 with --mode closed: as fast as possible)")
	conns := fs.Int("c", 8, "connections")
	dur := fs.Duration("t", 10*time.Second, "duration")
	n := fs.Int64("n", 0, "exact number of requests (overrides -t)")
	mode := fs.String("mode", "", "open (default when --qps > 0) or closed")
	keepAlive := fs.Bool("keepalive", true, "reuse connections")
	payload := fs.Int("payload-size", 0, "request body bytes (POST when > 0)")
	res := fs.Float64("resolution", 0.0001, "histogram resolution in seconds")
	out := fs.String("json", "", "write the fortio-format result here (- or /dev/stdout: to standard output)")
	labels := fs.String("labels", "", "free-form run label (the result's Labels: this, then open-loop or closed-loop)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *url == "" {
		return usageError{fmt.Errorf("load: --url is required")}
	}
	o := loadgen.Options{URL: *url, QPS: *qps, Connections: *conns, Duration: *dur, Requests: *n, Mode: *mode,
		NewConnectionPerRequest: !*keepAlive, PayloadSize: *payload, Resolution: *res, Labels: *labels}
	if *via != "" {
		target := *via
		o.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, target)
		}
	}
	r, err := loadgen.Run(ctx, o)
	if r != nil {
		fmt.Println(r.Summary())
		if *out == "-" || *out == "/dev/stdout" {
			// On kind the result is read back from the container's log: a
			// temp file renamed over /dev/stdout would never reach it.
			data, jerr := r.MarshalIndent()
			if jerr != nil {
				return jerr
			}
			if _, werr := os.Stdout.Write(data); werr != nil {
				return werr
			}
		} else if *out != "" {
			if werr := r.WriteJSON(*out); werr != nil {
				return werr
			}
		}
	}
	return err
}

// serve serves the role's metrics (if --metrics is set) until ctx ends,
// then drains with shutdown; if the metrics listener fails, the role is
// shut down at once.
func (c *common) serve(ctx context.Context, reg *prometheus.Registry, log *slog.Logger, shutdown func(context.Context) error) error {
	stopMetrics, err := serveMetrics(ctx, c.metrics, reg, log)
	if err != nil {
		_ = shutdown(context.Background())
		return err
	}
	defer stopMetrics()
	return waitAndDrain(ctx, c.drain, log, shutdown)
}
