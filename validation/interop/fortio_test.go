package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fortio.org/fortio/fhttp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ambientsim/ambientsim/validation/loadgen"
)

// loadResults runs our load generator against a local server that fails
// one call in ten (so the error histogram is filled too) and returns the
// bytes `meshnode load --json` writes, for each load mode and for a run
// interrupted half way (fortio's error/message/exception fields).
func loadResults(t *testing.T) map[string][]byte {
	t.Helper()
	srv := flakyServer(t)
	short, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	t.Cleanup(cancel)
	runs := []struct {
		name string
		ctx  context.Context
		o    loadgen.Options
	}{
		{"open", context.Background(), loadgen.Options{URL: srv.URL, QPS: 500, Requests: 60, Connections: 2, Labels: "interop open",
			Resolution: 0.0001, PayloadSize: 16}},
		{"closed", context.Background(), loadgen.Options{URL: srv.URL, Mode: loadgen.ClosedLoop, Requests: 60, Connections: 3,
			NewConnectionPerRequest: true, Percentiles: []float64{50, 99}}},
		{"interrupted", short, loadgen.Options{URL: srv.URL, QPS: 100, Duration: time.Minute}},
	}
	out := map[string][]byte{}
	for _, r := range runs {
		res, err := loadgen.Run(r.ctx, r.o)
		if res == nil {
			t.Fatalf("%s run: %v", r.name, err)
		}
		if (err != nil) != (r.name == "interrupted") {
			t.Fatalf("%s run: error %v", r.name, err)
		}
		data, err := res.MarshalIndent()
		if err != nil {
			t.Fatal(err)
		}
		out[r.name] = data
	}
	return out
}

// flakyServer answers 1 KiB, and 503 to every tenth call.
func flakyServer(t *testing.T) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write(bytes.Repeat([]byte("y"), 1024))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Our result file decodes into fortio v1.68.2's own fhttp.HTTPRunnerResults
// with unknown fields refused, and fortio's type encodes it back to the
// very same bytes: every field we write is fortio's (name and JSON type),
// every field fortio writes is ours, in fortio's order, and no value is
// lost or changed on the way through fortio's type.
func TestLoadResultIsFortioHTTPRunnerResults(t *testing.T) {
	for name, ours := range loadResults(t) {
		t.Run(name, func(t *testing.T) {
			dec := json.NewDecoder(bytes.NewReader(ours))
			dec.DisallowUnknownFields()
			var f fhttp.HTTPRunnerResults
			if err := dec.Decode(&f); err != nil {
				t.Fatalf("strict decode into fortio's HTTPRunnerResults: %v", err)
			}
			if dec.More() {
				t.Fatal("data after the result object")
			}
			back, err := json.MarshalIndent(&f, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			back = append(back, '\n')
			oursKeys, fortioKeys := keyPaths(t, ours), keyPaths(t, back)
			if missing := minus(fortioKeys, oursKeys); len(missing) > 0 {
				t.Errorf("fields fortio writes that we do not: %v", missing)
			}
			if extra := minus(oursKeys, fortioKeys); len(extra) > 0 {
				t.Errorf("fields we write that fortio does not: %v", extra)
			}
			if !bytes.Equal(ours, back) {
				t.Errorf("fortio's type re-encodes our result differently:\n%s", firstDiff(ours, back))
			}
			if name == "interrupted" && !f.Error {
				t.Error("an interrupted run is not marked as fortio's error result")
			}
			if name != "interrupted" && (f.DurationHistogram.Count != 60 || f.ErrorsDurationHistogram.Count != 6 ||
				f.RetCodes[200] != 54 || f.RetCodes[503] != 6 || f.ConnectionStats.Count != f.SocketCount || len(f.IPCountMap) != 1) {
				t.Errorf("fortio reads %d calls, %d errors, codes %v, %d connections timed of %d, IPs %v; want 60, 6, 54×200 + 6×503, all, one",
					f.DurationHistogram.Count, f.ErrorsDurationHistogram.Count, f.RetCodes, f.ConnectionStats.Count, f.SocketCount, f.IPCountMap)
			}
		})
	}
}

// A file written by the fortio binary itself has exactly our field set
// (values differ: it is another run). Skips without fortio on PATH, fails
// under CI.
func TestFortioBinaryWritesOurFieldSet(t *testing.T) {
	bin := fortioBinary(t)
	srv := flakyServer(t) // errors too, so both error histograms have buckets
	out := filepath.Join(t.TempDir(), "fortio.json")
	cmd := exec.Command(bin, "load", "-qps", "200", "-n", "20", "-c", "2", "-json", out, "-quiet", srv.URL+"/")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fortio load: %v\n%s", err, b)
	}
	theirs, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	ours := loadResults(t)["closed"]
	tk, ok := topKeys(t, theirs), topKeys(t, ours)
	if !slices.Equal(tk, ok) {
		t.Errorf("top-level fields:\nfortio %v\nours   %v", tk, ok)
	}
	if missing, extra := minus(keyPaths(t, theirs), keyPaths(t, ours)), minus(keyPaths(t, ours), keyPaths(t, theirs)); len(missing)+len(extra) > 0 {
		t.Errorf("nested fields fortio writes and we do not: %v; we write and fortio does not: %v", missing, extra)
	}
}

