package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The test binary doubles as the processes the harness starts: with
// AS_HARNESS_HELPER set it becomes a TCP echo server (with a Prometheus
// endpoint) or a bounded TCP echo client that writes a fortio-style result.
func TestMain(m *testing.M) {
	switch os.Getenv("AS_HARNESS_HELPER") {
	case "echo":
		os.Exit(helperEcho())
	case "client":
		os.Exit(helperClient())
	case "setup-as-nobody":
		os.Exit(helperSetupAsNobody())
	case "own-and-hang":
		os.Exit(helperOwnAndHang())
	}
	os.Exit(m.Run())
}

// helperEcho echoes on every address of AS_LISTEN (comma separated).
// With AS_TRANSPARENT=1 the listeners set IP_TRANSPARENT, as a capturing
// node proxy does; with AS_GREETING set, each connection first gets the
// line "<greeting> <local address>".
func helperEcho() int {
	lc := net.ListenConfig{}
	if os.Getenv("AS_TRANSPARENT") == "1" {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_IP, syscall.IP_TRANSPARENT, 1)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	var lns []net.Listener
	for _, addr := range strings.Split(os.Getenv("AS_LISTEN"), ",") {
		ln, err := lc.Listen(context.Background(), "tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo:", err)
			return 1
		}
		lns = append(lns, ln)
	}
	greeting := os.Getenv("AS_GREETING")
	conns := prometheus.NewCounter(prometheus.CounterOpts{Name: "helper_connections_total", Help: "Connections accepted."})
	bytesTotal := prometheus.NewCounter(prometheus.CounterOpts{Name: "helper_echoed_bytes_total", Help: "Bytes echoed."})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(conns, bytesTotal)
	if addr := os.Getenv("AS_METRICS"); addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo metrics:", err)
			return 1
		}
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(mln) }()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		<-sigs
		os.Exit(0)
	}()
	serve := func(ln net.Listener) {
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(1)
			}
			conns.Inc()
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				if greeting != "" {
					fmt.Fprintf(c, "%s %s\n", greeting, c.LocalAddr())
				}
				n, _ := io.Copy(c, c)
				bytesTotal.Add(float64(n))
			}()
		}
	}
	for _, ln := range lns[1:] {
		go serve(ln)
	}
	serve(lns[0])
	return 0
}

// helperClient makes AS_COUNT round trips of AS_PAYLOAD bytes, each on a
// new connection and AS_INTERVAL apart, to AS_TARGET and writes a
// fortio-style JSON result.
func helperClient() int {
	count, _ := strconv.Atoi(os.Getenv("AS_COUNT"))
	payload, _ := strconv.Atoi(os.Getenv("AS_PAYLOAD"))
	count = min(max(count, 1), 1000)
	msg := make([]byte, max(payload, 1))
	deadline := time.Now().Add(20 * time.Second)
	var lat []float64
	codes := map[string]int64{}
	start := time.Now()
	interval, _ := time.ParseDuration(os.Getenv("AS_INTERVAL"))
	for i := 0; i < count && time.Now().Before(deadline); i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		t0 := time.Now()
		err := roundTrip(os.Getenv("AS_TARGET"), msg)
		if err != nil {
			codes[err.Error()]++
			continue
		}
		codes["OK"]++
		lat = append(lat, time.Since(t0).Seconds())
	}
	sort.Float64s(lat)
	h := FortioHistogram{Count: int64(len(lat))}
	if len(lat) > 0 {
		h.Min, h.Max = lat[0], lat[len(lat)-1]
		for _, v := range lat {
			h.Sum += v
		}
		h.Avg = h.Sum / float64(len(lat))
		h.Percentiles = []FortioPercentile{{50, lat[len(lat)/2]}, {99, lat[len(lat)*99/100]}}
	}
	res := FortioResult{
		RunType: "TCP", StartTime: start, ActualDuration: int64(time.Since(start)),
		Destination: os.Getenv("AS_TARGET"), RetCodes: codes, DurationHistogram: h,
	}
	data, _ := json.Marshal(res)
	if err := os.WriteFile(os.Getenv("AS_RESULT"), data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	return 0
}

