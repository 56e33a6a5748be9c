package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// FortioResult is the subset of fortio's JSON result (periodic.RunnerResults
// with fhttp/tcprunner fields) the harness reads. Durations in the
// histogram are in seconds, as fortio writes them.
type FortioResult struct {
	RunType           string
	Labels            string
	StartTime         time.Time
	RequestedQPS      string
	RequestedDuration string
	ActualQPS         float64
	ActualDuration    int64 // ns
	NumThreads        int
	URL               string
	Destination       string
	// RetCodes counts outcomes: HTTP status codes ("200") or, for TCP,
	// "OK" and error names.
	RetCodes                map[string]int64
	SocketCount             int64
	DurationHistogram       FortioHistogram
	ErrorsDurationHistogram *FortioHistogram
}

// FortioHistogram is fortio's stats.HistogramData.
type FortioHistogram struct {
	Count       int64
	Min, Max    float64
	Sum, Avg    float64
	StdDev      float64
	Data        []FortioBucket
	Percentiles []FortioPercentile
}

// FortioBucket is one histogram bucket; Percent is cumulative.
type FortioBucket struct {
	Start, End float64
	Percent    float64
	Count      int64
}

// FortioPercentile is one computed percentile (Value in seconds).
type FortioPercentile struct {
	Percentile float64
	Value      float64
}

// ParseFortio decodes a fortio-style JSON result. Unknown fields are
// ignored (fortio writes many more than the harness reads).
func ParseFortio(r io.Reader) (*FortioResult, error) {
	var res FortioResult
	if err := json.NewDecoder(r).Decode(&res); err != nil {
		return nil, fmt.Errorf("fortio result: %w", err)
	}
	if res.DurationHistogram.Count < 0 {
		return nil, fmt.Errorf("fortio result: DurationHistogram.Count %d is negative", res.DurationHistogram.Count)
	}
	return &res, nil
}

// ReadFortioFile parses the fortio-style JSON file at path.
func ReadFortioFile(path string) (*FortioResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := ParseFortio(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// Percentile returns the reported value (seconds) for percentile p, e.g.
// 99 or 99.9.
func (h *FortioHistogram) Percentile(p float64) (float64, bool) {
	for _, pc := range h.Percentiles {
		if pc.Percentile == p {
			return pc.Value, true
		}
	}
	return 0, false
}

// Errors returns the number of outcomes other than HTTP 200 or TCP "OK".
func (r *FortioResult) Errors() int64 {
	var n int64
	for code, c := range r.RetCodes {
		if code != "200" && code != "OK" {
			n += c
		}
	}
	return n
}
