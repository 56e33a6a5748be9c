package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
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
		os.Exit(exitCode(err))
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
	return runRole(ctx, args[0], args[1:])
}

// runRole runs one role until ctx ends. A role whose mesh names moved
// (--re-resolve) drains and returns errAddressesChanged.
func runRole(ctx context.Context, role string, args []string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ctx = context.WithValue(ctx, restartKey{}, cancel)
	err := roles[role](ctx, args)
	if cause := context.Cause(ctx); err == nil && errors.Is(cause, errAddressesChanged) {
		return cause
	}
	return err
}

type restartKey struct{}

// common holds the flags every proxy role shares.
type common struct {
	fs       *flag.FlagSet
	meshPath string
	pki      string
	caURL    string
	metrics  string
	drain    time.Duration
	logLevel string
	// Name resolution (see resolve.go).
	resolveTimeout time.Duration
	reResolve      time.Duration
	optional       listFlag
	allOptional    bool // the CA: identities only, no addresses needed
}

func newCommon(role string) *common {
	c := &common{fs: flag.NewFlagSet(role, flag.ContinueOnError)}
	c.fs.StringVar(&c.meshPath, "mesh", "", "mesh description (YAML, see package mesh)")
	c.fs.StringVar(&c.pki, "pki", "", "directory with root.pem and bootstrap/ credentials written by `meshnode ca`")
	c.fs.StringVar(&c.caURL, "ca-url", "", "CA server URL, e.g. https://127.0.0.1:15012")
	c.fs.StringVar(&c.metrics, "metrics", "", "address for /metrics and /ready (empty: none)")
	c.fs.DurationVar(&c.drain, "drain", 5*time.Second, "drain deadline after SIGTERM")
	c.fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	c.fs.DurationVar(&c.resolveTimeout, "resolve-timeout", 120*time.Second,
		"how long to wait for the mesh file's DNS names (and the PKI files) at start-up")
	c.fs.DurationVar(&c.reResolve, "re-resolve", 0, "re-resolve the mesh names this often and exit with status 3 when one moved (0: never)")
	c.fs.Var(&c.optional, "optional", "workloads NS/NAME (comma-separated, repeatable) whose names may stay unresolved: source-only pods")
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

// resolveOptions are the start-up resolution settings for ctx's resolver.
func (c *common) resolveOptions(ctx context.Context, log *slog.Logger) resolveOptions {
	return resolveOptions{Resolver: resolverFrom(ctx), Timeout: c.resolveTimeout, Optional: parseOptional(c.optional),
		AllOptional: c.allOptional, Log: log}
}

// loadMesh reads the mesh file, resolves its names (waiting up to
// --resolve-timeout), compiles it and, with --re-resolve, starts watching
// the names: when one moves, ctx's role drains and the process exits 3.
func (c *common) loadMesh(ctx context.Context, log *slog.Logger) (*mesh.Index, error) {
	raw, err := mesh.Load(c.meshPath)
	if err != nil {
		return nil, err
	}
	o := c.resolveOptions(ctx, log)
	m, table, err := resolveMesh(ctx, raw, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.meshPath, err)
	}
	if c.reResolve > 0 {
		var required []string
		for _, r := range meshNames(raw, o.Optional, o.AllOptional) {
			if !r.optional {
				required = append(required, r.name)
			}
		}
		if restart, ok := ctx.Value(restartKey{}).(context.CancelCauseFunc); ok && len(required) > 0 {
			go watchNames(ctx, o.Resolver, table, required, c.reResolve, log, restart)
		}
	}
	ix, err := mesh.Compile(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.meshPath, err)
	}
	return ix, nil
}

// issuer returns a RemoteIssuer presenting the bootstrap credential name.
// It waits (up to --resolve-timeout) for the CA to have written them: on
// kind the CA is another pod sharing the directory.
func (c *common) issuer(ctx context.Context, ix *mesh.Index, name string) (*identity.RemoteIssuer, error) {
	root, boot := filepath.Join(c.pki, "root.pem"), filepath.Join(c.pki, "bootstrap", name+".pem")
	if err := waitFiles(ctx, c.resolveTimeout, root, boot); err != nil {
		return nil, err
	}
	roots, err := identity.LoadRoots(root)
	if err != nil {
		return nil, err
	}
	cred, err := identity.LoadCredential(boot)
	if err != nil {
		return nil, err
	}
	// The CA writes its files before it listens, and on kind its Service
	// may have no endpoint yet: wait until it accepts connections, as
	// istio-agent retries its first CSR, rather than fail the first
	// certificate request.
	if err := waitListening(ctx, c.resolveTimeout, c.caURL); err != nil {
		return nil, err
	}
	return identity.NewRemoteIssuer(c.caURL, ix.TrustDomain, roots, cred), nil
}

// waitListening waits until the host:port of rawURL accepts TCP
// connections, retrying with backoff (50 ms doubling to 1 s) for at most
// timeout.
func waitListening(ctx context.Context, timeout time.Duration, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--ca-url %q: want https://host:port", rawURL)
	}
	deadline := time.Now().Add(timeout)
	backoff := 50 * time.Millisecond
	for {
		var d net.Dialer
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := d.DialContext(dctx, "tcp", u.Host)
		cancel()
		if err == nil {
			conn.Close()
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("waiting for the CA at %s (`meshnode ca`) to listen: %w", u.Host, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// waitFiles waits until every path exists, polling, for at most timeout.
func waitFiles(ctx context.Context, timeout time.Duration, paths ...string) error {
	deadline := time.Now().Add(timeout)
	for _, p := range paths {
		for {
			_, err := os.Stat(p)
			if err == nil {
				break
			}
			if !errors.Is(err, os.ErrNotExist) || !time.Now().Before(deadline) {
				return fmt.Errorf("waiting for %s (written by `meshnode ca`): %w", p, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
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
