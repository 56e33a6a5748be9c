package loadgen_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ambientsim/ambientsim/validation/loadgen"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The golden file was produced by fortio v1.68.2's stats package (scratch
// program, not a dependency) for the same twelve samples at 0.1 ms resolution.
func TestHistogramMatchesFortio(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "fortio_v1.68.2_histogram.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want loadgen.HistogramData
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	h := loadgen.NewHistogram(0, 0.0001)
	for _, v := range []float64{0.00005, 0.00012, 0.0002, 0.00021, 0.00033, 0.0009, 0.0011, 0.0011, 0.0047, 0.013, 0.25, 12.5} {
		h.Record(v)
	}
	got := h.Export(10, 50, 75, 90, 99, 99.9)
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	if got.Count != want.Count || !near(got.Min, want.Min) || !near(got.Max, want.Max) || !near(got.Avg, want.Avg) || !near(got.StdDev, want.StdDev) {
		t.Fatalf("summary = %+v, want %+v", got, want)
	}
	if len(got.Data) != len(want.Data) {
		t.Fatalf("buckets = %+v\nwant %+v", got.Data, want.Data)
	}
	for i := range got.Data {
		g, w := got.Data[i], want.Data[i]
		if g.Count != w.Count || !near(g.Start, w.Start) || !near(g.End, w.End) || !near(g.Percent, w.Percent) {
			t.Errorf("bucket %d = %+v, want %+v", i, g, w)
		}
	}
	for i := range got.Percentiles {
		if !near(got.Percentiles[i].Value, want.Percentiles[i].Value) {
			t.Errorf("p%v = %v, want %v", got.Percentiles[i].Percentile, got.Percentiles[i].Value, want.Percentiles[i].Value)
		}
	}
}

func TestRunModes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	ctx := context.Background()
	open, err := loadgen.Run(ctx, loadgen.Options{URL: srv.URL, QPS: 400, Duration: 250 * time.Millisecond, Connections: 2})
	if err != nil {
		t.Fatal(err)
	}
	if n := open.RetCodes[200]; n < 90 || n > 101 || open.Labels != "open-loop" || open.SocketCount != 2 {
		t.Fatalf("open loop: %d OK, labels %q, sockets %d; want about 100 on 2 sockets, labels open-loop", n, open.Labels, open.SocketCount)
	}
	if addr := strings.TrimPrefix(srv.URL, "http://"); open.IPCountMap[addr] != 2 || len(open.IPCountMap) != 1 || open.ConnectionStats.Count != 2 {
		t.Fatalf("open loop: IPCountMap %v, ConnectionStats count %d; want {%s: 2} and 2", open.IPCountMap, open.ConnectionStats.Count, addr)
	}
	closed, err := loadgen.Run(ctx, loadgen.Options{URL: srv.URL, Mode: loadgen.ClosedLoop, Requests: 30, Connections: 3,
		NewConnectionPerRequest: true, PayloadSize: 1024, Labels: "exp 1/a"})
	if err != nil {
		t.Fatal(err)
	}
	if closed.DurationHistogram.Count != 30 || closed.RetCodes[200] != 30 || closed.SocketCount != 30 {
		t.Fatalf("closed loop: %+v codes %v sockets %d; want 30 calls on 30 sockets", closed.DurationHistogram.Count, closed.RetCodes, closed.SocketCount)
	}
	if closed.Labels != "exp 1/a , closed-loop" || !strings.HasSuffix(closed.ID, "_exp_1_a_closed_loop") || !closed.DisableKeepAlive || len(closed.Payload) != 1024 {
		t.Fatalf("closed loop: labels %q, ID %q, DisableKeepAlive %v, payload %d B", closed.Labels, closed.ID, closed.DisableKeepAlive, len(closed.Payload))
	}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := closed.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	back, err := loadgen.ReadJSON(path)
	if err != nil || back.DurationHistogram.Count != 30 || back.RetCodes[200] != 30 {
		t.Fatalf("read back: %+v, %v", back, err)
	}
}

// An interrupted run returns what it measured, marked as fortio marks a
// failed run (error, message, exception), so it never reads as complete.
func TestInterruptedRunIsMarked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := loadgen.Run(ctx, loadgen.Options{URL: srv.URL, QPS: 100, Duration: time.Minute})
	if res == nil {
		t.Fatalf("interrupted run returned no result (err %v)", err)
	}
	if err == nil || !res.Error || res.Message != "run interrupted" || res.Exception == "" {
		t.Fatalf("interrupted run: err %v, result error %v message %q exception %q", err, res.Error, res.Message, res.Exception)
	}
	data, err := res.MarshalIndent()
	if err != nil || !strings.Contains(string(data), `"error": true`) {
		t.Fatalf("interrupted result JSON lacks \"error\": true (%v)", err)
	}
}

// A server that stalls once for 200 ms: a closed-loop client records one
// slow sample, an open-loop client charges the stall to every request that
// was due during it (coordinated-omission correction).
func TestOpenLoopCorrectsCoordinatedOmission(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 5 {
			time.Sleep(200 * time.Millisecond)
		}
	}))
	defer srv.Close()
	slow := func(r *loadgen.Result) float64 {
		h := r.DurationHistogram
		below := 0.0
		for _, b := range h.Data {
			if b.End <= 0.05 {
				below = b.Percent
			}
		}
		return (100 - below) / 100 * float64(h.Count)
	}
	open, err := loadgen.Run(context.Background(), loadgen.Options{URL: srv.URL, QPS: 100, Requests: 40, Connections: 1})
	if err != nil {
		t.Fatal(err)
	}
	n.Store(0)
	closed, err := loadgen.Run(context.Background(), loadgen.Options{URL: srv.URL, Mode: loadgen.ClosedLoop, QPS: 100, Requests: 40, Connections: 1})
	if err != nil {
		t.Fatal(err)
	}
	if so, sc := slow(open), slow(closed); so < 10 || sc > 2 {
		t.Fatalf("samples over 50 ms: open %v, closed %v; want ≥10 and ≤2", so, sc)
	}
}

func ExampleHistogram() {
	h := loadgen.NewHistogram(0, 1)
	for _, v := range []float64{10, 20, 30} {
		h.Record(v)
	}
	d := h.Export(50)
	fmt.Println(d.Count, d.Percentiles[0].Value)
	// Output: 3 19
}
