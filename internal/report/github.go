package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/secflow/secflow-budget/internal/checks"
)

// MaxAnnotations is how many error annotations, and how many warning
// annotations, GitHub shows for one step; it drops the rest.
const MaxAnnotations = 10

// WriteGitHub writes GitHub Actions workflow commands: an error annotation
// for every violated or undecided budget, a warning for every warning (an
// error when warnings fail the run, see Run.FailsRun), worst first (see
// worstFirst), and a notice with the summary. Passing and skipped budgets
// make no annotation: a run with hundreds of them would bury the ones that
// matter. A waived budget is a notice, a note about the run a warning.
// Inside GitHub Actions only the first MaxAnnotations of each kind are
// written (of notices one fewer, so that the summary notice is always
// shown), since GitHub would drop the others silently; the summary notice
// says how many were left out.
func WriteGitHub(w io.Writer, run *Run, opts Options) error {
	sym := symbolsFor(opts.Emoji)
	ws := newWorkspace(opts.Workspace)
	var b strings.Builder
	left := map[string]int{}
	written := map[string]int{}
	// room says whether GitHub shows one more annotation of kind cmd; the
	// summary notice takes one of the notices.
	room := func(cmd string) bool {
		most := MaxAnnotations
		if cmd == "notice" {
			most--
		}
		if opts.GitHubActions && written[cmd] >= most {
			left[cmd]++
			return false
		}
		written[cmd]++
		return true
	}
	for _, o := range worstFirst(run) {
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
		if !room(cmd) {
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
		// file=, line= and col= put the annotation on the budget in
		// budgets.yaml.
		where, outside := ws.locate(o)
		if outside != "" {
			msg = append(msg, "budget at "+outside+" (outside GITHUB_WORKSPACE, so not annotated there)")
		}
		title := toolName(run) + ": " + o.Name
		fmt.Fprintf(&b, "::%s %stitle=%s::%s\n", cmd, where, escapeGitHubProperty(printable(title, false)), escapeGitHubData(printable(strings.Join(msg, "\n"), false)))
	}
	for _, n := range run.Notes {
		if !room("warning") {
			continue
		}
		fmt.Fprintf(&b, "::warning title=%s::%s\n", escapeGitHubProperty(toolName(run)), escapeGitHubData(printable(n, false)))
	}
	summary := fmt.Sprintf("%s %s %s (exit %d)", summaryCounts(run.Summarize()), sym.arrow, verdict(run), run.ExitCode)
	if warningsFail(run) {
		summary += "; warnings fail this run"
	}
	if e := enginesText(run); e != "" {
		summary += "; " + e
	}
	if left["error"]+left["warning"]+left["notice"] > 0 {
		var parts []string
		for _, kind := range []string{"error", "warning", "notice"} {
			if n := left[kind]; n > 0 {
				parts = append(parts, plural(n, kind+" annotation", kind+" annotations"))
			}
		}
		list := strings.Join(parts, " and ")
		if len(parts) == 3 {
			list = parts[0] + ", " + parts[1] + " and " + parts[2]
		}
		summary += fmt.Sprintf("; %s left out (GitHub shows %d of each kind per step): every budget is in %s",
			list, MaxAnnotations, fullReport(opts))
	}
	fmt.Fprintf(&b, "::notice title=%s::%s\n", escapeGitHubProperty(toolName(run)), escapeGitHubData(printable(summary, false)))
	_, err := io.WriteString(w, b.String())
	return err
}

// fullReport is where a reader finds what a shortened report left out.
func fullReport(opts Options) string {
	if opts.FullReport != "" {
		return opts.FullReport
	}
	return "a JSON report (--report json=FILE)"
}

// workspace places annotations: file= relative to $GITHUB_WORKSPACE, as
// GitHub needs to put them on the file of a pull request. Both sides are
// made absolute and their symlinks resolved, so that a budgets file named
// as ../x/budgets.yaml from a subdirectory, or through a link, is found.
// Without a workspace (outside GitHub Actions) the file is named as the
// run was given it.
type workspace struct {
	dir      string // resolved; "" without a workspace
	resolved map[string]string
}

func newWorkspace(dir string) *workspace {
	ws := &workspace{resolved: map[string]string{}}
	if dir != "" {
		ws.dir = resolvePath(dir)
	}
	return ws
}

// resolvePath is p made absolute, its symlinks resolved when it exists.
func resolvePath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	return abs
}

// locate returns the properties placing o's annotation ("file=x/budgets.yaml,
// line=12,col=5,"), or, for a budgets file outside the workspace, no
// properties and where the budget is, for the message.
func (ws *workspace) locate(o *checks.Outcome) (props, outside string) {
	if o.File == "" || o.Line <= 0 {
		return "", ""
	}
	file := o.File
	if ws.dir != "" {
		abs, ok := ws.resolved[o.File]
		if !ok {
			abs = resolvePath(o.File)
			ws.resolved[o.File] = abs
		}
		rel, err := filepath.Rel(ws.dir, abs)
		if err != nil || !filepath.IsLocal(rel) {
			at := fmt.Sprintf("%s:%d", abs, o.Line)
			if o.Column > 0 {
				at += fmt.Sprintf(":%d", o.Column)
			}
			return "", at
		}
		file = rel
	}
	props = fmt.Sprintf("file=%s,line=%d,", escapeGitHubProperty(printable(filepath.ToSlash(file), false)), o.Line)
	if o.Column > 0 {
		props += fmt.Sprintf("col=%d,", o.Column)
	}
	return props, ""
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
