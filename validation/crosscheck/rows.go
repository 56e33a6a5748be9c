package crosscheck

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Targets are the agreement each metric must reach.
const (
	TargetP50 = 0.10 // relative error of the median
	TargetP99 = 0.25
	TargetCPU = 0.15
)

// Row is one line of validation.json: one scenario and metric, predicted
// by the simulator and measured on the real data plane.
type Row struct {
	Scenario string `json:"scenario"`
	Metric   string `json:"metric"`
	// Predicted and Measured are in the metric's unit (ms, CPU seconds,
	// requests); for a set, its size.
	Predicted float64 `json:"predicted"`
	Measured  float64 `json:"measured"`
	// RelativeError is |predicted − measured| / measured (null when
	// measured is 0 and predicted is not; 0 for equal sets, 1 otherwise).
	RelativeError *float64 `json:"relative_error"`
	// Target is the largest relative error that passes ("exact" for sets,
	// "report only" for metrics without a target).
	Target string `json:"target"`
	// Pass is null for report-only rows.
	Pass *bool `json:"pass"`
	// PredictedSet and MeasuredSet are set for set-valued metrics.
	PredictedSet []string `json:"predicted_set,omitempty"`
	MeasuredSet  []string `json:"measured_set,omitempty"`
	Note         string   `json:"note,omitempty"`
	// MeasuredRuns holds each repetition's measurement when the scenario
	// ran more than once (Options.Repeat); Measured is then their median,
	// and MeasuredCV their coefficient of variation (sample standard
	// deviation / mean): the measurement's own repeatability, to hold the
	// target against.
	MeasuredRuns []float64 `json:"measured_runs,omitempty"`
	MeasuredCV   *float64  `json:"measured_cv,omitempty"`
}

// MarshalJSON rounds the numbers to 6 significant digits and writes a
// value that is not available (NaN) as null.
func (r Row) MarshalJSON() ([]byte, error) {
	type plain Row
	out := struct {
		plain
		Predicted    *float64   `json:"predicted"`
		Measured     *float64   `json:"measured"`
		PredictedSet *[]string  `json:"predicted_set,omitempty"`
		MeasuredSet  *[]string  `json:"measured_set,omitempty"`
		MeasuredRuns []*float64 `json:"measured_runs,omitempty"`
		MeasuredCV   *float64   `json:"measured_cv,omitempty"`
	}{plain: plain(r), Predicted: num(r.Predicted), Measured: num(r.Measured)}
	for _, v := range r.MeasuredRuns {
		out.MeasuredRuns = append(out.MeasuredRuns, num(v))
	}
	if r.MeasuredCV != nil {
		out.MeasuredCV = num(*r.MeasuredCV)
	}
	if r.PredictedSet != nil || r.MeasuredSet != nil {
		ps, ms := nonNil(r.PredictedSet), nonNil(r.MeasuredSet)
		out.PredictedSet, out.MeasuredSet = &ps, &ms
	}
	if r.RelativeError != nil {
		out.RelativeError = num(*r.RelativeError)
	}
	return json.Marshal(out)
}

func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	v = sig(v)
	return &v
}

func sig(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	mag := math.Pow(10, math.Floor(math.Log10(math.Abs(v)))-5)
	return math.Round(v/mag) * mag
}

// NumberRow compares a number against a relative-error target; target
// ≤ 0 makes a report-only row.
func NumberRow(scenario, metric string, predicted, measured, target float64) Row {
	r := Row{Scenario: scenario, Metric: metric, Predicted: predicted, Measured: measured, Target: "report only"}
	switch {
	case math.IsNaN(predicted) || math.IsNaN(measured):
		r.Note = "not available"
	case measured == 0 && predicted == 0:
		r.RelativeError = ptr(0.0)
	case measured != 0:
		r.RelativeError = ptr(math.Abs(predicted-measured) / math.Abs(measured))
	}
	if target > 0 {
		r.Target = fmt.Sprintf("%g%%", target*100)
		ok := r.RelativeError != nil && *r.RelativeError <= target+1e-12
		r.Pass = &ok
	}
	return r
}

