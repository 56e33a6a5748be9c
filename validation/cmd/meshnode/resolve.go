package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ambientsim/ambientsim/validation/mesh"
)

// Names in the mesh file. A workload's or waypoint's ip, or a service's
// vip, may be a DNS name instead of an address (the kind backend writes
// <pod>.<namespace>.svc.cluster.local for pods and the Services' names for
// VIPs); so may the host of a ztunnel or sidecar --outbound dest. Every
// role resolves them once at start-up, before it compiles the mesh, and
// (with --re-resolve) watches them afterwards.

// Resolver looks names up; *net.Resolver satisfies it. Tests inject a
// fake through withResolver.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

type resolverKey struct{}

// withResolver makes the roles started with ctx resolve through r.
func withResolver(ctx context.Context, r Resolver) context.Context {
	return context.WithValue(ctx, resolverKey{}, r)
}

func resolverFrom(ctx context.Context) Resolver {
	if r, ok := ctx.Value(resolverKey{}).(Resolver); ok {
		return r
	}
	return net.DefaultResolver
}

// placeholderBase is where names that may stay unresolved (--optional
// workloads: load-generator pods that exist only while a load runs) get
// an address: 240.0.0.0/4 is reserved and never routed, so no captured
// connection can come from or go to it.
var placeholderBase = netip.MustParseAddr("240.0.0.1")

// optionalLookupTimeout bounds one lookup of an optional name.
const optionalLookupTimeout = 2 * time.Second

// resolveOptions bound and shape the start-up resolution.
type resolveOptions struct {
	Resolver Resolver
	// Timeout bounds the whole resolution; required names still
	// unresolved then are an error naming them.
	Timeout time.Duration
	// Optional holds the workload keys (namespace/name) whose names may
	// stay unresolved; they get placeholder addresses.
	Optional map[string]bool
	// AllOptional looks no name up: every one gets a placeholder (the CA
	// only needs identities, and must not wait for the pods it serves).
	AllOptional bool
	// Backoff is the first pause between rounds (doubling up to 2 s).
	Backoff time.Duration
	Log     *slog.Logger
}

// nameRef is one name in the mesh and where it was found.
type nameRef struct {
	name     string
	at       string // e.g. workloads[0] default/server-a
	optional bool
}

// meshNames lists the names (non-address ip/vip fields) of m in file order.
func meshNames(m *mesh.Mesh, optional map[string]bool, all bool) []nameRef {
	var out []nameRef
	defer func() {
		for i := range out {
			out[i].optional = out[i].optional || all
		}
	}()
	isName := func(s string) bool {
		_, err := netip.ParseAddr(s)
		return s != "" && err != nil
	}
	for i, w := range m.Workloads {
		if isName(w.IP) {
			out = append(out, nameRef{w.IP, fmt.Sprintf("workloads[%d] %s/%s", i, w.Namespace, w.Name), optional[w.Namespace+"/"+w.Name]})
		}
	}
	for i, w := range m.Waypoints {
		if isName(w.IP) {
			out = append(out, nameRef{w.IP, fmt.Sprintf("waypoints[%d] %s/%s", i, w.Namespace, w.Name), false})
		}
	}
	for i, s := range m.Services {
		if isName(s.VIP) {
			out = append(out, nameRef{s.VIP, fmt.Sprintf("services[%d] %s/%s", i, s.Namespace, s.Name), false})
		}
	}
	return out
}

// lookup resolves one name to one IPv4 address (the lowest, so that a
// name with several addresses maps the same way in every process).
func lookup(ctx context.Context, r Resolver, name string) (netip.Addr, error) {
	addrs, err := r.LookupNetIP(ctx, "ip4", name)
	if err != nil {
		return netip.Addr{}, err
	}
	var v4 []netip.Addr
	for _, a := range addrs {
		if a = a.Unmap(); a.Is4() {
			v4 = append(v4, a)
		}
	}
	if len(v4) == 0 {
		return netip.Addr{}, fmt.Errorf("%s: no IPv4 address", name)
	}
	slices.SortFunc(v4, func(a, b netip.Addr) int { return a.Compare(b) })
	return v4[0], nil
}