// fortio's own report UI (`fortio report`, its browse page and
// fortio_chart.js in headless Chromium) loads our file, draws the chart
// and titles it with our run's facts, with no script error. Skips without
// fortio or Chromium, fails under CI.
func TestFortioReportReadsLoadResult(t *testing.T) {
	if testing.Short() {
		t.Skip("drives fortio report and a real browser")
	}
	bin := fortioBinary(t)
	chromium := findChromium(t)
	dir := t.TempDir()
	ours := loadResults(t)["open"]
	if err := os.WriteFile(filepath.Join(dir, "ours.json"), ours, 0o644); err != nil {
		t.Fatal(err)
	}
	var res loadgen.Result
	if err := json.Unmarshal(ours, &res); err != nil {
		t.Fatal(err)
	}
	base := startFortioReport(t, bin, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		// No network beyond fortio on loopback.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"), chromedp.UserDataDir(t.TempDir()))...)
	defer acancel()
	var problems []string
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			problems = append(problems, "exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console.error")
			}
		}
	}))
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"browse?url=ours.json")); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	// The page fetches data/ours.json, converts it (fortioResultToJsChartData),
	// draws it and then links the file: the link means all of that ran.
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelector('#url a') !== null`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("fortio's browse page never finished drawing our result (problems: %v): %v", problems, err)
	}
	type drawn struct {
		Title    []string
		Buckets  int
		Canvases int
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[drawn](
		`({Title: data.title, Buckets: data.dataH.length, Canvases: document.querySelectorAll('canvas').length})`))
	if err != nil {
		t.Fatalf("read the chart data: %v", err)
	}
	if len(problems) > 0 {
		t.Errorf("script problems: %v", problems)
	}
	if len(got.Title) != 3 || got.Canvases == 0 || got.Buckets < len(res.DurationHistogram.Data) {
		t.Fatalf("drawn %+v; want a 3-line title, a canvas and ≥ %d histogram points", got, len(res.DurationHistogram.Data))
	}
	wantLines := []string{
		res.Labels + " - " + res.URL,
		fmt.Sprintf("histogram at %s target qps", res.RequestedQPS),
		fmt.Sprintf("%d connections for %s", res.NumThreads, res.RequestedDuration),
		"10% errors",
		fmt.Sprintf(", p%g ", res.DurationHistogram.Percentiles[0].Percentile),
	}
	all := strings.Join(got.Title, "\n")
	t.Logf("fortio titles our chart:\n%s", all)
	for _, w := range wantLines {
		if !strings.Contains(all, w) {
			t.Errorf("fortio's chart title lacks %q:\n%s", w, all)
		}
	}
}

// startFortioReport serves dir with `fortio report` on a free loopback port
// and returns its base URL; the process is killed when the test ends.
func startFortioReport(t *testing.T, bin, dir string) string {
	t.Helper()
	cmd := exec.Command(bin, "report", "-http-port", "127.0.0.1:0", "-data-dir", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindString(sc.Text()); m != "" {
				found <- m
				break
			}
		}
		for sc.Scan() { // keep draining so the process never blocks on output
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(20 * time.Second):
		t.Fatal("fortio report did not say where it listens within 20 s")
		return ""
	}
}

func fortioBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FORTIO"); p != "" {
		return p
	}
	if p, err := exec.LookPath("fortio"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but fortio is not on PATH: go install fortio.org/fortio@v1.68.2")
	}
	t.Skip("fortio not on PATH (go install fortio.org/fortio@v1.68.2); set CI to make this a failure")
	return ""
}

func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but chromium is not on PATH: apt-get install -y chromium, or set CHROMIUM")
	}
	t.Skip("no chromium on PATH (set CHROMIUM); set CI to make this a failure")
	return ""
}

// keyPaths lists every object key in a JSON document as a dotted path;
// array elements share their array's path ("DurationHistogram.Data[]."),
// and the keys of RetCodes and IPCountMap (status codes, addresses) are
// data, not fields.
func keyPaths(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				set[prefix+k] = true
				if k != "RetCodes" && k != "IPCountMap" {
					walk(prefix+k+".", c)
				}
			}
		case []any:
			for _, c := range x {
				walk(strings.TrimSuffix(prefix, ".")+"[].", c)
			}
		}
	}
	walk("", v)
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// topKeys lists the top-level keys in document order.
func topKeys(t *testing.T, doc []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	var keys []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch x := tok.(type) {
		case json.Delim:
			if x == '{' || x == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 {
				keys = append(keys, x)
				// Skip the value.
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return keys
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\nours:   %s\nfortio: %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths differ: %d vs %d lines", len(al), len(bl))
}
