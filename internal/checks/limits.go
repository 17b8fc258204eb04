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
	if !f.Has("min") && !f.Has("max") && !f.Has("warn_min") && !f.Has("warn_max") {
		f.Errorf("max", "no limit: set max, min, warn_max or warn_min")
	}
	l.checkOrder(f, limitKeys{"min", "max", "warn_min", "warn_max"}, "")
	return l
}

// limitKeys names the four limits of one value in budgets.yaml.
type limitKeys struct{ min, max, warnMin, warnMax string }

// checkOrder records an error for limits that contradict each other: a
// hard minimum above the maximum (nothing passes), or a warn limit that
// is looser than the hard one (it would never warn) or on the wrong side
// of the other hard limit (everything that passes would warn). What
// names the value the limits are for ("ERROR" in max_share.ERROR), if not
// the budget's own.
func (l Limits) checkOrder(f *config.Fields, k limitKeys, what string) {
	name := func(key string) string {
		if what == "" {
			return key
		}
		return key + "." + what
	}
	bad := func(key, format string, args ...any) { f.Errorf(key, format, args...) }
	switch {
	case l.Min != nil && l.Max != nil && *l.Min > *l.Max:
		bad(k.min, "%s is greater than %s: nothing could pass", name(k.min), name(k.max))
	case l.WarnMin != nil && l.WarnMax != nil && *l.WarnMin > *l.WarnMax:
		bad(k.warnMin, "%s is greater than %s: everything would warn", name(k.warnMin), name(k.warnMax))
	}
	if l.WarnMax != nil && l.Max != nil && *l.WarnMax > *l.Max {
		bad(k.warnMax, "%s is greater than %s: it would never warn", name(k.warnMax), name(k.max))
	}
	if l.WarnMin != nil && l.Min != nil && *l.WarnMin < *l.Min {
		bad(k.warnMin, "%s is less than %s: it would never warn", name(k.warnMin), name(k.min))
	}
	if l.WarnMax != nil && l.Min != nil && *l.WarnMax < *l.Min {
		bad(k.warnMax, "%s is less than %s: everything that passes would warn", name(k.warnMax), name(k.min))
	}
	if l.WarnMin != nil && l.Max != nil && *l.WarnMin > *l.Max {
		bad(k.warnMin, "%s is greater than %s: everything that passes would warn", name(k.warnMin), name(k.max))
	}
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
