package config

import (
	"math"
	"strconv"
	"strings"
)

// A budget type's value kind (Budget.ValueKind) is one of the Kind
// constants: how it writes its values in budgets.yaml, and so how an
// absolute regression limit of the budget is read (KindDuration: 30s, in
// seconds; KindSize: 10MB, in bytes; KindShare: 2%, a ratio; anything else
// a plain number in the result's unit).

// Regression holds the limits on how far a result may move from its
// value in a baseline report (check --baseline). Increase limits are for
// results where lower is better, decrease limits for those where higher is
// better; a relative and an absolute limit on the same side must both be
// broken for the result to regress. A nil limit is not set.
type Regression struct {
	MaxIncrease, MaxIncreaseAbs *float64
	MaxDecrease, MaxDecreaseAbs *float64
	// Severity: a regression fails the budget (error) or warns (warning).
	Severity Severity
	// FromDefaults marks the limits of defaults.regression.
	FromDefaults bool
	Line, Col    int
}

// readRegression reads a regression mapping; kind is the unit of its
// absolute limits. The defaults hold no absolute limit: budgets of
// different types have different units.
func readRegression(f *Fields, kind Kind, defaults bool) *Regression {
	r := &Regression{FromDefaults: defaults, Line: f.node.Line, Col: f.node.Column}
	r.MaxIncrease = f.relative("max_increase")
	r.MaxDecrease = f.relative("max_decrease")
	for _, key := range []string{"max_increase_abs", "max_decrease_abs"} {
		if !f.Has(key) {
			continue
		}
		if defaults {
			f.ErrorfKey(key, "defaults.regression takes relative limits only (max_increase, max_decrease): an absolute limit is in the unit of each budget, set it there")
			continue
		}
		v, ok := f.valueOfKind(key, kind)
		if !ok {
			continue
		}
		if key == "max_increase_abs" {
			r.MaxIncreaseAbs = &v
		} else {
			r.MaxDecreaseAbs = &v
		}
	}
	if s, ok := f.String("severity"); ok {
		switch s {
		case "error":
		case "warning", "warn":
			r.Severity = SeverityWarning
		default:
			f.Errorf("severity", "invalid severity %q: want error or warning", s)
		}
	}
	if r.MaxIncrease == nil && r.MaxIncreaseAbs == nil && r.MaxDecrease == nil && r.MaxDecreaseAbs == nil && !f.hasAny("max_increase", "max_decrease", "max_increase_abs", "max_decrease_abs") {
		f.errorAt(f.node, f.path, "no regression limit: set max_increase, max_increase_abs, max_decrease or max_decrease_abs")
	}
	f.Done(regressionFields...)
	return r
}

func (f *Fields) hasAny(keys ...string) bool {
	for _, k := range keys {
		if f.Has(k) {
			return true
		}
	}
	return false
}

// relative reads a relative limit: "20%" or a fraction such as 0.2; more
// than 100% is allowed (an increase may be 150%).
func (f *Fields) relative(key string) *float64 {
	v, ok := f.scalar(key)
	if !ok {
		return nil
	}
	s := strings.TrimSpace(v.Value)
	num, pct := strings.CutSuffix(s, "%")
	x, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "invalid %s %q: want a percentage such as 20%% (or a fraction such as 0.2)", key, v.Value)
		return nil
	}
	if pct {
		x /= 100
	}
	return &x
}

// valueOfKind reads a non-negative value written as the budget's type
// writes its values (see the Kind constants), in the result's unit.
func (f *Fields) valueOfKind(key string, kind Kind) (float64, bool) {
	switch kind {
	case KindDuration:
		d, ok := f.duration(key, true)
		return d.Seconds(), ok
	case KindSize:
		return f.Size(key)
	case KindShare:
		return f.Share(key)
	}
	x, ok := f.Float(key)
	if ok && x < 0 {
		f.Errorf(key, "%s must not be negative, got %v", key, x)
		return 0, false
	}
	return x, ok
}
