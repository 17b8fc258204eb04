package checks

import (
	"fmt"
	"math"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
)

// WaiverSoon is how close to its expiry a waiver that waived something
// draws a note, so that its owner renews or fixes in time.
const WaiverSoon = 14 * 24 * time.Hour

// ApplyWaivers waives the failing and warning results that a live waiver
// matches (first match in file order), at the run's evaluation time at:
// an offline run over the same snapshot therefore waives the same things
// on any day. A budget whose every non-passing result is waived is
// waived. Only a measured value is waived: a source error, a NaN or no
// data never passes, whatever a waiver says. It returns the run's notes:
// waivers of budgets in the run that matched nothing to waive, which can
// be removed. Notes about one budget (an expired waiver, one about to
// expire, one that cannot apply) go to that budget.
func ApplyWaivers(outcomes []Outcome, waivers []*config.Waiver, at time.Time) (runNotes []string) {
	if len(waivers) == 0 {
		return nil
	}
	used := make([]bool, len(waivers))
	expiredHit := make([]bool, len(waivers))
	ran := map[string]bool{}
	for i := range outcomes {
		o := &outcomes[i]
		ran[o.Name] = true
		var notes []string
		noted := map[string]bool{}
		note := func(s string) {
			if !noted[s] {
				noted[s] = true
				notes = append(notes, s)
			}
		}
		if o.Err != nil || (len(o.Results) == 0 && o.Status != Pass) {
			for wi, w := range waivers {
				if w.Budget == o.Name && w.Live(at) {
					used[wi] = true // it is for this budget: not "can be removed"
					note(fmt.Sprintf("the waiver of %s does not apply: the budget has no measured value (%s), and an unmeasured value is never waived", w.Owner, o.Status))
				}
			}
			o.Notes = append(o.Notes, notes...)
			continue
		}
		waived := false
		for j := range o.Results {
			r := &o.Results[j]
			if r.Status != Fail && r.Status != Warn {
				continue
			}
			for wi, w := range waivers {
				if !w.Matches(o.Name, r.Subject, r.Labels) {
					continue
				}
				if !waivable(r) {
					used[wi] = true
					note(fmt.Sprintf("the waiver of %s does not apply to %s: it has no measured value, and an unmeasured value is never waived", w.Owner, r.Subject+FormatLabels(r.Labels)))
					continue
				}
				if !w.Live(at) {
					expiredHit[wi] = true
					note(fmt.Sprintf("the waiver of %s expired %s and waives nothing (%s: %s)", w.Owner, expiredOn(w), w.Path(), w.Reason))
					continue
				}
				used[wi] = true
				if !r.Adjusted {
					r.ByLimits, r.Adjusted = r.Status, true
				}
				r.Status = Waived
				r.Waiver = &Waiver{Reason: w.Reason, Owner: w.Owner, Expires: w.ExpiresText}
				waived = true
				if left := w.Expires.Sub(at); left <= WaiverSoon {
					note(fmt.Sprintf("the waiver of %s expires %s, in %s: renew it or fix the budget (%s)", w.Owner, w.ExpiresText, daysLeft(left), w.Path()))
				}
				break
			}
		}
		o.Notes = append(o.Notes, notes...)
		if !waived {
			continue
		}
		before := o.Message
		o.Status = worstResult(o.Results)
		if o.Status == Waived {
			o.Message = before + " (" + waivedBy(o.Results) + ")"
		} else {
			o.Message = remessage(o)
		}
	}
	for wi, w := range waivers {
		if used[wi] || expiredHit[wi] || !ran[w.Budget] {
			continue
		}
		what := "matched no failing or warning result: it can be removed"
		if !w.Live(at) {
			what = fmt.Sprintf("expired %s and matched no failing or warning result: remove it", expiredOn(w))
		}
		runNotes = append(runNotes, fmt.Sprintf("%s (budget %s, owner %s) %s", w.Path(), w.Budget, w.Owner, what))
	}
	return runNotes
}

// waivable: only a result with a measured value can be waived.
func waivable(r *Result) bool {
	return r.Value != nil && !r.Missing && !math.IsNaN(*r.Value)
}

func worstResult(rs []Result) Status {
	s := Pass
	for _, r := range rs {
		s = max(s, r.Status)
	}
	return s
}

func expiredOn(w *config.Waiver) string {
	return "on " + w.ExpiresText
}

// daysLeft is "3 days", "1 day", "less than a day".
func daysLeft(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	switch n {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// WaiverText is how reports show a waiver: "waived until 2026-12-31 by
// @secflow/platform: bulk re-index".
func WaiverText(w *Waiver) string {
	return fmt.Sprintf("waived until %s by %s: %s", w.Expires, w.Owner, w.Reason)
}

// waivedBy is "waived until 2026-12-31 by @owner" when one waiver waived
// every waived result of a budget, else "waived".
func waivedBy(rs []Result) string {
	var w *Waiver
	for _, r := range rs {
		if r.Waiver == nil {
			continue
		}
		if w != nil && *w != *r.Waiver {
			return "waived"
		}
		w = r.Waiver
	}
	if w == nil {
		return "waived"
	}
	return fmt.Sprintf("waived until %s by %s", w.Expires, w.Owner)
}

// remessage describes the worst result of a budget whose results changed
// after judge (a waiver, a regression), or asks the check for its own
// message, with the severity suffix when that result only warns because of
// the budget's severity.
func remessage(o *Outcome) string {
	var msg string
	if o.remessage != nil {
		msg = o.remessage(o.Results)
	} else {
		msg = summarize(o.Results, o.onMissing, o.Name)
	}
	if o.Status == Warn {
		for _, r := range o.Results {
			if r.Status == Warn && r.BySeverity {
				return msg + SeveritySuffix
			}
		}
	}
	return msg
}
