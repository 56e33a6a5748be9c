package calibrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Problem is a linear least-squares problem y ≈ X·β: one row per
// observation, one column per parameter.
type Problem struct {
	// Names names the columns (parameters).
	Names []string
	// NonNegative marks parameters that are physically ≥ 0 (a CPU cost, a
	// latency); the fit keeps them there by fixing a parameter that would
	// come out negative at 0 and refitting the others (an active-set
	// method: Lawson–Hanson NNLS for the constrained columns).
	NonNegative []bool
	// Weights, if set, weight each observation's squared residual by
	// Weights[i]² (weighted least squares; e.g. 1/y for relative errors).
	// Standard errors then assume the weighted residuals share one σ.
	Weights []float64
	X       [][]float64
	Y       []float64
	// Labels name the observations (for residual reports); optional.
	Labels []string
}

// Estimate is one fitted parameter.
type Estimate struct {
	Name  string
	Value float64
	// SE is the standard error from σ̂²(XᵀX)⁻¹ over the free parameters;
	// NaN when there are no residual degrees of freedom, 0 for a
	// parameter held at its bound of 0.
	SE float64
	// AtBound is set when the non-negativity constraint holds the
	// parameter at 0.
	AtBound bool
}

// Fit is a solved Problem with its quality.
type Fit struct {
	Params []Estimate
	// Fitted and Residuals are X·β and y − X·β, per observation.
	Fitted, Residuals []float64
	Labels            []string
	// R2 is 1 − SS_res/SS_tot (SS_tot about the mean of y); NaN when y is
	// constant.
	R2 float64
	// RMS is the root mean square residual; Sigma the (weighted)
	// residual standard deviation with n − p degrees of freedom (NaN when
	// n ≤ p).
	RMS, Sigma float64
	// N and DOF are the observations and residual degrees of freedom.
	N, DOF int
}

// Param returns the estimate called name.
func (f *Fit) Param(name string) (Estimate, bool) {
	for _, p := range f.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Estimate{}, false
}

// Solve fits the problem by least squares (QR through gonum's mat.Dense
// Solve), with the NonNegative constraints. It fails on a malformed
// problem or a rank-deficient design (a parameter the observations cannot
// tell apart from the others), naming the parameter.
func Solve(p Problem) (*Fit, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	xw, yw, err := p.weighted()
	if err != nil {
		return nil, err
	}
	beta, free, err := p.activeSet(xw, yw)
	if err != nil {
		return nil, err
	}
	f := &Fit{N: len(p.Y), Labels: p.Labels}
	f.goodness(p, xw, yw, beta, free)
	cov, err := covariance(xw, free)
	for j, name := range p.Names {
		e := Estimate{Name: name, Value: beta[j], AtBound: !free[j], SE: math.NaN()}
		switch {
		case !free[j]:
			e.SE = 0
		case err == nil && f.DOF > 0:
			e.SE = f.Sigma * math.Sqrt(cov[j])
		}
		f.Params = append(f.Params, e)
	}
	return f, nil
}

// check rejects a malformed problem: no parameters, fewer observations
// than parameters, ragged or non-finite rows, or a weight per observation
// missing.
func (p Problem) check() error {
	n, k := len(p.Y), len(p.Names)
	if k == 0 {
		return errors.New("calibrate: fit: no parameters")
	}
	if len(p.X) != n {
		return fmt.Errorf("calibrate: fit: %d rows of X for %d observations", len(p.X), n)
	}
	if n < k {
		return fmt.Errorf("calibrate: fit: %d observations for %d parameters (%v); the design needs at least as many runs as parameters", n, k, p.Names)
	}
	for i, row := range p.X {
		if len(row) != k {
			return fmt.Errorf("calibrate: fit: row %d has %d columns, want %d", i, len(row), k)
		}
		for _, v := range append(append([]float64(nil), row...), p.Y[i]) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("calibrate: fit: row %d holds %v", i, v)
			}
		}
	}
	if p.Weights != nil && len(p.Weights) != n {
		return fmt.Errorf("calibrate: fit: %d weights for %d observations", len(p.Weights), n)
	}
	return nil
}