// resolveNames looks every name up, in rounds with backoff, until every
// required one resolved or the timeout passed. Optional names are tried
// in the same rounds but never waited for.
func resolveNames(ctx context.Context, refs []nameRef, o resolveOptions) (map[string]netip.Addr, error) {
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Timeout <= 0 {
		o.Timeout = 120 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	got := map[string]netip.Addr{}
	lastErr := map[string]error{}
	deadline := time.Now().Add(o.Timeout)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	pause := o.Backoff
	for round := 1; ; round++ {
		// One round: every pending name at once (a slow or failing
		// lookup must not delay the others).
		pending := map[string]bool{} // name → required
		for _, r := range refs {
			if _, ok := got[r.name]; !ok {
				pending[r.name] = pending[r.name] || !r.optional
			}
		}
		type answer struct {
			name string
			addr netip.Addr
			err  error
		}
		answers := make(chan answer, len(pending))
		for name, required := range pending {
			go func() {
				lctx, lcancel := dctx, context.CancelFunc(func() {})
				if !required {
					// Tried once per round, briefly: never waited for.
					lctx, lcancel = context.WithTimeout(dctx, optionalLookupTimeout)
				}
				defer lcancel()
				a, err := lookup(lctx, o.Resolver, name)
				answers <- answer{name, a, err}
			}()
		}
		missing := false
		for range pending {
			a := <-answers
			if a.err != nil {
				lastErr[a.name] = a.err
				missing = missing || pending[a.name]
				continue
			}
			got[a.name] = a.addr
			delete(lastErr, a.name)
		}
		if !missing {
			return got, nil
		}
		if o.Log != nil {
			o.Log.Info("waiting for mesh names to resolve", "round", round, "unresolved", len(lastErr))
		}
		select {
		case <-dctx.Done():
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var parts []string
			seen := map[string]bool{}
			for _, r := range refs {
				if _, ok := got[r.name]; ok || r.optional || seen[r.name] {
					continue
				}
				seen[r.name] = true
				parts = append(parts, fmt.Sprintf("%s (%s): %v", r.name, r.at, lastErr[r.name]))
			}
			return nil, fmt.Errorf("mesh names still unresolved after %v: %s (is the pod running, and its headless Service applied?)",
				o.Timeout, strings.Join(parts, "; "))
		case <-time.After(pause):
		}
		pause = min(2*pause, 2*time.Second)
	}
}

// resolveMesh returns a copy of m with every name replaced by its address
// (optional names that did not resolve by a placeholder), and the name
// table it used.
func resolveMesh(ctx context.Context, m *mesh.Mesh, o resolveOptions) (*mesh.Mesh, map[string]netip.Addr, error) {
	refs := meshNames(m, o.Optional, o.AllOptional)
	if len(refs) == 0 {
		return m, map[string]netip.Addr{}, nil
	}
	table := map[string]netip.Addr{}
	if !o.AllOptional {
		var err error
		if table, err = resolveNames(ctx, refs, o); err != nil {
			return nil, nil, err
		}
	}
	next := placeholderBase
	for _, r := range refs {
		if _, ok := table[r.name]; !ok {
			table[r.name] = next
			if o.Log != nil {
				o.Log.Info("optional name unresolved; placeholder address", "name", r.name, "at", r.at, "addr", next)
			}
			next = next.Next()
		}
	}
	out := *m
	out.Workloads = slices.Clone(m.Workloads)
	out.Waypoints = slices.Clone(m.Waypoints)
	out.Services = slices.Clone(m.Services)
	for i := range out.Workloads {
		if a, ok := table[out.Workloads[i].IP]; ok {
			out.Workloads[i].IP = a.String()
		}
	}
	for i := range out.Waypoints {
		if a, ok := table[out.Waypoints[i].IP]; ok {
			out.Waypoints[i].IP = a.String()
		}
	}
	for i := range out.Services {
		if a, ok := table[out.Services[i].VIP]; ok {
			out.Services[i].VIP = a.String()
		}
	}
	return &out, table, nil
}

// resolveHostPort turns "name:port" into "ip:port" (an address stays as
// it is), waiting like resolveNames.
func resolveHostPort(ctx context.Context, hostport string, o resolveOptions) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", err
	}
	if _, err := netip.ParseAddr(host); err == nil || host == "" {
		return hostport, nil
	}
	t, err := resolveNames(ctx, []nameRef{{name: host, at: "dest " + hostport}}, o)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(t[host].String(), port), nil
}

// errAddressesChanged ends a role whose peers moved (a pod restarted with
// a new IP): the process exits with status 3 and its controller restarts
// it, which resolves the names afresh.
var errAddressesChanged = errors.New("mesh addresses changed; exiting so a restart rebuilds the tables")

// watchNames re-resolves the required names every interval until ctx
// ends; when one resolves to an address other than the one in use it
// calls changed once and returns. A failed lookup (the pod is between
// incarnations) is not a change.
func watchNames(ctx context.Context, r Resolver, table map[string]netip.Addr, required []string, interval time.Duration,
	log *slog.Logger, changed func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	names := slices.Clone(required)
	sort.Strings(names)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, n := range names {
			lctx, cancel := context.WithTimeout(ctx, interval)
			a, err := lookup(lctx, r, n)
			cancel()
			if err != nil || a == table[n] {
				continue
			}
			if log != nil {
				log.Warn("mesh name moved", "name", n, "was", table[n], "now", a)
			}
			changed(fmt.Errorf("%w: %s moved from %s to %s", errAddressesChanged, n, table[n], a))
			return
		}
	}
}

// exitCode maps a role's error to the process exit status.
func exitCode(err error) int {
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return 2
	case errors.Is(err, errAddressesChanged):
		return 3
	}
	return 1
}

// parseOptional parses the --optional list ("ns/name,ns/name").
func parseOptional(list []string) map[string]bool {
	out := map[string]bool{}
	for _, l := range list {
		for _, k := range strings.Split(l, ",") {
			if k = strings.TrimSpace(k); k != "" {
				out[k] = true
			}
		}
	}
	return out
}
