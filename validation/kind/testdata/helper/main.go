// Command helper stands in for the data plane in the kind backend's
// end-to-end test: "echo" echoes TCP on -listen (and serves a counter on
// -metrics), "client" makes -count round trips to -target and prints a
// fortio-style JSON result on stdout. Standard library only, so it builds
// into the FROM-scratch image.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"sync/atomic"
	"time"
)

func main() {
	mode := flag.String("mode", "echo", "echo or client")
	listen := flag.String("listen", ":8080", "echo: listen address")
	metrics := flag.String("metrics", "", "echo: metrics listen address")
	target := flag.String("target", "", "client: host:port")
	count := flag.Int("count", 10, "client: round trips")
	flag.Parse()
	switch *mode {
	case "echo":
		os.Exit(echo(*listen, *metrics))
	case "client":
		os.Exit(client(*target, *count))
	}
	fmt.Fprintln(os.Stderr, "unknown mode", *mode)
	os.Exit(2)
}

func echo(listen, metrics string) int {
	var conns atomic.Int64
	if metrics != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "# TYPE helper_connections_total counter\nhelper_connections_total %d\n", conns.Load())
		})
		go func() {
			_ = (&http.Server{Addr: metrics, Handler: mux, ReadHeaderTimeout: 5 * time.Second}).ListenAndServe()
		}()
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return 1
		}
		conns.Add(1)
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(time.Minute))
			_, _ = io.Copy(c, c)
		}()
	}
}

func client(target string, count int) int {
	var lat []float64
	codes := map[string]int64{}
	start := time.Now()
	msg := []byte("ping\n")
	for i := 0; i < count; i++ {
		t0 := time.Now()
		c, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err != nil {
			codes["dial"]++
			time.Sleep(100 * time.Millisecond)
			continue
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, len(msg))
		_, err = c.Write(msg)
		if err == nil {
			_, err = io.ReadFull(c, buf)
		}
		c.Close()
		if err != nil {
			codes["io"]++
			continue
		}
		codes["OK"]++
		lat = append(lat, time.Since(t0).Seconds())
	}
	sort.Float64s(lat)
	h := map[string]any{"Count": len(lat)}
	if len(lat) > 0 {
		h["Min"], h["Max"] = lat[0], lat[len(lat)-1]
		h["Percentiles"] = []map[string]float64{{"Percentile": 50, "Value": lat[len(lat)/2]}, {"Percentile": 99, "Value": lat[len(lat)*99/100]}}
	}
	fmt.Fprintln(os.Stderr, "done")
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"RunType": "TCP", "Destination": target, "ActualDuration": time.Since(start).Nanoseconds(),
		"RetCodes": codes, "DurationHistogram": h,
	})
	return 0
}
