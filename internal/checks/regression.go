package checks

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/secflow/secflow-budget/internal/config"
)

// The regression verdicts of a result and of a budget.
const (
	RegPass          = "pass"           // compared, within the regression limits
	RegFail          = "fail"           // regressed; the budget fails
	RegWarn          = "warn"           // regressed; regression severity warning: the budget warns
	RegNew           = "new"            // no baseline value to compare with: passes
	RegNotComparable = "not_comparable" // the budget's queries differ from the baseline's
	RegNone          = "none"           // not judged: no regression limits, or no value now
)

// Baseline is the earlier run's report that --baseline names, reduced to
// what a comparison needs.
type Baseline struct {
	File    string
	Budgets map[string]BaselineBudget
}

// BaselineBudget is one budget of a baseline report.
type BaselineBudget struct {
	Queries []string
	Results []BaselineResult
}

// BaselineResult is one result of a baseline report; Value is nil when it
// had none or had status error (nothing to compare with).
type BaselineResult struct {
	Subject string
	Labels  map[string]string
	Value   *float64
}

// find returns the baseline value of the result with subject and labels.
func (b BaselineBudget) find(subject string, labels map[string]string) *float64 {
	for _, r := range b.Results {
		if r.Subject == subject && sameLabels(r.Labels, labels) {
			return r.Value
		}
	}
	return nil
}

func sameLabels(a, b map[string]string) bool {
	return len(a) == len(b) && maps.Equal(a, b)
}

// ApplyBaseline compares each outcome's results with the same results
// (budget name, subject, labels) of the baseline, and judges the
// regression limits of its budget (regs, by budget name). A regressed
// result fails, or warns with regression severity warning or budget
// severity warning, even when its fixed limits pass. It runs before
// ApplyWaivers: a waiver of the budget also waives its regression.
func ApplyBaseline(outcomes []Outcome, regs map[string]*config.Regression, base *Baseline) {
	for i := range outcomes {
		o := &outcomes[i]
		reg := regs[o.Name]
		ro := &RegressionOutcome{BaselineFile: base.File}
		o.Regression = ro
		bb, inBase := base.Budgets[o.Name]
		comparable := inBase && slices.Equal(bb.Queries, o.Queries)
		if inBase && !comparable {
			o.Notes = append(o.Notes, "baseline not comparable: the budget's queries differ from the baseline's, so its regression is not judged")
		}
		compared, anyNew := false, false
		regressed := Pass
		for j := range o.Results {
			r := &o.Results[j]
			r.Regression = RegNone
			if r.Value == nil || r.Missing || math.IsNaN(*r.Value) || r.Status == Error {
				continue
			}
			if !comparable {
				if !inBase {
					r.Regression, anyNew = RegNew, true
				}
				continue
			}
			b := bb.find(r.Subject, r.Labels)
			if b == nil || !finite(*b) {
				r.Regression, anyNew = RegNew, true
				continue
			}
			r.Baseline = F(*b)
			r.Change = relativeChange(*r.Value, *b)
			rreg := reg
			if reg != nil && reg.FromDefaults {
				rreg = defaultRegression(o.Type, r, reg)
			}
			if rreg == nil {
				continue
			}
			compared = true
			broke := brokenLimits(*r.Value, *b, rreg, r.Unit)
			if broke == "" {
				r.Regression = RegPass
				continue
			}
			r.RegressionLimit = broke
			st := Fail
			if reg.Severity == config.SeverityWarning || o.Severity == config.SeverityWarning.String() {
				st = Warn
			}
			r.Regression = RegFail
			if st == Warn {
				r.Regression = RegWarn
			}
			regressed = max(regressed, st)
			if st > r.Status {
				if !r.Adjusted {
					r.ByLimits, r.Adjusted = r.Status, true
				}
				r.Status = st
			}
		}
		switch {
		case !inBase:
			ro.Status = RegNew
		case !comparable:
			ro.Status = RegNotComparable
		case reg == nil:
			ro.Status = RegNone
		case regressed == Fail:
			ro.Status = RegFail
		case regressed == Warn:
			ro.Status = RegWarn
		case compared:
			ro.Status = RegPass
		case anyNew:
			ro.Status = RegNew
		default:
			ro.Status = RegNone
		}
		w := worstResult(o.Results)
		switch {
		case regressed > Pass && w > o.Status:
			o.Status = w
			o.Message = remessage(o)
		case o.derived:
			// The worst result's baseline and change join its message.
			o.Message = remessage(o)
		}
	}
}