func roundTrip(addr string, msg []byte) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return errors.New("dial")
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(msg); err != nil {
		return errors.New("write")
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(bufio.NewReader(c), got); err != nil {
		return errors.New("read")
	}
	return nil
}

// helperSetupAsNobody runs Setup without root and prints the error.
func helperSetupAsNobody() int {
	b, err := NewLocal(LocalOptions{Commander: CommanderFunc(func(ProcessSpec) (Command, error) { return Command{}, nil })})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	err = b.Setup(context.Background(), testPlan())
	fmt.Println(err)
	if errors.Is(err, ErrNeedsRoot) {
		return 3
	}
	return 1
}

// testCommander runs the test binary as every process: node proxies and
// echo apps are echo servers (node proxies also serve metrics), load
// generators are clients of their Load.Target.
func testCommander(t testing.TB) Commander {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return commanderFor(self)
}

// commanderFor is testCommander running the binary at self.
func commanderFor(self string) Commander {
	return CommanderFunc(func(s ProcessSpec) (Command, error) {
		switch s.Kind {
		case KindNodeProxy:
			return Command{
				Path:       self,
				Env:        []string{"GORACE=atexit_sleep_ms=0", "AS_HARNESS_HELPER=echo", "AS_LISTEN=" + s.IP.String() + ":15008", "AS_METRICS=" + s.IP.String() + ":15020"},
				ReadyAddr:  s.IP.String() + ":15008",
				MetricsURL: "http://" + s.IP.String() + ":15020/metrics",
			}, nil
		case KindEcho, KindWaypoint, KindSidecar:
			return Command{
				Path:      self,
				Env:       []string{"GORACE=atexit_sleep_ms=0", "AS_HARNESS_HELPER=echo", "AS_LISTEN=" + s.IP.String() + ":8080"},
				ReadyAddr: s.IP.String() + ":8080",
			}, nil
		case KindLoadGen:
			ips, err := s.Layout.Resolve(s.Load.Target)
			if err != nil {
				return Command{}, err
			}
			return Command{
				Path: self,
				Env: []string{
					"GORACE=atexit_sleep_ms=0", "AS_HARNESS_HELPER=client",
					"AS_TARGET=" + ips[0].String() + ":8080",
					"AS_COUNT=" + strconv.Itoa(int(s.Load.RatePerSec*s.Load.Duration.Seconds())),
					"AS_PAYLOAD=" + strconv.Itoa(s.Load.PayloadBytes),
					"AS_INTERVAL=" + time.Duration(float64(time.Second)/s.Load.RatePerSec).String(),
					"AS_RESULT=" + s.ResultPath,
				},
			}, nil
		}
		return Command{}, fmt.Errorf("test commander: unknown kind %q", s.Kind)
	})
}

// testPlan is 2 nodes in 2 zones × 2 pods, one node proxy per node.
func testPlan() *Plan {
	return &Plan{
		Nodes: []Node{{Name: "node-a", Zone: "zone-1"}, {Name: "node-b", Zone: "zone-2"}},
		Pods: []Pod{
			{Name: "server-a", Node: "node-a", Service: "echo", Roles: []Role{RoleEcho}},
			{Name: "client-a", Node: "node-a", Roles: []Role{RoleLoadGen}},
			{Name: "server-b", Node: "node-b", Service: "echo", Roles: []Role{RoleEcho}},
			{Name: "client-b", Node: "node-b", Roles: []Role{RoleLoadGen}},
		},
		NodeProxies: []NodeProxy{{Node: "node-a"}, {Node: "node-b"}},
		Network: Network{
			CrossZone: LinkShape{Delay: time.Millisecond, BandwidthBitsPerSec: 500_000_000},
		},
	}
}
