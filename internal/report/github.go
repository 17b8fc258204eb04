package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/secflow/secflow-budget/internal/checks"
)

// WriteGitHub writes GitHub Actions workflow commands: an error annotation
// for every violated or undecided budget, a warning for every warning (an
// error when warnings fail the run, see Run.FailsRun), and a notice with
// the summary. Passing and skipped budgets make no annotation:
// a run with hundreds of them would bury the ones that matter.
func WriteGitHub(w io.Writer, run *Run, opts Options) error {
	sym := symbolsFor(opts.Emoji)
	var b strings.Builder
	for i := range run.Outcomes {
		o := &run.Outcomes[i]
		var cmd string
		switch o.Status {
		case checks.Fail, checks.Error:
			cmd = "error"
		case checks.Warn:
			cmd = "warning"
			if run.FailsRun(o.Status) {
				cmd = "error"
			}
		case checks.Waived:
			cmd = "notice" // accepted for now: seen, not alarming
		default:
			continue
		}
		msg := []string{o.Message}
		if o.Message == "" {
			msg[0] = o.Status.String()
		}
		if o.Status == checks.Warn && cmd == "error" {
			msg = append(msg, "a warning, which fails this run")
		}
		for _, l := range outcomeLines(o, sym) {
			msg = append(msg, l.Text)
		}
		title := toolName(run) + ": " + o.Name
		// file= and line= put the annotation on the budget in budgets.yaml.
		where := ""
		if o.File != "" && o.Line > 0 {
			where = fmt.Sprintf("file=%s,line=%d,", escapeGitHubProperty(filepath.ToSlash(o.File)), o.Line)
		}
		fmt.Fprintf(&b, "::%s %stitle=%s::%s\n", cmd, where, escapeGitHubProperty(printable(title, false)), escapeGitHubData(printable(strings.Join(msg, "\n"), false)))
	}
	for _, n := range run.Notes {
		fmt.Fprintf(&b, "::warning title=%s::%s\n", escapeGitHubProperty(toolName(run)), escapeGitHubData(printable(n, false)))
	}
	summary := fmt.Sprintf("%s %s %s (exit %d)", summaryCounts(run.Summarize()), sym.arrow, verdict(run), run.ExitCode)
	if warningsFail(run) {
		summary += "; warnings fail this run"
	}
	fmt.Fprintf(&b, "::notice title=%s::%s\n", escapeGitHubProperty(toolName(run)), escapeGitHubData(summary))
	_, err := io.WriteString(w, b.String())
	return err
}

// The runner reads a command up to the end of the line, its properties up
// to "," and their values up to "::"; these are the escapes it undoes
// (actions/toolkit, packages/core/src/command.ts).
var (
	gitHubDataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	gitHubPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// escapeGitHubData escapes a command's message.
func escapeGitHubData(s string) string { return gitHubDataEscaper.Replace(s) }

// escapeGitHubProperty escapes a property value such as a title.
func escapeGitHubProperty(s string) string { return gitHubPropertyEscaper.Replace(s) }
