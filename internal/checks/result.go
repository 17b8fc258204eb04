package checks

import (
	"time"

	"github.com/secflow/secflow-budget/internal/config"
)

// Result is one judged value: a percentile of a group, a series of a metric
// query, a metric's presence.
type Result struct {
	Subject   string
	Labels    map[string]string
	Value     *float64 // nil: no data for this result
	Unit      string   // seconds, series, bytes, ratio, lines, or a budget's own
	Limit     *float64 // the hard limit shown; nil when only a soft one exists
	Op        string   // "<=" or ">=": how Value must relate to Limit
	WarnLimit *float64
	Status    Status
	// Missing marks a result without data; Run sets its status from the
	// budget's on_missing.
	Missing bool
	// BySeverity marks a result that broke its hard limit and is a warning
	// only because its budget has severity: warning. Its Op and Limit are
	// the hard limit's: the value is past it.
	BySeverity bool
	// Extra holds type-specific facts in display order, e.g. bucket bounds
	// and observations of a percentile.
	Extra []KV
	Note  string

	// Set by ApplyBaseline (check --baseline): the baseline report's
	// value of the same result, the relative change from it (nil when the
	// baseline is 0), the regression verdict (RegPass, RegFail, ...; ""
	// without --baseline) and, for a regression, the limits it broke.
	Baseline        *float64
	Change          *float64
	Regression      string
	RegressionLimit string
	// Waiver is the waiver that waived this result (status Waived).
	Waiver *Waiver
	// ByLimits is the status the budget's limits gave the result, when a
	// regression or a waiver changed Status since (Adjusted).
	ByLimits Status
	Adjusted bool
}

// Waiver is what a report says about the waiver of a result.
type Waiver struct {
	Reason  string `json:"reason"`
	Owner   string `json:"owner"`
	Expires string `json:"expires"`
}

// RegressionOutcome is a budget's comparison with a baseline report.
type RegressionOutcome struct {
	// Status is RegPass, RegFail, RegWarn, RegNew, RegNotComparable or
	// RegNone (no regression limits, or nothing to compare).
	Status       string `json:"status"`
	BaselineFile string `json:"baseline_file"`
}

// KV is one extra fact of a result; Value is a float64 or a string.
type KV struct {
	Key   string
	Value any
}

// Evaluation is what a check found, before on_missing and severity apply.
type Evaluation struct {
	Results []Result
	// Missing, when set, says that the budget's data is absent altogether
	// ("selector matched no series"); on_missing decides the status.
	Missing string
	// Message overrides the one Run derives from the worst result.
	Message string
	// Remessage, when set, makes the check's own message again from its
	// results after a waiver or a regression changed their statuses (a
	// message derived from the worst result would lose what the check
	// says about it).
	Remessage func([]Result) string
	// Notes are remarks for a person, e.g. a limit between bucket bounds.
	Notes []string
	// Details list offenders, e.g. the top groups of a cardinality budget.
	Details []string
}

// Outcome is a budget's judged evaluation, ready for the reporters.
type Outcome struct {
	Name        string
	Type        string
	Category    string
	Description string
	Runbook     string
	Severity    string
	Tags        []string
	Status      Status
	Message     string
	Queries     []string
	Results     []Result
	Notes       []string
	Details     []string
	// Warnings are what the sources said beside their answers, each as
	// "SOURCE: TEXT" (Prometheus' "warnings": partial data).
	Warnings []string
	Err      *OutcomeError
	Duration time.Duration
	// File, Line and Column locate the budget in budgets.yaml
	// (annotations point there).
	File   string
	Line   int
	Column int
	// Regression is set by ApplyBaseline (check --baseline).
	Regression *RegressionOutcome

	onMissing config.OnMissing // for messages made again after a waiver or regression
	derived   bool             // Message describes the worst result (no check's own message)
	remessage func([]Result) string
}

// OutcomeError is why a budget could not be decided.
type OutcomeError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// F returns a pointer to x, for Result's optional numbers.
func F(x float64) *float64 { return &x }
