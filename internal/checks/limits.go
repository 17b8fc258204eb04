package checks

import (
	"math"

	"github.com/secflow/secflow-budget/internal/config"
)

// Limits are the hard and soft bounds of a value.
type Limits struct {
	Min, Max         *float64
	WarnMin, WarnMax *float64
}

// readLimits reads min/max/warn_min/warn_max with parse (Float, Size, ...).
func readLimits(f *config.Fields, parse func(string) (float64, bool)) Limits {
	var l Limits
	get := func(key string) *float64 {
		if !f.Has(key) {
			return nil
		}
		if v, ok := parse(key); ok {
			return &v
		}
		return nil
	}
	l.Min, l.Max = get("min"), get("max")
	l.WarnMin, l.WarnMax = get("warn_min"), get("warn_max")
	if l.Min == nil && l.Max == nil && l.WarnMin == nil && l.WarnMax == nil {
		f.Errorf("max", "no limit: set max, min, warn_max or warn_min")
	}
	if l.Min != nil && l.Max != nil && *l.Min > *l.Max {
		f.Errorf("min", "min is greater than max")
	}
	if l.WarnMax != nil && l.Max != nil && *l.WarnMax > *l.Max {
		f.Errorf("warn_max", "warn_max is greater than max: it would never warn")
	}
	if l.WarnMin != nil && l.Min != nil && *l.WarnMin < *l.Min {
		f.Errorf("warn_min", "warn_min is less than min: it would never warn")
	}
	return l
}

// NaNNote is the note of a result whose value the source returned as NaN.
const NaNNote = "the source returned NaN (not a number): it cannot be judged against a limit"

// Judge sets r's status, limit, op and warn limit for value v. NaN is no
// value: its result is an error, never within the limits (every comparison
// with NaN is false, so a plain comparison would pass it). -Inf and +Inf are
// values: -Inf is below any min, +Inf above any max.
func (l Limits) Judge(r *Result, v float64) {
	r.Value = F(v)
	switch {
	case l.Max != nil && v > *l.Max:
		r.Status, r.Limit, r.Op, r.WarnLimit = Fail, l.Max, "<=", l.WarnMax
	case l.Min != nil && v < *l.Min:
		r.Status, r.Limit, r.Op, r.WarnLimit = Fail, l.Min, ">=", l.WarnMin
	case l.WarnMax != nil && v > *l.WarnMax:
		r.Status, r.Limit, r.Op, r.WarnLimit = Warn, l.Max, "<=", l.WarnMax
	case l.WarnMin != nil && v < *l.WarnMin:
		r.Status, r.Limit, r.Op, r.WarnLimit = Warn, l.Min, ">=", l.WarnMin
	case l.Max != nil || (l.Min == nil && l.WarnMax != nil):
		r.Status, r.Limit, r.Op, r.WarnLimit = Pass, l.Max, "<=", l.WarnMax
	default:
		r.Status, r.Limit, r.Op, r.WarnLimit = Pass, l.Min, ">=", l.WarnMin
	}
	if math.IsNaN(v) {
		judgeNaN(r)
	}
}

// judgeNaN makes r, whose value the source returned as NaN, an error.
func judgeNaN(r *Result) {
	r.Value, r.Status, r.Missing = F(math.NaN()), Error, false
	if r.Note == "" {
		r.Note = NaNNote
	}
}

// finite reports whether x is neither NaN nor an infinity.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