// weighted returns the rows scaled by their weights (X and Y themselves
// without weights).
func (p Problem) weighted() (xw [][]float64, yw []float64, err error) {
	if p.Weights == nil {
		return p.X, p.Y, nil
	}
	n, k := len(p.Y), len(p.Names)
	xw, yw = make([][]float64, n), make([]float64, n)
	for i, row := range p.X {
		w := p.Weights[i]
		if !(w > 0) || math.IsInf(w, 0) {
			return nil, nil, fmt.Errorf("calibrate: fit: weight %d is %v, want a positive number", i, w)
		}
		xw[i] = make([]float64, k)
		for j, v := range row {
			xw[i][j] = v * w
		}
		yw[i] = p.Y[i] * w
	}
	return xw, yw, nil
}

// activeSet solves the weighted problem under the NonNegative constraints
// by an active set: drop the most negative constrained parameter, refit;
// then try to release held parameters whose gradient says they would
// grow. At most 3k rounds (each changes the set). free says which
// parameters ended free (the others are held at 0).
func (p Problem) activeSet(xw [][]float64, yw []float64) (beta []float64, free []bool, err error) {
	k := len(p.Names)
	nonneg := func(j int) bool { return j < len(p.NonNegative) && p.NonNegative[j] }
	free = make([]bool, k)
	for j := range free {
		free[j] = true
	}
	beta = make([]float64, k)
	for round := 0; round < 3*k+3; round++ {
		b, err := lsq(xw, yw, free)
		if err != nil {
			return nil, nil, fmt.Errorf("calibrate: fit: %w (parameters %v)", err, p.Names)
		}
		worst, worstV := -1, 0.0
		for j := range b {
			if free[j] && nonneg(j) && b[j] < worstV {
				worst, worstV = j, b[j]
			}
		}
		if worst >= 0 {
			free[worst] = false
			continue
		}
		copy(beta, b)
		release := releasable(xw, yw, beta, free)
		if release < 0 {
			break
		}
		free[release] = true
		b2, err := lsq(xw, yw, free)
		if err != nil || b2[release] <= 0 {
			free[release] = false
			break
		}
	}
	return beta, free, nil
}

// releasable is the held parameter whose column correlates most
// positively with the residual (KKT: releasing it would lower the error),
// or -1.
func releasable(xw [][]float64, yw, beta []float64, free []bool) int {
	res := residuals(xw, yw, beta)
	release := -1
	best := 1e-12
	for j := range free {
		if free[j] {
			continue
		}
		g := 0.0
		for i := range res {
			g += xw[i][j] * res[i]
		}
		if g > best {
			best, release = g, j
		}
	}
	return release
}

// goodness fills in the fit's residuals, fitted values, R², RMS, degrees
// of freedom and the weighted residual standard error Sigma.
func (f *Fit) goodness(p Problem, xw [][]float64, yw, beta []float64, free []bool) {
	n := len(p.Y)
	f.Residuals = residuals(p.X, p.Y, beta)
	f.Fitted = make([]float64, n)
	var ss, mean, tot float64
	for i := range p.Y {
		f.Fitted[i] = p.Y[i] - f.Residuals[i]
		ss += f.Residuals[i] * f.Residuals[i]
		mean += p.Y[i] / float64(n)
	}
	for _, y := range p.Y {
		tot += (y - mean) * (y - mean)
	}
	f.R2 = math.NaN()
	if tot > 0 {
		f.R2 = 1 - ss/tot
	}
	f.RMS = math.Sqrt(ss / float64(n))
	nfree := 0
	for _, fr := range free {
		if fr {
			nfree++
		}
	}
	f.DOF = n - nfree
	f.Sigma = math.NaN()
	if f.DOF > 0 {
		ssw := 0.0
		for _, r := range residuals(xw, yw, beta) {
			ssw += r * r
		}
		f.Sigma = math.Sqrt(ssw / float64(f.DOF))
	}
}

