package calibrate_test

import (
	"fmt"

	"github.com/ambientsim/ambientsim/validation/calibrate"
)

// Fit a CPU cost with an idle term: y = 50 µs per request + 2 ms idle.
func ExampleSolve() {
	p := calibrate.Problem{Names: []string{"per_request_s", "idle_s"}, NonNegative: []bool{true, true}}
	for _, n := range []float64{200, 500, 1000, 2000} {
		p.X = append(p.X, []float64{n, 1})
		p.Y = append(p.Y, 50e-6*n+0.002)
	}
	f, err := calibrate.Solve(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.0f µs per request, %.0f ms idle, R² %.3f\n", f.Params[0].Value*1e6, f.Params[1].Value*1e3, f.R2)
	// Output: 50 µs per request, 2 ms idle, R² 1.000
}

func ExampleNewDesign() {
	d, _ := calibrate.NewDesign(calibrate.SizeQuick)
	fmt.Println(len(d.Steps), "steps of", d.Duration, "first", d.Steps[0].Name())
	// Output: 16 steps of 2s first plain-500rps-1024B-ka
}
