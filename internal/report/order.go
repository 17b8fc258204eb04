package report

import (
	"math"
	"sort"

	"github.com/secflow/secflow-budget/internal/checks"
)

// severityRank orders budgets for a reader who has little room (a PR
// comment, GitHub's ten annotations per kind): violations, then budgets
// that could not be decided, then warnings that fail the run, then other
// warnings, skips and passes.
func severityRank(run *Run, o *checks.Outcome) int {
	switch o.Status {
	case checks.Fail:
		return 0
	case checks.Error:
		return 1
	case checks.Warn:
		if run.FailsRun(o.Status) {
			return 2
		}
		return 3
	case checks.Skip:
		return 4
	}
	return 5
}

// worstFirst returns the run's outcomes ordered by severityRank and, within
// a rank, by how far the budget is past its limit (larger first); budgets
// whose data says nothing about that (an error, missing data) follow those
// that do, and ties keep the budgets.yaml order.
func worstFirst(run *Run) []*checks.Outcome {
	type keyed struct {
		o       *checks.Outcome
		rank    int
		over    float64
		hasOver bool
	}
	ks := make([]keyed, len(run.Outcomes))
	for i := range run.Outcomes {
		o := &run.Outcomes[i]
		over, ok := overshoot(o)
		ks[i] = keyed{o: o, rank: severityRank(run, o), over: over, hasOver: ok}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if a.hasOver != b.hasOver {
			return a.hasOver
		}
		return a.over > b.over
	})
	out := make([]*checks.Outcome, len(ks))
	for i, k := range ks {
		out[i] = k.o
	}
	return out
}

// overshoot is how far past its limit a budget is, as a fraction of the
// limit (0.25: 25% over), taken from the worst of the results that gave the
// budget its status: the hard limit when the value is past it, else the
// warn limit. A limit of 0 that is broken is infinitely far. ok is false
// when no such result has a value and a limit to compare.
func overshoot(o *checks.Outcome) (over float64, ok bool) {
	for _, r := range o.Results {
		if r.Status != o.Status || r.Value == nil || math.IsNaN(*r.Value) || (r.Op != "<=" && r.Op != ">=") {
			continue
		}
		v := *r.Value
		var limit *float64
		switch {
		case r.Limit != nil && !holds(v, r.Op, *r.Limit):
			limit = r.Limit
		case r.WarnLimit != nil && !holds(v, r.Op, *r.WarnLimit):
			limit = r.WarnLimit
		default:
			continue
		}
		if math.IsNaN(*limit) {
			continue
		}
		x := math.Inf(1)
		if *limit != 0 && !math.IsInf(v, 0) {
			x = math.Abs(v-*limit) / math.Abs(*limit)
		}
		if !ok || x > over {
			over, ok = x, true
		}
	}
	return over, ok
}
