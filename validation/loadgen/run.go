package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Load modes.
const (
	OpenLoop   = "open"   // constant arrival rate, latency from the intended send time
	ClosedLoop = "closed" // each connection waits for its response before the next request
)

// Version is reported in results (fortio's Version field).
const Version = "ambientsim-loadgen-1"

// Options configure a run.
type Options struct {
	URL         string
	Method      string // GET, or POST when PayloadSize > 0
	PayloadSize int    // request body bytes (fortio -payload-size)
	Header      http.Header
	// QPS is the total target rate. Open loop requires it; closed loop with
	// QPS 0 runs as fast as the server answers.
	QPS         float64
	Mode        string // OpenLoop (default when QPS > 0) or ClosedLoop
	Connections int    // parallel connections (fortio -c), 1 if zero
	Duration    time.Duration
	Requests    int64 // exact request count; overrides Duration when > 0
	// NewConnectionPerRequest disables keep-alive (fortio -keepalive=false).
	NewConnectionPerRequest bool
	Timeout                 time.Duration // per request, 5 s if zero
	Resolution              float64       // histogram resolution in seconds, 0.001 if zero
	Percentiles             []float64     // 50, 75, 90, 99, 99.9 if nil
	Labels                  string
	// Dial, if set, opens connections (e.g. through a capture listener).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Result is a fortio-compatible run result (fhttp.HTTPRunnerResults fields).
type Result struct {
	RunType                 string
	Labels                  string
	StartTime               time.Time
	RequestedQPS            string
	RequestedDuration       string
	ActualQPS               float64
	ActualDuration          time.Duration
	NumThreads              int
	Version                 string
	DurationHistogram       *HistogramData
	ErrorsDurationHistogram *HistogramData
	Exactly                 int64
	Jitter                  bool
	Uniform                 bool
	NoCatchUp               bool
	RunID                   int64
	AccessLoggerInfo        string
	ID                      string
	URL                     string
	RetCodes                map[int]int64
	Sizes                   *HistogramData
	HeaderSizes             *HistogramData
	Sockets                 []int64
	SocketCount             int64
	// Not in fortio: how latency was measured, and (open loop) how late
	// each request left relative to its due time — generator and client
	// queueing that the open-loop latency includes.
	Mode                          string
	CoordinatedOmissionCorrection bool
	SendDelayHistogram            *HistogramData `json:",omitempty"`
}

type worker struct {
	client  *http.Client
	tr      *http.Transport
	lat     *Histogram
	errLat  *Histogram
	delay   *Histogram
	sizes   *Histogram
	headers *Histogram
	codes   map[int]int64
	sockets atomic.Int64
}

// Run drives load until the duration or request count is reached or ctx ends.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.URL == "" {
		return nil, errors.New("loadgen: URL is required")
	}
	if o.Connections <= 0 {
		o.Connections = 1
	}
	if o.Mode == "" {
		o.Mode = ClosedLoop
		if o.QPS > 0 {
			o.Mode = OpenLoop
		}
	}
	if o.Mode != OpenLoop && o.Mode != ClosedLoop {
		return nil, fmt.Errorf("loadgen: mode %q, want open or closed", o.Mode)
	}
	if o.Mode == OpenLoop && o.QPS <= 0 {
		return nil, errors.New("loadgen: open loop needs QPS > 0")
	}
	if o.Duration <= 0 && o.Requests <= 0 {
		return nil, errors.New("loadgen: set Duration or Requests")
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Resolution <= 0 {
		o.Resolution = 0.001
	}
	if o.Percentiles == nil {
		o.Percentiles = []float64{50, 75, 90, 99, 99.9}
	}
	method := o.Method
	if method == "" {
		method = http.MethodGet
		if o.PayloadSize > 0 {
			method = http.MethodPost
		}
	}
	payload := bytes.Repeat([]byte{'x'}, o.PayloadSize)
	if _, err := http.NewRequest(method, o.URL, nil); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}

	workers := make([]*worker, o.Connections)
	for i := range workers {
		w := &worker{lat: NewHistogram(0, o.Resolution), errLat: NewHistogram(0, o.Resolution), delay: NewHistogram(0, o.Resolution),
			sizes: NewHistogram(0, 1), headers: NewHistogram(0, 1), codes: map[int]int64{}}
		dial := o.Dial
		if dial == nil {
			var d net.Dialer
			dial = d.DialContext
		}
		w.tr = &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dial(ctx, network, addr)
				if err == nil {
					w.sockets.Add(1)
				}
				return c, err
			},
			MaxIdleConnsPerHost: 1,
			MaxConnsPerHost:     1,
			DisableKeepAlives:   o.NewConnectionPerRequest,
			DisableCompression:  true,
		}
		w.client = &http.Client{Transport: w.tr, Timeout: o.Timeout}
		workers[i] = w
	}
	defer func() {
		for _, w := range workers {
			w.tr.CloseIdleConnections()
		}
	}()

	// do sends one request; latency runs from start, and the send delay
	// is measured from due.
	do := func(w *worker, start, due time.Time) {
		late := time.Since(due).Seconds()
		intended := start
		var body io.Reader
		if len(payload) > 0 {
			body = bytes.NewReader(payload)
		}
		req, _ := http.NewRequestWithContext(ctx, method, o.URL, body)
		for k, v := range o.Header {
			req.Header[k] = v
		}
		code := -1
		size, hdr := 0, 0
		resp, err := w.client.Do(req)
		if err == nil {
			n, _ := io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			code, size = resp.StatusCode, int(n)
			for k, vs := range resp.Header {
				for _, v := range vs {
					hdr += len(k) + len(v) + 4
				}
			}
		}
		lat := time.Since(intended).Seconds()
		if ctx.Err() != nil && err != nil {
			return // the run was cancelled: not a measurement
		}
		w.lat.Record(lat)
		w.delay.Record(late)
		if code != http.StatusOK {
			w.errLat.Record(lat)
		}
		w.codes[code]++
		w.sizes.Record(float64(size + hdr))
		w.headers.Record(float64(hdr))
	}

	start := time.Now()
	var deadline time.Time
	if o.Duration > 0 && o.Requests <= 0 {
		deadline = start.Add(o.Duration)
	}
	var wg sync.WaitGroup
	switch o.Mode {
	case OpenLoop:
		// Request i is due at start + i/QPS. A free connection claims the
		// next due request and sends it on time; when every connection is
		// busy the request waits and is charged for the wait, since latency
		// is measured from the due time. Claiming (instead of a dispatcher
		// handing requests over) keeps the generator's own wake-up cost out
		// of the figures.
		interval := float64(time.Second) / o.QPS
		var next atomic.Int64
		for _, w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if o.Requests > 0 && i >= o.Requests {
						return
					}
					t := start.Add(time.Duration(float64(i) * interval))
					if !deadline.IsZero() && !t.Before(deadline) {
						return
					}
					// A connection still busy at the due time makes the request
					// wait: that wait is the system's and is charged (latency
					// from the due time). A connection that was idle and only
					// woke late was delayed by the generator's own timer: that
					// is not charged (latency from the actual send).
					busy := time.Now().After(t)
					if !sleepUntil(ctx, t) {
						return
					}
					from := time.Now()
					if busy {
						from = t
					}
					do(w, from, t)
				}
			}()
		}
	case ClosedLoop:
		var issued atomic.Int64
		perConn := 0.0
		if o.QPS > 0 {
			perConn = o.QPS / float64(o.Connections)
		}
		for _, w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int64(0); ; i++ {
					if o.Requests > 0 && issued.Add(1) > o.Requests {
						return
					}
					if ctx.Err() != nil {
						return
					}
					if perConn > 0 {
						// fortio-style pacing: sleep to the next slot, catch up when late.
						next := start.Add(time.Duration(float64(i) / perConn * float64(time.Second)))
						if d := time.Until(next); d > 0 {
							time.Sleep(d)
						}
					}
					now := time.Now()
					if !deadline.IsZero() && !now.Before(deadline) {
						return
					}
					do(w, now, now)
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)

	lat, errLat, delay := NewHistogram(0, o.Resolution), NewHistogram(0, o.Resolution), NewHistogram(0, o.Resolution)
	sizes, headers := NewHistogram(0, 1), NewHistogram(0, 1)
	res := &Result{RunType: "HTTP", Labels: o.Labels, StartTime: start, NumThreads: o.Connections, Version: Version,
		URL: o.URL, RetCodes: map[int]int64{}, Exactly: o.Requests, Mode: o.Mode,
		CoordinatedOmissionCorrection: o.Mode == OpenLoop, ActualDuration: elapsed}
	for _, w := range workers {
		lat.Merge(w.lat)
		errLat.Merge(w.errLat)
		delay.Merge(w.delay)
		sizes.Merge(w.sizes)
		headers.Merge(w.headers)
		for c, n := range w.codes {
			res.RetCodes[c] += n
		}
		s := w.sockets.Load()
		res.Sockets = append(res.Sockets, s)
		res.SocketCount += s
	}
	if o.QPS > 0 {
		res.RequestedQPS = strconv.FormatFloat(o.QPS, 'f', -1, 64)
	} else {
		res.RequestedQPS = "max"
	}
	if o.Requests > 0 {
		res.RequestedDuration = fmt.Sprintf("exactly %d calls", o.Requests)
	} else {
		res.RequestedDuration = o.Duration.String()
	}
	res.ActualQPS = float64(lat.Count()) / elapsed.Seconds()
	res.DurationHistogram = lat.Export(o.Percentiles...)
	res.ErrorsDurationHistogram = errLat.Export()
	if o.Mode == OpenLoop {
		res.SendDelayHistogram = delay.Export(o.Percentiles...)
	}
	res.Sizes = sizes.Export()
	res.HeaderSizes = headers.Export()
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("loadgen: run interrupted: %w", err)
	}
	return res, nil
}

// spinWindow is how early the dispatcher wakes before an intended send time
// to yield-spin the rest of the way: Go timers overshoot by 50 µs to over a
// millisecond on a busy machine, and in open loop every microsecond of
// generator lateness would be charged to the system under test.
const spinWindow = 300 * time.Microsecond

func sleepUntil(ctx context.Context, t time.Time) bool {
	if d := time.Until(t) - spinWindow; d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return false
		}
	}
	for time.Now().Before(t) {
		runtime.Gosched()
	}
	return ctx.Err() == nil
}

// WriteJSON writes r as indented JSON to path atomically.
func (r *Result) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".loadgen-*.json")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadJSON decodes a fortio (or loadgen) JSON result file.
func ReadJSON(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// Summary is a one-line human summary (count, qps, p50/p90/p99 in ms).
func (r *Result) Summary() string {
	h := r.DurationHistogram
	ms := func(p float64) float64 { return h.CalcPercentile(p) * 1000 }
	return fmt.Sprintf("%d calls in %v: %.1f qps, p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms, codes %v",
		h.Count, r.ActualDuration.Round(time.Millisecond), r.ActualQPS, ms(50), ms(90), ms(99), h.Max*1000, r.RetCodes)
}