// SetRow compares two sets for exact equality.
func SetRow(scenario, metric string, predicted, measured []string) Row {
	p, m := sortedCopy(predicted), sortedCopy(measured)
	ok := slices.Equal(p, m)
	re := 1.0
	if ok {
		re = 0
	}
	r := Row{Scenario: scenario, Metric: metric, Predicted: float64(len(p)), Measured: float64(len(m)),
		RelativeError: &re, Target: "exact", Pass: &ok, PredictedSet: nonNil(p), MeasuredSet: nonNil(m)}
	if !ok {
		r.Note = fmt.Sprintf("predicted {%s}, measured {%s}", strings.Join(p, ", "), strings.Join(m, ", "))
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Compare turns one scenario's prediction and measurement into rows:
// per load p50/p99 (targets) and p90 (report only) when sc.Latency; CPU
// per proxy process the simulator gives work to (target); and for sc.Blast
// the failure's extra errors (report only) and affected pods (exact).
func Compare(sc Scenario, pred, meas *Prediction) []Row {
	var rows []Row
	if sc.Latency {
		for i, l := range sc.Experiment.Loads {
			if i >= len(pred.Loads) || i >= len(meas.Loads) {
				break
			}
			p, m := pred.Loads[i], meas.Loads[i]
			lb := label(l)
			rows = append(rows,
				NumberRow(sc.Name, "p50_ms "+lb, p.P50, m.P50, TargetP50),
				NumberRow(sc.Name, "p90_ms "+lb, p.P90, m.P90, 0),
				NumberRow(sc.Name, "p99_ms "+lb, p.P99, m.P99, TargetP99))
		}
	}
	var procs []string
	for name, v := range pred.CPUSeconds {
		if v > 0 && !strings.HasPrefix(name, "echo/") {
			procs = append(procs, name)
		}
	}
	sort.Strings(procs)
	killed := map[string]bool{}
	for _, f := range sc.Experiment.Failures {
		killed[f.Target] = true
	}
	for _, name := range procs {
		target := TargetCPU
		if killed[name] {
			target = 0 // report only: its work ends at a moment both sides only approximate
		}
		rows = append(rows, NumberRow(sc.Name, "cpu_s "+name, pred.CPUSeconds[name], meas.CPUSeconds[name], target))
	}
	if sc.Blast {
		rows = append(rows,
			NumberRow(sc.Name, "failed_requests", float64(pred.FailedByFailure), float64(meas.FailedByFailure), 0),
			SetRow(sc.Name, "affected_pods", pred.Affected, meas.Affected))
	}
	return rows
}

// CompareRuns is Compare over repeated measurements of one scenario: each
// number's measured value is the median of the runs (robust to one
// disturbed run), with the runs and their coefficient of variation kept in
// the row; a set must be the same in every run to pass. A row whose
// measurement varies between runs by more than its target says so in its
// note: no model can be held to a tolerance tighter than the
// measurement's own repeatability.
func CompareRuns(sc Scenario, pred *Prediction, meas []*Prediction) []Row {
	if len(meas) == 1 {
		return Compare(sc, pred, meas[0])
	}
	per := make([][]Row, len(meas))
	for k, m := range meas {
		per[k] = Compare(sc, pred, m)
	}
	out := make([]Row, len(per[0]))
	for j, r := range per[0] {
		if r.PredictedSet != nil || r.MeasuredSet != nil {
			out[j] = r
			for k := 1; k < len(per); k++ {
				if !slices.Equal(sortedCopy(per[k][j].MeasuredSet), sortedCopy(r.MeasuredSet)) {
					f := false
					out[j].Pass = &f
					out[j].Note = strings.TrimPrefix(out[j].Note+"; ", "; ") + fmt.Sprintf("measured set differs between runs: run 1 {%s}, run %d {%s}",
						strings.Join(sortedCopy(r.MeasuredSet), ", "), k+1, strings.Join(sortedCopy(per[k][j].MeasuredSet), ", "))
					break
				}
			}
			continue
		}
		vals := make([]float64, len(per))
		for k := range per {
			vals[k] = per[k][j].Measured
		}
		target := 0.0
		if r.Target != "report only" {
			fmt.Sscanf(r.Target, "%g%%", &target)
			target /= 100
		}
		nr := NumberRow(r.Scenario, r.Metric, r.Predicted, median(vals), target)
		nr.MeasuredRuns = vals
		if cv, ok := coefVar(vals); ok {
			nr.MeasuredCV = &cv
			if target > 0 && cv > target {
				nr.Note = fmt.Sprintf("the measurement alone varies by %.0f%% (cv) between runs, above the %.0f%% target", cv*100, target*100)
			}
		}
		out[j] = nr
	}
	return out
}

// median of vs (NaNs sort last and are ignored unless all are NaN).
func median(vs []float64) float64 {
	var c []float64
	for _, v := range vs {
		if !math.IsNaN(v) {
			c = append(c, v)
		}
	}
	if len(c) == 0 {
		return math.NaN()
	}
	sort.Float64s(c)
	if n := len(c); n%2 == 1 {
		return c[n/2]
	} else {
		return (c[n/2-1] + c[n/2]) / 2
	}
}

// coefVar is the sample standard deviation over the mean of vs; false
// when it is undefined (fewer than two values, a NaN, or a zero mean).
func coefVar(vs []float64) (float64, bool) {
	if len(vs) < 2 {
		return 0, false
	}
	var mean float64
	for _, v := range vs {
		if math.IsNaN(v) {
			return 0, false
		}
		mean += v / float64(len(vs))
	}
	if mean == 0 {
		return 0, false
	}
	var ss float64
	for _, v := range vs {
		ss += (v - mean) * (v - mean)
	}
	return math.Sqrt(ss/float64(len(vs)-1)) / math.Abs(mean), true
}
