package histquantile

import (
	"fmt"
	"math"
	"testing"
)

func TestQuantile(t *testing.T) {
	inf := math.Inf(1)
	b := []Bucket{{10, 99}, {5, 90}, {inf, 100}, {1, 0}}
	tests := []struct {
		q, want float64
	}{
		{0.5, 1 + 4*50.0/90},      // inside (1, 5]
		{0.9, 5},                  // exactly the bound
		{0.99, 10},                // top of (5, 10]
		{0.995, 10},               // in +Inf: the highest finite bound
		{-0.1, math.Inf(-1)},      // as Prometheus
		{1.5, inf},                // as Prometheus
		{0.95, 5 + 5*(95-90)/9.0}, // linear in (5, 10]
	}
	for _, tt := range tests {
		if got := Quantile(tt.q, b); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := Quantile(0.5, []Bucket{{1, 3}, {5, 4}}); !math.IsNaN(got) {
		t.Errorf("no +Inf bucket: %v, want NaN", got)
	}
	if got := Quantile(0.5, []Bucket{{1, 0}, {inf, 0}}); !math.IsNaN(got) {
		t.Errorf("no observations: %v, want NaN", got)
	}
	// Non-monotonic counts (float noise of rate()) are repaired.
	if got := Quantile(0.75, []Bucket{{1, 10}, {2, 9.999}, {inf, 20}}); got != 2 {
		t.Errorf("repaired: %v, want 2 (the +Inf rule after repair)", got)
	}
}

func ExampleQuantile() {
	// Envoy's first buckets of istio_request_duration_milliseconds.
	b := []Bucket{{0.5, 0}, {1, 20}, {5, 90}, {10, 99}, {math.Inf(1), 100}}
	fmt.Printf("p50 %.2f ms, p99 %.2f ms\n", Quantile(0.5, b), Quantile(0.99, b))
	// Output: p50 2.71 ms, p99 10.00 ms
}
