package report

import (
	"time"

	"github.com/secflow/secflow-budget/internal/checks"
)

// Run is everything a reporter needs about one finished `check`.
type Run struct {
	ToolName    string
	Version     string
	Mode        string // "live" or "offline"
	Target      string // the snapshot directory, or the source URLs (redacted)
	EvaluatedAt time.Time
	Outcomes    []checks.Outcome // in budgets.yaml order
	Status      checks.Status    // the worst outcome
	ExitCode    int
	// FailOn is the status that fails the run: Warn when warnings fail
	// it (--fail-on warn); any other value means only violations do.
	FailOn checks.Status
	// Errors stopped the run before any budget ran (NewErrorRun); the
	// JSON report lists them.
	Errors []RunError
	// Notes are remarks about the run as a whole, e.g. a waiver that
	// matched nothing and can be removed.
	Notes []string
	// Sources are the engines that computed the numbers, one per source
	// the run asked (or the snapshot recorded).
	Sources []SourceInfo
}

// FailsRun says whether a budget of status s makes the run fail: a
// violation always, a warning when the run fails on warnings. Reporters ask
// it so that a warning which turns the exit code to 1 is a failure in every
// format, and one which does not stays a warning everywhere.
func (r *Run) FailsRun(s checks.Status) bool {
	return s == checks.Fail || s == checks.Warn && r.FailOn == checks.Warn
}

// Verdict is the run's status as its exit code tells it: the worst outcome,
// except that a run failed by its warnings is a failure.
func (r *Run) Verdict() checks.Status {
	for _, o := range r.Outcomes {
		if r.FailsRun(o.Status) {
			return checks.Fail
		}
	}
	if r.Status == checks.Waived {
		return checks.Pass // a waived budget counts as passing
	}
	return r.Status
}

// Failing counts the budgets that fail the run (see FailsRun).
func (r *Run) Failing() int {
	n := 0
	for _, o := range r.Outcomes {
		if r.FailsRun(o.Status) {
			n++
		}
	}
	return n
}

// Summary counts outcomes by status.
type Summary struct {
	Total int `json:"total"`
	Pass  int `json:"pass"`
	Warn  int `json:"warn"`
	Fail  int `json:"fail"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
	// Waived budgets count as passing; they are not in Pass.
	Waived int `json:"waived"`
}

// Summarize counts the outcomes of a run.
func (r *Run) Summarize() Summary {
	s := Summary{Total: len(r.Outcomes)}
	for _, o := range r.Outcomes {
		switch o.Status {
		case checks.Pass:
			s.Pass++
		case checks.Warn:
			s.Warn++
		case checks.Fail:
			s.Fail++
		case checks.Error:
			s.Error++
		case checks.Skip:
			s.Skip++
		case checks.Waived:
			s.Waived++
		}
	}
	return s
}

// Options are decided once by the CLI and passed to every reporter.
type Options struct {
	Color bool // ANSI colors (only on a terminal, never with NO_COLOR)
	Emoji bool // emoji; false gives ASCII markers
	Quiet bool // console: only non-passing budgets and the summary

	// GitHubActions: the run is a GitHub Actions step (GITHUB_ACTIONS=true),
	// so the github format keeps to the annotations GitHub shows (see
	// MaxAnnotations), and Workspace ($GITHUB_WORKSPACE) is the directory
	// its file= paths are relative to.
	GitHubActions bool
	Workspace     string
	// FullReport names where every budget's results are when the Markdown
	// report is cut to MaxMarkdownSize ("the JSON report r.json").
	FullReport string
	// PushLabels are the grouping label names of check --push: the
	// openmetrics report renames result labels of these names, as the
	// push must (see MetricFamilies).
	PushLabels []string
}
