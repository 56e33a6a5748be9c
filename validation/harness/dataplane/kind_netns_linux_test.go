//go:build linux

package dataplane

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
	"github.com/ambientsim/ambientsim/validation/kind"
)

// TestKindCommandsInNetns runs the kind backend's data plane without kind:
// network namespaces stand in for two kind nodes (host network) and their
// pods, /etc/netns/<ns>/hosts for the cluster DNS (the headless and
// ClusterIP Services' names; the load-generator pods' names are absent,
// as before their Jobs exist), a temporary directory for the hostPath
// shared directory, and the test for the kubelet's $(POD_IP)/$(HOST_IP)
// expansion. The processes are meshnode with exactly the command lines
// the Commander gives the kind manifests, and node A gets exactly
// kind.CaptureSteps. Everything starts at once; the proxies wait for the
// CA's files and for the names, one of which appears a second late.
// Loads: client-b (node B) → server-a (node A)
// pod-addressed, across nodes; client-a (node A) → service echo, same
// node; both through the explicit outbound listeners and HBONE; and
// sc-client's load generator, in a Job pod of its own on node B, through
// sc-client's sidecar (reached by the pod's name) to sc-server's sidecar
// over mutual TLS.
//
// What it does not cover: kube-proxy, CoreDNS, the kubelet, kindnet
// (here: static routes and proxy ARP), image building.
func TestKindCommandsInNetns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real data plane in network namespaces; the full suite (go test ./...) runs it")
	}
	needRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	work := t.TempDir()
	moduleDir, _ := filepath.Abs("../../..")
	bin, err := Build(ctx, moduleDir, work)
	if err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(work, "shared")
	cmdr := NewCommander(Options{Binary: bin, Dir: shared, KindDir: shared})
	plan := TwoNodeSidecar()

	id := fmt.Sprintf("akd%d", os.Getpid()%100000)
	type place struct{ ns, ip, node string }
	nodes := map[string]place{"node-a": {id + "-na", "172.31.0.1", ""}, "node-b": {id + "-nb", "172.31.0.2", ""}}
	pods := map[string]place{
		"controlplane":  {id + "-cp", "10.250.1.2", "node-a"},
		"server-a":      {id + "-sa", "10.250.1.3", "node-a"},
		"client-a":      {id + "-ca", "10.250.1.4", "node-a"},
		"client-b":      {id + "-cb", "10.250.2.2", "node-b"},
		"sc-server":     {id + "-ss", "10.250.1.5", "node-a"},
		"sc-client":     {id + "-sc", "10.250.2.3", "node-b"},
		"sc-client-job": {id + "-sj", "10.250.2.4", "node-b"}, // the load generator's Job: a pod of its own
	}
	cidr := map[string]string{"node-a": "10.250.1.0/24", "node-b": "10.250.2.0/24"}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	in := func(ns string, args ...string) { run(append([]string{"ip", "-n", ns}, args...)...) }
	// server-a's name appears only a second after everything started, as
	// for a pod scheduled late: the proxies wait for it.
	lateName := "10.250.1.3 " + kind.PodDNSName("server-a", "") + "\n"
	hosts := strings.Join([]string{
		"127.0.0.1 localhost",
		"10.250.1.2 " + kind.ServiceDNSName(kind.ControlPlaneService, kind.DefaultSystemNamespace),
		"10.96.0.10 " + kind.ServiceDNSName("echo", ""), // the ClusterIPs: nobody owns them
		"10.250.1.5 " + kind.PodDNSName("sc-server", ""),
		"10.250.2.3 " + kind.PodDNSName("sc-client", ""),
		"10.96.0.11 " + kind.ServiceDNSName("sc-echo", ""),
	}, "\n") + "\n"
	var all []place
	for _, n := range nodes {
		all = append(all, n)
	}
	for _, p := range pods {
		all = append(all, p)
	}
	for _, p := range all {
		run("ip", "netns", "add", p.ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", p.ns).Run() })
		dir := filepath.Join("/etc/netns", p.ns)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644); err != nil {
			t.Fatal(err)
		}
		// Names not in hosts (the Job-only pods) fail at once, and no
		// query leaves the namespaces.
		if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		in(p.ns, "link", "set", "lo", "up")
	}
	na, nb := nodes["node-a"], nodes["node-b"]
	in(na.ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", nb.ns)
	for name, n := range nodes {
		in(n.ns, "addr", "add", n.ip+"/24", "dev", "eth0")
		in(n.ns, "link", "set", "eth0", "up")
		run("ip", "netns", "exec", n.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
		for other, c := range cidr {
			if other != name {
				in(n.ns, "route", "add", c, "via", nodes[other].ip)
			}
		}
	}
	i := 0
	for _, p := range pods {
		i++
		n := nodes[p.node]
		veth := fmt.Sprintf("vp%d", i)
		in(n.ns, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", p.ns)
		in(n.ns, "link", "set", veth, "up")
		run("ip", "netns", "exec", n.ns, "sysctl", "-qw", "net.ipv4.conf."+veth+".proxy_arp=1")
		in(n.ns, "route", "add", p.ip+"/32", "dev", veth)
		in(p.ns, "addr", "add", p.ip+"/32", "dev", "eth0")
		in(p.ns, "link", "set", "eth0", "up")
		in(p.ns, "route", "add", "default", "dev", "eth0")
	}
	for name, n := range nodes {
		for _, s := range kind.CaptureSteps("kind-"+name, cidr[name], n.ip) {
			in(n.ns, s.Argv[4:]...) // docker exec <node> ip ARGS → ip -n <ns> ARGS
		}
	}

	expand := func(args []string, podIP, hostIP string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = strings.NewReplacer("$(POD_IP)", podIP, "$(HOST_IP)", hostIP).Replace(a)
		}
		return out
	}
	var mu sync.Mutex
	var procs []*exec.Cmd
	logs := map[string]*bytes.Buffer{}
	start := func(name string, where place, hostIP string, spec harness.ProcessSpec) {
		t.Helper()
		spec.Backend, spec.Plan, spec.Name = "kind", plan, name
		c, err := cmdr.Command(spec)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("ip", append([]string{"netns", "exec", where.ns, c.Path}, expand(c.Args, where.ip, hostIP)...)...)
		buf := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = buf, buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		procs, logs[name] = append(procs, cmd), buf
		mu.Unlock()
	}
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			_ = p.Wait()
		}
		if t.Failed() {
			for name, b := range logs {
				t.Logf("--- %s\n%s", name, b)
			}
		}
	}()
	// The control plane first: its command starts a fresh cluster (the
	// order in which the kind generator asks).
	t0 := time.Now()
	cp := pods["controlplane"]
	start("controlplane/node-a", cp, na.ip, harness.ProcessSpec{Kind: harness.KindControlPlane, Owner: "node-a"})
	start("nodeproxy/node-a", na, na.ip, harness.ProcessSpec{Kind: harness.KindNodeProxy, Owner: "node-a"})
	start("nodeproxy/node-b", nb, nb.ip, harness.ProcessSpec{Kind: harness.KindNodeProxy, Owner: "node-b"})
	start("echo/server-a", pods["server-a"], na.ip, harness.ProcessSpec{Kind: harness.KindEcho, Owner: "server-a"})
	start("echo/sc-server", pods["sc-server"], na.ip, harness.ProcessSpec{Kind: harness.KindEcho, Owner: "sc-server"})
	start("sidecar/sc-server", pods["sc-server"], na.ip, harness.ProcessSpec{Kind: harness.KindSidecar, Owner: "sc-server"})
	start("sidecar/sc-client", pods["sc-client"], nb.ip, harness.ProcessSpec{Kind: harness.KindSidecar, Owner: "sc-client"})
	time.Sleep(time.Second)
	for _, p := range all {
		f, err := os.OpenFile(filepath.Join("/etc/netns", p.ns, "hosts"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString(lateName)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []place{na, nb} {
		waitReady(ctx, t, n.ns, n.ip+":15008")
	}
	for _, p := range []place{pods["sc-server"], pods["sc-client"]} {
		waitReady(ctx, t, p.ns, p.ip+fmt.Sprint(":", SidecarInbound))
	}

	t.Logf("node proxies and sidecars ready %v after start", time.Since(t0).Round(time.Millisecond))
	type result struct {
		name string
		out  []byte
		err  error
	}
	results := make(chan result, 3)
	load := func(name string, where place, hostIP string, ld harness.Load) {
		spec := harness.ProcessSpec{Backend: "kind", Plan: plan, Name: name, Kind: harness.KindLoadGen, Owner: name, Load: &ld, ResultPath: kind.ResultPath}
		c, err := cmdr.Command(spec)
		if err != nil {
			results <- result{name, nil, err}
			return
		}
		cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", where.ns, c.Path}, expand(c.Args, where.ip, hostIP)...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, stderr.Bytes())
		}
		results <- result{name, out, err}
	}
	go load("client-b", pods["client-b"], nb.ip, harness.Load{From: "client-b", Target: "server-a", Protocol: "http", RatePerSec: 50,
		Duration: 2 * time.Second, Connections: 2})
	go load("client-a", pods["client-a"], na.ip, harness.Load{From: "client-a", Target: "echo", Protocol: "http", RatePerSec: 20,
		Duration: 2 * time.Second, Connections: 1, Mode: harness.ConnPerRequest})
	go load("sc-client", pods["sc-client-job"], nb.ip, harness.Load{From: "sc-client", Target: "sc-echo", Protocol: "http", RatePerSec: 20,
		Duration: 2 * time.Second, Connections: 1})
	for range 3 {
		r := <-results
		if r.err != nil {
			t.Errorf("%s: %v", r.name, r.err)
			continue
		}
		res, err := kind.ResultFromLogs(r.out)
		if err != nil {
			t.Errorf("%s: %v\n%s", r.name, err, r.out)
			continue
		}
		t.Logf("%s: %d requests, codes %v", r.name, res.DurationHistogram.Count, res.RetCodes)
		if res.DurationHistogram.Count < 30 || res.RetCodes["200"] != res.DurationHistogram.Count {
			t.Errorf("%s: %d requests, codes %v", r.name, res.DurationHistogram.Count, res.RetCodes)
		}
	}
	// Node A's proxy terminated the HBONE streams of both loads.
	c, err := harness.DialInNetns(ctx, na.ns, "tcp", na.ip+":15020")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
	var metrics bytes.Buffer
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = metrics.ReadFrom(c)
	c.Close()
	_, body, _ := strings.Cut(metrics.String(), "\r\n\r\n")
	fams, err := harness.ParseMetrics(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sc := harness.Scrape{Families: fams}
	// 2 kept-alive connections from client-b, 40 per-request ones from
	// client-a. On kind the destination sees the HBONE connection come
	// from a node IP, so it knows the source by principal only.
	n, _ := sc.Sum("istio_tcp_connections_opened_total", map[string]string{"reporter": "destination",
		"source_principal": "spiffe://cluster.local/ns/default/sa/client", "destination_workload": "server-a"})
	if n < 42 {
		t.Errorf("node A's proxy reports %v inbound connections from the clients, want >= 42", n)
	}
}

// waitReady waits until addr accepts TCP inside ns.
func waitReady(ctx context.Context, t *testing.T, ns, addr string) {
	t.Helper()
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := harness.DialInNetns(dctx, ns, "tcp", addr)
		cancel()
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s in %s never accepted: %v", addr, ns, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
