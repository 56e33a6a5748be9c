package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/istiometrics"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

type usageError struct{ error }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "meshnode:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var roles = map[string]func(ctx context.Context, args []string) error{
	"ca":       runCA,
	"ztunnel":  runZtunnel,
	"waypoint": runWaypoint,
	"sidecar":  runSidecar,
	"echo":     runEcho,
	"load":     runLoad,
	"mesh":     runMesh,
}

func run(args []string) error {
	if len(args) == 0 || roles[args[0]] == nil {
		return usageError{fmt.Errorf("want a role: ca, ztunnel, waypoint, sidecar, echo, load or mesh")}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return roles[args[0]](ctx, args[1:])
}

// common holds the flags every proxy role shares.
type common struct {
	fs       *flag.FlagSet
	meshPath string
	pki      string
	caURL    string
	metrics  string
	drain    time.Duration
	logLevel string
}

func newCommon(role string) *common {
	c := &common{fs: flag.NewFlagSet(role, flag.ContinueOnError)}
	c.fs.StringVar(&c.meshPath, "mesh", "", "mesh description (YAML, see package mesh)")
	c.fs.StringVar(&c.pki, "pki", "", "directory with root.pem and bootstrap/ credentials written by `meshnode ca`")
	c.fs.StringVar(&c.caURL, "ca-url", "", "CA server URL, e.g. https://127.0.0.1:15012")
	c.fs.StringVar(&c.metrics, "metrics", "", "address for /metrics and /ready (empty: none)")
	c.fs.DurationVar(&c.drain, "drain", 5*time.Second, "drain deadline after SIGTERM")
	c.fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	return c
}

func (c *common) parse(args []string, need ...string) error {
	if err := c.fs.Parse(args); err != nil {
		return usageError{err}
	}
	for _, n := range need {
		if f := c.fs.Lookup(n); f != nil && f.Value.String() == "" {
			return usageError{fmt.Errorf("%s: --%s is required", c.fs.Name(), n)}
		}
	}
	return nil
}

func (c *common) logger() *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.logLevel))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})).With("role", c.fs.Name())
}

func (c *common) loadMesh() (*mesh.Index, error) {
	m, err := mesh.Load(c.meshPath)
	if err != nil {
		return nil, err
	}
	ix, err := mesh.Compile(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.meshPath, err)
	}
	return ix, nil
}

// issuer returns a RemoteIssuer presenting the bootstrap credential name.
func (c *common) issuer(ix *mesh.Index, name string) (*identity.RemoteIssuer, error) {
	roots, err := identity.LoadRoots(filepath.Join(c.pki, "root.pem"))
	if err != nil {
		return nil, err
	}
	cred, err := identity.LoadCredential(filepath.Join(c.pki, "bootstrap", name+".pem"))
	if err != nil {
		return nil, err
	}
	return identity.NewRemoteIssuer(c.caURL, ix.TrustDomain, roots, cred), nil
}

// serveMetrics serves reg (plus Go and process collectors) until ctx ends.
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry, log *slog.Logger) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", istiometrics.Handler(reg))
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ready\n")) })
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(ln) }()
	log.Info("metrics listening", "addr", ln.Addr())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		<-done
	}, nil
}

// waitAndDrain blocks until ctx ends (SIGTERM), then calls shutdown with the drain deadline.
func waitAndDrain(ctx context.Context, drain time.Duration, log *slog.Logger, shutdown func(context.Context) error) error {
	<-ctx.Done()
	log.Info("draining", "deadline", drain)
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := shutdown(dctx); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	log.Info("stopped cleanly")
	return nil
}

// kv parses "a=1,b=2" flag values.
func kv(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: want key=value pairs separated by commas", s)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// listFlag collects repeated flag values.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }
