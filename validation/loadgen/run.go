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
	"strings"
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

// Result is fortio v1.68.2's HTTP result (fhttp.HTTPRunnerResults) field
// for field, in fortio's JSON order and with fortio's types, so that a
// strict decoder of fortio's type (DisallowUnknownFields) and fortio's own
// report UI read our files; validation/interop proves both. Where fortio's
// fields describe client features we do not have (TLS to the target, HTTP/2,
// warm-up) they hold what we did: the zero value. How latency was measured
// (open or closed loop) goes where fortio puts free-form run facts: Labels.
type Result struct {
	// periodic.RunnerResults
	RunType           string
	Labels            string
	StartTime         time.Time
	RequestedQPS      string
	RequestedDuration string
	ActualQPS         float64
	ActualDuration    time.Duration
	NumThreads        int
	Version           string
	// DurationHistogram holds every call; ErrorsDurationHistogram the calls
	// that failed (no response, or a status fortio counts as an error).
	DurationHistogram       *HistogramData
	ErrorsDurationHistogram *HistogramData
	Exactly                 int64
	Jitter                  bool
	Uniform                 bool
	NoCatchUp               bool
	RunID                   int64
	AccessLoggerInfo        string
	ID                      string
	// jrpc.ServerReply: set (error true) when the run was interrupted, so a
	// partial result never reads as a complete one.
	Error     bool   `json:"error,omitempty"`
	Message   string `json:"message,omitempty"`
	Exception string `json:"exception,omitempty"`

	RetCodes   map[int]int64
	IPCountMap map[string]int // connections opened per remote address

	// fhttp.HTTPOptions (with its TLSOptions first).
	Insecure          bool
	MTLS              bool
	CACert            string
	Cert              string
	Key               string
	UnixDomainSocket  string
	URL               string
	NumConnections    int  // connections per thread: 1
	Compression       bool // false: compression is disabled
	DisableFastClient bool // true: Go's net/http client, as fortio -stdclient
	HTTP10            bool
	H2                bool
	DisableKeepAlive  bool
	AllowHalfClose    bool
	FollowRedirects   bool
	Resolve           string
	HTTPReqTimeOut    time.Duration
	UserCredentials   string
	ContentType       string
	Payload           []byte
	MethodOverride    string
	LogErrors         bool
	SequentialWarmup  bool
	ConnReuseRange    [2]int
	NoResolveEachConn bool
	Offset            time.Duration // of ConnectionStats
	Resolution        float64       // of ConnectionStats, seconds

	Sizes           *HistogramData // response bytes, headers included
	HeaderSizes     *HistogramData
	Sockets         []int64 // connections opened per thread
	SocketCount     int64
	ConnectionStats *HistogramData // seconds to open each connection
	AbortOn         int

	// SendDelayHistogram (open loop, in process only: fortio has no such
	// field) is how late each request left relative to its due time —
	// generator and client queueing that the open-loop latency includes.
	SendDelayHistogram *HistogramData `json:"-"`
}

// ModeLabel is the label Run adds to Result.Labels for a load mode.
func ModeLabel(mode string) string { return mode + "-loop" }

