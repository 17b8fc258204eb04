package report

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/secflow/secflow-budget/internal/checks"
)

// WriteMarkdown writes a report for a pull request comment or
// $GITHUB_STEP_SUMMARY: the verdict, the counts, a table per area, and the
// results of every budget that did not pass.
func WriteMarkdown(w io.Writer, run *Run, opts Options) error {
	m := markdown{opts: opts, sym: symbolsFor(opts.Emoji)}
	m.write(run)
	_, err := io.WriteString(w, m.b.String())
	return err
}

type markdown struct {
	b    strings.Builder
	opts Options
	sym  symbols
}

func (m *markdown) line(format string, args ...any) {
	fmt.Fprintf(&m.b, format, args...)
	m.b.WriteByte('\n')
}

// status is the status cell: an emoji, or the status in capitals.
func (m *markdown) status(s checks.Status) string {
	if m.opts.Emoji {
		return statusEmoji(s)
	}
	return strings.ToUpper(s.String())
}

func (m *markdown) write(run *Run) {
	title := toolName(run) + ": " + verdict(run)
	if m.opts.Emoji {
		title = statusEmoji(run.Verdict()) + " " + title
	}
	m.line("## %s", mdText(title))
	m.line("")
	s := run.Summarize()
	counts := summaryCounts(s)
	n, rest, _ := strings.Cut(counts, ": ")
	if warningsFail(run) {
		rest += " " + m.sym.dot + " warnings fail this run"
	}
	m.line("**%s**: %s %s exit code %d", n, rest, m.sym.dot, run.ExitCode)

	for _, g := range groupByArea(run.Outcomes) {
		m.line("")
		m.line("### %s", mdText(areaHeader(g.Area, m.opts.Emoji)))
		m.line("")
		m.line("| Status | Budget | Result |")
		m.line("| :-: | --- | --- |")
		for _, o := range g.Outcomes {
			m.line("| %s | %s | %s |", m.status(o.Status), mdCode(o.Name, true), mdText(o.Message))
		}
	}

	var details []string
	for _, g := range groupByArea(run.Outcomes) {
		for _, o := range g.Outcomes {
			if o.Status != checks.Pass {
				details = append(details, m.outcome(o)...)
			}
		}
	}
	if len(details) > 0 {
		m.line("")
		m.line("### Budgets that did not pass")
		for _, l := range details {
			m.line("%s", l)
		}
	}

	if len(run.Notes) > 0 {
		m.line("")
		m.line("**Notes**")
		m.line("")
		for _, n := range run.Notes {
			m.line("- %s", mdText(n))
		}
	}
	m.line("")
	m.line("<sub>%s</sub>", mdText(runHeader(run, m.sym)))
}

// outcome is the details of a budget that did not pass: its message and a
// list of results, notes, offenders, error and runbook. A budget with
// nothing to list (a skip) is already said in full by its table row.
func (m *markdown) outcome(o *checks.Outcome) []string {
	var items []string
	shown, hiddenPass, hiddenOther := resultsWorthShowing(o)
	for _, r := range shown {
		t := describeResult(r, m.sym)
		item := m.status(r.Status) + " " + mdCode(t.Subject, false)
		if t.Measure != "" {
			item += " " + mdText(t.Measure)
		}
		if t.Extras != "" {
			item += " (" + mdText(t.Extras) + ")"
		}
		if t.Note != "" {
			item += ": " + mdText(t.Note)
		}
		items = append(items, item)
	}
	if s := omittedLine(o, hiddenPass, hiddenOther, m.sym); s != "" {
		items = append(items, mdText(s))
	}
	for _, n := range o.Notes {
		items = append(items, "Note: "+mdText(n))
	}
	for _, d := range o.Details {
		items = append(items, mdText(d))
	}
	if o.Err != nil {
		items = append(items, "**Error**: "+mdText(errorText(o.Err)))
	}
	if o.Severity == "warning" {
		items = append(items, "Severity warning: a violation only warns")
	}
	if o.Runbook != "" {
		items = append(items, "Runbook: "+mdLink(o.Runbook))
	}
	if len(items) == 0 {
		return nil
	}
	lines := []string{"", "#### " + m.status(o.Status) + " " + mdCode(o.Name, false)}
	if o.Message != "" {
		lines = append(lines, "", mdText(o.Message))
	}
	lines = append(lines, "")
	for _, it := range items {
		lines = append(lines, "- "+it)
	}
	return lines
}

// mdText is text set as text, on one line and safe in a table cell. It
// escapes only what GitHub would read as markup there (emphasis, code,
// links, HTML tags and entities, strikethrough, the cell separator), so
// that the source of a comment stays readable too: "p95 212s > 300s" and
// "on_missing" pass unchanged.
func mdText(s string) string {
	rs := []rune(printable(s, false))
	var b strings.Builder
	for i, r := range rs {
		var prev, next rune
		if i > 0 {
			prev = rs[i-1]
		}
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch {
		case r == '\n':
			b.WriteByte(' ')
		case r == '\\' || r == '`' || r == '*' || r == '~' || r == '[' || r == ']' || r == '|':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '_' && !(isAlnum(prev) && isAlnum(next)):
			// Inside a word GitHub keeps underscores (on_missing).
			b.WriteString(`\_`)
		case r == '<' && (unicode.IsLetter(next) || strings.ContainsRune("/!?", next)):
			b.WriteString("&lt;")
		case r == '&' && (isAlnum(next) || next == '#'):
			b.WriteString("&amp;")
		case i == 0 && strings.ContainsRune("#>-+=", r):
			// Only at the start of a line do these open a block.
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escapeTablePipes escapes every pipe as \| and doubles the backslashes
// right before one: GitHub splits a row at a pipe after an escaped
// backslash (\\|), so a cell holding \| would break out of its column.
func escapeTablePipes(s string) string {
	if !strings.Contains(s, "|") {
		return s
	}
	var b strings.Builder
	run := 0 // backslashes written since the last other character
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			run++
			b.WriteByte(c)
		case '|':
			b.WriteString(strings.Repeat(`\`, run))
			b.WriteString(`\|`)
			run = 0
		default:
			run = 0
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// mdCode sets s in a code span: a backtick fence longer than any run of
// backticks inside. In a table cell pipes are escaped too, since GitHub
// splits cells before it reads code spans (and shows the backslash
// anywhere else).
func mdCode(s string, inTable bool) string {
	s = strings.ReplaceAll(printable(s, false), "\n", " ")
	if inTable {
		s = escapeTablePipes(s)
	}
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdLink is an autolink for a plain http(s) URL, escaped text otherwise.
func mdLink(u string) string {
	if (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) &&
		!strings.ContainsAny(u, " <>\"`\r\n|") {
		return "<" + u + ">"
	}
	return mdText(u)
}
