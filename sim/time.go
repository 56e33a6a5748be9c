package sim

import (
	"math"
	"time"
)

// Time is a point in virtual time, or a span of it, in nanoseconds. A
// simulation starts at Time 0. Time never comes from the wall clock.
type Time int64

// Common spans of virtual time.
const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
	Minute           = 60 * Second
	Hour             = 60 * Minute
)

// MaxTime is the largest representable virtual time (about 292 years).
const MaxTime Time = math.MaxInt64

// Seconds returns t in seconds.
func (t Time) Seconds() float64 { return float64(t) / float64(Second) }

// Milliseconds returns t in (fractional) milliseconds.
func (t Time) Milliseconds() float64 { return float64(t) / float64(Millisecond) }

// Microseconds returns t in (fractional) microseconds.
func (t Time) Microseconds() float64 { return float64(t) / float64(Microsecond) }

// FromSeconds converts seconds to Time, rounding to the nearest nanosecond and
// saturating at ±MaxTime. NaN converts to 0.
func FromSeconds(s float64) Time { return fromFloatNs(s * float64(Second)) }

// FromMilliseconds converts milliseconds to Time, rounding to the nearest
// nanosecond and saturating at ±MaxTime.
func FromMilliseconds(ms float64) Time { return fromFloatNs(ms * float64(Millisecond)) }

// FromNanoseconds converts a float number of nanoseconds (as drawn from a
// Dist) to Time, rounding to nearest and saturating at ±MaxTime.
func FromNanoseconds(ns float64) Time { return fromFloatNs(ns) }

func fromFloatNs(ns float64) Time {
	switch {
	case math.IsNaN(ns):
		return 0
	case ns >= float64(MaxTime):
		return MaxTime
	case ns <= -float64(MaxTime):
		return -MaxTime
	}
	return Time(math.Round(ns))
}

// FromDuration converts a wall-clock style duration to virtual Time (both are
// nanoseconds).
func FromDuration(d time.Duration) Time { return Time(d) }

// Duration converts t to a time.Duration, for printing and configuration.
func (t Time) Duration() time.Duration { return time.Duration(t) }

// String formats t like time.Duration, e.g. "1.5ms".
func (t Time) String() string { return time.Duration(t).String() }
