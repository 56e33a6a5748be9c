package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/loadgen"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// fakeResolver answers from a table; a name listed in after resolves only
// from that lookup on (1-based), as a pod that is not scheduled yet.
type fakeResolver struct {
	mu    sync.Mutex
	addrs map[string]string
	after map[string]int
	calls map[string]int
}

func newFake(addrs map[string]string) *fakeResolver {
	return &fakeResolver{addrs: addrs, after: map[string]int{}, calls: map[string]int{}}
}

func (f *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if network != "ip4" {
		return nil, fmt.Errorf("network %q, want ip4", network)
	}
	f.calls[host]++
	a, ok := f.addrs[host]
	if !ok || f.calls[host] < f.after[host] {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []netip.Addr{netip.MustParseAddr(a)}, nil
}

func (f *fakeResolver) set(host, addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addrs[host] = addr
}

func (f *fakeResolver) count(host string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[host]
}

// namedMesh is testdata/mesh.yaml with every address replaced by a name,
// and the table that maps the names back.
func namedMesh(t *testing.T) (*mesh.Mesh, map[string]string) {
	t.Helper()
	m, err := mesh.Load(filepath.Join("testdata", "mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]string{}
	for i, w := range m.Workloads {
		name := w.Name + "." + w.Namespace + ".pod.test"
		table[name], m.Workloads[i].IP = w.IP, name
	}
	for i, w := range m.Waypoints {
		name := "pod-" + w.Name + "." + w.Namespace + ".svc.test"
		table[name], m.Waypoints[i].IP = w.IP, name
	}
	for i, s := range m.Services {
		name := s.Name + "." + s.Namespace + ".svc.test"
		table[name], m.Services[i].VIP = s.VIP, name
	}
	return m, table
}

func TestMeshRoundTripWithNames(t *testing.T) {
	m, table := namedMesh(t)
	data, err := mesh.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := mesh.Parse("named.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, back) {
		t.Fatalf("round trip changed the mesh:\n%s", data)
	}
	if !strings.Contains(string(data), "ip: server.default.pod.test") || !strings.Contains(string(data), "vip: server.default.svc.test") {
		t.Errorf("names not written as names:\n%s", data)
	}
	if _, err := mesh.Compile(back); err == nil {
		t.Error("a mesh with names compiled without resolution")
	}
	resolved, got, err := resolveMesh(context.Background(), back, resolveOptions{Resolver: newFake(table), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := mesh.Compile(resolved)
	if err != nil {
		t.Fatal(err)
	}
	if w, ok := ix.Workload("default/server"); !ok || w.Addr != netip.MustParseAddr("127.0.77.11") {
		t.Errorf("server resolved to %+v", w)
	}
	if s, ok := ix.Service("default/server-wp"); !ok || s.Addr != netip.MustParseAddr("127.0.77.101") {
		t.Errorf("server-wp VIP %+v", s)
	}
	if len(got) != len(table) {
		t.Errorf("table has %d names, want %d", len(got), len(table))
	}
	if back.Workloads[0].IP != "client.default.pod.test" {
		t.Error("resolveMesh modified its input")
	}
}

func TestResolveRetriesUntilResolvable(t *testing.T) {
	m, table := namedMesh(t)
	f := newFake(table)
	f.after["server.default.pod.test"] = 4 // scheduled late
	resolved, _, err := resolveMesh(context.Background(), m, resolveOptions{Resolver: f, Timeout: 10 * time.Second, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count("server.default.pod.test"); n != 4 {
		t.Errorf("server looked up %d times, want 4", n)
	}
	if n := f.count("client.default.pod.test"); n != 1 {
		t.Errorf("client looked up %d times, want 1 (resolved names are kept)", n)
	}
	if resolved.Workloads[2].IP != "127.0.77.11" {
		t.Errorf("server ip %q", resolved.Workloads[2].IP)
	}
}

func TestResolveDeadlineNamesTheName(t *testing.T) {
	m, table := namedMesh(t)
	delete(table, "pod-waypoint.default.svc.test")
	start := time.Now()
	_, _, err := resolveMesh(context.Background(), m, resolveOptions{Resolver: newFake(table), Timeout: 300 * time.Millisecond, Backoff: 10 * time.Millisecond})
	if err == nil {
		t.Fatal("no error for a name that never resolves")
	}
	for _, want := range []string{"pod-waypoint.default.svc.test", "waypoints[0] default/waypoint", "after 300ms", "no such host"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "server.default.pod.test") {
		t.Errorf("error names a resolved name: %v", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("gave up after %v, want about 300ms", d)
	}
}

func TestOptionalNamesGetPlaceholders(t *testing.T) {
	m, table := namedMesh(t)
	delete(table, "client.default.pod.test")
	delete(table, "denied.default.pod.test")
	f := newFake(table)
	resolved, _, err := resolveMesh(context.Background(), m, resolveOptions{Resolver: f, Timeout: 5 * time.Second,
		Optional: map[string]bool{"default/client": true, "default/denied": true}})
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{resolved.Workloads[0].IP, resolved.Workloads[1].IP}; got[0] != "240.0.0.1" || got[1] != "240.0.0.2" {
		t.Errorf("placeholders %v, want 240.0.0.1 and 240.0.0.2", got)
	}
	if _, err := mesh.Compile(resolved); err != nil {
		t.Error(err)
	}
	if n := f.count("client.default.pod.test"); n != 1 {
		t.Errorf("optional name looked up %d times, want 1 (never waited for)", n)
	}
	// The CA looks nothing up.
	m2, table2 := namedMesh(t)
	f2 := newFake(table2)
	resolved2, _, err := resolveMesh(context.Background(), m2, resolveOptions{Resolver: f2, Timeout: time.Second, AllOptional: true})
	if err != nil {
		t.Fatalf("AllOptional: %v", err)
	}
	if _, err := mesh.Compile(resolved2); err != nil {
		t.Errorf("AllOptional: %v", err)
	}
	if n := f2.count("server.default.pod.test"); n != 0 {
		t.Errorf("AllOptional looked a name up %d times", n)
	}
}

func TestResolveHostPort(t *testing.T) {
	f := newFake(map[string]string{"echo.default.svc.test": "10.96.0.10"})
	o := resolveOptions{Resolver: f, Timeout: time.Second}
	for in, want := range map[string]string{"echo.default.svc.test:80": "10.96.0.10:80", "127.0.0.1:8080": "127.0.0.1:8080"} {
		if got, err := resolveHostPort(context.Background(), in, o); err != nil || got != want {
			t.Errorf("%s → %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := resolveHostPort(context.Background(), "nowhere.test:80", resolveOptions{Resolver: f, Timeout: 50 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "nowhere.test") {
		t.Errorf("unresolvable dest: %v", err)
	}
}

func TestWatchNamesReportsAMove(t *testing.T) {
	f := newFake(map[string]string{"a.test": "10.0.0.1", "b.test": "10.0.0.2"})
	table := map[string]netip.Addr{"a.test": netip.MustParseAddr("10.0.0.1"), "b.test": netip.MustParseAddr("10.0.0.2")}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchNames(ctx, f, table, []string{"a.test", "b.test"}, 5*time.Millisecond, nil, func(err error) { got <- err })
	}()
	time.Sleep(30 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("reported %v before anything moved", err)
	default:
	}
	f.set("b.test", "10.0.0.9") // the pod restarted
	select {
	case err := <-got:
		if !errors.Is(err, errAddressesChanged) || !strings.Contains(err.Error(), "b.test moved from 10.0.0.2 to 10.0.0.9") {
			t.Errorf("error %v", err)
		}
		if exitCode(err) != 3 {
			t.Errorf("exit code %d, want 3", exitCode(err))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("move never reported")
	}
	<-done
}

func TestExitCodes(t *testing.T) {
	for err, want := range map[error]int{
		usageError{errors.New("x")}:                 2,
		fmt.Errorf("wrap: %w", errAddressesChanged): 3,
		errors.New("other"):                         1,
	} {
		if got := exitCode(err); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

// TestRolesWithNamesEndToEnd is TestRolesAsProcessesInOneBinary with the
// mesh file and the --outbound dest given as names, resolved through a
// fake resolver (as the kind backend's DNS would): a request goes client →
// node proxy (node-a, explicit listener) → waypoint → node proxy (node-b)
// → echo, and the node proxy on node-b, started before the server's name
// resolves, waits for it.
func TestRolesWithNamesEndToEnd(t *testing.T) {
	m, table := namedMesh(t)
	meshFile := filepath.Join(t.TempDir(), "mesh.yaml")
	if err := mesh.Write(meshFile, m); err != nil {
		t.Fatal(err)
	}
	f := newFake(table)
	f.after["server.default.pod.test"] = 3
	pki := t.TempDir()
	caAddr := freeAddr(t, "127.0.0.1")
	ctx, cancel := context.WithCancel(withResolver(context.Background(), f))
	defer cancel()
	errs := make(chan error, 8)
	start := func(role string, args ...string) {
		go func() { errs <- runRole(ctx, role, args) }()
	}
	common := []string{"--mesh", meshFile, "--pki", pki, "--ca-url", "https://" + caAddr, "--resolve-timeout", "20s", "--re-resolve", "50ms"}
	// Proxies first: they wait for the CA's files and the names.
	out := freeAddr(t, "127.0.77.1")
	metricsB := freeAddr(t, "127.0.0.1")
	start("ztunnel", append(common, "--node", "node-b", "--metrics", metricsB)...)
	start("waypoint", append(common, "--name", "default/waypoint")...)
	start("ztunnel", append(common, "--node", "node-a", "--optional", "default/client,default/denied",
		"--outbound", "source=default/client,listen="+out+",dest=server-wp.default.svc.test:80")...)
	start("ca", "--mesh", meshFile, "--pki", pki, "--listen", caAddr)
	start("echo", "--name", "server", "--http", "127.0.77.11:8080", "--tcp", "127.0.77.11:9000")
	// Wait for node-b's readiness and node-a's outbound listener, failing
	// at once with the error of a role that gives up instead.
	deadline := time.Now().Add(30 * time.Second)
	// The waypoint's HBONE listener too: the first request must not race
	// its start.
	const waypointHBONE = "127.0.77.50:15008"
	for !(httpOK("http://"+metricsB+"/ready") && tcpOK(waypointHBONE) && tcpOK(out)) {
		select {
		case err := <-errs:
			t.Fatalf("a role exited before the mesh was up: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: node-b ready %v, waypoint accepting %v, node-a outbound %s accepting %v",
				httpOK("http://"+metricsB+"/ready"), tcpOK(waypointHBONE), out, tcpOK(out))
		}
	}
	r, err := loadgen.Run(ctx, loadgen.Options{URL: "http://server-wp.default.svc.test/", QPS: 100, Connections: 2, Requests: 20,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, out)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if r.RetCodes[200] != 20 {
		t.Fatalf("ret codes %v, want 20 × 200", r.RetCodes)
	}
	if n := f.count("server.default.pod.test"); n < 3 {
		t.Errorf("server name looked up %d times; the late name was not waited for", n)
	}
	// The echo pod "restarts" with a new address: every role watching
	// the name drains and exits with errAddressesChanged.
	f.set("server.default.pod.test", "127.0.77.12")
	for i := 0; i < 3; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, errAddressesChanged) {
				t.Errorf("role %d exited with %v, want errAddressesChanged", i, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("roles did not exit after the move")
		}
	}
	cancel()
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Errorf("role exited with %v", err)
		}
	}
}

// TestLoadResultToStdout: on kind the result is read from the container
// log, so --json /dev/stdout (or -) must print the JSON, not rename a
// temporary file over /dev/stdout.
func TestLoadResultToStdout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := freeAddr(t, "127.0.0.1")
	errs := make(chan error, 1)
	go func() { errs <- roles["echo"](ctx, []string{"--http", addr}) }()
	waitTCP(t, addr)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	lerr := roles["load"](ctx, []string{"--url", "http://" + addr + "/", "--n", "5", "--c", "1", "--json", "-"})
	os.Stdout = saved
	w.Close()
	out, _ := io.ReadAll(r)
	if lerr != nil {
		t.Fatal(lerr)
	}
	i := strings.Index(string(out), "\n{")
	if i < 0 {
		t.Fatalf("no JSON in the output:\n%s", out)
	}
	var res struct {
		RetCodes          map[string]int
		DurationHistogram struct{ Count int }
	}
	if err := json.Unmarshal(out[i+1:], &res); err != nil || res.DurationHistogram.Count != 5 || res.RetCodes["200"] != 5 {
		t.Errorf("result %+v, %v:\n%s", res, err, out)
	}
	cancel()
	if err := <-errs; err != nil {
		t.Error(err)
	}
}

// anyResolver resolves every name to an address derived from it.
type anyResolver struct{}

func (anyResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var h byte
	for i := 0; i < len(host); i++ {
		h = h*31 + host[i]
	}
	return []netip.Addr{netip.AddrFrom4([4]byte{10, 77, byte(len(host)), h})}, nil
}

// FuzzResolveMesh: whatever mesh file a user writes, resolution neither
// panics nor leaves a name behind.
func FuzzResolveMesh(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "mesh.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("workloads: [{name: a, namespace: n, ip: a.n.svc}]\nservices: [{name: s, namespace: n, vip: '::1'}]\n"))
	f.Add([]byte("waypoints: [{name: w, namespace: n, ip: ''}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := mesh.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		out, _, err := resolveMesh(context.Background(), m, resolveOptions{Resolver: anyResolver{}, Timeout: time.Second})
		if err != nil {
			t.Fatalf("every name resolves, yet: %v", err)
		}
		if left := meshNames(out, nil, false); len(left) != 0 {
			t.Fatalf("names left after resolution: %v", left)
		}
	})
}

func tcpOK(addr string) bool {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func httpOK(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestWaitListening: proxies wait for the CA to listen (it writes its
// files first; on kind its Service may have no endpoint yet), and give up
// after the timeout naming the address.
func TestWaitListening(t *testing.T) {
	addr := freeAddr(t, "127.0.0.1")
	go func() {
		time.Sleep(300 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		t.Cleanup(func() { ln.Close() })
	}()
	if err := waitListening(context.Background(), 10*time.Second, "https://"+addr); err != nil {
		t.Fatalf("a CA listening late: %v", err)
	}
	dead := freeAddr(t, "127.0.0.1")
	err := waitListening(context.Background(), 200*time.Millisecond, "https://"+dead)
	if err == nil || !strings.Contains(err.Error(), dead) {
		t.Errorf("no CA: error %v, want one naming %s", err, dead)
	}
	if err := waitListening(context.Background(), time.Second, "not a url"); err == nil {
		t.Error("a bad --ca-url: no error")
	}
}
