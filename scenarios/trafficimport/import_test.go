package trafficimport

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/ambientsim/ambientsim/internal/golden"
	"github.com/ambientsim/ambientsim/scenarios"
)

// goldenOptions are the options the round trip saved the sidecar responses
// with (End comes from the file).
func goldenOptions(t *testing.T, file string) Options {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var r Responses
	if err := json.Unmarshal(data, &r); err != nil || len(r.Queries) == 0 {
		t.Fatalf("%s: %v", file, err)
	}
	end, err := time.Parse(time.RFC3339Nano, r.Queries[0].Time)
	if err != nil {
		t.Fatal(err)
	}
	return Options{End: end, Range: time.Minute, PeakWindow: 30 * time.Second, Selector: `mode="sidecar"`}
}

// TestImportFromFile replays the real server's responses saved by the
// round trip (-update) and compares the fragment with the golden file.
func TestImportFromFile(t *testing.T) {
	file := filepath.Join("testdata", "sidecar.responses.json")
	src, err := ReadResponses(file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(context.Background(), src, goldenOptions(t, file))
	if err != nil {
		t.Fatal(err)
	}
	got, err := res.Fragment()
	if err != nil {
		t.Fatal(err)
	}
	// The fragment must be a valid part of a scenario.
	base, _ := scenarios.LibraryFile("modes-compare")
	before, _, _ := strings.Cut(string(base), "traffic:")
	if _, err := scenarios.Parse("fragment.yaml", []byte(before+string(got))); err != nil {
		t.Fatalf("the fragment does not make a scenario: %v\n%s", err, got)
	}
	golden.Check(t, filepath.Join("testdata", "sidecar.traffic.yaml"), got)
	// The same responses as a directory of <id>.json bodies (what curl
	// writes in the air-gapped workflow of docs/import.md) import the same.
	var saved Responses
	if err := json.Unmarshal(readTestFile(t, file), &saved); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, q := range saved.Queries {
		if err := os.WriteFile(filepath.Join(dir, q.ID+".json"), q.Response, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dsrc, err := ReadResponses(dir)
	if err != nil {
		t.Fatal(err)
	}
	dres, err := Import(context.Background(), dsrc, goldenOptions(t, file))
	if err != nil {
		t.Fatal(err)
	}
	fromDir, _ := dres.Fragment()
	// Only the header comments and observed.source name the file.
	strip := func(b []byte) string {
		var keep []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(l, "#") && !strings.HasPrefix(strings.TrimSpace(l), "source: ") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if strip(fromDir) != strip(got) || !strings.Contains(string(fromDir), "rate: ") {
		t.Errorf("a directory of responses imports differently from the file:\n%s", fromDir)
	}
	// A different query (here: another range) does not match the saved one.
	o := goldenOptions(t, file)
	o.Range = 2 * time.Minute
	if _, err := Import(context.Background(), src, o); err == nil || !strings.Contains(err.Error(), "was saved as") {
		t.Errorf("mismatched query: error %v", err)
	}
}

// fakeSource answers from vectors built in the test.
type fakeSource map[string]model.Vector

func (f fakeSource) Describe() string { return "fake" }
func (f fakeSource) Vector(_ context.Context, q Query, _ time.Time) (model.Vector, error) {
	return f[q.ID], nil
}

func sample(v float64, labels ...string) *model.Sample {
	m := model.Metric{}
	for i := 0; i+1 < len(labels); i += 2 {
		m[model.LabelName(labels[i])] = model.LabelValue(labels[i+1])
	}
	return &model.Sample{Metric: m, Value: model.SampleValue(v)}
}

// edge labels: reporter, source ns/name, destination service ns/name and workload.
func el(rep, from, to, dstWL string, extra ...string) []string {
	fns, fn, _ := strings.Cut(from, "/")
	tns, tn, _ := strings.Cut(to, "/")
	wns, wn, _ := strings.Cut(dstWL, "/")
	return append([]string{"reporter", rep, "source_workload_namespace", fns, "source_workload", fn,
		"destination_service_namespace", tns, "destination_service_name", tn,
		"destination_workload_namespace", wns, "destination_workload", wn}, extra...)
}

// TestReporterChoice: each edge takes one reporter's figures (nothing is
// counted twice), fan-out follows the served rate, waypoint ztunnel legs
// and unknown sources are not edges.
func TestReporterChoice(t *testing.T) {
	const r = 100.0 // seconds in the range below
	src := fakeSource{
		QRequests: {
			// sidecar edge: both ends report; destination wins.
			sample(1000, el("source", "a/client", "b/api", "b/api", "request_protocol", "http", "response_code", "200")...),
			sample(1000, el("destination", "a/client", "b/api", "b/api", "request_protocol", "http", "response_code", "200")...),
			// waypoint edge from api (which serves 10 rps): fan-out 2.
			sample(1900, el("waypoint", "b/api", "c/db", "c/db", "request_protocol", "http", "response_code", "200")...),
			sample(100, el("waypoint", "b/api", "c/db", "c/db", "request_protocol", "http", "response_code", "503")...),
			// an out-of-mesh caller only a destination sidecar saw.
			sample(50, el("destination", "unknown/unknown", "b/api", "b/api", "request_protocol", "http", "response_code", "200")...),
		},
		QTCPOpened: {
			// ztunnel legs of the waypoint edge: not edges of their own.
			sample(10, el("source", "b/api", "c/db", "c/waypoint")...),
			sample(10, el("destination", "c/waypoint", "c/db", "c/db")...),
			// an L4-only edge.
			sample(200, el("source", "a/client", "d/cache", "d/cache")...),
			sample(200, el("destination", "a/client", "d/cache", "d/cache")...),
		},
		QTCPSent: {
			sample(2000, el("source", "a/client", "d/cache", "d/cache")...),
			sample(9000, el("destination", "c/waypoint", "c/db", "c/db")...),
		},
		QTCPReceived: {sample(20000, el("source", "a/client", "d/cache", "d/cache")...)},
	}
	res, err := Import(context.Background(), src, Options{End: time.Unix(1e9, 0), Range: r * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Edge{}
	for _, e := range res.Edges {
		got[e.Observed.From+"->"+e.Observed.To] = e
	}
	if len(got) != 3 {
		t.Fatalf("edges %v, want a/client->b/api, b/api->c/db, a/client->d/cache", got)
	}
	api := got["a/client->b/api"]
	if api.Observed.Reporter != "destination" || api.Observed.MeanRPS != 10 || api.Rate != 10 || api.FanOut != nil {
		t.Errorf("client->api: %+v; want reporter destination, 10 rps, rate 10", api)
	}
	db := got["b/api->c/db"]
	if db.Observed.Reporter != "waypoint" || db.Observed.MeanRPS != 20 || db.FanOut == nil || *db.FanOut != 2 || db.Rate != 0 || db.Observed.ErrorRatio != 0.05 {
		t.Errorf("api->db: %+v; want reporter waypoint, 20 rps, fan-out 2 per served request (10 rps served), error ratio 0.05", db)
	}
	cache := got["a/client->d/cache"]
	if cache.Observed.Protocol != "tcp" || cache.Observed.Reporter != "source" || cache.Rate != 2 || cache.RequestSize.Mean != 10 || cache.ResponseSize.Mean != 100 {
		t.Errorf("client->cache: %+v; want tcp from the source reporter, 2 connections/s, 10 B sent and 100 B received per connection", cache)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "unknown source") {
		t.Errorf("warnings %q, want one about the unknown source", res.Warnings)
	}
}

func TestResponsesFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct{ name, content, want string }{
		{"wrong-format.json", `{"format": "x", "queries": []}`, `format "x"`},
		{"syntax.json", "{\n\"format\": \n}", "line 3"},
		{"unknown-field.json", `{"format": "` + ResponsesFormat + `", "querys": []}`, "querys"},
	} {
		if _, err := ReadResponses(write(tt.name, tt.content)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	// A directory of curl outputs needs every query.
	if _, err := ReadResponses(dir); err == nil || !strings.Contains(err.Error(), "requests.json") {
		t.Errorf("incomplete directory: %v", err)
	}
	// An error response is reported with Prometheus's message.
	p := write("err.json", `{"format": "`+ResponsesFormat+`", "queries": [{"id": "requests", "query": "q", "time": "2026-01-01T00:00:00Z",
		"response": {"status": "error", "errorType": "bad_data", "error": "parse error"}}]}`)
	src, err := ReadResponses(p)
	if err != nil {
		t.Fatal(err)
	}
	f := src.(*fileSource)
	f.strict = false
	if _, err := src.Vector(context.Background(), Query{ID: "requests"}, time.Time{}); err == nil || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("error response: %v", err)
	}
}

func readTestFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzDecodeVector: any API response body decodes to a vector or an
// error, never a panic.
func FuzzDecodeVector(f *testing.F) {
	f.Add([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"reporter":"source"},"value":[1,"2"]}]}}`))
	f.Add([]byte(`{"status":"error","errorType":"bad_data","error":"x"}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		vec, err := decodeVector(body, "fuzz")
		if err == nil {
			_ = parseVector(vec)
		}
	})
}