// columns returns the indices of the free columns.
func columns(free []bool) []int {
	var idx []int
	for j, fr := range free {
		if fr {
			idx = append(idx, j)
		}
	}
	return idx
}

func design(x [][]float64, idx []int) *mat.Dense {
	a := mat.NewDense(len(x), max(len(idx), 1), nil)
	for i, row := range x {
		for c, j := range idx {
			a.Set(i, c, row[j])
		}
	}
	return a
}

// lsq solves min ‖y − X_free β_free‖ and returns β with 0 for held
// columns. A rank-deficient design is an error.
func lsq(x [][]float64, y []float64, free []bool) ([]float64, error) {
	beta := make([]float64, len(free))
	idx := columns(free)
	if len(idx) == 0 {
		return beta, nil
	}
	a := design(x, idx)
	// Column scaling keeps the condition check meaningful when columns
	// are in very different units (requests vs bytes).
	scale := make([]float64, len(idx))
	for c := range idx {
		s := mat.Norm(a.ColView(c), 2)
		if s == 0 {
			return nil, fmt.Errorf("column %d is all zero: no run exercises it", idx[c])
		}
		scale[c] = s
		for i := 0; i < a.RawMatrix().Rows; i++ {
			a.Set(i, c, a.At(i, c)/s)
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var r mat.Dense
	qr.RTo(&r)
	for c := range idx {
		if math.Abs(r.At(c, c)) < 1e-9 {
			return nil, fmt.Errorf("design is rank deficient at column %d: the runs cannot tell it apart from the others", idx[c])
		}
	}
	b := mat.NewVecDense(len(y), append([]float64(nil), y...))
	var sol mat.VecDense
	if err := qr.SolveVecTo(&sol, false, b); err != nil {
		return nil, err
	}
	for c, j := range idx {
		beta[j] = sol.AtVec(c) / scale[c]
	}
	return beta, nil
}

func residuals(x [][]float64, y, beta []float64) []float64 {
	res := make([]float64, len(y))
	for i, row := range x {
		v := y[i]
		for j, b := range beta {
			v -= row[j] * b
		}
		res[i] = v
	}
	return res
}

// covariance returns the diagonal of (XᵀX)⁻¹ over the free columns,
// indexed like the full parameter list (0 for held columns).
func covariance(x [][]float64, free []bool) ([]float64, error) {
	idx := columns(free)
	diag := make([]float64, len(free))
	if len(idx) == 0 {
		return diag, nil
	}
	a := design(x, idx)
	var xtx, inv mat.Dense
	xtx.Mul(a.T(), a)
	if err := inv.Inverse(&xtx); err != nil {
		return nil, err
	}
	for c, j := range idx {
		diag[j] = inv.At(c, c)
	}
	return diag, nil
}

// num is a float64 that marshals NaN and ±Inf as JSON null.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// MarshalJSON writes an unknown standard error as null.
func (e Estimate) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name    string `json:"name"`
		Value   num    `json:"value"`
		SE      num    `json:"se"`
		AtBound bool   `json:"at_bound,omitempty"`
	}{e.Name, num(e.Value), num(e.SE), e.AtBound})
}

// MarshalJSON writes NaN qualities (R² of constant data, σ without
// degrees of freedom) as null.
func (f *Fit) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Params    []Estimate `json:"params"`
		Labels    []string   `json:"labels,omitempty"`
		Fitted    []float64  `json:"fitted"`
		Residuals []float64  `json:"residuals"`
		R2        num        `json:"r2"`
		RMS       num        `json:"residual_rms"`
		Sigma     num        `json:"sigma"`
		N         int        `json:"n"`
		DOF       int        `json:"dof"`
	}{f.Params, f.Labels, f.Fitted, f.Residuals, num(f.R2), num(f.RMS), num(f.Sigma), f.N, f.DOF})
}
