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
	FailOn      checks.Status // Fail, or Warn with --fail-on warn
	// Errors stopped the run before any budget ran (NewErrorRun); the
	// JSON report lists them.
	Errors []RunError
}

// Summary counts outcomes by status.
type Summary struct {
	Total int `json:"total"`
	Pass  int `json:"pass"`
	Warn  int `json:"warn"`
	Fail  int `json:"fail"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
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
		}
	}
	return s
}

// Options are decided once by the CLI and passed to every reporter.
type Options struct {
	Color bool // ANSI colors (only on a terminal, never with NO_COLOR)
	Emoji bool // emoji; false gives ASCII markers
	Quiet bool // console: only non-passing budgets and the summary
}