type worker struct {
	client  *http.Client
	tr      *http.Transport
	lat     *Histogram
	errLat  *Histogram
	delay   *Histogram
	sizes   *Histogram
	headers *Histogram
	codes   map[int]int64

	// Connections are opened by the transport's own goroutines.
	connMu  sync.Mutex
	sockets int64
	connect *Histogram     // seconds to open a connection
	remotes map[string]int // connections per remote address
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
		// Size histograms use fortio's dividers (100 B and 5 B).
		w := &worker{lat: NewHistogram(0, o.Resolution), errLat: NewHistogram(0, o.Resolution), delay: NewHistogram(0, o.Resolution),
			sizes: NewHistogram(0, 100), headers: NewHistogram(0, 5), codes: map[int]int64{},
			connect: NewHistogram(0, o.Resolution), remotes: map[string]int{}}
		dial := o.Dial
		if dial == nil {
			var d net.Dialer
			dial = d.DialContext
		}
		w.tr = &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				t0 := time.Now()
				c, err := dial(ctx, network, addr)
				if err == nil {
					w.connMu.Lock()
					w.sockets++
					w.connect.Record(time.Since(t0).Seconds())
					w.remotes[c.RemoteAddr().String()]++
					w.connMu.Unlock()
				}
				return c, err
			},
			MaxIdleConnsPerHost: 1,
			MaxConnsPerHost:     1,
			DisableKeepAlives:   o.NewConnectionPerRequest,
			DisableCompression:  true,
		}
		// Redirects are measured, not followed (fortio's FollowRedirects false).
		w.client = &http.Client{Transport: w.tr, Timeout: o.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
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
		if !codeIsOK(code) {
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
	sizes, headers, connect := NewHistogram(0, 100), NewHistogram(0, 5), NewHistogram(0, o.Resolution)
	labels := ModeLabel(o.Mode)
	if o.Labels != "" {
		labels = o.Labels + " , " + labels // fortio joins label parts with " , "
	}
	res := &Result{RunType: "HTTP", Labels: labels, StartTime: start, NumThreads: o.Connections, Version: Version,
		Exactly: o.Requests, ID: runID(start, labels), RetCodes: map[int]int64{}, IPCountMap: map[string]int{},
		URL: o.URL, NumConnections: 1, DisableFastClient: true, DisableKeepAlive: o.NewConnectionPerRequest,
		HTTPReqTimeOut: o.Timeout, Payload: payload, MethodOverride: o.Method, Resolution: o.Resolution,
		ActualDuration: elapsed}
	for _, w := range workers {
		lat.Merge(w.lat)
		errLat.Merge(w.errLat)
		delay.Merge(w.delay)
		sizes.Merge(w.sizes)
		headers.Merge(w.headers)
		for c, n := range w.codes {
			res.RetCodes[c] += n
		}
		w.connMu.Lock()
		connect.Merge(w.connect)
		for a, n := range w.remotes {
			res.IPCountMap[a] += n
		}
		res.Sockets = append(res.Sockets, w.sockets)
		res.SocketCount += w.sockets
		w.connMu.Unlock()
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
	res.ErrorsDurationHistogram = errLat.Export(o.Percentiles...)
	res.ConnectionStats = connect.Export(o.Percentiles...)
	if o.Mode == OpenLoop {
		res.SendDelayHistogram = delay.Export(o.Percentiles...)
	}
	res.Sizes = sizes.Export()
	res.HeaderSizes = headers.Export()
	if err := ctx.Err(); err != nil {
		res.Error, res.Message, res.Exception = true, "run interrupted", err.Error()
		return res, fmt.Errorf("loadgen: run interrupted: %w", err)
	}
	return res, nil
}

// codeIsOK is fortio's rule for a successful call: a 2xx status or 418.
func codeIsOK(code int) bool {
	return (code >= 200 && code <= 299) || code == http.StatusTeapot
}

// runID is fortio's result ID: the start time as YYYY-MM-DD-HHMMSS, then
// the labels with every run of non-alphanumerics replaced by one "_",
// at most 96 bytes.
func runID(start time.Time, labels string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d-%02d-%02d-%02d%02d%02d", start.Year(), start.Month(), start.Day(), start.Hour(), start.Minute(), start.Second())
	last := '_'
	if labels != "" {
		b.WriteByte('_')
	}
	for _, r := range labels {
		alnum := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !alnum {
			if last == '_' {
				continue
			}
			r = '_'
		}
		last = r
		b.WriteRune(r)
	}
	id := strings.TrimSuffix(b.String(), "_")
	if len(id) > 96 {
		id = id[:96]
	}
	return id
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

// MarshalIndent is the result file's content: indented JSON (as fortio
// writes it) and a final newline.
func (r *Result) MarshalIndent() ([]byte, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return append(data, '\n'), nil
}

// WriteJSON writes r as indented JSON to path atomically.
func (r *Result) WriteJSON(path string) error {
	data, err := r.MarshalIndent()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".loadgen-*.json")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
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
