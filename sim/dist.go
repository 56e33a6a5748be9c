package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Dist is a source of random values (durations in ns, sizes in bytes — the
// caller's unit) with a known mean.
type Dist interface {
	Rand() float64
	Mean() float64
}

// Distribution kinds accepted in DistSpec.Kind.
const (
	DistExponential = "exponential"
	DistLognormal   = "lognormal"
	DistPareto      = "pareto"
	DistConstant    = "constant"
	DistEmpirical   = "empirical"
	DistUniform     = "uniform"
)

// distKinds lists the kinds in the order error messages suggest them.
var distKinds = []string{DistExponential, DistLognormal, DistPareto, DistConstant, DistEmpirical, DistUniform}

// DistSpec describes a distribution in configuration files. Every kind but
// uniform and empirical is parameterised by its mean, so a what-if that
// changes the shape keeps the load the same:
//
//	exponential: mean
//	lognormal:   mean, cv (coefficient of variation = stddev/mean)
//	pareto:      mean, alpha (> 1); scale xm = mean·(alpha−1)/alpha
//	constant:    mean (alias "deterministic")
//	uniform:     min, max
//	empirical:   samples (drawn uniformly with replacement)
type DistSpec struct {
	Kind    string    `yaml:"dist" json:"dist"`
	Mean    float64   `yaml:"mean,omitempty" json:"mean,omitempty"`
	CV      float64   `yaml:"cv,omitempty" json:"cv,omitempty"`
	Alpha   float64   `yaml:"alpha,omitempty" json:"alpha,omitempty"`
	Min     float64   `yaml:"min,omitempty" json:"min,omitempty"`
	Max     float64   `yaml:"max,omitempty" json:"max,omitempty"`
	Samples []float64 `yaml:"samples,omitempty" json:"samples,omitempty"`
}

func (d DistSpec) kind() string {
	k := strings.ToLower(strings.TrimSpace(d.Kind))
	if k == "deterministic" {
		return DistConstant
	}
	return k
}

// maxDistValue bounds every parameter (1e18 ns is 31 years; 1e18 bytes an
// exabyte), keeping derived parameters and draws far from overflow.
const maxDistValue = 1e18

// finite reports whether x is a usable parameter: not NaN and within
// ±maxDistValue.
func finite(x float64) bool { return !math.IsNaN(x) && math.Abs(x) <= maxDistValue }

// Validate reports the first problem with d, naming the offending field and
// the fix. Callers add the file and line.
func (d DistSpec) Validate() error {
	needMean := func() error {
		if !finite(d.Mean) || d.Mean < 1e-9 {
			return fmt.Errorf("field mean: %s distribution needs a mean in [1e-9, 1e18], got %v", d.kind(), d.Mean)
		}
		return nil
	}
	switch d.kind() {
	case DistExponential, DistConstant:
		return needMean()
	case DistLognormal:
		if err := needMean(); err != nil {
			return err
		}
		if !finite(d.CV) || d.CV <= 0 || d.CV > 100 {
			return fmt.Errorf("field cv: lognormal needs a coefficient of variation in (0, 100] (stddev/mean, e.g. 0.5), got %v", d.CV)
		}
	case DistPareto:
		if err := needMean(); err != nil {
			return err
		}
		if !finite(d.Alpha) || d.Alpha <= 1 || d.Alpha > 1000 {
			return fmt.Errorf("field alpha: pareto needs shape alpha in (1, 1000] for a finite mean (e.g. 1.5 or 2.5), got %v", d.Alpha)
		}
	case DistUniform:
		if !finite(d.Min) || !finite(d.Max) || d.Min < 0 || d.Max <= d.Min {
			return fmt.Errorf("fields min/max: uniform needs 0 <= min < max <= 1e18, got min=%v max=%v", d.Min, d.Max)
		}
		if d.Mean != 0 && math.Abs(d.Mean-(d.Min+d.Max)/2) > 1e-9*d.Max {
			return fmt.Errorf("field mean: uniform's mean is (min+max)/2 = %v, got %v; drop mean or fix min/max", (d.Min+d.Max)/2, d.Mean)
		}
	case DistEmpirical:
		if len(d.Samples) == 0 {
			return errors.New("field samples: empirical needs at least one sample")
		}
		for i, v := range d.Samples {
			if !finite(v) || v < 0 {
				return fmt.Errorf("field samples[%d]: want a value in [0, 1e18], got %v", i, v)
			}
		}
	case "":
		return fmt.Errorf("field dist: missing; want one of %s", strings.Join(distKinds, ", "))
	default:
		return fmt.Errorf("field dist: unknown distribution %q; want one of %s", d.Kind, strings.Join(distKinds, ", "))
	}
	return nil
}

// New returns the distribution d describes, drawing from src.
func (d DistSpec) New(src rand.Source) (Dist, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("sim: DistSpec.New needs a random source (see Streams)")
	}
	switch d.kind() {
	case DistExponential:
		return distuv.Exponential{Rate: 1 / d.Mean, Src: src}, nil
	case DistLognormal:
		// For LogNormal(mu, sigma): mean = exp(mu + sigma²/2) and
		// cv² = exp(sigma²) − 1.
		s2 := math.Log1p(d.CV * d.CV)
		return distuv.LogNormal{Mu: math.Log(d.Mean) - s2/2, Sigma: math.Sqrt(s2), Src: src}, nil
	case DistPareto:
		return distuv.Pareto{Xm: d.Mean * (d.Alpha - 1) / d.Alpha, Alpha: d.Alpha, Src: src}, nil
	case DistConstant:
		return Constant(d.Mean), nil
	case DistUniform:
		return distuv.Uniform{Min: d.Min, Max: d.Max, Src: src}, nil
	case DistEmpirical:
		return NewEmpirical(d.Samples, src), nil
	}
	panic("unreachable: Validate accepted kind " + d.Kind)
}

// Constant is the degenerate distribution that always yields its value.
type Constant float64

// Rand returns c.
func (c Constant) Rand() float64 { return float64(c) }

// Mean returns c.
func (c Constant) Mean() float64 { return float64(c) }

// Empirical draws uniformly, with replacement, from a fixed set of observed
// values (a bootstrap of measured latencies or sizes).
type Empirical struct {
	samples []float64
	mean    float64
	rnd     *rand.Rand
}

// NewEmpirical returns the empirical distribution of samples (copied),
// drawing from src. samples must be non-empty.
func NewEmpirical(samples []float64, src rand.Source) *Empirical {
	if len(samples) == 0 {
		panic("sim: NewEmpirical with no samples")
	}
	s := append([]float64(nil), samples...)
	return &Empirical{samples: s, mean: stat.Mean(s, nil), rnd: rand.New(src)}
}

// Rand returns one of the samples, each with probability 1/n.
func (e *Empirical) Rand() float64 { return e.samples[e.rnd.IntN(len(e.samples))] }

// Mean returns the mean of the samples.
func (e *Empirical) Mean() float64 { return e.mean }