func relativeChange(v, b float64) *float64 {
	switch {
	case b != 0:
		return F((v - b) / math.Abs(b))
	case v == 0:
		return F(0)
	}
	return nil // from 0: no relative change
}

// brokenLimits says which limits of reg the move from b to v breaks, as
// "max_increase 10% and max_increase_abs 30s", or "" when it regresses
// not. With a relative and an absolute limit on the same side, both must
// be broken: v > max(b × (1 + rel), b + abs).
// verdictTypes are the budget types whose result values are verdicts (1:
// the check holds, 0: it does not), not measurements: a move is no
// regression, the verdict itself fails the budget.
var verdictTypes = map[string]bool{"alert_rules": true, "dashboards": true}

// defaultRegression is what defaults.regression holds a result to: only
// on the side where the result gets worse, known from its limit (an
// increase for a <= limit, a decrease for a >= one; both without a limit),
// and nothing for a verdict. A budget's own regression is taken as
// written. nil: not judged.
func defaultRegression(typ string, r *Result, reg *config.Regression) *config.Regression {
	if verdictTypes[typ] {
		return nil
	}
	out := *reg
	switch r.Op {
	case "<=":
		out.MaxDecrease = nil
	case ">=":
		out.MaxIncrease = nil
	}
	if out.MaxIncrease == nil && out.MaxDecrease == nil {
		return nil
	}
	return &out
}

func brokenLimits(v, b float64, reg *config.Regression, unit string) string {
	side := func(rel, abs *float64, up bool) string {
		if rel == nil && abs == nil {
			return ""
		}
		past := func(limit float64) bool {
			if up {
				return v > limit
			}
			return v < limit
		}
		sign := 1.0
		if !up {
			sign = -1
		}
		var names []string
		if rel != nil {
			if !past(b + sign*math.Abs(b)*(*rel)) {
				return ""
			}
			key := "max_increase"
			if !up {
				key = "max_decrease"
			}
			names = append(names, key+" "+formatRelative(*rel))
		}
		if abs != nil {
			if !past(b + sign*(*abs)) {
				return ""
			}
			key := "max_increase_abs"
			if !up {
				key = "max_decrease_abs"
			}
			names = append(names, key+" "+FormatValue(*abs, unit))
		}
		return strings.Join(names, " and ")
	}
	if s := side(reg.MaxIncrease, reg.MaxIncreaseAbs, true); s != "" {
		return s
	}
	return side(reg.MaxDecrease, reg.MaxDecreaseAbs, false)
}

// formatRelative renders a fraction as a percentage: 0.1 → 10%, 0.025 → 2.5%.
func formatRelative(f float64) string {
	return trimFloat(f*100, 2) + "%"
}

// FormatChange renders a relative change with its sign: +18%, -3.2%, +0%.
func FormatChange(c float64) string {
	if math.IsInf(c, 0) {
		if c > 0 {
			return "+Inf%"
		}
		return "-Inf%"
	}
	p := c * 100
	var s string
	if math.Abs(p) >= 9.95 {
		s = strconv.FormatFloat(math.Round(p), 'f', 0, 64)
	} else {
		s = trimFloat(p, 1)
	}
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	if s == "+-0" || s == "-0" {
		s = "+0"
	}
	return s + "%"
}

// BaselineText is what reports show after a result's value when a
// baseline was given: "+18% vs baseline 180s", "new (no baseline value)",
// and for a regression the limits it broke. "" without --baseline.
func BaselineText(r Result) string {
	switch {
	case r.Regression == "":
		return ""
	case r.Regression == RegNew:
		return "new (no baseline value)"
	case r.Baseline == nil:
		return ""
	}
	var s string
	if r.Change != nil {
		s = FormatChange(*r.Change) + " vs baseline " + FormatValue(*r.Baseline, r.Unit)
	} else {
		d := *r.Value - *r.Baseline
		sign := "+"
		if d < 0 {
			sign = ""
		}
		s = sign + FormatValue(d, r.Unit) + " vs baseline " + FormatValue(*r.Baseline, r.Unit)
	}
	if r.RegressionLimit != "" {
		s += fmt.Sprintf(", regressed past %s", r.RegressionLimit)
		if r.Regression == RegWarn {
			s += " (warning)"
		}
	}
	return s
}
