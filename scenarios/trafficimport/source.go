package trafficimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Source answers the importer's instant queries: a live Prometheus
// (Prometheus), or saved responses (ReadResponses).
type Source interface {
	// Vector runs q at ts and returns its instant vector.
	Vector(ctx context.Context, q Query, ts time.Time) (model.Vector, error)
	// Describe names the source for the output, e.g. "prometheus http://prom:9090".
	Describe() string
}

// queryTimeout bounds one query against a live server.
const queryTimeout = 60 * time.Second

// prometheusSource queries a Prometheus server's HTTP API through
// client_golang's api/prometheus/v1 client.
type prometheusSource struct {
	url string
	api v1.API
}

// Prometheus returns a Source querying the Prometheus at url (the server's
// base URL, e.g. http://prometheus.istio-system:9090).
func Prometheus(url string) (Source, error) {
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", url, err)
	}
	return &prometheusSource{url: url, api: v1.NewAPI(c)}, nil
}

func (p *prometheusSource) Describe() string { return "prometheus " + p.url }

func (p *prometheusSource) Vector(ctx context.Context, q Query, ts time.Time) (model.Vector, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	val, _, _, err := p.api.Query(ctx, q.PromQL, ts)
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: query %s: %w", p.url, q.ID, err)
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus %s: query %s returned a %s, want a vector", p.url, q.ID, val.Type())
	}
	return vec, nil
}

// Responses is the --from-file format: each query the importer runs, the
// instant it was evaluated at and the Prometheus HTTP API's response body
// to GET /api/v1/query?query=<query>&time=<time>, verbatim.
type Responses struct {
	Format  string          `json:"format"` // ResponsesFormat
	Source  string          `json:"source,omitempty"`
	Queries []SavedResponse `json:"queries"`
}

// SavedResponse is one query and its response.
type SavedResponse struct {
	ID       string          `json:"id"`
	Query    string          `json:"query"`
	Time     string          `json:"time"`     // RFC 3339
	Response json.RawMessage `json:"response"` // {"status":"success","data":{"resultType":"vector","result":[...]}}
}

// ResponsesFormat names the responses file format and its version.
const ResponsesFormat = "ambientsim-prometheus-responses/v1"

// apiBody is the Prometheus HTTP API's response envelope.
type apiBody struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType,omitempty"`
	Error     string `json:"error,omitempty"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// maxResponsesBytes bounds a responses file or directory entry.
const maxResponsesBytes = 512 << 20

// fileSource answers queries from saved responses.
type fileSource struct {
	name   string
	byID   map[string]SavedResponse
	strict bool // the file records query strings: they must match
}

// ReadResponses reads saved responses: a JSON file in the Responses
// format, or a directory holding one <id>.json response body per query
// (what `curl .../api/v1/query` writes; see docs/import.md).
func ReadResponses(path string) (Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("responses: %w", err)
	}
	fs := &fileSource{name: path, byID: map[string]SavedResponse{}}
	if st.IsDir() {
		for _, q := range Queries(Options{}) {
			data, err := readLimited(filepath.Join(path, q.ID+".json"))
			if err != nil {
				return nil, fmt.Errorf("responses %s: %w (a directory needs one <id>.json per query: see `ambientsim import traffic --print-queries`)", path, err)
			}
			fs.byID[q.ID] = SavedResponse{ID: q.ID, Response: data}
		}
		return fs, nil
	}
	data, err := readLimited(path)
	if err != nil {
		return nil, fmt.Errorf("responses: %w", err)
	}
	var r Responses
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("responses %s: %w", path, jsonErr(data, err))
	}
	if r.Format != ResponsesFormat {
		return nil, fmt.Errorf("responses %s: format %q, want %q", path, r.Format, ResponsesFormat)
	}
	for i, q := range r.Queries {
		if _, dup := fs.byID[q.ID]; dup {
			return nil, fmt.Errorf("responses %s: queries[%d]: query %q saved twice", path, i, q.ID)
		}
		fs.byID[q.ID] = q
	}
	fs.strict = true
	if r.Source != "" {
		fs.name = path + " (saved from " + r.Source + ")"
	}
	return fs, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxResponsesBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxResponsesBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, maxResponsesBytes>>20)
	}
	return data, nil
}

// jsonErr adds the line of a JSON syntax or type error.
func jsonErr(data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	return fmt.Errorf("line %d: %w", bytes.Count(data[:off], []byte("\n"))+1, err)
}

func (f *fileSource) Describe() string { return "responses " + f.name }

func (f *fileSource) Vector(_ context.Context, q Query, ts time.Time) (model.Vector, error) {
	s, ok := f.byID[q.ID]
	if !ok {
		return nil, fmt.Errorf("%s: no saved response for query %q (%s)", f.name, q.ID, q.PromQL)
	}
	if f.strict && s.Query != q.PromQL {
		return nil, fmt.Errorf("%s: query %q was saved as\n  %s\nbut this import runs\n  %s\n(give the same --range, --peak-window and --selector as when saving)", f.name, q.ID, s.Query, q.PromQL)
	}
	return decodeVector(s.Response, f.name+": query "+q.ID)
}

// decodeVector decodes an API response body holding an instant vector.
func decodeVector(body []byte, where string) (model.Vector, error) {
	var b apiBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if b.Status != "success" {
		return nil, fmt.Errorf("%s: status %q: %s %s", where, b.Status, b.ErrorType, b.Error)
	}
	if b.Data.ResultType != "vector" {
		return nil, fmt.Errorf("%s: result type %q, want vector (an instant query)", where, b.Data.ResultType)
	}
	var vec model.Vector
	if err := json.Unmarshal(b.Data.Result, &vec); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return vec, nil
}

// Recorder wraps a Source and keeps every response, to save them with
// Responses() (the --save-responses file).
type Recorder struct {
	Source
	saved []SavedResponse
}

// Vector implements Source and records the response.
func (r *Recorder) Vector(ctx context.Context, q Query, ts time.Time) (model.Vector, error) {
	vec, err := r.Source.Vector(ctx, q, ts)
	if err != nil {
		return nil, err
	}
	var b struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     model.Vector `json:"result"`
		} `json:"data"`
	}
	b.Status, b.Data.ResultType, b.Data.Result = "success", "vector", vec
	if b.Data.Result == nil {
		b.Data.Result = model.Vector{}
	}
	body, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	r.saved = append(r.saved, SavedResponse{ID: q.ID, Query: q.PromQL, Time: ts.UTC().Format(time.RFC3339Nano), Response: body})
	return vec, nil
}

// Responses returns what was recorded, in the Responses format.
func (r *Recorder) Responses() *Responses {
	return &Responses{Format: ResponsesFormat, Source: r.Source.Describe(), Queries: r.saved}
}
